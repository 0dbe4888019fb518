"""Validated inputs and the answers of the 群众说事厅: halls, sessions, matters."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, Field, field_validator

from domain.halls import MAX_HOSTS, MatterOutcome, SessionKind
from domain.states import Urgency
from workflows.inputs import Id, Patch, Phone, Strict, Text
from workflows.refs import Ref

HallName = Annotated[Text, Field(max_length=100)]
Address = Annotated[Text, Field(max_length=200)]
Note = Annotated[Text, Field(max_length=2000)]


class HallCreate(Strict):
    name: HallName
    branch_id: Id | None = Field(None, description="The village's or community's branch; none for the town's hall.")
    address: Address | None = None


class HallUpdate(Patch):
    nullable = frozenset({"address"})

    name: HallName | None = None
    address: Address | None = None
    active: bool | None = None


class HallView(BaseModel):
    id: int
    name: str
    branch: Ref | None
    address: str | None
    active: bool
    created_at: datetime


class SessionCreate(Strict):
    kind: SessionKind = Field(SessionKind.RECEPTION, strict=False, description="reception 接访, down 下访")
    grid_id: Id | None = Field(None, description="For a 下访: the grid gone down to.")
    starts_at: AwareDatetime = Field(strict=False, description="Up to 30 days ago, or ahead (a duty roster).")
    ends_at: AwareDatetime | None = Field(None, strict=False, description="Within 24 h of starts_at.")
    host_ids: list[Id] = Field(min_length=1, max_length=MAX_HOSTS, description="The staff on duty.")
    note: Note | None = None

    @field_validator("host_ids")
    @classmethod
    def _distinct(cls, value: list[int]) -> list[int]:
        return list(dict.fromkeys(value))


class MatterCreate(Strict):
    """A matter said at the session: settled on the spot (`settled_note`), or an order (`category_id`)."""

    visitor_name: Annotated[Text, Field(max_length=50)]
    visitor_phone: Phone | None = None
    grid_id: Id | None = Field(None, description="Where the matter is; defaults to the household's or the 下访's grid.")
    household_id: Id | None = None
    description: Note
    outcome: MatterOutcome = Field(strict=False, description="settled 当场解决, order 转为工单")
    settled_note: Note | None = Field(None, description="How it was settled: needed for `settled`.")
    category_id: Id | None = Field(None, description="The order's category: needed for `order`.")
    urgency: Urgency | None = Field(None, strict=False)


class MatterOrder(BaseModel):
    id: int
    state: str
    state_label: str


class MatterView(BaseModel):
    id: int
    session_id: int
    hall: Ref
    grid: Ref
    household_id: int | None
    visitor_name: str
    visitor_phone: str | None
    description: str
    outcome: str
    outcome_label: str
    settled_note: str | None
    order: MatterOrder | None
    solved: bool = Field(description="Settled on the spot, or its order closed.")
    recorded_by: Ref
    recorded_at: datetime


class SessionView(BaseModel):
    id: int
    hall: Ref
    kind: str
    kind_label: str
    grid: Ref | None
    starts_at: datetime
    ends_at: datetime | None
    note: str | None
    hosts: list[Ref]
    matters: list[MatterView]
    created_at: datetime
