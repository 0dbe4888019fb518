"""The tables. Alembic migrations in `alembic/versions` build them; keep both in step."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


def _ts(**kw: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kw)


class Town(SQLModel, table=True):
    __tablename__ = "towns"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    timezone: str = Field(default="Asia/Shanghai", max_length=64)
    # The public 晒单 board: completed work, anonymised, readable without sign-in.
    public_board_enabled: bool = False
    # 党员积分 rules of the town: configuration, not code.
    points_completed: int = 10
    points_five_star: int = 5
    points_overdue: int = -5
    created_at: datetime = _ts()


class Branch(SQLModel, table=True):
    """A party branch (党支部) of a village or community."""

    __tablename__ = "branches"
    __table_args__ = (UniqueConstraint("town_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    town_id: int = Field(foreign_key="towns.id", index=True)
    name: str = Field(max_length=100)
    kind: str = Field(default="village", max_length=20)  # village | community
    # The branch's WeCom group robot (members' group), when the WeCom channel is on.
    wecom_webhook_key: str | None = Field(default=None, max_length=100)
    created_at: datetime = _ts()


class Grid(SQLModel, table=True):
    __tablename__ = "grids"
    __table_args__ = (UniqueConstraint("branch_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    town_id: int = Field(foreign_key="towns.id", index=True)
    branch_id: int = Field(foreign_key="branches.id", index=True)
    name: str = Field(max_length=100)
    households: int | None = None
    # The grid workers' WeCom group robot, when the WeCom channel is on.
    wecom_webhook_key: str | None = Field(default=None, max_length=100)
    created_at: datetime = _ts()


class Staff(SQLModel, table=True):
    """Grid workers, branch secretaries, party members and town admins: phone + password."""

    __tablename__ = "staff"

    id: int | None = Field(default=None, primary_key=True)
    town_id: int = Field(foreign_key="towns.id", index=True)
    branch_id: int | None = Field(default=None, foreign_key="branches.id", index=True)
    role: str = Field(max_length=20)
    name: str = Field(max_length=50)
    phone: str = Field(max_length=20, unique=True)
    password_hash: str = Field(max_length=200)
    # 乡贤: a local worthy the branch may dispatch to like a member.
    is_local_worthy: bool = False
    active: bool = True
    # Raised when the password changes or the account is disabled: older tokens stop working.
    token_version: int = 0
    created_at: datetime = _ts()


class GridWorkerGrid(SQLModel, table=True):
    """Which grids a grid worker serves."""

    __tablename__ = "grid_worker_grids"

    staff_id: int = Field(foreign_key="staff.id", primary_key=True)
    grid_id: int = Field(foreign_key="grids.id", primary_key=True, index=True)


class Resident(SQLModel, table=True):
    __tablename__ = "residents"

    id: int | None = Field(default=None, primary_key=True)
    openid: str | None = Field(default=None, max_length=64, unique=True)
    unionid: str | None = Field(default=None, max_length=64)
    name: str | None = Field(default=None, max_length=50)
    phone: str | None = Field(default=None, max_length=20, index=True)
    # Only a phone WeChat vouched for links orders taken for that phone on a visit.
    phone_verified: bool = False
    town_id: int | None = Field(default=None, foreign_key="towns.id")
    grid_id: int | None = Field(default=None, foreign_key="grids.id", index=True)
    created_at: datetime = _ts()


class Category(SQLModel, table=True):
    """What an order is about, with the time limit of each stage in minutes."""

    __tablename__ = "categories"
    __table_args__ = (UniqueConstraint("town_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    town_id: int = Field(foreign_key="towns.id", index=True)
    name: str = Field(max_length=50)
    description: str = Field(default="", max_length=500)
    default_urgency: str = Field(default="normal", max_length=10)
    claim_minutes: int = 120
    dispatch_minutes: int = 1440
    accept_minutes: int = 240
    complete_minutes: int = 4320
    complete_urgent_minutes: int = 1440
    rate_minutes: int = 10080
    active: bool = True
    created_at: datetime = _ts()


class Order(SQLModel, table=True):
    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_orders_grid_state", "grid_id", "state", "stage_deadline"),
        Index("ix_orders_branch_state", "branch_id", "state", "stage_deadline"),
        Index("ix_orders_assignee_state", "assignee_id", "state", "stage_deadline"),
        Index("ix_orders_resident", "resident_id", "id"),
        Index("ix_orders_placed_by", "placed_by_staff_id", "id"),
        Index("ix_orders_town_created", "town_id", "created_at"),
        # The sweep for overdue stages reads only open orders, earliest deadline first.
        Index(
            "ix_orders_open_deadline",
            "stage_deadline",
            postgresql_where=text("stage_deadline IS NOT NULL"),
            sqlite_where=text("stage_deadline IS NOT NULL"),
        ),
        Index("ix_orders_contact_phone", "contact_phone", postgresql_where=text("resident_id IS NULL"),
              sqlite_where=text("resident_id IS NULL")),
        # Overdue now, by stage, for one town: an index range, not a scan of the town's orders.
        Index(
            "ix_orders_town_deadline", "town_id", "stage_deadline", "state",
            postgresql_where=text("stage_deadline IS NOT NULL"),
            sqlite_where=text("stage_deadline IS NOT NULL"),
        ),
        # The sweep reads only orders with an alert due: its cost follows what is due.
        Index(
            "ix_orders_next_alert",
            "next_alert_at",
            postgresql_where=text("next_alert_at IS NOT NULL"),
            sqlite_where=text("next_alert_at IS NOT NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    town_id: int = Field(foreign_key="towns.id")
    branch_id: int = Field(foreign_key="branches.id")
    grid_id: int = Field(foreign_key="grids.id")
    category_id: int = Field(foreign_key="categories.id", index=True)
    urgency: str = Field(default="normal", max_length=10)
    state: str = Field(max_length=20)
    version: int = 1
    description: str = Field(max_length=2000)
    address: str | None = Field(default=None, max_length=200)
    latitude: float | None = None
    longitude: float | None = None
    # Who the order is for: a signed-in resident, or a name and phone taken on a visit.
    resident_id: int | None = Field(default=None, foreign_key="residents.id")
    contact_name: str | None = Field(default=None, max_length=50)
    contact_phone: str | None = Field(default=None, max_length=20)
    placed_by_staff_id: int | None = Field(default=None, foreign_key="staff.id")
    channel: str = Field(default="mini_program", max_length=20)
    claimed_by_id: int | None = Field(default=None, foreign_key="staff.id")
    assignee_id: int | None = Field(default=None, foreign_key="staff.id")
    reopen_count: int = 0
    completion_note: str | None = Field(default=None, max_length=2000)
    rating_stars: int | None = None
    rating_comment: str | None = Field(default=None, max_length=500)
    rating_source: str | None = Field(default=None, max_length=10)
    idempotency_key: str | None = Field(default=None, max_length=200, unique=True)
    request_hash: str | None = Field(default=None, max_length=64)
    created_at: datetime = _ts()
    updated_at: datetime = _ts()
    stage_entered_at: datetime = _ts()
    stage_deadline: datetime | None = _ts(default=None)
    # When the sweep must next look at the current stage (a reminder, escalation or auto-close).
    next_alert_at: datetime | None = _ts(default=None)
    closed_at: datetime | None = _ts(default=None)


class OrderEvent(SQLModel, table=True):
    """One row per transition: the timeline the resident sees."""

    __tablename__ = "order_events"
    __table_args__ = (Index("ix_order_events_order", "order_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id")
    action: str = Field(max_length=20)
    from_state: str | None = Field(default=None, max_length=20)
    to_state: str = Field(max_length=20)
    actor_role: str = Field(max_length=20)
    actor_id: int | None = None
    actor_name: str | None = Field(default=None, max_length=50)
    note: str | None = Field(default=None, max_length=2000)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = _ts()


class Photo(SQLModel, table=True):
    """An uploaded image; its id is a random token, so URLs cannot be guessed."""

    __tablename__ = "photos"
    __table_args__ = (Index("ix_photos_order", "order_id"),)

    id: str = Field(primary_key=True, max_length=40)
    order_id: int | None = Field(default=None, foreign_key="orders.id")
    purpose: str | None = Field(default=None, max_length=10)  # request | evidence
    uploader_role: str = Field(max_length=20)
    uploader_id: int
    content_type: str = Field(max_length=30)
    size: int
    sha256: str = Field(max_length=64)
    created_at: datetime = _ts()


class OutboxMessage(SQLModel, table=True):
    """A notice a transition implies, written in the transition's transaction.

    `audience` + `audience_id` say who (a resident, a grid's workers, a branch's
    secretaries, a member, a town's admins); delivery picks the channels.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_due", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    order_id: int | None = Field(default=None, foreign_key="orders.id", index=True)
    event_id: int | None = Field(default=None, foreign_key="order_events.id")
    kind: str = Field(max_length=40)
    audience: str = Field(max_length=30)
    audience_id: int
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="pending", max_length=20)
    attempts: int = 0
    next_attempt_at: datetime | None = _ts(default=None)
    created_at: datetime = _ts()


