"""Town admins keep the hierarchy (branches, grids, staff) and the categories.

Every row is looked up within the admin's own town; another town's rows are not found.
"""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

from pydantic import BaseModel
from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, col, select

from domain.attributes import check_definitions
from domain.errors import Conflict, NotFound, NotPermitted, RuleViolation
from domain.messages import Term
from domain.roles import ROLE_LABELS, Role
from domain.states import OPEN_STATES, OrderState
from storage.models import (
    ActionTeam, Branch, Building, Category, DashboardToken, Grid, GridWorkerGrid, Household, Order, Resident, Staff, Town,
    Hall, HallMatter, HallSession, Unit, Visit, VisitTeam, VisitTeamGrid,
)
from infra.passwords import hash_password
from workflows.hierarchy_inputs import (
    BranchCreate, BranchUpdate, CategoryCreate, CategoryUpdate, GridCreate, GridUpdate,
    StaffCreate, StaffUpdate, StaffView, TownUpdate,
)
from workflows.audit import audit
from workflows.paging import PageRequest, fetch_page
from workflows.refresh import revoke_user
from workflows.principal import Principal
from workflows.unit import use_case

M = TypeVar("M", bound=SQLModel)

NOT_FOUND_KEYS = {Town: "town.not-found", Branch: "branch.not-found", Grid: "grid.not-found",
                  Staff: "staff.not-found", Category: "category.not-found",
                  DashboardToken: "dashboard-token.not-found", Building: "building.not-found",
                  Household: "household.not-found", Unit: "unit.not-found", VisitTeam: "visit-team.not-found",
                  Hall: "hall.not-found"}


def require_admin(actor: Principal) -> int:
    if actor.role != Role.TOWN_ADMIN or actor.town_id is None:
        raise NotPermitted(key="admin.only")
    return actor.town_id


def get_in_town(db: Session, model: type[M], row_id: int, town_id: int) -> M:
    row = db.get(model, row_id)
    if row is None or getattr(row, "town_id", getattr(row, "id", None)) != town_id:
        raise NotFound(key=NOT_FOUND_KEYS[model], id=row_id)
    return row


def list_in_town(db: Session, actor: Principal, model: type[M], page: PageRequest, *where):
    town_id = require_admin(actor)
    statement = select(model).where(model.town_id == town_id, *where).order_by(col(model.id))
    return fetch_page(db, statement, page)


def _apply(row: SQLModel, body: BaseModel, skip: tuple[str, ...] = ()) -> None:
    for key, value in body.model_dump(exclude_unset=True).items():
        if key not in skip:
            setattr(row, key, value)


def _changes(body: BaseModel) -> dict:
    return body.model_dump(exclude_unset=True, mode="json")


def save(db: Session, row: M, taken_key: str = "admin.taken") -> M:
    """Add and flush `row`; a unique key it would break is a 409 with `taken_key`'s words."""
    db.add(row)
    try:
        db.flush()
    except IntegrityError as exc:
        raise Conflict(key=taken_key) from exc
    return row


def _delete_unless_used(
    db: Session, row: SQLModel, uses: list[tuple[str, object]], before: list[object] = ()
) -> None:
    """Delete `row` if nothing in `uses` refers to it; `before` clears rows that belong to it.

    Each use is the message key that says what still refers to the row, and a query for it.
    """
    for why, statement in uses:
        if db.exec(statement).first() is not None:
            raise Conflict(key=why)
    for statement in before:
        db.execute(statement)
    db.delete(row)
    db.flush()


# Town


def get_town(db: Session, actor: Principal) -> Town:
    return get_in_town(db, Town, require_admin(actor), require_admin(actor))


@use_case
def update_town(db: Session, actor: Principal, body: TownUpdate, *, now: datetime) -> Town:
    town = get_town(db, actor)
    if body.intake_grid_id is not None:
        grid = db.get(Grid, body.intake_grid_id)
        if grid is None or grid.town_id != town.id:
            raise RuleViolation(key="town.intake-grid-not-ours", id=body.intake_grid_id)
    _apply(town, body)
    audit(db, actor, "update", "town", town.id, _changes(body), now=now)
    return save(db, town)


