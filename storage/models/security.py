"""The audit log, sign-in rate limits and refresh tokens."""

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