class StageAlert(SQLModel, table=True):
    """A reminder, escalation or auto-close raised for one stage of one order, once.

    The unique key is the guard that makes concurrent or repeated sweeps raise each
    alert exactly once; `stage_version` (the order's version when the stage began) tells
    apart two visits of the same stage, e.g. claimed again after a decline.
    """

    __tablename__ = "stage_alerts"
    __table_args__ = (
        UniqueConstraint("order_id", "stage_version", "kind", "round", name="uq_stage_alerts_once"),
    )

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id")
    stage: str = Field(max_length=20)
    stage_version: int
    kind: str = Field(max_length=20)
    round: int
    audience: str | None = Field(default=None, max_length=30)
    audience_id: int | None = None
    due_at: datetime = _ts()
    created_at: datetime = _ts()


class Delivery(SQLModel, table=True):
    """One outbox row through one channel: its attempts, lease and outcome."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("outbox_id", "channel", name="uq_deliveries_outbox_channel"),
        Index("ix_deliveries_due", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    outbox_id: int = Field(foreign_key="outbox.id")
    channel: str = Field(max_length=20)
    # pending | sending | sent | retry | dead | refused | skipped
    status: str = Field(default="pending", max_length=20)
    attempts: int = 0
    next_attempt_at: datetime = _ts()
    lease_until: datetime | None = _ts(default=None)
    last_error: str | None = Field(default=None, max_length=500)
    sent_at: datetime | None = _ts(default=None)
    created_at: datetime = _ts()


class InboxItem(SQLModel, table=True):
    """A message in a person's in-app inbox (the mobile badge counts the unread ones)."""

    __tablename__ = "inbox_items"
    __table_args__ = (
        UniqueConstraint("outbox_id", "user_kind", "user_id", name="uq_inbox_once"),
        Index("ix_inbox_user", "user_kind", "user_id", "id"),
        Index("ix_inbox_unread", "user_kind", "user_id", postgresql_where=text("read_at IS NULL"),
              sqlite_where=text("read_at IS NULL")),
    )

    id: int | None = Field(default=None, primary_key=True)
    outbox_id: int = Field(foreign_key="outbox.id")
    user_kind: str = Field(max_length=10)  # resident | staff
    user_id: int
    kind: str = Field(max_length=40)
    title: str = Field(max_length=100)
    body: str = Field(max_length=500)
    order_id: int | None = Field(default=None, foreign_key="orders.id")
    created_at: datetime = _ts()
    read_at: datetime | None = _ts(default=None)


