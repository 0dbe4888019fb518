"""Prometheus metrics (scraped at /metrics): of the process, or summed over a server's worker processes.

`wudan serve --workers N` (wudan/cli.py) gives its workers a fresh directory in
PROMETHEUS_MULTIPROC_DIR. prometheus_client, reading that variable when first imported,
then keeps every process's values in files there, and a scrape answered by any worker
sums them all (its multiprocess mode): counts of workers that have stopped included, as
counters must never go down. Without the variable (one process: `wudan serve`, the tests)
values live in memory, as they always did.
"""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess

REGISTRY = CollectorRegistry()
# Read once, as prometheus_client reads it, so that both agree on where values are kept.
MULTIPROCESS_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None

REQUESTS = Counter(
    "wudan_http_requests", "HTTP requests by route template, method and status", ("route", "method", "status"),
    registry=REGISTRY,
)
REQUEST_SECONDS = Histogram(
    "wudan_http_request_seconds", "HTTP request duration by route template", ("route",), registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
TRANSITIONS = Counter(
    "wudan_transitions", "Order moves committed, by action", ("action",), registry=REGISTRY,
)
SWEEP_SECONDS = Histogram(
    "wudan_sweep_seconds", "Duration of one overdue sweep", registry=REGISTRY,
    buckets=(0.01, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30),
)
SWEEP_ALERTS = Counter("wudan_sweep_alerts", "Reminders and escalations raised", ("kind",), registry=REGISTRY)
DELIVERIES = Counter(
    "wudan_deliveries", "Delivery attempts by channel and outcome", ("channel", "status"), registry=REGISTRY,
)
PHOTOS_REMOVED = Counter(
    "wudan_photos_removed", "Uploads deleted because no order used them in time", registry=REGISTRY,
)
DB_RETRIES = Counter(
    "wudan_db_retries", "Transactions run again after a deadlock, a serialization failure or a concurrent move",
    ("reason",), registry=REGISTRY,
)
DB_CONFLICTS = Counter(
    "wudan_db_conflicts", "Transactions given up after every try met a conflict", ("reason",), registry=REGISTRY,
)
DB_TIMEOUTS = Counter(
    "wudan_db_timeouts", "Statements stopped by lock_timeout or statement_timeout", ("kind",), registry=REGISTRY,
)


def count_committed_moves(actions: list[str]) -> None:
    for action in actions:
        TRANSITIONS.labels(action).inc()


def exposition() -> bytes:
    """What /metrics answers: this process's metrics, or those of every worker process summed."""
    if MULTIPROCESS_DIR is None:
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=MULTIPROCESS_DIR)
    return generate_latest(registry)


def worker_stopping() -> None:
    """A worker process on its way out: its files of live gauges go (prometheus_client's mark_process_dead).

    The files of its counters and histograms stay: their counts are part of the sums.
    """
    if MULTIPROCESS_DIR is not None:
        multiprocess.mark_process_dead(os.getpid(), MULTIPROCESS_DIR)
