"""kill -9 the server while clients place and move orders: after a restart, every order that
got a 2xx is there with its whole timeline, and no move is half-applied."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time

import httpx
from sqlmodel import select

from storage.models import Order, OrderEvent, OutboxMessage

STEPS = [("workerA1", "claim", None), ("secA", "dispatch", "member"), ("memberA1", "accept", None)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(url: str, port: int, settings, env: dict[str, str] | None = None) -> subprocess.Popen:
    # The tests that start servers place orders as fast as they can, as one resident from one address.
    busy = {"ORDERS_PER_HOUR_PER_RESIDENT": "100000", "ORDERS_PER_HOUR_PER_STAFF": "100000",
            "ORDERS_PER_HOUR_PER_ADDRESS": "100000"}
    env = {**os.environ, "DATABASE_URL": url, "DATA_DIR": str(settings.data_dir), "SCHEDULER_ENABLED": "false",
           "MIGRATE_ON_START": "false", "ENVIRONMENT": "development", "SECRET_KEY": settings.secret_key,
           "LOG_LEVEL": "WARNING", **busy, **(env or {})}
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "api.main:app", "--host", "127.0.0.1",
                               "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError("the server did not start")


def test_kill_9_loses_nothing_that_was_acknowledged(world, database, test_database, settings):
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = _start(test_database.url, port, settings)
    acknowledged: dict[int, list[str]] = {}  # order id -> actions answered 2xx
    lock = threading.Lock()
    stop = threading.Event()

    def client_loop():
        with httpx.Client(base_url=base, timeout=5) as http:
            while not stop.is_set():
                try:
                    r = http.post("/orders", json={"category_id": world["cat"], "description": "井盖松动"},
                                  headers=world.auth("res1"))
                    if r.status_code != 201:
                        continue
                    oid = r.json()["id"]
                    with lock:
                        acknowledged[oid] = ["submit"]
                    for who, action, body in STEPS:
                        payload = {"member_id": world["memberA1"]} if body else None
                        r = http.post(f"/orders/{oid}/{action}", json=payload, headers=world.auth(who))
                        if r.status_code != 200:
                            break
                        with lock:
                            acknowledged[oid].append(action)
                except httpx.HTTPError:
                    time.sleep(0.05)  # the server is gone; keep trying until told to stop

    clients = [threading.Thread(target=client_loop) for _ in range(4)]
    for c in clients:
        c.start()
    time.sleep(2.0)
    server.send_signal(signal.SIGKILL)
    server.wait(timeout=10)
    time.sleep(0.3)
    stop.set()
    for c in clients:
        c.join(timeout=30)
    assert len(acknowledged) > 5, "the clients did get work done before the crash"

    restarted = _start(test_database.url, port, settings)
    try:
        assert httpx.get(f"{base}/readyz", timeout=5).status_code == 200
        with database.session() as db:
            orders = {o.id: o for o in db.exec(select(Order)).all()}
            events = db.exec(select(OrderEvent).order_by(OrderEvent.id)).all()
            outbox_events = {m.event_id for m in db.exec(select(OutboxMessage)).all()}
        timeline: dict[int, list[OrderEvent]] = {}
        for event in events:
            timeline.setdefault(event.order_id, []).append(event)
        for oid, actions in acknowledged.items():
            assert oid in orders, f"order {oid} was acknowledged and is gone"
            stored = [e.action for e in timeline[oid]]
            assert stored[: len(actions)] == actions, (oid, stored, actions)
        for oid, order in orders.items():
            # No half-applied move: each move bumped the version once and wrote one event.
            assert order.version == len(timeline[oid]), (oid, order.version, len(timeline[oid]))
            assert order.state == timeline[oid][-1].to_state
            assert {e.id for e in timeline[oid]} <= outbox_events, "every move wrote its notices"
        # And the restarted service carries on.
        moved = httpx.post(f"{base}/orders", json={"category_id": world["cat"], "description": "又坏了"},
                           headers=world.auth("res1"), timeout=5)
        assert moved.status_code == 201
    finally:
        restarted.terminate()
        restarted.wait(timeout=10)
