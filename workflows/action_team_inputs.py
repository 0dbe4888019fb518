"""Validated inputs and the answers of action teams (行动队)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, field_validator

from domain.action_teams import MAX_WORTHIES
from workflows.inputs import Id, Patch, Strict, Text
from workflows.refs import Ref

TeamName = Annotated[Text, Field(max_length=100)]


def _distinct(value: list[int] | None) -> list[int] | None:
    return None if value is None else list(dict.fromkeys(value))


class ActionTeamCreate(Strict):
    branch_id: Id | None = Field(None, description="The town admin names the branch; a secretary's is their own.")
    name: TeamName
    cadre_id: Id = Field(description="The village cadre (村干部): the branch's secretary, a grid worker of its"
                                     " grids, or one of its members.")
    lead_id: Id = Field(description="The party member who accepts and completes what the team is dispatched.")
    worthy_ids: list[Id] = Field(default_factory=list, max_length=MAX_WORTHIES,
                                 description="Local worthies (乡贤) of the branch.")

    @field_validator("worthy_ids")
    @classmethod
    def _unique(cls, value: list[int]) -> list[int]:
        return _distinct(value)


class ActionTeamUpdate(Patch):
    name: TeamName | None = None
    cadre_id: Id | None = None
    lead_id: Id | None = None
    worthy_ids: list[Id] | None = Field(None, max_length=MAX_WORTHIES, description="Replaces the worthies.")
    active: bool | None = None

    @field_validator("worthy_ids")
    @classmethod
    def _unique(cls, value: list[int] | None) -> list[int] | None:
        return _distinct(value)


class ActionTeamView(BaseModel):
    id: int
    branch: Ref
    name: str
    cadre: Ref
    lead: Ref
    worthies: list[Ref]
    open_orders: int = Field(description="Orders dispatched to the team and not yet completed.")
    active: bool
    created_at: datetime
