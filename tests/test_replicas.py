"""Three API replicas and two workers on one PostgreSQL, under load: every reminder and every
notification exactly once, counted."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import httpx
import pytest
from sqlmodel import func, select

from storage.models import Category, Delivery, OutboxMessage, StageAlert
from tests.test_crash import _free_port, _start
from tests.test_worker_processes import Receiver

PER_CLIENT = 8
CLIENTS = 6


def test_replicas_and_workers_send_everything_once(world, database, test_database, settings):
    if test_database.backend != "postgres":
        pytest.skip("the replica layout is a PostgreSQL one")
    with database.session(write=True) as db:  # every stage is due at once: reminders right away
        category = db.get(Category, world["cat"])
        category.claim_minutes = 0
        db.add(category)
        db.commit()
    receiver = Receiver()
    ports = [_free_port() for _ in range(3)]
    replicas = [_start(test_database.url, port, settings) for port in ports]
    env = {**os.environ, "DATABASE_URL": test_database.url, "DATA_DIR": str(settings.data_dir),
           "WEBHOOK_URL": receiver.url, "WEBHOOK_SECRET": "a-webhook-secret-0123456789",
           "INAPP_ENABLED": "false", "REPORTS_ENABLED": "false", "SWEEP_INTERVAL_SECONDS": "0.3", "DELIVERY_INTERVAL_SECONDS": "0.3",
           "MIGRATE_ON_START": "false", "LOG_LEVEL": "WARNING", "SECRET_KEY": settings.secret_key}
    workers = [subprocess.Popen([sys.executable, "-m", "wudan.cli", "worker"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(2)]
    placed: list[int] = []
    lock = threading.Lock()

    def client(n: int):
        with httpx.Client(base_url=f"http://127.0.0.1:{ports[n % 3]}", timeout=10) as http:
            for _ in range(PER_CLIENT):
                r = http.post("/orders", json={"category_id": world["cat"], "description": "路灯坏了"},
                              headers=world.auth("res1"))
                assert r.status_code == 201, r.text
                with lock:
                    placed.append(r.json()["id"])

    try:
        threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        orders = CLIENTS * PER_CLIENT
        assert len(placed) == orders
        expected = 3 * orders  # the submit notice, the last reminder round, the escalation
        deadline = time.monotonic() + 60
        while sum(receiver.ids.values()) < expected and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1.5)  # more passes of both workers: nothing more may come
    finally:
        for process in [*workers, *replicas]:
            process.terminate()
        for process in [*workers, *replicas]:
            process.wait(timeout=20)
        receiver.server.shutdown()
    assert sum(receiver.ids.values()) == expected
    assert set(receiver.ids.values()) == {1}, "a notification arrived twice"
    assert receiver.kinds == {"order.submit": orders, "alert.reminder": orders, "alert.escalation": orders}
    with database.session() as db:
        assert db.exec(select(func.count()).select_from(StageAlert)).one() == 2 * orders
        assert db.exec(select(func.count()).select_from(OutboxMessage)).one() == expected
        assert db.exec(select(func.count()).select_from(Delivery).where(Delivery.status != "sent")).one() == 0
