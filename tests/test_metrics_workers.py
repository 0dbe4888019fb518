"""`wudan serve --workers 2`: /metrics sums the worker processes, whichever of them answers the scrape."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
from prometheus_client import CollectorRegistry, multiprocess
from prometheus_client.parser import text_string_to_metric_families

from tests.test_crash import _free_port

HEALTHZ = {"route": "/healthz", "method": "GET", "status": "200"}


def _healthz_count(samples) -> float:
    return sum(s.value for s in samples if s.name == "wudan_http_requests_total" and s.labels == HEALTHZ)


def _scraped(base: str) -> float:
    """GET /healthz answers counted, as one scrape (on a connection of its own) tells."""
    text = httpx.get(f"{base}/metrics", timeout=10).text
    return _healthz_count(s for family in text_string_to_metric_families(text) for s in family.samples)


def _counted_by_each_worker(directory: Path, scratch: Path) -> dict[int, float]:
    """Per worker pid (in its counter file's name), the GET /healthz answers it counted, read on its own."""
    counts = {}
    for file in directory.glob("counter_*.db"):
        alone = scratch / file.stem
        alone.mkdir(parents=True, exist_ok=True)
        shutil.copy(file, alone / file.name)
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=str(alone))
        counts[int(file.stem.split("_")[1])] = _healthz_count(
            s for family in registry.collect() for s in family.samples)
    return counts


def _start(tmp_path: Path, url: str, secret: str, port: int, metrics_parent: Path) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": url, "DATA_DIR": str(tmp_path), "SCHEDULER_ENABLED": "false",
           "MIGRATE_ON_START": "false", "SECRET_KEY": secret, "LOG_LEVEL": "WARNING",
           "PROMETHEUS_MULTIPROC_DIR": str(metrics_parent)}
    return subprocess.Popen([sys.executable, "-m", "wudan.cli", "serve", "--port", str(port), "--workers", "2"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def test_metrics_are_summed_over_worker_processes(tmp_path, database, test_database, settings):
    """On an empty database (`database` empties it), so that the backlog gauges read 0."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    metrics_parent = tmp_path / "prometheus"
    server = _start(tmp_path, test_database.url, settings.secret_key, port, metrics_parent)
    answered = 0  # GET /healthz answered 200, every one counted by the worker that answered it
    try:
        deadline = time.monotonic() + 60
        while not answered:
            assert time.monotonic() < deadline and server.poll() is None, "wudan serve did not start"
            try:
                answered += httpx.get(f"{base}/healthz", timeout=1).status_code == 200
            except httpx.HTTPError:
                time.sleep(0.1)
        [directory] = list(metrics_parent.iterdir())  # this start's own, fresh
        per_worker: dict[int, float] = {}
        # Each request on a new connection, which either worker may accept, until both have answered.
        while answered < 40 or len([n for n in per_worker.values() if n]) < 2:
            assert time.monotonic() < deadline, f"one worker answered everything: {per_worker}"
            for _ in range(20):
                answered += httpx.get(f"{base}/healthz", timeout=5).status_code == 200
            per_worker = _counted_by_each_worker(directory, tmp_path / "scratch")
        # A request is counted as its answer goes out (api/observability.py, after `send`): the
        # last few may be a moment behind the client that already has them.
        settle = time.monotonic() + 5
        while sum(per_worker.values()) < answered and time.monotonic() < settle:
            time.sleep(0.05)
            per_worker = _counted_by_each_worker(directory, tmp_path / "scratch")
        assert sum(per_worker.values()) == answered and max(per_worker.values()) < answered
        for _ in range(6):  # whichever worker answers the scrape, it tells the sum
            assert _scraped(base) == answered
        gauges = [s for family in text_string_to_metric_families(httpx.get(f"{base}/metrics", timeout=10).text)
                  for s in family.samples if s.name in ("wudan_outbox_backlog", "wudan_dead_letters")]
        # The scraping worker's reading of the database, once: not one series per worker (a pid label).
        assert sorted((s.name, sorted(s.labels.items()), s.value) for s in gauges) == [
            ("wudan_dead_letters", [], 0.0), ("wudan_outbox_backlog", [("what", "deliveries")], 0.0),
            ("wudan_outbox_backlog", [("what", "outbox")], 0.0)]
    finally:
        server.terminate()
        _, log = server.communicate(timeout=30)
    assert "Traceback" not in log, log
    assert list(metrics_parent.iterdir()) == [], "the start's directory is removed when it stops"
