"""Buildings and households: kept by the town admin, read by the staff whose grids they are in.

Who reads what: the town admin the whole town; a secretary the grids of the branch; a grid
worker the grids served; a member the households paired with them, their own (党员中心户)
and the buildings whose party group they lead. Everything else is not found. Residents
and dashboards read none of it.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import ColumnElement, case, false, func, null, or_, text, update
from sqlmodel import Session, col, select

from domain.errors import Conflict, NotFound, RuleViolation
from domain.households import building_fits, may_look_after, unknown_flags
from domain.roles import Role
from storage.models import Building, Grid, HallMatter, Household, Order, Staff, Town, Visit
from workflows.audit import audit
from workflows.hierarchy import get_in_town, require_admin, save
from workflows.household_inputs import (
    BuildingCreate, BuildingUpdate, BuildingView, HouseholdCreate, HouseholdUpdate, HouseholdView,
)
from workflows.paging import Page, PageRequest, fetch_page
from workflows.principal import Principal
from workflows.unit import use_case

# --------------------------------------------------------------------------- who sees what


def _visible_grids(actor: Principal, grid_column) -> ColumnElement[bool] | None:
    """The grid part of the scope, or None where the scope is not by grid (a member)."""
    match actor.role:
        case Role.TOWN_ADMIN:
            return None
        case Role.SECRETARY:
            return grid_column.in_(select(Grid.id).where(Grid.branch_id == actor.branch_id))
        case Role.GRID_WORKER:
            return grid_column.in_(sorted(actor.grid_ids))
    return false()


def visible_households(actor: Principal) -> ColumnElement[bool]:
    if actor.role == Role.MEMBER:
        return or_(col(Household.paired_member_id) == actor.id, col(Household.central_member_id) == actor.id)
    by_grid = _visible_grids(actor, col(Household.grid_id))
    return col(Household.town_id) == actor.town_id if by_grid is None else by_grid


def visible_buildings(actor: Principal) -> ColumnElement[bool]:
    if actor.role == Role.MEMBER:
        return col(Building.group_leader_id) == actor.id
    by_grid = _visible_grids(actor, col(Building.grid_id))
    return col(Building.town_id) == actor.town_id if by_grid is None else by_grid


def household_at(grid_id: int, phone: str | None, address: str | None):
    """A scalar subquery: the id of the grid's household at this phone, else at this address."""
    matches = [column == value for column, value in ((Household.phone, phone), (Household.address, address)) if value]
    if not matches:
        return null()
    found = select(Household.id).where(Household.grid_id == grid_id, or_(*matches))
    first = case((Household.phone == phone, 0), else_=1) if phone else col(Household.id)
    return found.order_by(first, col(Household.id)).limit(1).scalar_subquery()


# --------------------------------------------------------------------------- views


def building_views(db: Session, rows: list[Building]) -> list[BuildingView]:
    counts: dict[int, int] = {}
    ids = [b.id for b in rows]
    if ids:
        counts = dict(db.exec(select(Household.building_id, func.count()).where(col(Household.building_id).in_(ids))
                              .group_by(col(Household.building_id))).all())
    return [BuildingView(id=b.id, town_id=b.town_id, grid_id=b.grid_id, name=b.name, group_leader_id=b.group_leader_id,
                         households=counts.get(b.id, 0), created_at=b.created_at) for b in rows]


def household_view(h: Household) -> HouseholdView:
    return HouseholdView(
        id=h.id, town_id=h.town_id, grid_id=h.grid_id, building_id=h.building_id, address=h.address, unit=h.unit,
        room=h.room, head_name=h.head_name, phone=h.phone, people=h.people, flags=list(h.flags),
        paired_member_id=h.paired_member_id, central_member_id=h.central_member_id,
        is_central=h.central_member_id is not None, created_at=h.created_at,
    )


# --------------------------------------------------------------------------- reads