# Branches


@use_case
def create_branch(db: Session, actor: Principal, body: BranchCreate, *, now: datetime) -> Branch:
    branch = save(db, Branch(town_id=require_admin(actor), created_at=now, **body.model_dump()))
    audit(db, actor, "create", "branch", branch.id, _changes(body), now=now)
    return branch


@use_case
def update_branch(db: Session, actor: Principal, branch_id: int, body: BranchUpdate, *, now: datetime) -> Branch:
    branch = get_in_town(db, Branch, branch_id, require_admin(actor))
    _apply(branch, body)
    audit(db, actor, "update", "branch", branch.id, _changes(body), now=now)
    return save(db, branch)


@use_case
def delete_branch(db: Session, actor: Principal, branch_id: int, *, now: datetime) -> None:
    branch = get_in_town(db, Branch, branch_id, require_admin(actor))
    audit(db, actor, "delete", "branch", branch.id, {"name": branch.name}, now=now)
    _delete_unless_used(db, branch, [
        ("admin.used-by-grids", select(Grid.id).where(Grid.branch_id == branch.id)),
        ("admin.used-by-staff", select(Staff.id).where(Staff.branch_id == branch.id)),
        ("admin.used-by-orders", select(Order.id).where(Order.branch_id == branch.id)),
        ("admin.used-by-halls", select(Hall.id).where(Hall.branch_id == branch.id)),
        ("admin.used-by-action-teams", select(ActionTeam.id).where(ActionTeam.branch_id == branch.id)),
    ])


# Grids


@use_case
def create_grid(db: Session, actor: Principal, body: GridCreate, *, now: datetime) -> Grid:
    town_id = require_admin(actor)
    _branch_of_town(db, body.branch_id, town_id)
    grid = save(db, Grid(town_id=town_id, created_at=now, **body.model_dump()))
    audit(db, actor, "create", "grid", grid.id, _changes(body), now=now)
    return grid


@use_case
def update_grid(db: Session, actor: Principal, grid_id: int, body: GridUpdate, *, now: datetime) -> Grid:
    town_id = require_admin(actor)
    grid = get_in_town(db, Grid, grid_id, town_id)
    if body.branch_id is not None and body.branch_id != grid.branch_id:
        _branch_of_town(db, body.branch_id, town_id)
        # Open orders are the old branch's to dispatch, maybe already to its members.
        open_order = select(Order.id).where(
            Order.grid_id == grid.id, col(Order.state).in_([s.value for s in OPEN_STATES])
        )
        if db.exec(open_order).first() is not None:
            raise Conflict(key="admin.grid-has-open-orders")
        # The old branch's members no longer look after the grid's households or buildings.
        released = _release_grid(db, grid.id)
    else:
        released = {}
    _apply(grid, body)
    audit(db, actor, "update", "grid", grid.id, {**_changes(body), **released}, now=now)
    return save(db, grid)


def _release_grid(db: Session, grid_id: int) -> dict[str, int]:
    return _clear_links(
        db, paired=(Household.grid_id == grid_id, col(Household.paired_member_id).is_not(None)),
        central=(Household.grid_id == grid_id, col(Household.central_member_id).is_not(None)),
        leader=(Building.grid_id == grid_id, col(Building.group_leader_id).is_not(None)))


def _clear_links(db: Session, *, paired: tuple, central: tuple, leader: tuple) -> dict[str, int]:
    """Clear the pairings, 中心户 and building leaderships these conditions pick; each counted
    (when any) for the audit entry of the change that made them no longer hold."""
    counts = {
        "households_unpaired": db.execute(update(Household).where(*paired).values(paired_member_id=None)).rowcount,
        "central_households_cleared": db.execute(
            update(Household).where(*central).values(central_member_id=None)).rowcount,
        "buildings_without_leader": db.execute(update(Building).where(*leader).values(group_leader_id=None)).rowcount,
    }
    return {key: n for key, n in counts.items() if n}


