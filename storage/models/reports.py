"""The office's periodic reports, stored with their files once made."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.models._fields import timestamp as _ts


class Report(SQLModel, table=True):
    """One report of a scope for a period: its figures, and the XLSX and PDF made from them.

    Made again on demand, the row is replaced: one report per scope and period.
    """

    __tablename__ = "reports"
    __table_args__ = (
        UniqueConstraint("town_id", "scope_kind", "scope_id", "period_kind", "period_start", name="uq_reports_once"),
        Index("ix_reports_town_period", "town_id", "period_start", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    town_id: int = Field(foreign_key="towns.id")
    scope_kind: str = Field(max_length=10)
    scope_id: int = 0  # 0 for the town
    period_kind: str = Field(max_length=10)
    period_start: date
    period_end: date
    label: str = Field(max_length=100)
    figures: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    xlsx: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    pdf: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    generated_by_id: int | None = Field(default=None, foreign_key="staff.id")  # none: the scheduler
    generated_at: datetime = _ts()
