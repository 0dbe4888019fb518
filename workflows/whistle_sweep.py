"""The whistles' sweep: remind a unit late to report in or to reply, and tell the town office.

A whistle's stage runs like an order's (domain/alerts.py): past its limit the unit is
reminded every half limit, at most three times, and at twice the limit the town admins
are told once. It reads only whistles whose `next_alert_at` has passed (an index), one
transaction each, the whistle locked first; every alert goes in against a unique key
(whistle, stage version, kind, round), so sweeps at the same time, or again after a
crash, raise each alert once. It writes whistles, alerts and outbox rows, never orders,
so it never waits for an order a request is moving.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from domain.alerts import ALERT_LABELS, alert_schedule, due_alerts, next_alert_at
from domain.deadlines import overdue_seconds
from domain.notices import Audience
from domain.states import Urgency
from domain.whistles import STAGE_OF_WHISTLE, WhistleState
from storage.engine import Database
from storage.models import Category, Order, OutboxMessage, Town, Unit, Whistle, WhistleAlert
from storage.upsert import insert_once
from workflows.transition import notice_values
from workflows.unit import use_case
from workflows.whistles import town_whistle_limits

log = logging.getLogger("wudan.sweep")

ALERT_KEY = ("whistle_id", "stage_version", "kind", "round")


@dataclass
class WhistleSweepReport:
    examined: int = 0
    alerts: int = 0
    failed: int = 0


def sweep_whistles(database: Database, *, now: datetime, batch: int = 1000) -> WhistleSweepReport:
    """One pass over the whistles with an alert due by `now`, at most `batch` of them."""
    report = WhistleSweepReport()
    with database.session() as db:
        due = db.exec(select(Whistle.id).where(col(Whistle.next_alert_at) <= now)
                      .order_by(col(Whistle.next_alert_at)).limit(batch)).all()
    report.examined = len(due)
    for whistle_id in due:
        try:
            with database.session(write=True) as db:
                report.alerts += sweep_whistle(db, whistle_id, now=now)
        except Exception:  # one bad whistle must not stop the rest of the pass
            report.failed += 1
            log.exception("whistle sweep failed for whistle %s", whistle_id)
    return report


@use_case
def sweep_whistle(db: Session, whistle_id: int, *, now: datetime) -> int:
    """Raise what is due for this whistle's stage; how many alerts were new."""
    whistle = db.get(Whistle, whistle_id, with_for_update={"key_share": True})
    if whistle is None or whistle.next_alert_at is None or whistle.next_alert_at > now:
        return 0  # another sweep, or the unit's move, got here first
    stage = STAGE_OF_WHISTLE.get(WhistleState(whistle.state))
    order = db.get(Order, whistle.order_id)
    raised = 0
    next_at = None
    if stage is not None and not whistle.settled:
        town = db.get(Town, whistle.town_id)
        limit = town_whistle_limits(town).minutes(stage, Urgency(whistle.urgency))
        schedule = alert_schedule(stage, whistle.stage_entered_at, limit)
        unit = db.get(Unit, whistle.unit_id)
        category = db.get(Category, order.category_id)
        for alert in due_alerts(schedule, now):
            if insert_once(db, WhistleAlert, {
                "whistle_id": whistle.id, "stage": stage.value, "stage_version": whistle.version,
                "kind": alert.kind.value, "round": alert.round, "audience": alert.audience.value,
                "due_at": alert.due_at, "created_at": now,
            }, unique=ALERT_KEY) is None:
                continue
            raised += 1
            values = notice_values(order, category, f"whistle.{alert.kind.value}", alert.audience, {
                "whistle_id": whistle.id, "unit_id": unit.id, "unit_name": unit.name, "stage": stage.value,
                "alert": alert.kind.value, "alert_label": ALERT_LABELS[alert.kind], "round": alert.round,
                "overdue_seconds": overdue_seconds(whistle.stage_deadline, now),
            }, audience_id=unit.id if alert.audience is Audience.UNIT_STAFF else None)
            if values is not None:
                db.add(OutboxMessage(**values, next_attempt_at=now, created_at=now))
        next_at = next_alert_at(schedule, now)
    db.execute(update(Whistle).where(col(Whistle.id) == whistle.id, col(Whistle.version) == whistle.version)
               .values(next_alert_at=next_at).execution_options(synchronize_session=False))
    return raised
