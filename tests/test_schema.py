"""Alembic owns the schema: migrations build exactly the tables the models describe."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlmodel import SQLModel

import storage.models  # noqa: F401
from storage.migrate import current_revision, head_revision, upgrade
from tests.databases import TestDatabase, backend_params, insert_old_town, postgres_reachable


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


@pytest.mark.parametrize("backend", backend_params())
def test_the_branch_cube_is_rolled_up_from_existing_aggregates(backend, tmp_path):
    """Upgrading a database with aggregates (0007) fills the branch cube the town-wide numbers read."""
    if backend == "postgres" and postgres_reachable():
        pytest.skip("PostgreSQL not reachable")
    old = TestDatabase(backend, tmp_path, revision="0007")
    try:
        engine = old.database.engine
        with engine.begin() as connection:
            insert_old_town(connection)
            cells = [  # (day, branch, grid, category, member, metric, n)
                ("2026-11-01", 1, 1, 1, 0, "state:closed", 3), ("2026-11-01", 1, 2, 1, 0, "state:closed", 4),
                ("2026-11-01", 1, 2, 2, 0, "ratings", 2), ("2026-11-01", 2, 3, 1, 0, "state:closed", 5),
                ("2026-11-02", 1, 1, 1, 0, "state:closed", 1), ("2026-11-01", 1, 0, 0, 7, "state:closed", 9),
            ]
            for day, branch, grid, category, member, metric, n in cells:
                connection.execute(text(
                    "INSERT INTO stats_counts (town_id, day, branch_id, grid_id, category_id, member_id, metric, n)"
                    " VALUES (1, :day, :branch, :grid, :category, :member, :metric, :n)"),
                    dict(day=day, branch=branch, grid=grid, category=category, member=member, metric=metric, n=n))
            connection.execute(text(
                "INSERT INTO stats_stage_times (town_id, day, branch_id, grid_id, category_id, member_id, stage,"
                " bucket, n, seconds_sum) VALUES (1, '2026-11-01', 1, 1, 1, 0, 'claim', 3, 2, 100),"
                " (1, '2026-11-01', 1, 2, 5, 0, 'claim', 3, 1, 50), (1, '2026-11-01', 1, 0, 0, 7, 'claim', 3, 9, 9)"))
        upgrade(engine)
        with engine.connect() as connection:
            counts = connection.execute(text(
                "SELECT CAST(day AS TEXT), branch_id, metric, n FROM stats_counts"
                " WHERE grid_id = 0 AND member_id = 0 ORDER BY 1, 2, 3")).all()
            times = connection.execute(text(
                "SELECT branch_id, stage, bucket, n, seconds_sum FROM stats_stage_times"
                " WHERE grid_id = 0 AND member_id = 0")).all()
        assert [tuple(r) for r in counts] == [
            ("2026-11-01", 1, "ratings", 2), ("2026-11-01", 1, "state:closed", 7),
            ("2026-11-01", 2, "state:closed", 5), ("2026-11-02", 1, "state:closed", 1),
        ]
        assert [tuple(r) for r in times] == [(1, "claim", 3, 3, 150)]
    finally:
        old.drop()
