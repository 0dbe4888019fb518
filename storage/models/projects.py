"""Projects (共建项目, 领办项目) of a year: who leads them, their milestones, the orders that belong to them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from storage.models._fields import timestamp as _ts


class Project(SQLModel, table=True):
    """A project published for a year by the town (no branch) or a branch (see `domain.projects`)."""

    __tablename__ = "projects"
    __table_args__ = (Index("ix_projects_town_year", "town_id", "year", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    town_id: int = Field(foreign_key="towns.id")
    branch_id: int | None = Field(default=None, foreign_key="branches.id", index=True)
    year: int
    kind: str = Field(default="lead", max_length=10)
    title: str = Field(max_length=100)
    description: str = Field(max_length=2000)
    # The co-building unit it is done with, for a 共建项目.
    unit_id: int | None = Field(default=None, foreign_key="units.id")
    # The community need it answers (三张清单), when it was matched from one.
    need_id: int | None = Field(default=None, foreign_key="community_needs.id")
    state: str = Field(default="open", max_length=10)
    version: int = 1
    lead_member_id: int | None = Field(default=None, foreign_key="staff.id")
    action_team_id: int | None = Field(default=None, foreign_key="action_teams.id")
    taken_at: datetime | None = _ts(default=None)
    result_note: str | None = Field(default=None, max_length=2000)
    done_at: datetime | None = _ts(default=None)
    published_by_id: int = Field(foreign_key="staff.id")
    created_at: datetime = _ts()


class ProjectMilestone(SQLModel, table=True):
    __tablename__ = "project_milestones"
    __table_args__ = (Index("ix_project_milestones_project", "project_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="projects.id")
    title: str = Field(max_length=100)
    note: str | None = Field(default=None, max_length=2000)
    reached_on: date
    recorded_by_id: int = Field(foreign_key="staff.id")
    created_at: datetime = _ts()


class ProjectOrder(SQLModel, table=True):
    """An order that belongs to a project (a need the project answers)."""

    __tablename__ = "project_orders"
    __table_args__ = (Index("ix_project_orders_order", "order_id"),)

    project_id: int = Field(foreign_key="projects.id", primary_key=True)
    order_id: int = Field(foreign_key="orders.id", primary_key=True)
