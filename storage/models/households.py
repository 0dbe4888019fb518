"""Below the grid: buildings and households, with the members who look after them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.models._fields import timestamp as _ts


class Building(SQLModel, table=True):
    """A building (楼栋) of a grid; its 楼栋党小组 is led by a member of the grid's branch."""

    __tablename__ = "buildings"
    __table_args__ = (UniqueConstraint("grid_id", "name"), Index("ix_buildings_town", "town_id", "id"))

    id: int | None = Field(default=None, primary_key=True)
    town_id: int = Field(foreign_key="towns.id")
    grid_id: int = Field(foreign_key="grids.id")
    name: str = Field(max_length=50)
    group_leader_id: int | None = Field(default=None, foreign_key="staff.id", index=True)
    created_at: datetime = _ts()


class Household(SQLModel, table=True):
    """A household (户) at one address of a grid, maybe in one of its buildings.

    `paired_member_id`: the member it is paired with (党员联户). `central_member_id`: set on
    a member's own household, which makes it a 党员中心户 (one per member).
    """

    __tablename__ = "households"
    __table_args__ = (
        UniqueConstraint("grid_id", "address"),
        Index("ix_households_town", "town_id", "id"),
        Index("ix_households_grid", "grid_id", "id"),
        Index("ix_households_building", "building_id", "id"),
        Index("ix_households_paired", "paired_member_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    town_id: int = Field(foreign_key="towns.id")
    grid_id: int = Field(foreign_key="grids.id")
    building_id: int | None = Field(default=None, foreign_key="buildings.id")
    address: str = Field(max_length=200)
    unit: str | None = Field(default=None, max_length=20)
    room: str | None = Field(default=None, max_length=20)
    head_name: str | None = Field(default=None, max_length=50)
    phone: str | None = Field(default=None, max_length=20, index=True)
    people: int | None = None
    flags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    paired_member_id: int | None = Field(default=None, foreign_key="staff.id")
    central_member_id: int | None = Field(default=None, foreign_key="staff.id", unique=True)
    created_at: datetime = _ts()