@use_case
def delete_grid(db: Session, actor: Principal, grid_id: int, *, now: datetime) -> None:
    grid = get_in_town(db, Grid, grid_id, require_admin(actor))
    audit(db, actor, "delete", "grid", grid.id, {"name": grid.name}, now=now)
    _delete_unless_used(db, grid, [
        ("admin.used-by-orders", select(Order.id).where(Order.grid_id == grid.id)),
        ("admin.used-by-residents", select(Resident.id).where(Resident.grid_id == grid.id)),
        ("admin.used-by-households", select(Household.id).where(Household.grid_id == grid.id)),
        ("admin.used-by-buildings", select(Building.id).where(Building.grid_id == grid.id)),
        ("admin.used-by-visits", select(Visit.id).where(Visit.grid_id == grid.id)),
        ("admin.used-by-hall-matters", select(HallSession.id).where(HallSession.grid_id == grid.id)
         .union_all(select(HallMatter.id).where(HallMatter.grid_id == grid.id))),
    ], before=[delete(GridWorkerGrid).where(col(GridWorkerGrid.grid_id) == grid.id),
               delete(VisitTeamGrid).where(col(VisitTeamGrid.grid_id) == grid.id),
               # No foreign key holds it (towns and grids would refer to each other): cleared by hand.
               update(Town).where(col(Town.intake_grid_id) == grid.id).values(intake_grid_id=None)])


def _branch_of_town(db: Session, branch_id: int, town_id: int) -> Branch:
    branch = db.get(Branch, branch_id)
    if branch is None or branch.town_id != town_id:
        raise RuleViolation(key="admin.branch-not-in-town", id=branch_id)
    return branch


# Staff


def staff_grid_ids(db: Session, staff_ids: list[int]) -> dict[int, list[int]]:
    grids: dict[int, list[int]] = {i: [] for i in staff_ids}
    if staff_ids:
        rows = db.exec(
            select(GridWorkerGrid).where(col(GridWorkerGrid.staff_id).in_(staff_ids))
            .order_by(col(GridWorkerGrid.grid_id))
        )
        for link in rows:
            grids[link.staff_id].append(link.grid_id)
    return grids


def staff_view(staff: Staff, grid_ids: list[int]) -> StaffView:
    return StaffView(
        id=staff.id, name=staff.name, phone=staff.phone, role=staff.role,
        role_label=ROLE_LABELS[Role(staff.role)], branch_id=staff.branch_id, grid_ids=grid_ids,
        is_local_worthy=staff.is_local_worthy, unit_id=staff.unit_id, active=staff.active,
    )


@use_case
def create_staff(db: Session, actor: Principal, body: StaffCreate, *, now: datetime) -> Staff:
    town_id = require_admin(actor)
    staff = Staff(
        town_id=town_id, role=body.role, name=body.name, phone=body.phone,
        password_hash=hash_password(body.password), branch_id=body.branch_id,
        is_local_worthy=body.is_local_worthy, unit_id=body.unit_id, created_at=now,
    )
    _check_placement(db, staff, body.grid_ids, town_id)
    save(db, staff)
    _set_grids(db, staff, body.grid_ids, town_id)
    audit(db, actor, "create", "staff", staff.id, _changes(body), now=now)
    return staff


@use_case
def update_staff(db: Session, actor: Principal, staff_id: int, body: StaffUpdate, *, now: datetime) -> Staff:
    town_id = require_admin(actor)
    # Hashed before the first query: on SQLite the write lock is not held while argon2 runs.
    new_hash = hash_password(body.password) if body.password is not None else None
    staff = get_in_town(db, Staff, staff_id, town_id)
    if staff.id == actor.id and body.active is False:
        raise RuleViolation(key="admin.self-disable")
    leaving = body.active is False or (body.branch_id is not None and body.branch_id != staff.branch_id)
    if leaving and _holds_open_orders(db, staff.id):
        raise Conflict(key="admin.member-holds-orders")
    grid_ids = body.grid_ids if body.grid_ids is not None else staff_grid_ids(db, [staff.id])[staff.id]
    with db.no_autoflush:  # a taken phone surfaces in _save as a 409, not in a lookup as a 500
        _apply(staff, body, skip=("password", "grid_ids"))
        if new_hash is not None or body.active is False:
            staff.token_version += 1
            revoke_user(db, "staff", staff.id, now)
        if new_hash is not None:
            staff.password_hash = new_hash
        _check_placement(db, staff, grid_ids, town_id)
    save(db, staff)
    if body.grid_ids is not None:
        _set_grids(db, staff, body.grid_ids, town_id)
    released = _release_member(db, staff.id) if leaving else {}
    audit(db, actor, "update", "staff", staff.id, {**_changes(body), **released}, now=now)
    return staff