def list_buildings(db: Session, actor: Principal, page: PageRequest, *, grid_id: int | None) -> Page[BuildingView]:
    statement = select(Building).where(Building.town_id == actor.town_id, visible_buildings(actor))
    if grid_id is not None:
        statement = statement.where(Building.grid_id == grid_id)
    rows, total = fetch_page(db, statement.order_by(col(Building.id)), page)
    return Page(items=building_views(db, list(rows)), total=total, **vars(page))


def get_building(db: Session, actor: Principal, building_id: int) -> BuildingView:
    row = db.exec(select(Building).where(Building.id == building_id, Building.town_id == actor.town_id,
                                         visible_buildings(actor))).first()
    if row is None:
        raise NotFound(key="building.not-found", id=building_id)
    return building_views(db, [row])[0]


def list_households(
    db: Session, actor: Principal, page: PageRequest, *, grid_id: int | None = None, building_id: int | None = None,
    paired_member_id: int | None = None, flag: str | None = None, central: bool | None = None,
) -> Page[HouseholdView]:
    statement = select(Household).where(Household.town_id == actor.town_id, visible_households(actor))
    for column, value in ((Household.grid_id, grid_id), (Household.building_id, building_id),
                          (Household.paired_member_id, paired_member_id)):
        if value is not None:
            statement = statement.where(column == value)
    if central is not None:
        statement = statement.where(col(Household.central_member_id).is_not(None) if central
                                    else col(Household.central_member_id).is_(None))
    if flag is not None:
        statement = statement.where(_carries(db, flag))
    rows, total = fetch_page(db, statement.order_by(col(Household.id)), page)
    return Page(items=[household_view(h) for h in rows], total=total, **vars(page))


def _carries(db: Session, flag: str):
    """Households whose JSON list of flags holds `flag`, in each database's own JSON terms."""
    if db.get_bind().dialect.name == "postgresql":
        return text("households.flags::jsonb @> CAST(:flag_list AS jsonb)").bindparams(flag_list=json.dumps([flag]))
    return text("EXISTS (SELECT 1 FROM json_each(households.flags) WHERE json_each.value = :flag)").bindparams(
        flag=flag)


def get_household(db: Session, actor: Principal, household_id: int) -> HouseholdView:
    return household_view(_visible_household(db, actor, household_id))


def _visible_household(db: Session, actor: Principal, household_id: int) -> Household:
    row = db.exec(select(Household).where(Household.id == household_id, Household.town_id == actor.town_id,
                                          visible_households(actor))).first()
    if row is None:
        raise NotFound(key="household.not-found", id=household_id)
    return row


# --------------------------------------------------------------------------- the admin's writes


def _grid_of_town(db: Session, grid_id: int, town_id: int) -> Grid:
    grid = db.get(Grid, grid_id)
    if grid is None or grid.town_id != town_id:
        raise RuleViolation(key="admin.grid-not-in-town", id=grid_id)
    return grid


def _member_of(db: Session, staff_id: int | None, grid: Grid) -> None:
    if staff_id is None:
        return
    # Locked: a member's move or release (update_staff) and this link then take turns.
    staff = db.get(Staff, staff_id, with_for_update=True)
    if staff is None or staff.town_id != grid.town_id or not may_look_after(
            role=staff.role, active=staff.active, member_branch_id=staff.branch_id, grid_branch_id=grid.branch_id):
        raise RuleViolation(key="admin.not-a-member-here", id=staff_id)


def _building_in(db: Session, building_id: int | None, grid: Grid) -> None:
    if building_id is None:
        return
    building = db.get(Building, building_id)
    if building is None or building.town_id != grid.town_id or not building_fits(
            building_grid_id=building.grid_id, household_grid_id=grid.id):
        raise RuleViolation(key="admin.building-not-in-grid", id=building_id, grid_id=grid.id)


