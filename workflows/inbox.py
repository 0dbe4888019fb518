"""The in-app inbox of the signed-in person: list, unread count, mark read."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import func, update
from sqlmodel import Session, col, select

from domain.errors import NotFound, NotPermitted
from storage.models import InboxItem
from workflows.paging import Page, PageRequest, fetch_page
from workflows.principal import Principal
from workflows.unit import use_case


class InboxItemView(BaseModel):
    id: int
    kind: str
    title: str
    body: str
    order_id: int | None
    created_at: datetime
    read: bool


def _owner(actor: Principal):
    if actor.kind not in ("resident", "staff"):
        raise NotPermitted(key="inbox.people-only")
    return (InboxItem.user_kind == actor.kind, InboxItem.user_id == actor.id)


def list_inbox(db: Session, actor: Principal, page: PageRequest, *, unread_only: bool = False) -> Page[InboxItemView]:
    where = [*_owner(actor)]
    if unread_only:
        where.append(col(InboxItem.read_at).is_(None))
    rows, total = fetch_page(db, select(InboxItem).where(*where).order_by(col(InboxItem.id).desc()), page)
    items = [
        InboxItemView(id=r.id, kind=r.kind, title=r.title, body=r.body, order_id=r.order_id,
                      created_at=r.created_at, read=r.read_at is not None)
        for r in rows
    ]
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


def unread_count(db: Session, actor: Principal) -> int:
    return db.exec(
        select(func.count()).select_from(InboxItem).where(*_owner(actor), col(InboxItem.read_at).is_(None))
    ).one()


@use_case
def mark_read(db: Session, actor: Principal, item_id: int, *, now: datetime) -> None:
    item = db.exec(select(InboxItem).where(InboxItem.id == item_id, *_owner(actor))).first()
    if item is None:
        raise NotFound(key="inbox.not-found", id=item_id)
    if item.read_at is None:
        item.read_at = now
        db.add(item)


@use_case
def mark_all_read(db: Session, actor: Principal, *, now: datetime) -> int:
    return db.execute(
        update(InboxItem).where(*_owner(actor), col(InboxItem.read_at).is_(None)).values(read_at=now)
    ).rowcount
