"""The audit log of staff changes to the town: written in the same transaction as the change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlmodel import Session, col, select

from storage.models import AuditEntry
from workflows.paging import Page, PageRequest, fetch_page
from workflows.principal import Principal

_SECRET_FIELDS = frozenset({"password", "password_hash"})


def audit(db: Session, actor: Principal, action: str, entity: str, entity_id: int | None,
          changes: dict[str, Any] | None = None, *, now: datetime) -> None:
    shown = {k: ("***" if k in _SECRET_FIELDS else v) for k, v in (changes or {}).items()}
    db.add(AuditEntry(
        town_id=actor.town_id, actor_id=actor.id, actor_role=actor.role.value, actor_name=actor.name,
        action=action, entity=entity, entity_id=entity_id, changes=shown, created_at=now,
    ))


class AuditView(BaseModel):
    id: int
    at: datetime
    actor_id: int
    actor_role: str
    actor_name: str | None
    action: str
    entity: str
    entity_id: int | None
    changes: dict[str, Any]


def list_audit(db: Session, town_id: int, page: PageRequest, entity: str | None) -> Page[AuditView]:
    statement = select(AuditEntry).where(AuditEntry.town_id == town_id)
    if entity:
        statement = statement.where(AuditEntry.entity == entity)
    rows, total = fetch_page(db, statement.order_by(col(AuditEntry.id).desc()), page)
    items = [
        AuditView(id=r.id, at=r.created_at, actor_id=r.actor_id, actor_role=r.actor_role, actor_name=r.actor_name,
                  action=r.action, entity=r.entity, entity_id=r.entity_id, changes=r.changes)
        for r in rows
    ]
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)
