"""Pages of a list in a stable order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import func
from sqlmodel import Session, select

T = TypeVar("T")

MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class PageRequest:
    limit: int = 20
    offset: int = 0


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


def fetch_page(db: Session, statement, page: PageRequest):
    """Rows of `statement` (already ordered) for this page, and the total without paging."""
    total = db.exec(select(func.count()).select_from(statement.order_by(None).subquery())).one()
    rows = db.exec(statement.limit(page.limit).offset(page.offset)).all()
    return rows, total
