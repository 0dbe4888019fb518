"""Inputs and views of the town's hierarchy and categories (the admin API)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, StringConstraints, field_validator
from pydantic_core import PydanticCustomError

from domain.households import MAX_FLAGS
from domain.states import Urgency
from workflows.inputs import Id, Patch, Phone, Plain, Strict, Text

Name = Annotated[Text, Field(max_length=100)]
StaffRole = Literal["grid_worker", "secretary", "member", "town_admin", "unit_staff"]
Minutes = Annotated[int, Field(ge=5, le=60 * 24 * 90)]
Password = Annotated[str, Field(min_length=8, max_length=128)]
RobotKey = Annotated[
    Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,100}$")] | None,
    Field(description="Key of the WeCom group robot (the part after ?key=)."),
]


class TownUpdate(Patch):
    nullable = frozenset({"intake_grid_id"})

    name: Name | None = None
    timezone: str | None = None
    public_board_enabled: bool | None = Field(None, description="Show completed work on the public 晒单 board.")
    public_points_board_enabled: bool | None = Field(
        None, description="Show members' and branches' monthly points and stars on the public 晒分 board.")
    household_flags: list[Annotated[Text, Field(max_length=20)]] | None = Field(
        None, max_length=MAX_FLAGS, description="The flags households may carry (独居老人, 低保户, …).")
    whistle_report_minutes: Minutes | None = Field(None, description="吹哨报到: minutes a unit has to report in.")
    whistle_report_urgent_minutes: Minutes | None = Field(None, description="… for an urgent order.")
    whistle_reply_minutes: Minutes | None = Field(None, description="Minutes a unit has to reply once reported in.")
    whistle_reply_urgent_minutes: Minutes | None = Field(None, description="… for an urgent order.")
    route_distance_m: int | None = Field(
        None, ge=0, le=5000, description="An order outside every grid goes to the nearest grid this near (metres).")
    intake_grid_id: Id | None = Field(
        None, description="Where an order near no grid goes, for its grid workers to pass on; null: refused.")
    nearby_radius_m: int | None = Field(None, ge=5, le=2000, description="\"Me too\": how near an open order is offered.")
    nearby_days: int | None = Field(None, ge=1, le=90, description="… and how recently placed.")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise PydanticCustomError("unknown_time_zone", "unknown time zone {value}", {"value": value}) from exc
        return value


class TownView(BaseModel):
    id: int
    name: str
    timezone: str
    public_board_enabled: bool
    public_points_board_enabled: bool
    household_flags: list[str]
    whistle_report_minutes: int
    whistle_report_urgent_minutes: int
    whistle_reply_minutes: int
    whistle_reply_urgent_minutes: int
    route_distance_m: int
    intake_grid_id: int | None
    nearby_radius_m: int
    nearby_days: int


class BranchCreate(Strict):
    name: Name
    kind: Literal["village", "community"] = "village"
    wecom_webhook_key: RobotKey = None


class BranchUpdate(Patch):
    nullable = frozenset({"wecom_webhook_key"})

    name: Name | None = None
    kind: Literal["village", "community"] | None = None
    wecom_webhook_key: RobotKey = None
    task_mode: Literal["pick", "first"] | None = Field(
        None, description="揭榜: the secretary picks among volunteers (pick) or the first takes it (first).")


class BranchView(BaseModel):
    id: int
    town_id: int
    name: str
    kind: str
    wecom_webhook_key: str | None
    task_mode: str
    created_at: datetime


class GridCreate(Strict):
    branch_id: Id
    name: Name
    households: int | None = Field(None, ge=0, le=100_000)
    wecom_webhook_key: RobotKey = None


class GridUpdate(Patch):
    nullable = frozenset({"households", "wecom_webhook_key"})

    branch_id: Id | None = None
    name: Name | None = None
    households: int | None = Field(None, ge=0, le=100_000)
    wecom_webhook_key: RobotKey = None


class GridView(BaseModel):
    id: int
    town_id: int
    branch_id: int
    name: str
    households: int | None
    wecom_webhook_key: str | None


class StaffCreate(Strict):
    name: Annotated[Text, Field(max_length=50)]
    phone: Phone
    role: StaffRole
    password: Password
    branch_id: Id | None = Field(None, description="Required for secretaries and members.")
    grid_ids: list[Id] = Field(
        default_factory=list, max_length=50, description="Grids a grid worker serves."
    )
    is_local_worthy: bool = False
    unit_id: Id | None = Field(None, description="Required for unit staff: the co-building unit they work for.")


class StaffUpdate(Patch):
    name: Annotated[Text, Field(max_length=50)] | None = None
    phone: Phone | None = None
    password: Password | None = None
    branch_id: Id | None = None
    grid_ids: list[Id] | None = Field(None, max_length=50)
    is_local_worthy: bool | None = None
    unit_id: Id | None = None
    active: bool | None = None


class StaffView(BaseModel):
    id: int
    name: str
    phone: str
    role: str
    role_label: str
    branch_id: int | None
    grid_ids: list[int]
    is_local_worthy: bool
    unit_id: int | None = None
    active: bool


class AttributeValue(Strict):
    key: Annotated[Text, Field(max_length=50)]
    name: Annotated[Text, Field(max_length=100)]


class AttributeDefinition(Strict):
    """One extra question of a category: an Open311 service attribute, asked by the resident's form too."""

    code: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,50}$")]
    datatype: Literal["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"]
    description: Annotated[Text, Field(max_length=200)] = Field(description="The question, as the form asks it.")
    variable: bool = Field(True, description="False: text shown to the resident, not a question.")
    required: bool = False
    datatype_description: Annotated[Plain, Field(max_length=200)] = ""
    order: int = Field(0, ge=0, le=1000)
    values: list[AttributeValue] = Field(default_factory=list, max_length=50,
                                         description="The choices of a singlevaluelist or multivaluelist.")