# Aggregates for the dashboards, kept by the transitions in their own transaction. Each
# row is one cell of a cube: the day the orders were placed (in the town's time zone),
# where they are (branch, grid), what (category), who holds them (member, 0 for nobody).
_CELL = ("town_id", "day", "branch_id", "grid_id", "category_id", "member_id")


class StatsCount(SQLModel, table=True):
    """A counter of a cell: `state:<state>` (orders now in that state) or an event count."""

    __tablename__ = "stats_counts"
    __table_args__ = (
        UniqueConstraint(*_CELL, "metric", name="uq_stats_counts_cell"),
        Index("ix_stats_counts_town_day", "town_id", "day"),
    )

    id: int | None = Field(default=None, primary_key=True)
    town_id: int = Field(foreign_key="towns.id")
    day: date
    branch_id: int
    grid_id: int
    category_id: int
    member_id: int
    metric: str = Field(max_length=30)
    n: int = 0


class StatsStageTime(SQLModel, table=True):
    """How long a stage took, as a histogram per cell: count and total seconds per bucket."""

    __tablename__ = "stats_stage_times"
    __table_args__ = (
        UniqueConstraint(*_CELL, "stage", "bucket", name="uq_stats_stage_times_cell"),
        Index("ix_stats_stage_times_town_day", "town_id", "day"),
    )

    id: int | None = Field(default=None, primary_key=True)
    town_id: int = Field(foreign_key="towns.id")
    day: date
    branch_id: int
    grid_id: int
    category_id: int
    member_id: int
    stage: str = Field(max_length=20)
    bucket: int
    n: int = 0
    seconds_sum: int = Field(default=0, sa_type=BigInteger)


