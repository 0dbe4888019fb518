"""Operability: health, readiness, metrics, request ids in responses and logs."""

from __future__ import annotations

import json
import logging

from tests.helpers import act, place


def test_health_and_readiness(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    assert ready.json()["schema_revision"]


def test_readiness_says_when_the_schema_is_behind(client, database):
    from sqlalchemy import text

    with database.engine.begin() as connection:
        head = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        connection.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    try:
        r = client.get("/readyz")
        assert r.status_code == 503 and r.headers["content-type"] == "application/problem+json"
        assert r.json()["schema_revision"] == "0001" and r.headers["retry-after"] == "5"
    finally:
        with database.engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": head})


def test_metrics(client, world):
    oid = place(client, world)["id"]
    act(client, world, "workerA1", oid, "claim")
    client.get("/orders/999999", headers=world.auth("admin"))
    text = client.get("/metrics").text
    assert 'wudan_http_requests_total{method="POST",route="/orders/{order_id}/claim",status="200"}' in text
    assert 'wudan_http_requests_total{method="GET",route="/orders/{order_id}",status="404"}' in text
    assert 'wudan_transitions_total{action="claim"}' in text
    assert 'wudan_transitions_total{action="submit"}' in text
    assert 'wudan_outbox_backlog{what="outbox"} 3.0' in text  # submit: 1, claim: 2
    assert "wudan_dead_letters 0.0" in text
    assert "wudan_sweep_seconds_bucket" in text


def test_request_id_in_the_answer_and_every_log_line(client, world, caplog):
    from infra.logs import JsonFormatter

    with caplog.at_level(logging.INFO):
        r = client.get("/orders", headers={**world.auth("res1"), "X-Request-ID": "abc-123"})
    assert r.headers["x-request-id"] == "abc-123"
    lines = [json.loads(JsonFormatter().format(rec)) for rec in caplog.records if rec.name == "wudan.access"]
    assert lines and lines[-1]["request_id"] == "abc-123" and lines[-1]["status"] == 200
    assert lines[-1]["route"] == "/orders"
    forged = client.get("/healthz", headers={"X-Request-ID": "x\ny"})
    assert forged.headers["x-request-id"] != "x\ny" and len(forged.headers["x-request-id"]) == 32
    made = client.get("/healthz")
    assert len(made.headers["x-request-id"]) == 32
