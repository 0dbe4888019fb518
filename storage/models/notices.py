"""What is to be told, and to whom: the outbox, stage alerts, deliveries, the in-app inbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from storage.models._fields import timestamp as _ts


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
