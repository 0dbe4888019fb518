"""What anyone may read: towns, their grids and categories (for the resident's choices)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel
from sqlmodel import col, select

from api.deps import Db, Paging
from api.problems import problem_responses
from domain.errors import NotFound
from storage.models import Branch, Category, Grid, Town
from workflows.paging import Page, fetch_page

router = APIRouter(prefix="/towns", tags=["public"])


class TownPublic(BaseModel):
    id: int
    name: str


class GridPublic(BaseModel):
    id: int
    name: str
    branch_id: int
    branch_name: str


class CategoryPublic(BaseModel):
    id: int
    name: str
    description: str
    default_urgency: str


@router.get("")
def list_towns(db: Db, page: Paging) -> Page[TownPublic]:
    rows, total = fetch_page(db, select(Town).order_by(col(Town.id)), page)
    return Page(items=[TownPublic(id=t.id, name=t.name) for t in rows], total=total, **vars(page))


def _town(db, town_id: int) -> Town:
    town = db.get(Town, town_id)
    if town is None:
        raise NotFound(f"town {town_id} not found")
    return town


@router.get("/{town_id}/grids", responses=problem_responses(404))
def list_grids(town_id: int, db: Db, page: Paging) -> Page[GridPublic]:
    _town(db, town_id)
    statement = (
        select(Grid, Branch.name).join(Branch, col(Branch.id) == Grid.branch_id)
        .where(Grid.town_id == town_id).order_by(col(Grid.branch_id), col(Grid.id))
    )
    rows, total = fetch_page(db, statement, page)
    items = [GridPublic(id=g.id, name=g.name, branch_id=g.branch_id, branch_name=b) for g, b in rows]
    return Page(items=items, total=total, **vars(page))


@router.get("/{town_id}/categories", responses=problem_responses(404))
def list_categories(town_id: int, db: Db, page: Paging) -> Page[CategoryPublic]:
    _town(db, town_id)
    statement = select(Category).where(Category.town_id == town_id, col(Category.active)).order_by(col(Category.id))
    rows, total = fetch_page(db, statement, page)
    items = [CategoryPublic(id=c.id, name=c.name, description=c.description, default_urgency=c.default_urgency) for c in rows]
    return Page(items=items, total=total, **vars(page))
