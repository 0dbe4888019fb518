"""The sweep: raise the reminders, escalations and auto-closes that stages have fallen due for.

It reads only orders whose `next_alert_at` has passed (an index), so its cost follows
what is due, not how many orders are open. Each order is handled in its own
transaction, and every alert is inserted against a unique key, so sweeps that run at
the same time, or again after a crash, raise each alert exactly once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from domain.alerts import ALERT_LABELS, AlertKind, alert_schedule, due_alerts, next_alert_at
from domain.deadlines import STAGE_OF_STATE, overdue_seconds
from domain.notices import Audience
from domain.rating import RatingSource
from domain.roles import Role
from domain.states import OrderState, Urgency
from domain.transitions import Action, plan
from storage.engine import Database
from storage.models import Category, Order, StageAlert
from storage.upsert import insert_once
from workflows.principal import Principal
from workflows.transition import category_limits, move, write_notice
from workflows.unit import use_case
from wudan.metrics import SWEEP_ALERTS, SWEEP_SECONDS

log = logging.getLogger("wudan.sweep")

SYSTEM = Principal("system", 0, Role.SYSTEM, "系统")


@dataclass
class SweepReport:
    examined: int = 0
    alerts: int = 0
    auto_closed: int = 0
    failed: int = 0
    seconds: float = 0.0
    raised: list[tuple[int, str, int]] = field(default_factory=list)  # (order, kind, round)


def sweep(
    database: Database, *, now: datetime, auto_close: bool = True, batch: int = 1000,
    after_each: Callable[[int], None] | None = None,
) -> SweepReport:
    """One pass over the orders with an alert due by `now`."""
    started = time.perf_counter()
    report = SweepReport()
    with database.session() as db:
        due = db.exec(
            select(Order.id).where(col(Order.next_alert_at) <= now)
            .order_by(col(Order.next_alert_at)).limit(batch)
        ).all()
    for order_id in due:
        report.examined += 1
        try:
            with database.session(write=True) as db:
                for kind, round_ in sweep_order(db, order_id, now=now, auto_close=auto_close):
                    report.raised.append((order_id, kind, round_))
                    if kind == AlertKind.AUTO_CLOSE:
                        report.auto_closed += 1
                    else:
                        report.alerts += 1
                        SWEEP_ALERTS.labels(kind).inc()
        except Exception:  # one bad order must not stop the rest of the pass
            report.failed += 1
            log.exception("sweep failed for order %s", order_id)
        if after_each:
            after_each(order_id)
    report.seconds = time.perf_counter() - started
    SWEEP_SECONDS.observe(report.seconds)
    return report


@use_case
def sweep_order(db: Session, order_id: int, *, now: datetime, auto_close: bool) -> list[tuple[str, int]]:
    """Raise what is due for this order's current stage; the alerts raised by this call."""
    order = db.get(Order, order_id)
    if order is None or order.next_alert_at is None or order.next_alert_at > now:
        return []  # another sweep, or a move, got here first
    stage = STAGE_OF_STATE.get(OrderState(order.state))
    if stage is None:
        _set_next_alert(db, order, None)
        return []
    category = db.get(Category, order.category_id)
    limit = category_limits(category).minutes(stage, Urgency(order.urgency))
    schedule = alert_schedule(stage, order.stage_entered_at, limit, auto_close=auto_close)
    raised: list[tuple[str, int]] = []
    stage_version = order.version
    for alert in due_alerts(schedule, now):
        if not _record(db, order, stage.value, stage_version, alert, now):
            continue
        raised.append((alert.kind.value, alert.round))
        if alert.kind is AlertKind.AUTO_CLOSE:
            _auto_close(db, order, now)
            return raised
        write_notice(db, order, f"alert.{alert.kind.value}", alert.audience, {
            "stage": stage.value,
            "alert": alert.kind.value,
            "alert_label": ALERT_LABELS[alert.kind],
            "round": alert.round,
            "overdue_seconds": overdue_seconds(order.stage_deadline, now),
        }, now)
    _set_next_alert(db, order, next_alert_at(schedule, now))
    return raised


def _record(db: Session, order: Order, stage: str, stage_version: int, alert, now: datetime) -> bool:
    audience: Audience | None = alert.audience
    return insert_once(db, StageAlert, {
        "order_id": order.id, "stage": stage, "stage_version": stage_version, "kind": alert.kind.value,
        "round": alert.round, "audience": audience.value if audience else None, "due_at": alert.due_at,
        "created_at": now,
    }, unique=("order_id", "stage_version", "kind", "round")) is not None


def _auto_close(db: Session, order: Order, now: datetime) -> None:
    transition = plan(OrderState(order.state), Action.AUTO_CLOSE, Role.SYSTEM)
    move(db, order, transition, SYSTEM, now=now, note="评价期满,系统默认评价",
         changes={"rating_source": RatingSource.DEFAULT.value, "closed_at": now},
         data={"source": RatingSource.DEFAULT.value})


def _set_next_alert(db: Session, order: Order, when: datetime | None) -> None:
    # Only for the stage we looked at: a move since then has stamped its own next alert.
    db.execute(
        update(Order).where(col(Order.id) == order.id, col(Order.version) == order.version)
        .values(next_alert_at=when).execution_options(synchronize_session=False)
    )
