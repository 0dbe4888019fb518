"""驻点直联: the standing teams, their members and grids, and the visits they make."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.models._fields import timestamp as _ts


class VisitTeam(SQLModel, table=True):
    """A standing team (驻点直联组) of the town, visiting its grids' households on its 直联日."""

    __tablename__ = "visit_teams"
    __table_args__ = (UniqueConstraint("town_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    town_id: int = Field(foreign_key="towns.id", index=True)
    name: str = Field(max_length=100)
    # ISO weekday, 1 = Monday.
    link_weekday: int = 3
    leader_id: int | None = Field(default=None, foreign_key="staff.id")
    active: bool = True
    created_at: datetime = _ts()


class VisitTeamMember(SQLModel, table=True):
    __tablename__ = "visit_team_members"
    __table_args__ = (Index("ix_visit_team_members_staff", "staff_id"),)

    team_id: int = Field(foreign_key="visit_teams.id", primary_key=True)
    staff_id: int = Field(foreign_key="staff.id", primary_key=True)


class VisitTeamGrid(SQLModel, table=True):
    __tablename__ = "visit_team_grids"
    __table_args__ = (Index("ix_visit_team_grids_grid", "grid_id"),)

    team_id: int = Field(foreign_key="visit_teams.id", primary_key=True)
    grid_id: int = Field(foreign_key="grids.id", primary_key=True)


class Visit(SQLModel, table=True):
    """One visit to a household (入户走访) or down to a village (下访): who went, what was said.

    `visited_on` is the town day of `visited_at`, the day the 走访率 counts it on. The needs
    found are orders whose `visit_id` is this visit.
    """

    __tablename__ = "visits"
    __table_args__ = (
        Index("ix_visits_town_day", "town_id", "visited_on"),
        Index("ix_visits_team_day", "team_id", "visited_on"),
        Index("ix_visits_household", "household_id", "visited_on"),
        Index("ix_visits_grid_day", "grid_id", "visited_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    town_id: int = Field(foreign_key="towns.id")
    team_id: int | None = Field(default=None, foreign_key="visit_teams.id")
    kind: str = Field(default="household", max_length=20)
    grid_id: int = Field(foreign_key="grids.id")
    household_id: int | None = Field(default=None, foreign_key="households.id")
    visitor_id: int = Field(foreign_key="staff.id")
    visited_at: datetime = _ts()
    visited_on: date
    note: str | None = Field(default=None, max_length=2000)
    created_at: datetime = _ts()
