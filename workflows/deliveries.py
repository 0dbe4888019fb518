"""Town admins watch notification delivery: backlog, stuck and dead-lettered, and retry."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import func, update
from sqlmodel import Session, col, select

from domain.errors import Conflict, NotFound
from storage.models import Delivery, Order, OutboxMessage
from workflows.audit import audit
from workflows.hierarchy import require_admin
from workflows.paging import Page, PageRequest, fetch_page
from workflows.principal import Principal
from workflows.unit import use_case

RETRYABLE_BY_ADMIN = ("dead", "refused", "retry")


class DeliveryView(BaseModel):
    id: int
    outbox_id: int
    order_id: int | None
    kind: str
    audience: str
    audience_id: int
    channel: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    sent_at: datetime | None
    created_at: datetime


class DeliverySummary(BaseModel):
    by_channel_and_status: dict[str, dict[str, int]]
    outbox_waiting: int
    stuck_sending: int


def _in_town(actor: Principal):
    town_id = require_admin(actor)
    return (
        select(Delivery, OutboxMessage)
        .join(OutboxMessage, col(OutboxMessage.id) == Delivery.outbox_id)
        .join(Order, col(Order.id) == OutboxMessage.order_id)
        .where(Order.town_id == town_id)
    )


def list_deliveries(
    db: Session, actor: Principal, page: PageRequest, *, status: str | None, channel: str | None
) -> Page[DeliveryView]:
    statement = _in_town(actor)
    if status:
        statement = statement.where(Delivery.status == status)
    if channel:
        statement = statement.where(Delivery.channel == channel)
    rows, total = fetch_page(db, statement.order_by(col(Delivery.id).desc()), page)
    items = [
        DeliveryView(
            id=d.id, outbox_id=o.id, order_id=o.order_id, kind=o.kind, audience=o.audience,
            audience_id=o.audience_id, channel=d.channel, status=d.status, attempts=d.attempts,
            next_attempt_at=d.next_attempt_at, last_error=d.last_error, sent_at=d.sent_at,
            created_at=d.created_at,
        )
        for d, o in rows
    ]
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


def summary(db: Session, actor: Principal, now: datetime) -> DeliverySummary:
    town_id = require_admin(actor)
    rows = db.exec(
        select(Delivery.channel, Delivery.status, func.count())
        .join(OutboxMessage, col(OutboxMessage.id) == Delivery.outbox_id)
        .join(Order, col(Order.id) == OutboxMessage.order_id)
        .where(Order.town_id == town_id)
        .group_by(col(Delivery.channel), col(Delivery.status))
    ).all()
    table: dict[str, dict[str, int]] = {}
    for channel, status, n in rows:
        table.setdefault(channel, {})[status] = n
    waiting = db.exec(
        select(func.count()).select_from(OutboxMessage)
        .join(Order, col(Order.id) == OutboxMessage.order_id)
        .where(OutboxMessage.status == "pending", Order.town_id == town_id)
    ).one()
    stuck = db.exec(
        select(func.count()).select_from(_in_town(actor).where(
            Delivery.status == "sending", col(Delivery.lease_until) < now).subquery())
    ).one()
    return DeliverySummary(by_channel_and_status=table, outbox_waiting=waiting, stuck_sending=stuck)


@use_case
def retry_delivery(db: Session, actor: Principal, delivery_id: int, *, now: datetime) -> None:
    """Send a dead-lettered (or refused, or waiting) delivery again, from a fresh count."""
    found = db.exec(_in_town(actor).where(Delivery.id == delivery_id)).first()
    if found is None:
        raise NotFound(key="delivery.not-found", id=delivery_id)
    delivery = found[0]
    if delivery.status not in RETRYABLE_BY_ADMIN:
        raise Conflict(key="delivery.not-retryable", id=delivery_id, status=delivery.status,
                       retryable=list(RETRYABLE_BY_ADMIN))
    db.execute(
        update(Delivery).where(col(Delivery.id) == delivery_id, col(Delivery.status) == delivery.status)
        .values(status="pending", attempts=0, next_attempt_at=now, last_error=None)
    )
    audit(db, actor, "retry", "delivery", delivery_id, {"was": delivery.status}, now=now)


class Backlog(BaseModel):
    outbox_waiting: int
    deliveries_waiting: int
    dead_letters: int


def backlog(db: Session) -> Backlog:
    """Across all towns, for the metrics endpoint."""
    def count(statement) -> int:
        return db.exec(statement).one()

    return Backlog(
        outbox_waiting=count(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "pending")),
        deliveries_waiting=count(select(func.count()).select_from(Delivery).where(
            col(Delivery.status).in_(["pending", "retry", "sending"]))),
        dead_letters=count(select(func.count()).select_from(Delivery).where(Delivery.status == "dead")),
    )
