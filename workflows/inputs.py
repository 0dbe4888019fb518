"""Validated inputs of the use cases; the API takes them as request bodies as they are."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, ClassVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from domain.channels import Channel
from domain.errors import RuleViolation
from domain.states import Urgency

# Ids fit PostgreSQL's integer; bigger numbers are bad input, not a database error.
MAX_ID = 2**31 - 1
Id = Annotated[int, Field(gt=0, le=MAX_ID)]
# No NUL or other control characters (PostgreSQL refuses NUL in text); newlines and tabs are fine.
_PRINTABLE = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
Plain = Annotated[str, StringConstraints(pattern=_PRINTABLE)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, pattern=_PRINTABLE)]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9]{5,15}$")]
# What workflows/photos.py makes (32 characters of URL-safe base64), with room up to the column's 40.
PhotoId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{16,40}$")]


def _iso_day(value: object) -> object:
    if isinstance(value, date) or (isinstance(value, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value)):
        return value
    raise ValueError("a day is written YYYY-MM-DD")


# The days a period may name. Periods are turned into instants (a day's midnight in the
# town's zone, the day after the last) and ranges of days, which overflow Python's dates
# at 0001-01-01 and 9999-12-31; no town has orders before 1970, and a year short of the
# calendar's end leaves room for every step of that arithmetic.
FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(9998, 12, 31)
DAYS = f"from {FIRST_DAY:%Y-%m-%d} to {LAST_DAY:%Y-%m-%d}"

# A day as YYYY-MM-DD only: pydantic alone takes "0" for 1970-01-01 (a Unix time) and "2026-11-20T00:00".
# The bounds go before the check: after it, they would reach the OpenAPI schema as `ge`/`le`,
# which are not JSON Schema; the parameters' descriptions say DAYS instead.
Day = Annotated[date, Field(ge=FIRST_DAY, le=LAST_DAY), BeforeValidator(_iso_day)]


def check_days(**days: date | None) -> None:
    """Refuse (422) a day outside FIRST_DAY..LAST_DAY, for callers that did not parse it as a `Day`."""
    for name, day in days.items():
        if day is not None and not FIRST_DAY <= day <= LAST_DAY:
            raise RuleViolation(f"{name} must be a day {DAYS}")


class Strict(BaseModel):
    """Unknown fields are errors, and no number passes for a string or the reverse."""

    model_config = ConfigDict(extra="forbid", strict=True)


class Patch(Strict):
    """A partial update: absent fields stay, and null is refused unless the field may be empty."""

    nullable: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="after")
    def _no_null_for_required(self) -> Patch:
        nulls = sorted(k for k in self.model_fields_set if getattr(self, k) is None and k not in self.nullable)
        if nulls:
            raise PydanticCustomError("not_nullable", "may not be null: {fields}", {"fields": ", ".join(nulls)})
        return self


class OrderDraft(Strict):
    category_id: Id
    description: Annotated[Text, Field(max_length=2000)]
    urgency: Urgency | None = Field(
        None, strict=False, description="Defaults to the category's urgency."
    )
    grid_id: Id | None = Field(None, description="Defaults to the grid the location is in (routing by the grids'"
                                                 " outlines), else to the resident's grid.")
    address: Annotated[Plain, Field(max_length=200)] | None = None
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    photo_ids: list[PhotoId] = Field(default_factory=list, max_length=20)
    attributes: dict[Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,50}$")],
                     Annotated[str, Field(max_length=2000)] | list[Annotated[str, Field(max_length=200)]]] = Field(
        default_factory=dict, max_length=20,
        description="Answers to the category's extra questions (`attributes` of its definition), by code.")
    # Only for staff placing an order on a resident's behalf (代点单):
    contact_name: Annotated[Text, Field(max_length=50)] | None = None
    contact_phone: Phone | None = None
    channel: Channel | None = Field(None, strict=False)

    @model_validator(mode="after")
    def _location_pairs(self) -> OrderDraft:
        if (self.latitude is None) != (self.longitude is None):
            raise PydanticCustomError("coordinates_pair", "latitude and longitude go together")
        return self


class Reason(Strict):
    reason: Annotated[Text, Field(max_length=500)]


class RejectRequest(Reason):
    duplicate_of_id: Id | None = Field(
        None, description="Rejected as a duplicate of this open order; its resident then follows that one.")


class OptionalReason(Strict):
    reason: Annotated[Text, Field(max_length=500)] | None = None


class TransferRequest(Strict):
    grid_id: Id
    reason: Annotated[Text, Field(max_length=500)]


class DispatchRequest(Strict):
    """To one member (a local worthy is one too), or to an action team (行动队): one of the two."""

    member_id: Id | None = None
    action_team_id: Id | None = Field(None, description="An action team of the order's branch; its member holds"
                                                        " the order, its cadre and worthies are told.")
    note: Annotated[Text, Field(max_length=500)] | None = None

    @model_validator(mode="after")
    def _one_target(self) -> DispatchRequest:
        if (self.member_id is None) == (self.action_team_id is None):
            raise PydanticCustomError("one_target", "give member_id or action_team_id, one of the two")
        return self


class CompleteRequest(Strict):
    note: Annotated[Text, Field(max_length=2000)]
    photo_ids: list[PhotoId] = Field(min_length=1, max_length=20)


class RatingRequest(Strict):
    stars: int = Field(ge=1, le=5)
    comment: Annotated[Plain, Field(max_length=500)] | None = None
