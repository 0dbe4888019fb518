"""What anyone may read about a town: its grids and categories, for the resident's choices."""

from __future__ import annotations

from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from domain.errors import NotFound
from domain.states import URGENCY_LABELS
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
    attributes: list[dict] = Field(description="Extra questions the form asks; answers go in `attributes` of"
                                               " `POST /orders`, by `code`.")


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
        CategoryPublic(id=c.id, name=c.name, description=c.description, default_urgency=c.default_urgency,
                       attributes=c.attributes)
        for c in rows
    ]
    return Page(items=items, total=total, **vars(page))


class ClientConfig(BaseModel):
    """What a client (the mini-program) needs to know before it shows a form: the town's and the server's limits."""

    town: Ref
    photos_per_order: int = Field(description="Photos an order, or a completion, may carry at most.")
    photo_max_bytes: int
    subscribe_template_ids: list[str] = Field(
        description="Ids to pass to wx.requestSubscribeMessage; empty while subscribe messages are off.")
    public_board_enabled: bool = Field(description="Whether the town shows completed work on its 晒单 board.")
    nearby_radius_m: int = Field(description="How near an open order of the same category is offered as \"me too\".")
    urgency_labels: dict[str, str]


def client_config(db: Session, town_id: int, *, photos_per_order: int, photo_max_bytes: int,
                  template_ids: list[str]) -> ClientConfig:
    town = _require_town(db, town_id)
    return ClientConfig(town=Ref(id=town.id, name=town.name), photos_per_order=photos_per_order,
                        photo_max_bytes=photo_max_bytes, subscribe_template_ids=template_ids,
                        public_board_enabled=town.public_board_enabled, nearby_radius_m=town.nearby_radius_m,
                        urgency_labels={u.value: label for u, label in URGENCY_LABELS.items()})
