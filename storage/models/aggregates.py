"""Aggregates for the dashboards, counted from the event log."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.models._fields import timestamp


# Aggregates for the dashboards, kept by the transitions in their own transaction. Each
# row is one cell of a cube: the day the orders were placed (in the town's time zone),
# where they are (branch, grid), what (category), who holds them (member, 0 for nobody).
# Three cubes share a table, told apart by which of grid and member are 0: the place
# cube (grid set), the member cube (member set) and the branch cube (neither), which
# the town-wide numbers read.
CELL = ("town_id", "day", "branch_id", "grid_id", "category_id", "member_id")
# Finds a cube's cells of a period: town, cube, then the days.
_CUBE = ("town_id", "member_id", "grid_id", "day")


class Cell(SQLModel):
    """The columns of a cube's cell (`CELL`), shared by the aggregate tables."""

    id: int | None = Field(default=None, primary_key=True)
    town_id: int = Field(foreign_key="towns.id")
    day: date
    branch_id: int
    grid_id: int
    category_id: int
    member_id: int


class StatsCount(Cell, table=True):
    """A counter of a cell: `state:<state>` (orders now in that state) or an event count."""

    __tablename__ = "stats_counts"
    __table_args__ = (
        UniqueConstraint(*CELL, "metric", name="uq_stats_counts_cell"),
        Index("ix_stats_counts_cube", *_CUBE),
    )

    metric: str = Field(max_length=30)
    n: int = 0


class StatsStageTime(Cell, table=True):
    """How long a stage took, as a histogram per cell: count and total seconds per bucket."""

    __tablename__ = "stats_stage_times"
    __table_args__ = (
        UniqueConstraint(*CELL, "stage", "bucket", name="uq_stats_stage_times_cell"),
        Index("ix_stats_stage_times_cube", *_CUBE),
    )

    stage: str = Field(max_length=20)
    bucket: int
    n: int = 0
    seconds_sum: int = Field(default=0, sa_type=BigInteger)


class ProjectionCursor(SQLModel, table=True):
    """How far a projection of the event log has counted, and when it last looked.

    Every event up to `event_id` is counted, except the ids in `gaps`: ids below it that
    were not there yet (their transactions had not committed, or never will), as
    `[first, last, seen at (epoch seconds)]` ranges. The aggregates above are the `stats`
    projection; its row is also what a stats poll's ETag and `as_of` rest on.
    """

    __tablename__ = "projection_cursors"

    name: str = Field(primary_key=True, max_length=30)
    event_id: int = 0
    gaps: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    as_of: datetime = timestamp()