def _check_flags(db: Session, flags: list[str], town_id: int) -> list[str]:
    town = db.get(Town, town_id)
    unknown = unknown_flags(flags, town.household_flags)
    if unknown:
        raise RuleViolation(key="admin.unknown-flags", flags="、".join(unknown))
    return list(dict.fromkeys(flags))


@use_case
def create_building(db: Session, actor: Principal, body: BuildingCreate, *, now: datetime) -> BuildingView:
    town_id = require_admin(actor)
    grid = _grid_of_town(db, body.grid_id, town_id)
    _member_of(db, body.group_leader_id, grid)
    building = save(db, Building(town_id=town_id, created_at=now, **body.model_dump()), "admin.building-taken")
    audit(db, actor, "create", "building", building.id, body.model_dump(mode="json"), now=now)
    return building_views(db, [building])[0]


@use_case
def update_building(db: Session, actor: Principal, building_id: int, body: BuildingUpdate, *,
                    now: datetime) -> BuildingView:
    town_id = require_admin(actor)
    building = get_in_town(db, Building, building_id, town_id)
    changes = body.model_dump(exclude_unset=True)
    if "group_leader_id" in changes:
        _member_of(db, changes["group_leader_id"], db.get(Grid, building.grid_id))
    for key, value in changes.items():
        setattr(building, key, value)
    save(db, building, "admin.building-taken")
    audit(db, actor, "update", "building", building.id, body.model_dump(exclude_unset=True, mode="json"), now=now)
    return building_views(db, [building])[0]


@use_case
def delete_building(db: Session, actor: Principal, building_id: int, *, now: datetime) -> None:
    building = get_in_town(db, Building, building_id, require_admin(actor))
    if db.exec(select(Household.id).where(Household.building_id == building.id)).first() is not None:
        raise Conflict(key="admin.used-by-households")
    audit(db, actor, "delete", "building", building.id, {"name": building.name}, now=now)
    db.delete(building)
    db.flush()


def _check_household(db: Session, household: Household, town_id: int, *, flags: bool = True) -> None:
    grid = _grid_of_town(db, household.grid_id, town_id)
    _building_in(db, household.building_id, grid)
    _member_of(db, household.paired_member_id, grid)
    _member_of(db, household.central_member_id, grid)
    if flags:  # a flag the town has since dropped stays until the flags themselves are edited
        household.flags = _check_flags(db, household.flags, town_id)


@use_case
def create_household(db: Session, actor: Principal, body: HouseholdCreate, *, now: datetime) -> HouseholdView:
    town_id = require_admin(actor)
    household = Household(town_id=town_id, created_at=now, **body.model_dump())
    with db.no_autoflush:
        _check_household(db, household, town_id)
    save(db, household, "admin.household-taken")
    audit(db, actor, "create", "household", household.id, body.model_dump(mode="json"), now=now)
    return household_view(household)


@use_case
def update_household(db: Session, actor: Principal, household_id: int, body: HouseholdUpdate, *,
                     now: datetime) -> HouseholdView:
    town_id = require_admin(actor)
    household = get_in_town(db, Household, household_id, town_id)
    with db.no_autoflush:
        for key, value in body.model_dump(exclude_unset=True).items():
            setattr(household, key, value)
        _check_household(db, household, town_id, flags="flags" in body.model_fields_set)
    save(db, household, "admin.household-taken")
    audit(db, actor, "update", "household", household.id, body.model_dump(exclude_unset=True, mode="json"), now=now)
    return household_view(household)


@use_case
def delete_household(db: Session, actor: Principal, household_id: int, *, now: datetime) -> None:
    household = get_in_town(db, Household, household_id, require_admin(actor))
    audit(db, actor, "delete", "household", household.id, {"address": household.address}, now=now)
    # Its orders, visits and matters said at the hall stay, for no household any more.
    for model in (Order, Visit, HallMatter):
        db.execute(update(model).where(col(model.household_id) == household.id).values(household_id=None))
    db.delete(household)
    db.flush()

