"""Faults: the database goes away and comes back; the service answers 503, then recovers."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from api.app import create_app
from storage.engine import Database, create_db_engine
from tests.tcp_proxy import TcpProxy


@pytest.fixture
def proxied(test_database, settings, clock, world):
    if test_database.backend != "postgres":
        pytest.skip("the database going away is a network fault: PostgreSQL only")
    url = make_url(test_database.url)
    proxy = TcpProxy(url.port or 5432).start()
    through = url.set(port=proxy.port).render_as_string(hide_password=False)
    database = Database(create_db_engine(through, pool_size=4))
    app = create_app(settings.model_copy(update={"database_url": through}), clock=clock, database=database)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, proxy
    proxy.cut()
    database.dispose()


def test_database_away_is_503_then_recovers(proxied, world):
    client, proxy = proxied
    headers = world.auth("res1")
    body = {"category_id": world["cat"], "description": "路灯坏了"}
    assert client.post("/orders", json=body, headers=headers).status_code == 201
    proxy.cut()
    started = time.monotonic()
    for request in (lambda: client.get("/orders", headers=headers), lambda: client.post("/orders", json=body, headers=headers)):
        r = request()
        assert r.status_code == 503, r.text
        assert r.headers["content-type"] == "application/problem+json" and r.headers["retry-after"] == "5"
        assert r.json()["type"] == "urn:wudan:problem:database-unavailable"
    assert client.get("/readyz").status_code == 503
    assert time.monotonic() - started < 15, "refusals come fast, not after a hang"
    proxy.start()
    recovered = client.get("/orders", headers=headers)
    assert recovered.status_code == 200 and recovered.json()["total"] == 1, "no restart needed"
    assert client.post("/orders", json=body, headers=headers).status_code == 201
