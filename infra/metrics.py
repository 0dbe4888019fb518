"""Prometheus metrics of the process (scraped at /metrics).

With `uvicorn --workers N` each worker process counts on its own; scrape each replica
(or run one worker per container), as Prometheus expects of multi-process servers.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

REGISTRY = CollectorRegistry()

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
