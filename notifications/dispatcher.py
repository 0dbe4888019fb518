"""Deliver outbox rows through the channels, outside any request, with retries.

Two steps, both safe to run in several processes at once:
- fan out: each new outbox row gets one delivery row per channel that takes it
  (a unique key on outbox row + channel makes this happen once);
- deliver: a sender takes a due delivery by a conditional UPDATE (a lease), sends it
  outside any transaction, and records the outcome only if it still holds the lease.
  Two senders never hold one delivery, so no message goes out twice for one row.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, update
from sqlmodel import col, select

from notifications.base import Channel, Notice, Outcome, Status
from storage.engine import Database
from storage.models import Delivery, OutboxMessage
from storage.upsert import insert_once
from infra.metrics import DELIVERIES

log = logging.getLogger("wudan.notifications")


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    backoff_seconds: float = 30
    cap_seconds: float = 3600
    lease_seconds: float = 120

    def delay(self, attempts: int) -> timedelta:
        """Exponential: 30 s, 1 min, 2 min, … up to the cap."""
        return timedelta(seconds=min(self.cap_seconds, self.backoff_seconds * 2 ** max(attempts - 1, 0)))


@dataclass
class DeliveryReport:
    fanned_out: int = 0
    attempted: int = 0
    by_status: dict[str, int] = field(default_factory=dict)


def _due(now: datetime):
    return or_(
        and_(col(Delivery.status).in_([Status.PENDING, Status.RETRY]), col(Delivery.next_attempt_at) <= now),
        and_(col(Delivery.status) == Status.SENDING, col(Delivery.lease_until) < now),
    )


class Dispatcher:
    def __init__(self, database: Database, channels: Sequence[Channel], policy: RetryPolicy,
                 clock: Callable[[], datetime]) -> None:
        self.database = database
        self.channels = {c.name: c for c in channels}
        self.policy = policy
        self.clock = clock

    def run_once(self, batch: int = 200) -> DeliveryReport:
        report = DeliveryReport(fanned_out=self.fan_out(batch))
        self.deliver_due(batch, report)
        return report

    def fan_out(self, batch: int = 200) -> int:
        """Give new outbox rows their delivery rows, one per channel that takes them."""
        now = self.clock()
        with self.database.session(write=True) as db:
            rows = db.exec(
                select(OutboxMessage).where(OutboxMessage.status == Status.PENDING)
                .order_by(col(OutboxMessage.id)).limit(batch).with_for_update(skip_locked=True)
            ).all()
            for row in rows:
                for channel in self.channels.values():
                    if channel.accepts(row.kind, row.audience):
                        insert_once(db, Delivery, {
                            "outbox_id": row.id, "channel": channel.name, "status": Status.PENDING,
                            "next_attempt_at": now, "created_at": now, "attempts": 0,
                        }, unique=("outbox_id", "channel"))
                row.status = "dispatched"
                db.add(row)
            db.commit()
            return len(rows)

    def deliver_due(self, batch: int = 200, report: DeliveryReport | None = None) -> DeliveryReport:
        report = report or DeliveryReport()
        with self.database.session() as db:
            due = db.exec(
                select(Delivery.id).where(_due(self.clock()), col(Delivery.channel).in_(list(self.channels)))
                .order_by(col(Delivery.next_attempt_at)).limit(batch)
            ).all()
        for delivery_id in due:
            claimed = self._claim(delivery_id)
            if claimed is None:
                continue  # another sender has it
            attempt, notice, channel_name = claimed
            report.attempted += 1
            try:
                outcome = self.channels[channel_name].deliver(notice)
            except Exception as exc:  # a channel bug must not stop the loop
                log.exception("channel %s failed on delivery %s", channel_name, delivery_id)
                outcome = Outcome.retry(f"{type(exc).__name__}: {exc}")
            status = self._record(delivery_id, attempt, outcome)
            DELIVERIES.labels(channel_name, status).inc()
            report.by_status[status] = report.by_status.get(status, 0) + 1
        return report

    def _claim(self, delivery_id: int) -> tuple[int, Notice, str] | None:
        now = self.clock()
        with self.database.session(write=True) as db:
            taken = db.execute(
                update(Delivery).where(col(Delivery.id) == delivery_id, _due(now))
                .values(status=Status.SENDING, attempts=Delivery.attempts + 1,
                        lease_until=now + timedelta(seconds=self.policy.lease_seconds))
                .execution_options(synchronize_session=False)
            ).rowcount
            if taken != 1:
                db.rollback()
                return None
            delivery = db.get(Delivery, delivery_id)
            row = db.get(OutboxMessage, delivery.outbox_id)
            db.commit()
        notice = Notice(
            outbox_id=row.id, delivery_id=delivery.id, kind=row.kind, audience=row.audience,
            audience_id=row.audience_id, order_id=row.order_id, payload=row.payload,
            created_at=row.created_at.isoformat().replace("+00:00", "Z"),
        )
        return delivery.attempts, notice, delivery.channel

    def _record(self, delivery_id: int, attempt: int, outcome: Outcome) -> str:
        now = self.clock()
        status = outcome.status
        values: dict = {"status": status, "lease_until": None, "last_error": (outcome.error or None) and outcome.error[:500]}
        if status == Status.SENT:
            values["sent_at"] = now
        elif status == Status.RETRY:
            if attempt >= self.policy.max_attempts:
                status = values["status"] = Status.DEAD
            else:
                values["next_attempt_at"] = now + self.policy.delay(attempt)
        with self.database.session(write=True) as db:
            # Only the holder of this attempt's lease may record its outcome.
            db.execute(
                update(Delivery).where(
                    col(Delivery.id) == delivery_id, col(Delivery.status) == Status.SENDING,
                    col(Delivery.attempts) == attempt,
                ).values(**values).execution_options(synchronize_session=False)
            )
            db.commit()
        if status in (Status.DEAD, Status.RETRY):
            log.warning("delivery %s: %s (%s)", delivery_id, status, outcome.error)
        return status