def _release_member(db: Session, staff_id: int) -> dict[str, int]:
    """A member leaving the branch, or disabled, no longer looks after households nor leads a
    building's party group."""
    return _clear_links(db, paired=(Household.paired_member_id == staff_id,),
                        central=(Household.central_member_id == staff_id,),
                        leader=(Building.group_leader_id == staff_id,))


def _holds_open_orders(db: Session, staff_id: int) -> bool:
    # Dispatched or being handled: nobody else can move these on. A completed order is the resident's.
    held = select(Order.id).where(
        Order.assignee_id == staff_id,
        col(Order.state).in_([OrderState.DISPATCHED.value, OrderState.IN_PROGRESS.value]),
    )
    return db.exec(held).first() is not None


def _check_placement(db: Session, staff: Staff, grid_ids: list[int], town_id: int) -> None:
    if staff.role in (Role.SECRETARY.value, Role.MEMBER.value):
        if staff.branch_id is None:
            raise RuleViolation(key="admin.needs-branch", role=Term(staff.role, ROLE_LABELS[Role(staff.role)]))
    if staff.branch_id is not None:
        _branch_of_town(db, staff.branch_id, town_id)
    if staff.role == Role.UNIT_STAFF.value:
        if staff.unit_id is None:
            raise RuleViolation(key="admin.needs-unit")
        unit = db.get(Unit, staff.unit_id)
        if unit is None or unit.town_id != town_id:
            raise RuleViolation(key="admin.unit-not-in-town", id=staff.unit_id)
    elif staff.unit_id is not None:
        raise RuleViolation(key="admin.unit-for-unit-staff")
    if grid_ids and staff.role != Role.GRID_WORKER.value:
        raise RuleViolation(key="admin.grids-for-workers")


def _set_grids(db: Session, staff: Staff, grid_ids: list[int], town_id: int) -> None:
    wanted = sorted(set(grid_ids))
    found = db.exec(select(Grid.id).where(col(Grid.id).in_(wanted), Grid.town_id == town_id)).all()
    if len(found) != len(wanted):
        raise RuleViolation(key="admin.grids-not-in-town", ids=sorted(set(wanted) - set(found)))
    db.execute(delete(GridWorkerGrid).where(col(GridWorkerGrid.staff_id) == staff.id))
    for grid_id in wanted:
        db.add(GridWorkerGrid(staff_id=staff.id, grid_id=grid_id))
    db.flush()


# Categories


@use_case
def create_category(db: Session, actor: Principal, body: CategoryCreate, *, now: datetime) -> Category:
    values = body.model_dump(mode="json")
    values["attributes"] = check_definitions(values["attributes"])
    category = save(db, Category(town_id=require_admin(actor), created_at=now, **values))
    audit(db, actor, "create", "category", category.id, _changes(body), now=now)
    return category


@use_case
def update_category(db: Session, actor: Principal, category_id: int, body: CategoryUpdate, *, now: datetime) -> Category:
    category = get_in_town(db, Category, category_id, require_admin(actor))
    for key, value in body.model_dump(exclude_unset=True, mode="json").items():
        if key == "attributes":  # each question whole, its defaults too: exclude_unset would drop them
            value = check_definitions([a.model_dump(mode="json") for a in body.attributes or []])
        setattr(category, key, value)
    audit(db, actor, "update", "category", category.id, _changes(body), now=now)
    return save(db, category)


@use_case
def delete_category(db: Session, actor: Principal, category_id: int, *, now: datetime) -> None:
    category = get_in_town(db, Category, category_id, require_admin(actor))
    audit(db, actor, "delete", "category", category.id, {"name": category.name}, now=now)
    _delete_unless_used(db, category, [
        ("admin.category-used", select(Order.id).where(Order.category_id == category.id)),
    ])
