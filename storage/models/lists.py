"""三张清单: needs the community entered, resources offered by members and units, and which
resources a project uses (the third list is the projects themselves)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from storage.models._fields import timestamp as _ts


class CommunityNeed(SQLModel, table=True):
    """A need entered by the community (社区需求), beside those counted from open orders."""

    __tablename__ = "community_needs"
    __table_args__ = (Index("ix_community_needs_town_state", "town_id", "state", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    town_id: int = Field(foreign_key="towns.id")
    branch_id: int | None = Field(default=None, foreign_key="branches.id")
    grid_id: int | None = Field(default=None, foreign_key="grids.id")
    category_id: int | None = Field(default=None, foreign_key="categories.id")
    title: str = Field(max_length=100)
    description: str = Field(max_length=2000)
    state: str = Field(default="open", max_length=10)
    created_by_id: int = Field(foreign_key="staff.id")
    created_at: datetime = _ts()


class Resource(SQLModel, table=True):
    """What a party member or a co-building unit offers (单位资源): skill, equipment, money, hours, venue."""

    __tablename__ = "resources"
    __table_args__ = (Index("ix_resources_town", "town_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    town_id: int = Field(foreign_key="towns.id")
    member_id: int | None = Field(default=None, foreign_key="staff.id")
    unit_id: int | None = Field(default=None, foreign_key="units.id")
    kind: str = Field(max_length=10)
    title: str = Field(max_length=100)
    description: str | None = Field(default=None, max_length=1000)
    amount: str | None = Field(default=None, max_length=50)
    # The categories it serves and words it is known by, for the match suggestions.
    category_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    active: bool = True
    created_by_id: int = Field(foreign_key="staff.id")
    created_at: datetime = _ts()


class ProjectResource(SQLModel, table=True):
    __tablename__ = "project_resources"
    __table_args__ = (Index("ix_project_resources_resource", "resource_id"),)

    project_id: int = Field(foreign_key="projects.id", primary_key=True)
    resource_id: int = Field(foreign_key="resources.id", primary_key=True)
