"""How a sweep batch's rows reach each database: one statement per kind of row, whatever the batch's size.

SQLite takes them as executemany parameters, run in-process. PostgreSQL takes them as
one JSON document per statement, unpacked by the server: as executemany parameters each
row would be a statement of its own, and as multi-row VALUES or arrays psycopg spends
~0.1 ms a row rewriting placeholders or escaping.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, text, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from storage.models import Order, OutboxMessage, StageAlert

ALERT_KEY = ("order_id", "stage_version", "kind", "round")

_alerts = StageAlert.__table__
_outbox = OutboxMessage.__table__
_orders = Order.__table__
# Only for the stage that was looked at: a move since then has stamped its own next alert.
SET_NEXT_ALERT = (
    update(_orders)
    .where(_orders.c.id == bindparam("order_id"), _orders.c.version == bindparam("read_version"))
    .values(next_alert_at=bindparam("next_at"))
)


def bulk_writer(db: Session) -> type[SQLiteBulk] | type[PostgresBulk]:
    return PostgresBulk if db.get_bind().dialect.name == "postgresql" else SQLiteBulk


class SQLiteBulk:
    """A batch's rows as executemany parameters: SQLite runs them in-process, in C."""

    INSERT_ALERTS = (
        sqlite_insert(_alerts).on_conflict_do_nothing(index_elements=list(ALERT_KEY))
        .returning(*(_alerts.c[name] for name in ALERT_KEY))
    )
    INSERT_NOTICES = insert(_outbox)

    @classmethod
    def insert_alerts(cls, db: Session, rows: list[dict[str, Any]], now: datetime) -> set[tuple]:
        """Insert those not there yet; the keys of the ones inserted."""
        return {tuple(key) for key in db.execute(cls.INSERT_ALERTS, rows)}

    @classmethod
    def insert_notices(cls, db: Session, rows: list[dict[str, Any]], now: datetime) -> None:
        db.execute(cls.INSERT_NOTICES, [{**row, "next_attempt_at": now, "created_at": now} for row in rows])

    @classmethod
    def set_next_alerts(cls, db: Session, rows: list[dict[str, Any]]) -> None:
        db.execute(SET_NEXT_ALERT, rows)


class PostgresBulk:
    """A batch's rows as one JSON document per statement, unpacked by the server."""

    INSERT_ALERTS = text(
        "INSERT INTO stage_alerts (order_id, stage, stage_version, kind, round, audience, due_at, created_at) "
        "SELECT a.order_id, a.stage, a.stage_version, a.kind, a.round, a.audience, a.due_at, "
        "CAST(:now AS timestamptz) "
        "FROM json_to_recordset(CAST(:rows AS json)) "
        "AS a(order_id int, stage text, stage_version int, kind text, round int, audience text, due_at timestamptz) "
        "ON CONFLICT (order_id, stage_version, kind, round) DO NOTHING "
        "RETURNING order_id, stage_version, kind, round"
    )
    INSERT_NOTICES = text(
        "INSERT INTO outbox (order_id, kind, audience, audience_id, payload, status, attempts, next_attempt_at, "
        "created_at) "
        "SELECT n.order_id, n.kind, n.audience, n.audience_id, n.payload, :status, :attempts, "
        "CAST(:now AS timestamptz), CAST(:now AS timestamptz) "
        "FROM json_to_recordset(CAST(:rows AS json)) "
        "AS n(order_id int, kind text, audience text, audience_id int, payload json)"
    )
    # Only for the stage that was looked at: a move since then has stamped its own next alert.
    SET_NEXT_ALERT = text(
        "UPDATE orders SET next_alert_at = v.next_at "
        "FROM json_to_recordset(CAST(:rows AS json)) AS v(order_id int, read_version int, next_at timestamptz) "
        "WHERE orders.id = v.order_id AND orders.version = v.read_version"
    )

    @classmethod
    def insert_alerts(cls, db: Session, rows: list[dict[str, Any]], now: datetime) -> set[tuple]:
        """Insert those not there yet; the keys of the ones inserted."""
        return {tuple(key) for key in db.execute(cls.INSERT_ALERTS, {"rows": _json(rows), "now": now})}

    @classmethod
    def insert_notices(cls, db: Session, rows: list[dict[str, Any]], now: datetime) -> None:
        db.execute(cls.INSERT_NOTICES, {
            "rows": _json(rows), "status": _outbox.c.status.default.arg, "attempts": _outbox.c.attempts.default.arg,
            "now": now,
        })

    @classmethod
    def set_next_alerts(cls, db: Session, rows: list[dict[str, Any]]) -> None:
        db.execute(cls.SET_NEXT_ALERT, {"rows": _json(rows)})


def _json(rows: list[dict[str, Any]]) -> str:
    return json.dumps(rows, default=lambda value: value.isoformat())  # datetimes: aware, so with their offset
