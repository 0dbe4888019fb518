"""What anyone may read about a town: its grids and categories, for the resident's choices."""

from __future__ import annotations

from pydantic import BaseModel
from sqlmodel import Session, col, select

from domain.errors import NotFound
from storage.models import Branch, Category, Grid, Town
from workflows.paging import Page, PageRequest, fetch_page
from workflows.refs import Ref


class TownPublic(BaseModel):
    id: int
    name: str


class GridPublic(BaseModel):
    id: int
    name: str
    branch: Ref


class CategoryPublic(BaseModel):
    id: int
    name: str
    description: str
    default_urgency: str


def list_towns(db: Session, page: PageRequest) -> Page[TownPublic]:
    rows, total = fetch_page(db, select(Town).order_by(col(Town.id)), page)
    return Page(items=[TownPublic(id=t.id, name=t.name) for t in rows], total=total, **vars(page))


def _require_town(db: Session, town_id: int) -> Town:
    town = db.get(Town, town_id)
    if town is None:
        raise NotFound(key="town.not-found", id=town_id)
    return town


def list_grids(db: Session, town_id: int, page: PageRequest) -> Page[GridPublic]:
    _require_town(db, town_id)
    statement = (
        select(Grid, Branch.name).join(Branch, col(Branch.id) == Grid.branch_id)
        .where(Grid.town_id == town_id).order_by(col(Grid.branch_id), col(Grid.id))
    )
    rows, total = fetch_page(db, statement, page)
    items = [GridPublic(id=g.id, name=g.name, branch=Ref(id=g.branch_id, name=b)) for g, b in rows]
    return Page(items=items, total=total, **vars(page))


def list_categories(db: Session, town_id: int, page: PageRequest) -> Page[CategoryPublic]:
    _require_town(db, town_id)
    statement = (
        select(Category).where(Category.town_id == town_id, col(Category.active)).order_by(col(Category.id))
    )
    rows, total = fetch_page(db, statement, page)
    items = [
        CategoryPublic(id=c.id, name=c.name, description=c.description, default_urgency=c.default_urgency)
        for c in rows
    ]
    return Page(items=items, total=total, **vars(page))
