"""Alembic owns the schema: migrations build exactly the tables the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

import storage.models  # noqa: F401
from storage.migrate import current_revision, head_revision


def test_migrations_match_the_models(test_database):
    engine = test_database.database.engine
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == []
    assert current_revision(engine) == head_revision(engine)


def test_every_list_has_an_index(test_database):
    indexes = {i["name"]: i["column_names"] for i in inspect(test_database.database.engine).get_indexes("orders")}
    assert indexes["ix_orders_grid_state"][:2] == ["grid_id", "state"]
    assert indexes["ix_orders_branch_state"][:2] == ["branch_id", "state"]
    assert indexes["ix_orders_assignee_state"][:2] == ["assignee_id", "state"]
    assert indexes["ix_orders_resident"][0] == "resident_id"
    assert indexes["ix_orders_open_deadline"] == ["stage_deadline"]


def test_sqlite_runs_in_wal_with_foreign_keys(test_database):
    if test_database.backend != "sqlite":
        return
    with test_database.database.engine.connect() as connection:
        pragmas = {p: connection.exec_driver_sql(f"PRAGMA {p}").scalar() for p in
                   ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")}
    assert pragmas == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 30000, "synchronous": 1}
