"""The databases the suite runs on: SQLite always, PostgreSQL when reachable (required in CI)."""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from storage.engine import Database, create_db_engine
from storage.migrate import upgrade

POSTGRES_ADMIN_URL = os.environ.get(
    "WUDAN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)

TABLES = (
    "reports", "order_followers", "point_entries", "point_rule_versions", "task_volunteers", "project_orders", "project_resources", "photos", "project_milestones", "projects", "resources", "community_needs", "whistle_alerts", "whistles", "dashboard_tokens", "refresh_tokens", "rate_limit_hits", "audit_log", "stats_counts", "stats_stage_times", "inbox_items", "deliveries", "stage_alerts", "outbox", "order_events", "hall_matters", "hall_session_hosts", "hall_sessions", "halls", "orders", "open311_clients", "action_team_worthies", "action_teams", "visits", "visit_team_members", "visit_team_grids", "visit_teams", "residents", "households", "buildings", "grid_worker_grids",
    "staff", "units", "categories", "grids", "branches", "towns",
)


def postgres_reachable() -> str | None:
    """None if PostgreSQL answers, else why not."""
    try:
        engine = create_engine(POSTGRES_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:  # noqa: BLE001  (any failure means "not here")
        return f"{type(exc).__name__}: {str(exc).splitlines()[0]}"


class TestDatabase:
    """A migrated database for one test session, emptied between tests."""

    __test__ = False  # a helper, not a test class

    def __init__(self, backend: str, tmp_dir, revision: str = "head") -> None:
        self.backend = backend
        self._admin = None
        if backend == "sqlite":
            self.url = f"sqlite:///{tmp_dir / 'wudan-test.db'}"
        else:
            self._admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
            self.name = f"wudan_test_{uuid.uuid4().hex[:10]}"
            with self._admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{self.name}"'))
            self.url = make_url(POSTGRES_ADMIN_URL).set(database=self.name).render_as_string(hide_password=False)
        self.database = Database(create_db_engine(self.url, pool_size=40))
        upgrade(self.database.engine, revision)

    def empty(self) -> None:
        with self.database.engine.begin() as connection:
            if self.backend == "postgres":
                connection.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
            else:
                for table in TABLES:
                    connection.execute(text(f"DELETE FROM {table}"))
            # Event ids start again at 1: so does the projection's cursor.
            connection.execute(text("UPDATE projection_cursors SET event_id = 0, gaps = '[]'"))

    def drop(self) -> None:
        self.database.dispose()
        if self._admin is not None:
            with self._admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
            self._admin.dispose()


def insert_old_town(connection) -> None:
    """Town 1 as the columns of the early revisions (up to 0011) have it, for tests that upgrade a database."""
    connection.execute(text(
        "INSERT INTO towns (id, name, timezone, public_board_enabled, points_completed, points_five_star,"
        " points_overdue, created_at) VALUES (1, 't', 'Asia/Shanghai', false, 10, 5, -5, CURRENT_TIMESTAMP)"))


def backend_params() -> list:
    return ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def insert_filled(connection, table: str, **given) -> None:
    """Insert one row into `table` as the database has it now (an old revision too): the given
    values, and a plain value for every other column that must have one."""
    from datetime import datetime, timezone

    plain = {"INTEGER": 1, "BIGINT": 1, "SMALLINT": 1, "BOOLEAN": False, "FLOAT": 0.0, "REAL": 0.0,
             "DOUBLE PRECISION": 0.0, "DATE": datetime.now(timezone.utc).date()}
    values = dict(given)
    for column in inspect(connection).get_columns(table):
        if column["name"] in values or column["nullable"] or column.get("default") is not None:
            continue
        kind = str(column["type"]).upper()
        if column.get("autoincrement") is True or (column["name"] == "id" and "INT" in kind):
            continue
        if kind.startswith(("TIMESTAMP", "DATETIME")):
            values[column["name"]] = datetime.now(timezone.utc)
        elif kind.startswith(("VARCHAR", "TEXT", "CHAR")):
            values[column["name"]] = "x"
        elif kind in ("JSON", "JSONB"):
            values[column["name"]] = "[]"
        else:
            values[column["name"]] = plain[kind]
    names = ", ".join(values)
    marks = ", ".join(f":{name}" for name in values)
    connection.execute(text(f"INSERT INTO {table} ({names}) VALUES ({marks})"), values)
