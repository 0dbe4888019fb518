"""HEAD is answered as GET without a body; each path has one spelling, and no redirect turns a POST into a GET."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.helpers import place, to_state, upload
from tests.live_server import LiveServer

# Set per answer, so never the same in two of them.
PER_ANSWER = {"date", "x-request-id"}


def _paths(client, world) -> list[tuple[str, dict]]:
    """GET routes of every kind: JSON, problems, ETags, files, a streamed workbook, the framework's own."""
    oid = place(client, world)["id"]
    order = to_state(client, world, oid, "completed")
    photo = order["photos"][0]["url"]
    return [
        ("/healthz", {}),
        ("/towns", {}),
        (f"/towns/{world['town']}/categories", {}),
        ("/orders", world.auth("res1")),
        (f"/orders/{oid}", world.auth("res1")),
        (f"/orders/{oid}", {}),                      # 401
        ("/orders/999999", world.auth("admin")),     # 404
        ("/orders/0", world.auth("admin")),          # 422
        ("/stats/summary", world.auth("dashboard")),
        ("/stats/overview", world.auth("dashboard")),  # with an ETag
        (photo, world.auth("res1")),
        (f"/photos/{upload(client, world, 'res1')}", world.auth("res1")),
        ("/admin/ledger.xlsx?date_from=2026-11-01&date_to=2026-11-30", world.auth("admin")),
        ("/dashboard", {}),
        ("/openapi.json", {}),
        ("/metrics", {}),
    ]


def _same_but_the_body(get: httpx.Response, head: httpx.Response, path: str) -> None:
    assert head.status_code == get.status_code, path
    assert head.content == b"", path
    drop = set(PER_ANSWER)
    if path.startswith("/admin/ledger"):  # streamed: uvicorn frames the GET's body in chunks, and no HEAD's
        drop |= {"transfer-encoding"}
    if path == "/metrics":  # the GET just counted is in the HEAD's numbers
        drop |= {"content-length"}
    assert {k: v for k, v in head.headers.items() if k not in drop} == \
           {k: v for k, v in get.headers.items() if k not in drop}, path


def test_head_answers_every_get_route_as_the_get_without_a_body(client, world):
    for path, headers in _paths(client, world):
        get = client.get(path, headers=headers)
        head = client.head(path, headers=headers)
        assert "content-length" in head.headers or path.startswith("/admin/ledger"), path
        _same_but_the_body(get, head, path)


def _through_the_app(app, method: str, url: str, headers: dict) -> tuple[dict, bytes]:
    """The app called as an ASGI server calls it: its start message and every byte of body it sent."""
    path, _, query = url.partition("?")
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
        "path": path, "raw_path": path.encode(), "root_path": "", "query_string": query.encode(),
        "headers": [(b"host", b"testserver"), *((k.lower().encode(), v.encode()) for k, v in headers.items())],
        "client": ("127.0.0.1", 50000), "server": ("testserver", 80),
    }
    messages = []
    requested = False

    async def receive():
        nonlocal requested
        if requested:  # then nothing more, until the client would go away
            await asyncio.Event().wait()
        requested = True
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        messages.append(message)

    asyncio.run(app(scope, receive, send))
    start = next(m for m in messages if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    return start, body


def test_the_app_itself_sends_no_body_for_a_head(app, client, world):
    """Not left to the server: what the app sends for a HEAD is the GET's start with no body bytes.

    Starlette's own routes (/openapi.json, /docs) answer HEAD as Starlette does, leaving the
    body to the server to drop, as uvicorn does (test_head_over_a_real_socket)."""
    for path, headers in _paths(client, world):
        if path == "/openapi.json":
            continue
        get_start, get_body = _through_the_app(app, "GET", path, headers)
        head_start, head_body = _through_the_app(app, "HEAD", path, headers)
        assert head_body == b"" and (get_body or path == "/orders/0"), path
        assert head_start["status"] == get_start["status"], path
        if path != "/metrics":
            assert [h for h in head_start["headers"] if h[0] != b"x-request-id"] == \
                   [h for h in get_start["headers"] if h[0] != b"x-request-id"], path


def test_head_over_a_real_socket(app, client, world):
    """uvicorn sends no body for a HEAD and keeps the Content-Length the GET's body would have."""
    paths = _paths(client, world)
    with LiveServer(app) as base, httpx.Client(base_url=base, timeout=10) as http:
        for path, headers in paths:
            get = http.get(path, headers=headers)
            head = http.head(path, headers=headers)
            _same_but_the_body(get, head, path)
            if "content-length" in get.headers and path != "/metrics":
                assert int(head.headers["content-length"]) == len(get.content), path
        assert http.get("/healthz").status_code == 200  # the connection is still in step


def test_head_with_an_etag_is_a_304_as_for_get(client, world):
    place(client, world)
    headers = world.auth("dashboard")
    etag = client.get("/stats/overview", headers=headers).headers["etag"]
    head = client.head("/stats/overview", headers={**headers, "If-None-Match": etag})
    assert (head.status_code, head.headers["etag"], head.content) == (304, etag, b"")


def _heads_of_healthz(client) -> float:
    """Counted HEAD /healthz answers, from /metrics (the process's counters outlive a test)."""
    for family in text_string_to_metric_families(client.get("/metrics").text):
        for sample in family.samples:
            if sample.name == "wudan_http_requests_total" and sample.labels == {
                    "method": "HEAD", "route": "/healthz", "status": "200"}:
                return sample.value
    return 0.0


def test_head_is_counted_as_head(client):
    before = _heads_of_healthz(client)
    client.head("/healthz")
    assert _heads_of_healthz(client) == before + 1


def test_head_is_only_for_get_routes_and_not_an_operation_of_its_own(client, world, app):
    oid = place(client, world)["id"]
    r = client.head(f"/orders/{oid}/claim", headers=world.auth("workerA1"))
    assert r.status_code == 405 and r.content == b""
    assert client.get(f"/orders/{oid}", headers=world.auth("admin")).json()["state"] == "submitted"
    assert not [path for path, ops in app.openapi()["paths"].items() if "head" in ops]


@pytest.mark.parametrize("path", ["/orders/", "/towns/", "/healthz/", "/orders/1/", "/orders//1"])
def test_a_path_with_a_stray_slash_is_a_404_problem_not_a_redirect(client, world, path):
    r = client.get(path, headers=world.auth("res1"), follow_redirects=False)
    assert r.status_code == 404 and "location" not in r.headers
    assert r.headers["content-type"] == "application/problem+json" and r.json()["status"] == 404


def test_a_post_to_orders_with_a_trailing_slash_places_nothing(client, world):
    body = {"category_id": world["cat"], "description": "路灯不亮"}
    r = client.post("/orders/", json=body, headers=world.auth("res1"), follow_redirects=False)
    assert r.status_code == 404 and "location" not in r.headers
    assert r.headers["content-type"] == "application/problem+json"
    assert client.get("/orders", headers=world.auth("res1")).json()["total"] == 0
    assert client.post("/orders", json=body, headers=world.auth("res1")).status_code == 201
