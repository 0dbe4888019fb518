"""The sweep: raise the reminders, escalations and auto-closes that stages have fallen due for.

It reads only orders whose `next_alert_at` has passed (an index), so its cost follows
what is due, not how many orders are open. Every alert is inserted against a unique key
(order, stage version, kind, round), so sweeps that run at the same time, or again after
a crash, raise each alert exactly once.

Due orders are handled in batches, one transaction per batch of `per_transaction`
orders, ids ascending. A transaction and five ORM-built statements per order cost
1.4–2.6 ms, seconds for a thousand due orders; a batch costs the same few statements
whatever its size: its orders locked and read in one query, their categories in a
second, their alerts in one `INSERT … ON CONFLICT DO NOTHING RETURNING` (the unique key
answers which are new, and only those get notices), the outbox rows of the new ones in
one `INSERT`, and `next_alert_at` moved on in one `UPDATE` that matches the version read,
so that a stage entered since keeps the next alert its move stamped (`sweep_rows` has
those statements for each database).

One bad order must not stop the others. An order that cannot be planned (a corrupt
state, a missing category) is counted failed before anything is written. If the
database refuses the batch's writes, they are rolled back to a savepoint and made again
one order at a time, each in a savepoint of its own: only the bad order is left out,
and the next sweep tries it again, as its `next_alert_at` did not move.

On PostgreSQL a batch locks its orders `FOR NO KEY UPDATE SKIP LOCKED`: sweeps running
at once share the due orders instead of queueing behind one another, and a batch never
waits for a lock another transaction holds, so it cannot take part in a deadlock. That
is also why an auto-close, which is a move (event, outbox, dashboard counters), runs in
a transaction of its own after its batch commits, as a request's move would: a batch
holding the counters of many branches until it commits could deadlock with requests'
moves. On SQLite writers are serialised (BEGIN IMMEDIATE), and a batch reads its orders
again inside its transaction.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlmodel import Session, col, select

from domain.alerts import ALERT_LABELS, Alert, AlertKind, alert_schedule, due_alerts, next_alert_at
from domain.deadlines import STAGE_OF_STATE, Stage, overdue_seconds
from domain.rating import RatingSource
from domain.roles import Role
from domain.states import OrderState, Urgency
from domain.transitions import Action, plan
from storage.engine import Database
from storage.models import Category, Order, StageAlert
from storage.upsert import insert_once
from workflows.passbook import judge_attempt
from workflows.principal import SYSTEM
from workflows.sweep_rows import ALERT_KEY, SET_NEXT_ALERT, bulk_writer
from workflows.transition import category_limits, move, notice_values, write_notice
from workflows.unit import use_case
from infra.metrics import SWEEP_ALERTS, SWEEP_SECONDS

log = logging.getLogger("wudan.sweep")



class SweptOrder(Protocol):
    """What the sweep reads of an order: its stage and what its notices name.

    A batch reads these columns as plain rows (ORM objects cost twice as much to load);
    an order swept alone is an `Order`.
    """

    id: int
    version: int
    state: str
    urgency: str
    category_id: int
    stage_entered_at: datetime
    stage_deadline: datetime | None
    description: str
    town_id: int
    branch_id: int
    grid_id: int
    resident_id: int | None
    assignee_id: int | None


BATCH_COLUMNS = tuple(getattr(Order, name) for name in SweptOrder.__annotations__)


@dataclass
class SweepReport:
    examined: int = 0
    alerts: int = 0
    auto_closed: int = 0
    failed: int = 0
    seconds: float = 0.0
    raised: list[tuple[int, str, int]] = field(default_factory=list)  # (order, kind, round)

    def count(self, order_id: int, kind: str, round_: int) -> None:
        self.raised.append((order_id, kind, round_))
        if kind == AlertKind.AUTO_CLOSE:
            self.auto_closed += 1
        else:
            self.alerts += 1
            SWEEP_ALERTS.labels(kind).inc()


@dataclass(frozen=True)
class OrderPlan:
    """What sweeping one order writes: the alerts due for its stage, and when to look again."""

    order: SweptOrder
    category: Category | None
    stage: Stage | None
    alerts: tuple[Alert, ...]
    next_at: datetime | None

    @property
    def closes(self) -> bool:
        return any(alert.kind is AlertKind.AUTO_CLOSE for alert in self.alerts)


@dataclass
class BatchResult:
    raised: list[tuple[int, str, int]] = field(default_factory=list)  # (order, kind, round)
    failed: int = 0
    to_close: list[int] = field(default_factory=list)  # orders with an auto-close due


def sweep(
    database: Database, *, now: datetime, auto_close: bool = True, batch: int = 1000,
    per_transaction: int = 200, after_each: Callable[[int], None] | None = None,
) -> SweepReport:
    """One pass over the orders with an alert due by `now`, at most `batch` of them.

    `after_each(order_id)` is called for every order of a batch once the batch's writes
    are made and before they commit: raising from it is a sweep killed in the middle of
    a transaction, which loses that batch's work whole and nothing committed before it.
    """
    started = time.perf_counter()
    report = SweepReport()
    with database.session() as db:
        due = sorted(db.exec(
            select(Order.id).where(col(Order.next_alert_at) <= now)
            .order_by(col(Order.next_alert_at)).limit(batch)
        ).all())
    report.examined = len(due)
    for start in range(0, len(due), per_transaction):
        chunk = due[start:start + per_transaction]
        try:
            with database.session(write=True) as db:
                result = sweep_batch(db, chunk, now=now, auto_close=auto_close, after_each=after_each)
        except Exception:  # the batch's transaction itself failed: none of its work is kept
            report.failed += len(chunk)
            log.exception("sweep failed for orders %s…%s", chunk[0], chunk[-1])
            continue
        report.failed += result.failed
        for raised in result.raised:
            report.count(*raised)
        for order_id in result.to_close:
            try:
                with database.session(write=True) as db:
                    for kind, round_ in sweep_order(db, order_id, now=now, auto_close=auto_close):
                        report.count(order_id, kind, round_)
            except Exception:  # one bad order must not stop the rest of the pass
                report.failed += 1
                log.exception("sweep failed for order %s", order_id)
    report.seconds = time.perf_counter() - started
    SWEEP_SECONDS.observe(report.seconds)
    return report


@use_case
def sweep_batch(
    db: Session, order_ids: list[int], *, now: datetime, auto_close: bool,
    after_each: Callable[[int], None] | None = None,
) -> BatchResult:
    """Raise the reminders and escalations due for these orders; hand back those to close."""
    orders: Sequence[SweptOrder] = db.execute(
        select(*BATCH_COLUMNS).where(col(Order.id).in_(order_ids), col(Order.next_alert_at) <= now)
        .order_by(col(Order.id)).with_for_update(key_share=True, skip_locked=True)
    ).all()  # an order missing here was swept, moved or is being moved meanwhile
    category_ids = {order.category_id for order in orders}
    categories = {c.id: c for c in db.exec(select(Category).where(col(Category.id).in_(category_ids))).all()}
    result = BatchResult()
    plans: list[OrderPlan] = []
    for order in orders:
        try:
            order_plan = plan_order(order, categories.get(order.category_id), now=now, auto_close=auto_close)
        except Exception:
            result.failed += 1
            log.exception("sweep failed for order %s", order.id)
            continue
        if order_plan.closes:
            result.to_close.append(order.id)
        else:
            plans.append(order_plan)
    try:
        with db.begin_nested():
            result.raised = write_plans(db, plans, now)
    except Exception:  # some order's rows were refused: find it by writing them one at a time
        log.warning("sweep: the writes of %d orders were refused; retrying them one by one",
                    len(plans), exc_info=True)
        for order_plan in plans:
            try:
                with db.begin_nested():
                    result.raised += write_plans(db, [order_plan], now)
            except Exception:
                result.failed += 1
                log.exception("sweep failed for order %s", order_plan.order.id)
    if after_each:
        for order_id in order_ids:
            after_each(order_id)
    return result


def plan_order(order: SweptOrder, category: Category | None, *, now: datetime, auto_close: bool) -> OrderPlan:
    stage = STAGE_OF_STATE.get(OrderState(order.state))
    if stage is None:
        return OrderPlan(order, category, None, (), None)
    if category is None:
        raise LookupError(f"order {order.id} has no category {order.category_id}")
    limit = category_limits(category).minutes(stage, Urgency(order.urgency))
    schedule = alert_schedule(stage, order.stage_entered_at, limit, auto_close=auto_close)
    return OrderPlan(order, category, stage, tuple(due_alerts(schedule, now)), next_alert_at(schedule, now))


def write_plans(db: Session, plans: list[OrderPlan], now: datetime) -> list[tuple[int, str, int]]:
    """The alerts, notices and next alert times of these orders; the alerts that were new."""
    bulk = bulk_writer(db)
    rows = [_alert_row(p.order, p.stage, alert, now) for p in plans for alert in p.alerts]
    new = bulk.insert_alerts(db, rows, now) if rows else set()
    raised: list[tuple[int, str, int]] = []
    notices: list[dict[str, Any]] = []
    for p in plans:
        for alert in p.alerts:
            if (p.order.id, p.order.version, alert.kind.value, alert.round) in new:
                raised.append((p.order.id, alert.kind.value, alert.round))
                notice = _notice_row(p, alert, now)
                if notice is not None:
                    notices.append(notice)
    if notices:
        bulk.insert_notices(db, notices, now)
    if plans:
        bulk.set_next_alerts(db, [
            {"order_id": p.order.id, "read_version": p.order.version, "next_at": p.next_at} for p in plans
        ])
    return raised


@use_case
def sweep_order(db: Session, order_id: int, *, now: datetime, auto_close: bool) -> list[tuple[str, int]]:
    """Raise what is due for this order's current stage, auto-close included; the alerts raised.

    The order is locked before anything is written, so this waits, if at all, only for
    the order's row and never while holding an alert's key that a batch wants.
    """
    order = db.get(Order, order_id, with_for_update={"key_share": True})
    if order is None or order.next_alert_at is None or order.next_alert_at > now:
        return []  # another sweep, or a move, got here first
    order_plan = plan_order(order, db.get(Category, order.category_id), now=now, auto_close=auto_close)
    raised: list[tuple[str, int]] = []
    for alert in order_plan.alerts:
        if insert_once(db, StageAlert, _alert_row(order, order_plan.stage, alert, now), unique=ALERT_KEY) is None:
            continue
        raised.append((alert.kind.value, alert.round))
        if alert.kind is AlertKind.AUTO_CLOSE:
            _auto_close(db, order, now)
            return raised
        _notify(db, order, order_plan.stage, alert, now)
    db.execute(SET_NEXT_ALERT, {"order_id": order.id, "read_version": order.version, "next_at": order_plan.next_at})
    return raised


def _alert_row(order: SweptOrder, stage: Stage | None, alert: Alert, now: datetime) -> dict[str, Any]:
    assert stage is not None  # a stage-less order has no alerts
    return {
        "order_id": order.id, "stage": stage.value, "stage_version": order.version, "kind": alert.kind.value,
        "round": alert.round, "audience": alert.audience.value if alert.audience else None,
        "due_at": alert.due_at, "created_at": now,
    }


def _alert_notice(stage: Stage | None, alert: Alert, order: SweptOrder, now: datetime) -> dict[str, Any]:
    assert stage is not None  # a stage-less order has no alerts
    return {
        "stage": stage.value,
        "alert": alert.kind.value,
        "alert_label": ALERT_LABELS[alert.kind],
        "round": alert.round,
        "overdue_seconds": overdue_seconds(order.stage_deadline, now),
    }


def _notify(db: Session, order: Order, stage: Stage | None, alert: Alert, now: datetime) -> None:
    assert alert.audience is not None  # reminders and escalations are told to someone
    write_notice(db, order, f"alert.{alert.kind.value}", alert.audience, _alert_notice(stage, alert, order, now), now)


def _notice_row(p: OrderPlan, alert: Alert, now: datetime) -> dict[str, Any] | None:
    """The outbox row `write_notice` adds for this alert (less its times), as values for a bulk INSERT.

    Building the ORM object costs a third of a millisecond, a third of the sweep's budget
    for a thousand orders.
    """
    assert alert.audience is not None
    return notice_values(p.order, p.category, f"alert.{alert.kind.value}", alert.audience,
                         _alert_notice(p.stage, alert, p.order, now))


def _auto_close(db: Session, order: Order, now: datetime) -> None:
    transition = plan(OrderState(order.state), Action.AUTO_CLOSE, Role.SYSTEM)
    member = order.assignee_id
    event_id = move(db, order, transition, SYSTEM, now=now, note="评价期满,系统默认评价",
                    changes={"rating_source": RatingSource.DEFAULT.value, "closed_at": now},
                    data={"source": RatingSource.DEFAULT.value})
    judge_attempt(db, order, member, event_id, stars=None, by_default=True, now=now)
