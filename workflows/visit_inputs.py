"""Validated inputs and the answers of 驻点直联: teams, visits, the week's plan."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, Field, field_validator

from domain.states import Urgency
from domain.visits import MAX_NEEDS_PER_VISIT, MAX_TEAM_GRIDS, MAX_TEAM_MEMBERS
from workflows.inputs import Id, Patch, Phone, PhotoId, Strict, Text
from workflows.refs import Ref

TeamName = Annotated[Text, Field(max_length=100)]
LinkWeekday = Annotated[int, Field(ge=1, le=7, description="直联日, ISO weekday: 1 = Monday … 7 = Sunday.")]


def _unique(value: list[int] | None) -> list[int] | None:
    return None if value is None else list(dict.fromkeys(value))


class TeamCreate(Strict):
    name: TeamName
    link_weekday: LinkWeekday = 3
    member_ids: list[Id] = Field(default_factory=list, max_length=MAX_TEAM_MEMBERS,
                                 description="Staff on the team: party members and grid workers of the town.")
    grid_ids: list[Id] = Field(default_factory=list, max_length=MAX_TEAM_GRIDS,
                               description="The grids it is stationed in: their households are the ones it visits.")
    leader_id: Id | None = Field(None, description="One of member_ids.")

    @field_validator("member_ids", "grid_ids")
    @classmethod
    def _distinct(cls, value: list[int] | None) -> list[int] | None:
        return _unique(value)


class TeamUpdate(Patch):
    nullable = frozenset({"leader_id"})

    name: TeamName | None = None
    link_weekday: LinkWeekday | None = None
    member_ids: list[Id] | None = Field(None, max_length=MAX_TEAM_MEMBERS, description="Replaces the members.")
    grid_ids: list[Id] | None = Field(None, max_length=MAX_TEAM_GRIDS, description="Replaces the grids.")
    leader_id: Id | None = None
    active: bool | None = None

    @field_validator("member_ids", "grid_ids")
    @classmethod
    def _distinct(cls, value: list[int] | None) -> list[int] | None:
        return _unique(value)


class TeamView(BaseModel):
    id: int
    name: str
    link_weekday: int
    link_weekday_label: str = Field(description="周一 … 周日")
    leader: Ref | None
    members: list[Ref]
    grids: list[Ref]
    households: int = Field(description="Households recorded in the team's grids.")
    active: bool
    created_at: datetime


class VisitNeed(Strict):
    """A need found on the visit: placed as an order on the resident's behalf, channel `visit`."""

    category_id: Id
    description: Annotated[Text, Field(max_length=2000)]
    urgency: Urgency | None = Field(None, strict=False, description="Defaults to the category's urgency.")
    photo_ids: list[PhotoId] = Field(default_factory=list, max_length=20)
    contact_name: Annotated[Text, Field(max_length=50)] | None = Field(
        None, description="Defaults to the household's head.")
    contact_phone: Phone | None = Field(None, description="Defaults to the household's phone.")


class VisitCreate(Strict):
    household_id: Id
    team_id: Id | None = Field(None, description="Defaults to the visitor's team stationed in the household's grid.")
    visited_at: AwareDatetime | None = Field(
        None, strict=False, description="Defaults to now; not in the future, nor more than 30 days ago.")
    note: Annotated[Text, Field(max_length=2000)] | None = Field(None, description="What was said (民情日记).")
    needs: list[VisitNeed] = Field(default_factory=list, max_length=MAX_NEEDS_PER_VISIT)


class VisitHousehold(BaseModel):
    id: int
    address: str
    head_name: str | None
    flags: list[str]


class VisitOrder(BaseModel):
    """A need found on the visit, as the order it became."""

    id: int
    category: Ref
    state: str
    state_label: str
    description: str


class VisitView(BaseModel):
    id: int
    kind: str
    kind_label: str
    team: Ref | None
    grid: Ref
    household: VisitHousehold | None
    visitor: Ref
    visited_at: datetime
    visited_on: date = Field(description="The town day of the visit: the day the 走访率 counts it on.")
    note: str | None
    orders: list[VisitOrder] = Field(description="The needs found, as orders placed with the channel `visit`.")
    created_at: datetime


class PlanHousehold(BaseModel):
    household: VisitHousehold
    grid: Ref
    last_visited_on: date | None
    visited_this_week: bool


class TeamPlan(BaseModel):
    """The team's week: its 直联日 and its households, those longest unvisited first."""

    team: Ref
    week_of: date = Field(description="The Monday of the week.")
    link_day: date
    link_weekday_label: str
    households: int
    visited_this_week: int
    items: list[PlanHousehold]
    total: int
    limit: int
    offset: int
