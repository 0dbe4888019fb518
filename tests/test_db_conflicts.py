"""What PostgreSQL aborts or stops is told apart: a conflict is retried, then its own 503; a timeout its own.

The faults are real server errors: a trigger raises them with their SQLSTATE, or another
connection holds the row, so they reach the service through psycopg as in production.
"""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import func, select

from api.app import create_app
from storage.engine import Database, Timeouts, create_db_engine
from storage.models import Order, OrderEvent
from tests.helpers import place
from infra.metrics import REGISTRY


@pytest.fixture
def postgres(test_database):
    if test_database.backend != "postgres":
        pytest.skip("deadlocks, serialization failures and lock timeouts are PostgreSQL's")
    return test_database


@pytest.fixture
def failing_events(postgres, database):
    """`fail(errcode, times)`: the next `times` inserts of an order event raise `errcode` (None: every one)."""
    def fail(errcode: str, times: int | None) -> None:
        condition = "TRUE" if times is None else f"nextval('wudan_test_fault') <= {times}"
        with database.engine.begin() as connection:
            connection.execute(text("CREATE SEQUENCE IF NOT EXISTS wudan_test_fault"))
            connection.execute(text(f"""
                CREATE OR REPLACE FUNCTION wudan_test_fault() RETURNS trigger AS $$
                BEGIN
                    IF {condition} THEN
                        RAISE EXCEPTION 'injected by the test' USING ERRCODE = '{errcode}';
                    END IF;
                    RETURN NEW;
                END $$ LANGUAGE plpgsql"""))
            connection.execute(text("CREATE TRIGGER wudan_test_fault BEFORE INSERT ON order_events "
                                    "FOR EACH ROW EXECUTE FUNCTION wudan_test_fault()"))

    yield fail
    with database.engine.begin() as connection:
        connection.execute(text("DROP TRIGGER IF EXISTS wudan_test_fault ON order_events"))
        connection.execute(text("DROP FUNCTION IF EXISTS wudan_test_fault()"))
        connection.execute(text("DROP SEQUENCE IF EXISTS wudan_test_fault"))


def sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def events_of(database, order_id: int, action: str) -> int:
    with database.session() as db:
        return db.exec(select(func.count()).select_from(OrderEvent)
                       .where(OrderEvent.order_id == order_id, OrderEvent.action == action)).one()


def state_of(database, order_id: int) -> str:
    with database.session() as db:
        return db.get(Order, order_id).state


@pytest.mark.parametrize("errcode,reason", [("40P01", "deadlock"), ("40001", "serialization")])
def test_a_conflict_on_the_first_try_is_retried_and_the_move_applies_once(
    errcode, reason, client, world, database, failing_events,
):
    order = place(client, world)["id"]
    failing_events(errcode, times=1)
    retried = sample("wudan_db_retries_total", reason=reason)
    r = client.post(f"/orders/{order}/claim", headers=world.auth("workerA1"))
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "claimed"
    assert events_of(database, order, "claim") == 1
    assert sample("wudan_db_retries_total", reason=reason) == retried + 1


def test_a_placement_is_retried_whole_and_placed_once(client, world, database, failing_events):
    failing_events("40P01", times=2)
    r = client.post("/orders", json={"category_id": world["cat"], "description": "路灯不亮"},
                    headers={**world.auth("res1"), "Idempotency-Key": "retry-me"})
    assert r.status_code == 201, r.text
    with database.session() as db:
        assert db.exec(select(func.count()).select_from(Order)).one() == 1
        assert db.exec(select(func.count()).select_from(OrderEvent)).one() == 1


def test_a_conflict_on_every_try_is_a_503_of_its_own_and_changes_nothing(client, world, database, failing_events):
    order = place(client, world)["id"]
    failing_events("40P01", times=None)
    gave_up = sample("wudan_db_conflicts_total", reason="deadlock")
    r = client.post(f"/orders/{order}/claim", headers=world.auth("workerA1"))
    assert r.status_code == 503
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["type"] == "urn:wudan:problem:database-conflict"
    assert r.headers["Retry-After"] == "1"
    assert sample("wudan_db_conflicts_total", reason="deadlock") == gave_up + 1
    assert state_of(database, order) == "submitted" and events_of(database, order, "claim") == 0


@pytest.fixture
def impatient_client(postgres, settings, clock):
    """The app on its own engine, with short lock and statement timeouts."""
    database = Database(create_db_engine(postgres.url, timeouts=Timeouts(lock_ms=300, statement_ms=1_000)))
    with TestClient(create_app(settings, clock=clock, database=database), raise_server_exceptions=False) as client:
        yield client
    database.dispose()


def test_a_move_behind_a_held_lock_times_out_with_its_own_problem(impatient_client, client, world, database):
    order = place(client, world)["id"]
    timeouts = sample("wudan_db_timeouts_total", kind="lock_timeout")
    with database.engine.connect() as holder:  # a stuck transaction holding the order's row
        holder.execute(text("SELECT id FROM orders WHERE id = :id FOR UPDATE"), {"id": order})
        started = time.monotonic()
        r = impatient_client.post(f"/orders/{order}/claim", headers=world.auth("workerA1"))
        waited = time.monotonic() - started
        holder.rollback()
    assert r.status_code == 503, r.text
    assert r.json()["type"] == "urn:wudan:problem:database-timeout"
    assert r.json()["timeout"] == "lock_timeout"
    assert r.headers["Retry-After"]
    assert waited < 2.5, "the request waited far beyond the lock timeout"
    assert sample("wudan_db_timeouts_total", kind="lock_timeout") == timeouts + 1
    assert state_of(database, order) == "submitted"
    # Once the row is free the same move goes through.
    r = impatient_client.post(f"/orders/{order}/claim", headers=world.auth("workerA1"))
    assert r.status_code == 200, r.text


def test_a_statement_that_runs_too_long_times_out_with_its_own_problem(
    impatient_client, client, world, database, failing_events,
):
    order = place(client, world)["id"]
    with database.engine.begin() as connection:  # an event insert that takes 3 s
        connection.execute(text("""
            CREATE OR REPLACE FUNCTION wudan_test_fault() RETURNS trigger AS $$
            BEGIN PERFORM pg_sleep(3); RETURN NEW; END $$ LANGUAGE plpgsql"""))
        connection.execute(text("CREATE TRIGGER wudan_test_fault BEFORE INSERT ON order_events "
                                "FOR EACH ROW EXECUTE FUNCTION wudan_test_fault()"))
    r = impatient_client.post(f"/orders/{order}/claim", headers=world.auth("workerA1"))
    assert r.status_code == 503, r.text
    assert r.json()["type"] == "urn:wudan:problem:database-timeout"
    assert r.json()["timeout"] == "statement_timeout"
    assert state_of(database, order) == "submitted"


def test_the_service_sessions_carry_the_timeouts(postgres):
    database = Database(create_db_engine(postgres.url, timeouts=Timeouts(1_234, 5_678, 9_012)))
    try:
        with database.session() as db:
            shown = [db.execute(text(f"SHOW {name}")).scalar_one()
                     for name in ("lock_timeout", "statement_timeout", "idle_in_transaction_session_timeout")]
    finally:
        database.dispose()
    assert shown == ["1234ms", "5678ms", "9012ms"]