Attributes = Annotated[list[AttributeDefinition], Field(max_length=20)]


class CategoryCreate(Strict):
    name: Annotated[Text, Field(max_length=50)]
    description: Annotated[Plain, Field(max_length=500)] = ""
    default_urgency: Urgency = Field(Urgency.NORMAL, strict=False)
    claim_minutes: Minutes = 120
    dispatch_minutes: Minutes = 1440
    accept_minutes: Minutes = 240
    complete_minutes: Minutes = 4320
    complete_urgent_minutes: Minutes = 1440
    rate_minutes: Minutes = 10080
    attributes: Attributes = Field(default_factory=list, description="Extra questions (Open311 attributes).")
    keywords: Annotated[Plain, Field(max_length=200)] = ""
    group_name: Annotated[Plain, Field(max_length=50)] = Field("", description="Open311's service group.")
    public_requests: bool = Field(False, description="Anyone may read its orders by Open311 (GET requests),"
                                                     " without anything of the resident.")


class CategoryUpdate(Patch):
    name: Annotated[Text, Field(max_length=50)] | None = None
    description: Annotated[Plain, Field(max_length=500)] | None = None
    default_urgency: Urgency | None = Field(None, strict=False)
    claim_minutes: Minutes | None = None
    dispatch_minutes: Minutes | None = None
    accept_minutes: Minutes | None = None
    complete_minutes: Minutes | None = None
    complete_urgent_minutes: Minutes | None = None
    rate_minutes: Minutes | None = None
    active: bool | None = None
    attributes: Attributes | None = None
    keywords: Annotated[Plain, Field(max_length=200)] | None = None
    group_name: Annotated[Plain, Field(max_length=50)] | None = None
    public_requests: bool | None = None


class CategoryView(BaseModel):
    id: int
    town_id: int
    name: str
    description: str
    default_urgency: str
    claim_minutes: int
    dispatch_minutes: int
    accept_minutes: int
    complete_minutes: int
    complete_urgent_minutes: int
    rate_minutes: int
    active: bool
    attributes: list[dict]
    keywords: str
    group_name: str
    public_requests: bool
