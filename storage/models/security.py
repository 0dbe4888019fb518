"""The audit log, sign-in rate limits, refresh tokens and dashboard tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.models._fields import timestamp as _ts


class AuditEntry(SQLModel, table=True):
    """Who changed what in a town's hierarchy, categories and settings (written with the change)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_town", "town_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    town_id: int = Field(foreign_key="towns.id")
    actor_id: int
    actor_role: str = Field(max_length=20)
    actor_name: str | None = Field(default=None, max_length=50)
    action: str = Field(max_length=20)  # create | update | delete | import | retry | revoke | rotate
    entity: str = Field(max_length=20)  # town | branch | grid | building | household | staff | …
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

    Only a hash is kept. A token used a second time, past a short grace window for two
    tabs or a retry (workflows/refresh.py), means it was copied: its whole family is
    revoked, the thief's and the owner's alike, and both must sign in again.
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


class DashboardToken(SQLModel, table=True):
    """A wall dashboard's read-only token for one town, as a town admin issued it.

    The token (a JWT) is not kept: it names this row (`sub`) and a generation (`ver`).
    A rotation moves the row to the next generation and renews its expiry; tokens of
    the generation before stay good until `previous_valid_until`, so that the polls
    in flight, and the screen's own retry of a lost answer, are not refused. Revoking
    the row refuses every generation at once, on every replica: each request reads
    the row by its primary key.
    """

    __tablename__ = "dashboard_tokens"
    __table_args__ = (Index("ix_dashboard_tokens_town", "town_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    town_id: int = Field(foreign_key="towns.id")
    label: str | None = Field(default=None, max_length=50)
    generation: int = 0
    previous_valid_until: datetime | None = _ts(default=None)
    created_at: datetime = _ts()
    expires_at: datetime = _ts()
    rotated_at: datetime | None = _ts(default=None)
    # To the nearest few minutes: stamping every poll would make each poll a write.
    last_used_at: datetime | None = _ts(default=None)
    revoked_at: datetime | None = _ts(default=None)
