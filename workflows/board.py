"""The public 晒单 board: a town's finished work, anonymised, readable without sign-in.

A party member showing the work is the point of 晒单, so the board names the member and
shows the note and evidence photos; nothing about the resident is on it (no name,
phone, address, location, description, rating comment or timeline). The town's admins
turn it on (`public_board_enabled`); a town without it has no board at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import func
from sqlmodel import Session, col, select

from domain.errors import NotFound
from domain.states import OrderState
from domain.transitions import Action
from storage.models import Branch, Category, Grid, Order, OrderEvent, Photo, Staff, Town
from workflows.paging import Page, PageRequest
from workflows.refs import Ref, names, optional_ref, ref

# Orders whose work is done: waiting for the resident's rating, or closed.
BOARD_STATES = (OrderState.COMPLETED, OrderState.CLOSED)
EVIDENCE = "evidence"


class BoardPhoto(BaseModel):
    id: str
    url: str


class BoardRating(BaseModel):
    stars: int | None  # None for a default rating at the deadline
    source: str  # resident | callback | default


class BoardItem(BaseModel):
    id: int
    category: Ref
    grid: Ref
    branch: Ref
    state: str
    state_label: str
    completed_at: datetime | None
    completion_note: str | None
    member: Ref | None  # the party member who did the work
    photos: list[BoardPhoto]
    rating: BoardRating | None


def public_photo_url(photo_id: str) -> str:
    return f"/public/photos/{photo_id}"


def _board_town(db: Session, town_id: int) -> Town:
    town = db.get(Town, town_id)
    if town is None or not town.public_board_enabled:
        # A town without the board and no town at all look the same.
        raise NotFound(key="board.not-found", id=town_id)
    return town


def town_board(
    db: Session, town_id: int, page: PageRequest, *, grid_id: int | None = None, branch_id: int | None = None
) -> Page[BoardItem]:
    """Completed and closed orders of the town, newest completion first.

    Six queries whatever the page size: the count, the page, then names and photos
    for all its orders at once.
    """
    _board_town(db, town_id)
    conditions = [Order.town_id == town_id, col(Order.state).in_([s.value for s in BOARD_STATES])]
    if grid_id is not None:
        conditions.append(Order.grid_id == grid_id)
    if branch_id is not None:
        conditions.append(Order.branch_id == branch_id)
    # The latest `complete` (a reopened order is completed again), read through the
    # (order_id, id) index of the events for each candidate order.
    completed_at = (
        select(func.max(OrderEvent.created_at))
        .where(col(OrderEvent.order_id) == Order.id, OrderEvent.action == Action.COMPLETE.value)
        .correlate(Order)
        .scalar_subquery()
        .label("completed_at")
    )
    total = db.exec(select(func.count()).select_from(Order).where(*conditions)).one()
    rows = db.exec(
        select(Order, completed_at)
        .where(*conditions)
        .order_by(completed_at.desc().nulls_last(), col(Order.id).desc())
        .limit(page.limit)
        .offset(page.offset)
    ).all()
    orders = [order for order, _ in rows]
    known = _Names(
        categories=names(db, Category, (o.category_id for o in orders)),
        grids=names(db, Grid, (o.grid_id for o in orders)),
        branches=names(db, Branch, (o.branch_id for o in orders)),
        members=names(db, Staff, (o.assignee_id for o in orders)),
    )
    photos = evidence_photos(db, [o.id for o in orders])
    items = [_item(order, done_at, known, photos.get(order.id, [])) for order, done_at in rows]
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


def load_board_photo(db: Session, photo_id: str) -> Photo:
    """An evidence photo of an order the board shows; anything else is not found."""
    photo = db.exec(
        select(Photo)
        .join(Order, col(Order.id) == Photo.order_id)
        .join(Town, col(Town.id) == Order.town_id)
        .where(
            Photo.id == photo_id,
            Photo.purpose == EVIDENCE,
            col(Order.state).in_([s.value for s in BOARD_STATES]),
            col(Town.public_board_enabled),
        )
    ).first()
    if photo is None:
        raise NotFound(key="photo.not-found")
    return photo


def evidence_photos(db: Session, order_ids: list[int]) -> dict[int, list[BoardPhoto]]:
    """The photos of the work done on these orders, oldest first, with their public URLs."""
    if not order_ids:
        return {}
    rows = db.exec(
        select(Photo.id, Photo.order_id)
        .where(col(Photo.order_id).in_(order_ids), Photo.purpose == EVIDENCE)
        .order_by(col(Photo.created_at), col(Photo.id))
    ).all()
    photos: dict[int, list[BoardPhoto]] = {}
    for photo_id, order_id in rows:
        photos.setdefault(order_id, []).append(BoardPhoto(id=photo_id, url=public_photo_url(photo_id)))
    return photos


@dataclass(frozen=True)
class _Names:
    categories: dict[int, str]
    grids: dict[int, str]
    branches: dict[int, str]
    members: dict[int, str]


def _item(order: Order, completed_at, known: _Names, photos: list[BoardPhoto]) -> BoardItem:
    state = OrderState(order.state)
    # A reopened order keeps its earlier 1–2 star rating while it waits for a new one:
    # only a closed order's rating is the rating of the work shown.
    rating = None
    if state == OrderState.CLOSED and order.rating_source is not None:
        rating = BoardRating(stars=order.rating_stars, source=order.rating_source)
    return BoardItem(
        id=order.id,
        category=ref(order.category_id, known.categories),
        grid=ref(order.grid_id, known.grids),
        branch=ref(order.branch_id, known.branches),
        state=state.value,
        state_label=state.label,
        completed_at=completed_at,
        completion_note=order.completion_note,
        member=optional_ref(order.assignee_id, known.members),
        photos=photos,
        rating=rating,
    )
