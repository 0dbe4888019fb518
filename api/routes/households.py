"""Buildings and households below the grid: the town admin keeps them, staff read their own.

Reads (`/buildings`, `/households`) are scoped: the town admin reads the town, a secretary
the branch's grids, a grid worker the grids served, a member what they look after (paired
households, their own 党员中心户, buildings whose party group they lead). Writes are the
town admin's, under `/admin`; the 住户名单 file and its template are the office's (office.py).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Response

from api.deps import Admin, Db, Now, Paging, PathId, QueryBool, QueryId, Staff
from api.problems import problem_responses
from api.routing import api_router
from workflows import households as hh
from workflows.household_inputs import (
    Flag, BuildingCreate, BuildingUpdate, BuildingView, HouseholdCreate, HouseholdUpdate, HouseholdView,
)
from workflows.paging import Page

router = api_router(tags=["households"], responses=problem_responses(401, 403))
LIST = problem_responses(422)
ONE = problem_responses(404, 422)
WRITE = problem_responses(404, 409, body=True)
DELETE = problem_responses(404, 409, 422)
FlagQuery = Annotated[Flag | None, Query(description="Only households with this flag.")]


@router.get("/buildings", responses=LIST)
def list_buildings(user: Staff, db: Db, page: Paging, grid_id: QueryId = None) -> Page[BuildingView]:
    """Buildings (楼栋) the caller may see, with how many households each has."""
    return hh.list_buildings(db, user, page, grid_id=grid_id)


@router.get("/buildings/{building_id}", responses=ONE)
def get_building(building_id: PathId, user: Staff, db: Db) -> BuildingView:
    return hh.get_building(db, user, building_id)


@router.get("/households", responses=LIST)
def list_households(
    user: Staff, db: Db, page: Paging, grid_id: QueryId = None, building_id: QueryId = None,
    paired_member_id: QueryId = None, flag: FlagQuery = None,
    central: Annotated[QueryBool | None, Query(description="Only 党员中心户 (true) or only the others (false).")]
    = None,
) -> Page[HouseholdView]:
    """Households the caller may see, oldest first."""
    return hh.list_households(db, user, page, grid_id=grid_id, building_id=building_id,
                              paired_member_id=paired_member_id, flag=flag, central=central)


@router.get("/households/{household_id}", responses=ONE)
def get_household(household_id: PathId, user: Staff, db: Db) -> HouseholdView:
    return hh.get_household(db, user, household_id)


@router.post("/admin/buildings", status_code=201, responses=WRITE)
def create_building(body: BuildingCreate, user: Admin, db: Db, now: Now) -> BuildingView:
    """A building of a grid; `group_leader_id` leads its 楼栋党小组."""
    return hh.create_building(db, user, body, now=now)


@router.patch("/admin/buildings/{building_id}", responses=WRITE)
def update_building(building_id: PathId, body: BuildingUpdate, user: Admin, db: Db, now: Now) -> BuildingView:
    return hh.update_building(db, user, building_id, body, now=now)


@router.delete("/admin/buildings/{building_id}", status_code=204, responses=DELETE)
def delete_building(building_id: PathId, user: Admin, db: Db, now: Now) -> Response:
    """Only an empty building: move or remove its households first (409)."""
    hh.delete_building(db, user, building_id, now=now)
    return Response(status_code=204)


@router.post("/admin/households", status_code=201, responses=WRITE)
def create_household(body: HouseholdCreate, user: Admin, db: Db, now: Now) -> HouseholdView:
    """A household at an address of a grid; pair it with a member (党员联户) or mark a member's home (党员中心户)."""
    return hh.create_household(db, user, body, now=now)


@router.patch("/admin/households/{household_id}", responses=WRITE)
def update_household(household_id: PathId, body: HouseholdUpdate, user: Admin, db: Db, now: Now) -> HouseholdView:
    return hh.update_household(db, user, household_id, body, now=now)


@router.delete("/admin/households/{household_id}", status_code=204, responses=DELETE)
def delete_household(household_id: PathId, user: Admin, db: Db, now: Now) -> Response:
    hh.delete_household(db, user, household_id, now=now)
    return Response(status_code=204)
