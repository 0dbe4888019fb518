"""Inputs and views of buildings and households (the admin API and the scoped reads)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from domain.households import MAX_FLAGS
from workflows.inputs import Id, Patch, Phone, Strict, Text

Flag = Annotated[Text, Field(max_length=20)]
Flags = Annotated[list[Flag], Field(max_length=MAX_FLAGS)]
Short = Annotated[Text, Field(max_length=20)]


class BuildingCreate(Strict):
    grid_id: Id
    name: Annotated[Text, Field(max_length=50)]
    group_leader_id: Id | None = Field(None, description="楼栋党小组 leader: an active member of the grid's branch.")


class BuildingUpdate(Patch):
    nullable = frozenset({"group_leader_id"})

    name: Annotated[Text, Field(max_length=50)] | None = None
    group_leader_id: Id | None = None


class BuildingView(BaseModel):
    id: int
    town_id: int
    grid_id: int
    name: str
    group_leader_id: int | None
    households: int = Field(description="Households recorded in the building.")
    created_at: datetime


class HouseholdCreate(Strict):
    grid_id: Id
    address: Annotated[Text, Field(max_length=200, description=(
        "The household's whole address, unit and room included: one household per address of a grid."))]
    building_id: Id | None = None
    unit: Short | None = None
    room: Short | None = None
    head_name: Annotated[Text, Field(max_length=50)] | None = None
    phone: Phone | None = None
    people: int | None = Field(None, ge=1, le=100)
    flags: Flags = Field(default_factory=list, description="From the town's `household_flags`.")
    paired_member_id: Id | None = Field(None, description="党员联户: an active member of the grid's branch.")
    central_member_id: Id | None = Field(None, description="This is that member's own household: a 党员中心户.")


class HouseholdUpdate(Patch):
    nullable = frozenset({"building_id", "unit", "room", "head_name", "phone", "people", "paired_member_id",
                          "central_member_id"})

    grid_id: Id | None = None
    address: Annotated[Text, Field(max_length=200)] | None = None
    building_id: Id | None = None
    unit: Short | None = None
    room: Short | None = None
    head_name: Annotated[Text, Field(max_length=50)] | None = None
    phone: Phone | None = None
    people: int | None = Field(None, ge=1, le=100)
    flags: Flags | None = None
    paired_member_id: Id | None = None
    central_member_id: Id | None = None


class HouseholdView(BaseModel):
    id: int
    town_id: int
    grid_id: int
    building_id: int | None
    address: str
    unit: str | None
    room: str | None
    head_name: str | None
    phone: str | None
    people: int | None
    flags: list[str]
    paired_member_id: int | None
    central_member_id: int | None
    is_central: bool = Field(description="党员中心户: the home of a party member.")
    created_at: datetime
