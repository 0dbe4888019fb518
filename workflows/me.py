"""Who the signed-in person is, as `/me` answers it: role, places by name, profile state."""

from __future__ import annotations

from pydantic import BaseModel
from sqlmodel import Session

from domain.roles import ROLE_LABELS
from storage.models import Branch, Grid, Resident, Staff, Town
from workflows.principal import Principal
from workflows.refs import Ref, names, optional_ref, ref


class Me(BaseModel):
    kind: str
    id: int
    role: str
    role_label: str
    name: str | None
    phone: str | None
    town: Ref | None
    branch: Ref | None = None
    grid: Ref | None = None  # the grid a resident lives in
    grids: list[Ref] = []  # the grids a grid worker serves
    profile_complete: bool


def who_am_i(db: Session, user: Principal) -> Me:
    model = {"resident": Resident, "staff": Staff}.get(user.kind)
    return describe(db, user, db.get(model, user.id) if model else None)


def describe(db: Session, user: Principal, row: Resident | Staff | None) -> Me:
    """`user` with `row`, their account as stored now (none for a dashboard)."""
    phone = getattr(row, "phone", None)
    grid_id = getattr(row, "grid_id", None)
    town_id = user.town_id if row is None else row.town_id
    grid_ids = sorted(user.grid_ids)
    towns = names(db, Town, [town_id])
    branches = names(db, Branch, [user.branch_id])
    grids = names(db, Grid, [grid_id, *grid_ids])
    return Me(
        kind=user.kind, id=user.id, role=user.role.value, role_label=ROLE_LABELS[user.role],
        name=getattr(row, "name", user.name), phone=phone, town=optional_ref(town_id, towns),
        branch=optional_ref(user.branch_id, branches), grid=optional_ref(grid_id, grids),
        grids=[ref(g, grids) for g in grid_ids],
        profile_complete=bool(user.kind != "resident" or (row.name and phone and grid_id)),
    )
