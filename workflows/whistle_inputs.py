"""Validated inputs and the answers of 吹哨报到: units, whistles and the units' replies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, field_validator

from domain.states import Urgency
from domain.whistles import MAX_UNITS_PER_WHISTLE, UnitKind
from workflows.inputs import Id, Patch, Phone, PhotoId, Strict, Text
from workflows.refs import Ref

UnitName = Annotated[Text, Field(max_length=100)]


class UnitCreate(Strict):
    name: UnitName
    kind: UnitKind = Field(UnitKind.DEPARTMENT, strict=False,
                           description="department, property, school, police, hospital, enterprise, social, other")
    contact_name: Annotated[Text, Field(max_length=50)] | None = None
    contact_phone: Phone | None = None


class UnitUpdate(Patch):
    nullable = frozenset({"contact_name", "contact_phone"})

    name: UnitName | None = None
    kind: UnitKind | None = Field(None, strict=False)
    contact_name: Annotated[Text, Field(max_length=50)] | None = None
    contact_phone: Phone | None = None
    active: bool | None = None


class UnitView(BaseModel):
    id: int
    name: str
    kind: str
    kind_label: str
    contact_name: str | None
    contact_phone: str | None
    active: bool
    staff: int = Field(description="Active staff accounts of the unit: who can report in.")


class WhistleRequest(Strict):
    """吹哨: call these units in on the order."""

    unit_ids: list[Id] = Field(min_length=1, max_length=MAX_UNITS_PER_WHISTLE)
    note: Annotated[Text, Field(max_length=2000)] | None = Field(None, description="What the units are asked to do.")
    urgency: Urgency | None = Field(None, strict=False,
                                    description="Sets the units' limits; defaults to the order's urgency.")

    @field_validator("unit_ids")
    @classmethod
    def _distinct(cls, value: list[int]) -> list[int]:
        return list(dict.fromkeys(value))


class UnitReply(Strict):
    """回复: what the unit did, with photos of it (uploaded to /photos first)."""

    note: Annotated[Text, Field(max_length=2000)]
    photo_ids: list[PhotoId] = Field(default_factory=list, max_length=20)


class WhistleView(BaseModel):
    id: int
    order_id: int
    unit: Ref
    unit_kind: str
    state: str
    state_label: str
    urgency: str
    note: str | None
    whistled_at: datetime
    report_deadline: datetime
    reported_at: datetime | None
    reported_on_time: bool | None = Field(
        description="Whether the unit answered (reported in or declined) within its report limit; null while it may still.")
    reply_deadline: datetime | None
    replied_at: datetime | None
    reply_note: str | None
    declined_at: datetime | None
    decline_reason: str | None
    overdue: bool
    overdue_seconds: int
    settled: bool = Field(description="The order has moved on past this whistle.")
    allowed_actions: list[str] = Field(description="What the caller may do with this whistle now.")


class WhistleOrder(BaseModel):
    """The order a whistle is for, as its unit's list shows it."""

    id: int
    state: str
    state_label: str
    category: str
    description: str
    address: str | None
    grid: Ref
    branch: Ref


class WhistleItem(WhistleView):
    order: WhistleOrder