class MemberPoints(SQLModel, table=True):
    """党员积分 earned on a day (in the town's time zone)."""

    __tablename__ = "member_points"
    __table_args__ = (
        UniqueConstraint("member_id", "day", name="uq_member_points_day"),
        Index("ix_member_points_town_day", "town_id", "day"),
    )

    id: int | None = Field(default=None, primary_key=True)
    town_id: int = Field(foreign_key="towns.id")
    branch_id: int
    member_id: int = Field(foreign_key="staff.id")
    day: date
    points: int = 0
    completed: int = 0
    five_star: int = 0
    overdue: int = 0


class AuditEntry(SQLModel, table=True):
    """Who changed what in a town's hierarchy, categories and settings (written with the change)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_town", "town_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    town_id: int = Field(foreign_key="towns.id")
    actor_id: int
    actor_role: str = Field(max_length=20)
    actor_name: str | None = Field(default=None, max_length=50)
    action: str = Field(max_length=20)  # create | update | delete | import | retry
    entity: str = Field(max_length=20)  # town | branch | grid | staff | category | roster | delivery
    entity_id: int | None = None
    changes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = _ts()


class RateLimitHit(SQLModel, table=True):
    """Attempts of one key (a phone, an address) in one fixed time window, shared by all replicas."""

    __tablename__ = "rate_limit_hits"
    __table_args__ = (UniqueConstraint("key", "window_start", name="uq_rate_limit_window"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=120)
    window_start: datetime = _ts()
    count: int = 0


class RefreshToken(SQLModel, table=True):
    """A long-lived sign-in, used once: each use gives a new one in the same family.

    Only a hash is kept. A token used a second time means it was copied: its whole family
    is revoked, the thief's and the owner's alike, and both must sign in again.
    """

    __tablename__ = "refresh_tokens"
    __table_args__ = (Index("ix_refresh_tokens_user", "user_kind", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    family: str = Field(max_length=32, index=True)
    user_kind: str = Field(max_length=10)  # resident | staff
    user_id: int
    expires_at: datetime = _ts()
    used_at: datetime | None = _ts(default=None)
    revoked_at: datetime | None = _ts(default=None)
    created_at: datetime = _ts()
