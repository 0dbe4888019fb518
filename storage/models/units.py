"""吹哨报到: co-building units, the whistles sent to them, and their overdue alerts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from storage.models._fields import timestamp as _ts


class Unit(SQLModel, table=True):
    """A co-building unit (共建单位) of the town: a department, the property company, a school, ….

    Its staff sign in as staff with the role `unit_staff` and its id (`staff.unit_id`).
    """

    __tablename__ = "units"
    __table_args__ = (UniqueConstraint("town_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    town_id: int = Field(foreign_key="towns.id", index=True)
    name: str = Field(max_length=100)
    kind: str = Field(default="department", max_length=20)
    contact_name: str | None = Field(default=None, max_length=50)
    contact_phone: str | None = Field(default=None, max_length=20)
    active: bool = True
    created_at: datetime = _ts()


class Whistle(SQLModel, table=True):
    """One unit called in on one order (吹哨), and how the unit answered (报到, 回复 or 退回).

    `settled` turns true when the order moves on past the whistle (to be rated, or back to
    the branch): the whistles still unsettled are the ones the order waits for.
    """

    __tablename__ = "whistles"
    __table_args__ = (
        Index("ix_whistles_order", "order_id", "id"),
        Index("ix_whistles_unit_state", "unit_id", "state", "id"),
        Index("ix_whistles_town_whistled", "town_id", "whistled_at"),
        Index("ix_whistles_next_alert", "next_alert_at", postgresql_where=text("next_alert_at IS NOT NULL"),
              sqlite_where=text("next_alert_at IS NOT NULL")),
    )

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id")
    town_id: int = Field(foreign_key="towns.id")
    branch_id: int = Field(foreign_key="branches.id", index=True)
    unit_id: int = Field(foreign_key="units.id")
    state: str = Field(max_length=20)
    version: int = 1
    urgency: str = Field(default="normal", max_length=10)
    settled: bool = False
    note: str | None = Field(default=None, max_length=2000)
    whistled_by_id: int | None = Field(default=None, foreign_key="staff.id")
    whistled_at: datetime = _ts()
    report_deadline: datetime = _ts()
    reported_at: datetime | None = _ts(default=None)
    reported_by_id: int | None = Field(default=None, foreign_key="staff.id")
    reply_deadline: datetime | None = _ts(default=None)
    replied_at: datetime | None = _ts(default=None)
    replied_by_id: int | None = Field(default=None, foreign_key="staff.id")
    reply_note: str | None = Field(default=None, max_length=2000)
    declined_at: datetime | None = _ts(default=None)
    decline_reason: str | None = Field(default=None, max_length=500)
    # The resident's stars for the work, when this unit's reply was what the order was rated on.
    rating_stars: int | None = None
    stage_entered_at: datetime = _ts()
    stage_deadline: datetime | None = _ts(default=None)
    # When the whistle sweep must next look at this whistle (a reminder or an escalation).
    next_alert_at: datetime | None = _ts(default=None)


class WhistleAlert(SQLModel, table=True):
    """A reminder or escalation raised once for one stage of one whistle (like `StageAlert`)."""

    __tablename__ = "whistle_alerts"
    __table_args__ = (
        UniqueConstraint("whistle_id", "stage_version", "kind", "round", name="uq_whistle_alerts_once"),
    )

    id: int | None = Field(default=None, primary_key=True)
    whistle_id: int = Field(foreign_key="whistles.id")
    stage: str = Field(max_length=20)
    stage_version: int
    kind: str = Field(max_length=20)
    round: int
    audience: str | None = Field(default=None, max_length=30)
    due_at: datetime = _ts()
    created_at: datetime = _ts()
