"""Many staff at the same moment on the orders of one grid: no 5xx, truthful 409s, stats equal a recount.

See tests/contention.py for the paths and the checks. Runs on both stores; PostgreSQL is
where rows are locked by concurrent writers (SQLite takes one writer at a time).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlmodel import select

from api.app import create_app
from storage.models import Category, Order
from tests.contention import check_outcome, check_stats_recount, events_not_counted, run_contention
from tests.live_server import LiveServer
from tests.test_crash import _free_port, _start
from workflows.projection import project
from workflows.sweep import sweep


def real_now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def busy_settings(settings):
    # One member uploads evidence for every completion of the run; one resident places every order.
    return settings.model_copy(update={"photo_uploads_per_hour": 100_000, "photo_unattached_max": 100_000,
                                       "orders_per_hour_per_resident": 100_000, "orders_per_hour_per_staff": 100_000,
                                       "orders_per_hour_per_address": 100_000})


@pytest.fixture
def due_at_once(world, database):
    """Dispatch and accept stages are overdue the moment they start: the sweep has work all along."""
    with database.session(write=True) as db:
        category = db.get(Category, world["cat"])
        category.dispatch_minutes = 0
        category.accept_minutes = 0
        db.add(category)
        db.commit()


def store_name(database) -> str:
    return database.engine.dialect.name


def state_reader(database):
    def state_of(order_id: int) -> str:
        with database.session() as db:
            return db.exec(select(Order.state).where(Order.id == order_id)).one()

    return state_of


class SweepBeside:
    """The overdue sweep in a loop beside the requests, as the worker would run it."""

    def __init__(self, database) -> None:
        self.database = database
        self.stop = threading.Event()
        self.raised = 0
        self.failed = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.wait(0.05):
            report = sweep(self.database, now=real_now())
            self.raised += report.alerts
            self.failed += report.failed

    def __enter__(self) -> SweepBeside:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join(timeout=30)



def retries_in(metrics_text: str) -> Counter:
    """`wudan_db_retries_total` by reason, from a /metrics answer."""
    found = Counter()
    for family in text_string_to_metric_families(metrics_text):
        for sample in family.samples:
            if sample.name == "wudan_db_retries_total":
                found[sample.labels["reason"]] += int(sample.value)
    return found


def _summary(label, outcome, retries: Counter, sweeper=None) -> str:
    return (f"{label}: {len(outcome.moves)} moves, {outcome.count(200)} applied, {outcome.count(409)} refused with 409,"
            f" {outcome.count(404)} not found, 5xx {sum(a.status >= 500 for a in outcome.moves)},"
            f" retries {dict(retries)}"
            + (f", sweep raised {sweeper.raised} alerts, failed {sweeper.failed}" if sweeper else ""))


@pytest.mark.parametrize("threads", [16, 64])
def test_pairs_race_every_move_with_the_sweep_beside(threads, world, database, busy_settings, due_at_once):
    app = create_app(busy_settings, clock=real_now, database=database)
    with LiveServer(app) as url, httpx.Client(base_url=url, timeout=30) as http:
        before = retries_in(http.get("/metrics").text)
        with SweepBeside(database) as sweeper:
            outcome = run_contention([url], world, threads, state_reader(database), rounds=max(1, 32 // threads))
        retries = retries_in(http.get("/metrics").text) - before
        print(_summary(f"{store_name(database)}, {threads} threads", outcome, retries, sweeper))
        check_outcome(outcome, database)
        assert sweeper.failed == 0 and sweeper.raised > 0
        project(database, now=real_now())
        check_stats_recount(http, world, database)
    # Moves write shared counter rows in one order: no deadlock to retry from, let alone to answer.
    assert retries["deadlock"] == 0, retries


def test_three_replicas_race_on_one_database(world, database, test_database, busy_settings, due_at_once):
    if test_database.backend != "postgres":
        pytest.skip("replicas share a PostgreSQL database")
    ports = [_free_port() for _ in range(3)]
    replicas = [_start(test_database.url, port, busy_settings, env={
        "PHOTO_UPLOADS_PER_HOUR": "100000", "PHOTO_UNATTACHED_MAX": "100000"}) for port in ports]
    worker = subprocess.Popen(
        [sys.executable, "-m", "wudan.cli", "worker"],
        env={**os.environ, "DATABASE_URL": test_database.url, "DATA_DIR": str(busy_settings.data_dir),
             "SWEEP_INTERVAL_SECONDS": "0.2", "DELIVERY_INTERVAL_SECONDS": "0.5", "MIGRATE_ON_START": "false",
             "LOG_LEVEL": "WARNING", "SECRET_KEY": busy_settings.secret_key},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        outcome = run_contention(urls, world, 32, state_reader(database))
        retries = sum((retries_in(httpx.get(f"{url}/metrics").text) for url in urls), Counter())
        print(_summary("3 replicas, 32 threads", outcome, retries))
        check_outcome(outcome, database)
        # The worker counts the moves: within a few of its one-second passes it has read them all.
        deadline = time.monotonic() + 10
        while events_not_counted(database) and time.monotonic() < deadline:
            time.sleep(0.2)
        with httpx.Client(base_url=urls[0], timeout=30) as http:
            check_stats_recount(http, world, database)
        assert retries["deadlock"] == 0, retries
    finally:
        for process in [worker, *replicas]:
            process.terminate()
        for process in [worker, *replicas]:
            process.wait(timeout=20)
