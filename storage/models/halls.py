"""群众说事厅: the halls, their reception sessions (and 下访) with the staff on duty, and the matters said."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.models._fields import timestamp as _ts


class Hall(SQLModel, table=True):
    """A hall (群众说事厅) of a village or community (its branch), or of the town (no branch)."""

    __tablename__ = "halls"
    __table_args__ = (UniqueConstraint("town_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    town_id: int = Field(foreign_key="towns.id", index=True)
    branch_id: int | None = Field(default=None, foreign_key="branches.id", index=True)
    name: str = Field(max_length=100)
    address: str | None = Field(default=None, max_length=200)
    active: bool = True
    created_at: datetime = _ts()


class HallSession(SQLModel, table=True):
    """A reception session at the hall (接访), or a visit down to a village's grid (下访)."""

    __tablename__ = "hall_sessions"
    __table_args__ = (
        Index("ix_hall_sessions_town_start", "town_id", "starts_at"),
        Index("ix_hall_sessions_hall_start", "hall_id", "starts_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    town_id: int = Field(foreign_key="towns.id")
    hall_id: int = Field(foreign_key="halls.id")
    kind: str = Field(default="reception", max_length=20)
    # Where a 下访 went.
    grid_id: int | None = Field(default=None, foreign_key="grids.id")
    starts_at: datetime = _ts()
    ends_at: datetime | None = _ts(default=None)
    note: str | None = Field(default=None, max_length=2000)
    created_by_id: int = Field(foreign_key="staff.id")
    created_at: datetime = _ts()


class HallSessionHost(SQLModel, table=True):
    __tablename__ = "hall_session_hosts"
    __table_args__ = (Index("ix_hall_session_hosts_staff", "staff_id"),)

    session_id: int = Field(foreign_key="hall_sessions.id", primary_key=True)
    staff_id: int = Field(foreign_key="staff.id", primary_key=True)


class HallMatter(SQLModel, table=True):
    """A matter a resident said at a session: settled on the spot, or placed as an order (channel `hall`)."""

    __tablename__ = "hall_matters"
    __table_args__ = (
        Index("ix_hall_matters_session", "session_id", "id"),
        Index("ix_hall_matters_town_recorded", "town_id", "recorded_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    town_id: int = Field(foreign_key="towns.id")
    session_id: int = Field(foreign_key="hall_sessions.id")
    hall_id: int = Field(foreign_key="halls.id")
    grid_id: int = Field(foreign_key="grids.id")
    household_id: int | None = Field(default=None, foreign_key="households.id")
    visitor_name: str = Field(max_length=50)
    visitor_phone: str | None = Field(default=None, max_length=20)
    description: str = Field(max_length=2000)
    outcome: str = Field(max_length=20)
    settled_note: str | None = Field(default=None, max_length=2000)
    order_id: int | None = Field(default=None, foreign_key="orders.id", unique=True)
    recorded_by_id: int = Field(foreign_key="staff.id")
    recorded_at: datetime = _ts()
