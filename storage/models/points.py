"""党员积分: the passbook (积分存折) and the versions of each town's rules."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from storage.models._fields import timestamp as _ts


class PointRuleVersion(SQLModel, table=True):
    """One version of a town's point rules (`domain.points.PointValues`), in effect from a town day on."""

    __tablename__ = "point_rule_versions"
    __table_args__ = (UniqueConstraint("town_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    town_id: int = Field(foreign_key="towns.id")
    version: int
    effective_from: date
    closed_satisfied: int
    five_star: int
    default_close: int
    low_rating: int
    overdue_completion: int
    created_by_id: int | None = Field(default=None, foreign_key="staff.id")
    created_at: datetime = _ts()


class PointEntry(SQLModel, table=True):
    """One change of a member's points: what the leaderboard and every total sum, never a counter.

    A rule's entry names the rule, its version and the order and event it came from; a
    manual one the activity, the reason and who granted it. `day` is the town day of `at`
    and `branch_id` the member's branch then, which the boards group by.
    """

    __tablename__ = "point_entries"
    __table_args__ = (
        Index("ix_point_entries_town_day", "town_id", "day"),
        Index("ix_point_entries_member_day", "member_id", "day"),
        Index("ix_point_entries_order", "order_id"),
        # A move's rules are written once, however often its transaction is tried.
        Index("uq_point_entries_event_rule", "event_id", "rule", unique=True,
              postgresql_where=text("event_id IS NOT NULL"), sqlite_where=text("event_id IS NOT NULL")),
    )

    id: int | None = Field(default=None, primary_key=True)
    town_id: int = Field(foreign_key="towns.id")
    branch_id: int | None = Field(default=None, foreign_key="branches.id")
    member_id: int = Field(foreign_key="staff.id")
    at: datetime = _ts()
    day: date
    points: int
    rule: str = Field(max_length=30)
    rule_version: int | None = None
    order_id: int | None = Field(default=None, foreign_key="orders.id")
    event_id: int | None = Field(default=None, foreign_key="order_events.id")
    activity: str | None = Field(default=None, max_length=20)
    reason: str | None = Field(default=None, max_length=500)
    granted_by_id: int | None = Field(default=None, foreign_key="staff.id")
