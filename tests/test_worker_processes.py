"""Two `wudan worker` processes on one database: every alert raised once, every notice sent once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sqlmodel import func, select

from storage.models import Delivery, StageAlert
from tests.helpers import place

ORDERS = 12


class Receiver:
    """A webhook endpoint on loopback that counts each delivery id it accepted."""

    def __init__(self) -> None:
        self.ids: Counter[str] = Counter()
        self.kinds: Counter[str] = Counter()
        lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                time.sleep(0.02)  # slow enough that two workers would overlap if they could
                with lock:
                    receiver.ids[self.headers["X-Wudan-Delivery"]] += 1
                    receiver.kinds[body["kind"]] += 1
                self.send_response(204)
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"


def test_two_worker_processes_send_each_notice_once(client, world, database, test_database, settings, clock):
    # Placed a day ago: long overdue for the workers, which run on real time.
    clock.now = datetime.now(UTC) - timedelta(days=1)
    for _ in range(ORDERS):
        place(client, world)
    receiver = Receiver()
    env = {
        **os.environ, "DATABASE_URL": test_database.url, "DATA_DIR": str(settings.data_dir),
        "WEBHOOK_URL": receiver.url, "WEBHOOK_SECRET": "a-webhook-secret-0123456789",
        "INAPP_ENABLED": "false", "REPORTS_ENABLED": "false", "SWEEP_INTERVAL_SECONDS": "0.2", "DELIVERY_INTERVAL_SECONDS": "0.2",
        "MIGRATE_ON_START": "false",
    }
    workers = [
        subprocess.Popen([sys.executable, "-m", "wudan.cli", "worker"], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    # Per order: the submit notice, then (a day late) the last reminder round and the escalation.
    expected = 3 * ORDERS
    try:
        deadline = time.monotonic() + 60
        while sum(receiver.ids.values()) < expected and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.0)  # a few more passes of both workers: nothing more may arrive
    finally:
        for worker in workers:
            worker.terminate()
        logs = [worker.communicate(timeout=20)[1] for worker in workers]
        receiver.server.shutdown()
    assert sum(receiver.ids.values()) == expected, logs
    assert set(receiver.ids.values()) == {1}, "a delivery id arrived twice"
    assert receiver.kinds == {"order.submit": ORDERS, "alert.reminder": ORDERS, "alert.escalation": ORDERS}
    with database.session() as db:
        assert db.exec(select(func.count()).select_from(StageAlert)).one() == 2 * ORDERS
        statuses = db.exec(select(Delivery.status, func.count()).group_by(Delivery.status)).all()
    assert dict(statuses) == {"sent": expected}
    assert all("Traceback" not in log for log in logs), "\n".join(logs)  # whole, so the traceback can be read
