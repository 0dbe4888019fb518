"""Action teams (行动队) of a branch: a village cadre, a party member, local worthies."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.models._fields import timestamp as _ts


class ActionTeam(SQLModel, table=True):
    """A standing team a branch dispatches to as one (see `domain.action_teams`).

    `lead_id` is the party member who accepts and completes what the team is dispatched;
    the cadre and the worthies (`ActionTeamWorthy`) are told and may read it.
    """

    __tablename__ = "action_teams"
    __table_args__ = (UniqueConstraint("branch_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    town_id: int = Field(foreign_key="towns.id", index=True)
    branch_id: int = Field(foreign_key="branches.id")
    name: str = Field(max_length=100)
    cadre_id: int = Field(foreign_key="staff.id")
    lead_id: int = Field(foreign_key="staff.id")
    active: bool = True
    created_at: datetime = _ts()


class ActionTeamWorthy(SQLModel, table=True):
    __tablename__ = "action_team_worthies"
    __table_args__ = (Index("ix_action_team_worthies_staff", "staff_id"),)

    team_id: int = Field(foreign_key="action_teams.id", primary_key=True)
    staff_id: int = Field(foreign_key="staff.id", primary_key=True)
