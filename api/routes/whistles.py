"""吹哨报到 over HTTP: the branch whistles an order to units; a unit's staff report in and reply.

`POST /orders/{id}/whistle` is the secretary's (or the town admin's) move on the order.
A unit's staff work from `/whistles`: the ones whistled to their unit, each with the
buttons it allows now (`report_in`, `unit_reply`, `unit_decline`). Units themselves are
kept by the town admin under `/admin/units`; `/units` lists them for whoever whistles.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from api.deps import Admin, AppSettings, Db, Now, Paging, PathId, QueryBool, QueryId, require
from api.problems import problem_responses
from api.routes.orders import MOVE_WITH_BODY_ERRORS, detail_for
from api.routes.photos import Links
from api.routing import api_router
from domain.roles import Role
from domain.whistles import UnitKind, WhistleState
from workflows import units, whistles
from workflows.inputs import Reason
from workflows.paging import Page
from workflows.principal import Principal
from workflows.views import OrderDetail
from workflows.whistle_inputs import UnitCreate, UnitReply, UnitUpdate, UnitView, WhistleItem, WhistleRequest
from workflows.whistle_views import WhistleFilters, get_whistle, list_whistles

router = api_router(tags=["whistles"], responses=problem_responses(401, 403))
Whistler = Annotated[Principal, require(Role.SECRETARY, Role.TOWN_ADMIN)]
WhistleReader = Annotated[Principal, require(Role.UNIT_STAFF, Role.SECRETARY, Role.TOWN_ADMIN)]
UnitStaff = Annotated[Principal, require(Role.UNIT_STAFF)]
LIST = problem_responses(422)
ONE = problem_responses(404, 422)
UNIT_MOVE = problem_responses(404, 409, 422)
UNIT_MOVE_WITH_BODY = problem_responses(404, 409, body=True)
WRITE = problem_responses(404, 409, body=True)


@router.post("/orders/{order_id}/whistle", responses=MOVE_WITH_BODY_ERRORS)
def whistle(order_id: PathId, body: WhistleRequest, user: Whistler, db: Db, now: Now, links: Links) -> OrderDetail:
    """吹哨: call co-building units in on a claimed order beyond the branch (or more units on one waiting).

    Each unit must report in within the town's limit (`whistle_report_minutes`, urgent:
    `whistle_report_urgent_minutes`) and then reply within its reply limit; late ones are
    reminded and the town office told. The order waits in `whistled` (部门办理中) until no
    unit is still at work: then it goes to the resident to rate, or back to the branch if
    every unit declined.
    """
    return whistles.whistle_order(db, user, order_id, body, now=now, answer=detail_for(db, user, now, links))


@router.get("/whistles", responses=LIST)
def list_unit_whistles(
    user: WhistleReader, db: Db, now: Now, page: Paging,
    state: Annotated[list[WhistleState] | None, Query()] = None,
    unit_id: QueryId = None, overdue: QueryBool | None = None,
) -> Page[WhistleItem]:
    """Whistles the caller may see (a unit's own; a secretary's branch; the town), the most urgent first."""
    items, total = list_whistles(db, user, WhistleFilters(state, unit_id, overdue), page, now)
    return Page(items=items, total=total, **vars(page))


@router.get("/whistles/{whistle_id}", responses=ONE)
def get_one_whistle(whistle_id: PathId, user: WhistleReader, db: Db, now: Now) -> WhistleItem:
    return get_whistle(db, user, whistle_id, now)


def _answer(db, user, now):
    return lambda whistle: get_whistle(db, user, whistle.id, now)


@router.post("/whistles/{whistle_id}/report-in", responses=UNIT_MOVE)
def report_in(whistle_id: PathId, user: UnitStaff, db: Db, now: Now) -> WhistleItem:
    """报到: the unit takes the whistle on; its reply limit starts now."""
    return whistles.report_in(db, user, whistle_id, now=now, answer=_answer(db, user, now))


@router.post("/whistles/{whistle_id}/reply", responses=UNIT_MOVE_WITH_BODY)
def reply(whistle_id: PathId, body: UnitReply, user: UnitStaff, db: Db, now: Now,
          settings: AppSettings) -> WhistleItem:
    """回复: what the unit did, with photos (upload them to /photos first)."""
    return whistles.reply(db, user, whistle_id, body, photos_per_order=settings.photos_per_order, now=now,
                          answer=_answer(db, user, now))


@router.post("/whistles/{whistle_id}/decline", responses=UNIT_MOVE_WITH_BODY)
def decline(whistle_id: PathId, body: Reason, user: UnitStaff, db: Db, now: Now) -> WhistleItem:
    """退回: not this unit's matter, with the reason."""
    return whistles.decline(db, user, whistle_id, body, now=now, answer=_answer(db, user, now))


@router.get("/units", responses=LIST)
def list_units(
    user: Whistler, db: Db, page: Paging, active: QueryBool | None = None,
    kind: Annotated[UnitKind | None, Query()] = None,
) -> Page[UnitView]:
    """The town's co-building units (共建单位), with how many staff each has to report in."""
    items, total = units.list_units(db, user, page, active=active, kind=kind)
    return Page(items=items, total=total, **vars(page))


@router.get("/units/{unit_id}", responses=ONE)
def get_unit(unit_id: PathId, user: Whistler, db: Db) -> UnitView:
    return units.get_unit(db, user, unit_id)


@router.post("/admin/units", status_code=201, responses=WRITE)
def create_unit(body: UnitCreate, user: Admin, db: Db, now: Now) -> UnitView:
    """A co-building unit; its staff are staff accounts with the role `unit_staff` and its `unit_id`."""
    unit = units.create_unit(db, user, body, now=now)
    return units.unit_views(db, [unit])[0]


@router.patch("/admin/units/{unit_id}", responses=WRITE)
def update_unit(unit_id: PathId, body: UnitUpdate, user: Admin, db: Db, now: Now) -> UnitView:
    unit = units.update_unit(db, user, unit_id, body, now=now)
    return units.unit_views(db, [unit])[0]
