"""One error shape across the API: RFC 9457 problem details."""

from __future__ import annotations

import logging
import re
import time

import httpx
import pytest
from fastapi import Depends
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.background import BackgroundTask

from api import deps
from api.limits import BodyLimit
from tests.live_server import LiveServer
from workflows import catalog, stats


def _is_problem(r, status):
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert {"type", "title", "status"} <= body.keys() and body["status"] == status
    return body


def test_validation_errors_list_each_field(client, world):
    r = client.post("/orders", json={"category_id": "1", "description": "", "extra": 1}, headers=world.auth("res1"))
    body = _is_problem(r, 422)
    assert body["type"] == "urn:wudan:problem:validation-error"
    fields = {tuple(e["loc"]) for e in body["errors"]}
    assert {("body", "category_id"), ("body", "description"), ("body", "extra")} <= fields


def test_lax_values_are_refused(client, world):
    for bad in ({"category_id": True, "description": "x"}, {"category_id": 1.5, "description": "x"},
                {"category_id": world["cat"], "description": "x", "latitude": 30}):
        _is_problem(client.post("/orders", json=bad, headers=world.auth("res1")), 422)
    _is_problem(client.post("/orders/1/rate", json={"stars": "5"}, headers=world.auth("res1")), 422)
    _is_problem(client.post("/orders/1/rate", json={"stars": 6}, headers=world.auth("res1")), 422)


MALFORMED = "urn:wudan:problem:malformed-body"


def _post_bytes(client, world, content: bytes, path="/orders", content_type="application/json"):
    return client.post(path, content=content, headers={**world.auth("res1"), "content-type": content_type})


@pytest.mark.parametrize(("content", "why"), [
    (b"{not json", "not valid JSON"),
    (b'{"category_id": 1, "description": "x"', "not valid JSON"),
    ('{"description": "路灯"}'.encode("gb18030"), "not valid UTF-8"),
    (b"\xff\xfe\xfd", "not valid UTF-8"),
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
])
def test_a_body_that_cannot_be_parsed_is_400(client, world, content, why):
    body = _is_problem(_post_bytes(client, world, content), 400)
    assert (body["type"], body["title"]) == (MALFORMED, "Malformed body")
    assert why in body["detail"] and body["instance"] == "/orders"


def test_a_form_that_cannot_be_parsed_is_400(client, world):
    r = _post_bytes(client, world, b"--x--", path="/photos", content_type="multipart/form-data")
    body = _is_problem(r, 400)
    assert body["type"] == MALFORMED and "form" in body["detail"]


@pytest.mark.parametrize("content", [b"", b"[]", b"null", b"42", b'"x"', b'{"category_id": "1", "description": "x"}'])
def test_a_body_that_parses_but_does_not_fit_is_422(client, world, content):
    body = _is_problem(_post_bytes(client, world, content), 422)
    assert body["type"] == "urn:wudan:problem:validation-error" and body["errors"]


def test_unknown_route_and_method(client):
    _is_problem(client.get("/nowhere"), 404)
    _is_problem(client.delete("/orders"), 405)


def test_missing_order_is_404_problem(client, world):
    body = _is_problem(client.get("/orders/999999", headers=world.auth("admin")), 404)
    assert body["instance"] == "/orders/999999"


def test_openapi_documents_problem_responses(client):
    schema = client.get("/openapi.json").json()
    assert "Problem" in schema["components"]["schemas"]
    claim = schema["paths"]["/orders/{order_id}/claim"]["post"]["responses"]
    assert {"401", "403", "404", "409", "422"} <= claim.keys()
    assert "application/problem+json" in claim["409"]["content"]


def _operations(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            yield f"{method.upper()} {path}", operation


def test_openapi_documents_400_and_413_wherever_a_body_is_read(app):
    """Bodies are read before anything else: too large (413), unparseable (400), or not fitting (422)."""
    schema = app.openapi()
    with_body = {name: op for name, op in _operations(schema) if "requestBody" in op}
    assert {"POST /orders", "POST /photos", "POST /admin/roster", "PATCH /admin/town"} <= with_body.keys()
    for name, operation in with_body.items():
        for status in ("400", "413", "422"):
            assert "application/problem+json" in operation["responses"][status]["content"], (name, status)


def test_every_operation_with_a_body_answers_as_documented(client, app):
    """Before any sign-in or lookup: a malformed body is 400, and an oversized one is 413."""
    schema = app.openapi()
    huge = b"x" * (app.state.settings.max_request_bytes + 1)
    for name, operation in _operations(schema):
        if "requestBody" not in operation:
            continue
        method, path = name.split(" ")
        url = re.sub(r"\{[a-z_]+\}", "1", path)
        kind = next(iter(operation["requestBody"]["content"]))
        if kind == "application/json":
            r = client.request(method, url, content=b"\xff{", headers={"content-type": kind})
            assert (r.status_code, r.json()["type"]) == (400, MALFORMED), name
        r = client.request(method, url, content=huge, headers={"content-type": kind})
        assert r.status_code == 413 and r.headers["content-type"] == "application/problem+json", name


# -- unexpected errors, over a real socket --------------------------------------------------
# An error in an endpoint, a dependency or a middleware was a 500 problem without the request
# id (in the body or the X-Request-ID header), and uvicorn then dropped the connection:
# Starlette's ServerErrorMiddleware, outside the app's middleware, raises the error again after
# answering. An error after a whole answer (a background task) dropped the connection too.


def _fail(*args, **kwargs):
    raise RuntimeError("an unexpected failure")


def _in_a_sync_endpoint(monkeypatch, world):
    monkeypatch.setattr(catalog, "list_towns", _fail)
    return "/towns", {}


def _in_an_async_endpoint(monkeypatch, world):
    monkeypatch.setattr(stats, "overview", _fail)
    return "/stats/overview", world.auth("dashboard")


def _in_a_sync_dependency(monkeypatch, world):
    monkeypatch.setattr(deps, "PageRequest", _fail)  # in page_params
    return "/towns", {}


def _in_an_async_dependency(monkeypatch, world):
    monkeypatch.setattr(deps, "read_token", _fail)  # in get_principal
    return "/me", world.auth("res1")


def _in_a_middleware(monkeypatch, world):
    passing = BodyLimit.__call__

    async def failing(self, scope, receive, send):
        if scope["type"] == "http" and scope["path"] == "/towns":
            raise RuntimeError("an unexpected failure")
        await passing(self, scope, receive, send)

    monkeypatch.setattr(BodyLimit, "__call__", failing)
    return "/towns", {}


def _errors_logged(caplog) -> list[logging.LogRecord]:
    return [rec for rec in caplog.records if rec.name == "wudan.api" and rec.levelno == logging.ERROR]


def _same_connection(http, first) -> None:
    """The next request goes over the connection `first` came on: the server kept it open."""
    again = http.get("/healthz")
    assert again.status_code == 200
    assert _connection(again) == _connection(first)


def _connection(r) -> tuple:
    return r.extensions["network_stream"].get_extra_info("client_addr")


@pytest.mark.parametrize("place", [
    _in_a_sync_endpoint, _in_an_async_endpoint, _in_a_sync_dependency, _in_an_async_dependency, _in_a_middleware,
], ids=lambda place: place.__name__.removeprefix("_in_"))
def test_an_unexpected_error_is_a_500_problem_with_the_request_id(app, world, monkeypatch, caplog, place):
    path, headers = place(monkeypatch, world)
    caplog.set_level(logging.INFO, logger="wudan.access")
    with LiveServer(app) as base, httpx.Client(base_url=base, timeout=10) as http:
        r = http.get(path, headers=headers)
        body = _is_problem(r, 500)
        assert body["type"] == "about:blank" and body["instance"] == path
        assert "Traceback" not in r.text and "an unexpected failure" not in r.text
        rid = r.headers["x-request-id"]
        assert body["request_id"] == rid
        assert [rec.request_id for rec in _errors_logged(caplog)] == [rid]
        _same_connection(http, r)
    access = next(rec for rec in caplog.records if rec.name == "wudan.access" and rec.request_id == rid)
    assert access.fields["status"] == 500 and 0 <= access.fields["ms"] < 10_000


def test_the_request_id_quoted_is_the_callers_own(app, world, monkeypatch):
    path, headers = _in_a_sync_endpoint(monkeypatch, world)
    with LiveServer(app) as base, httpx.Client(base_url=base, timeout=10) as http:
        r = http.get(path, headers={**headers, "X-Request-ID": "report-me-42"})
        assert _is_problem(r, 500)["request_id"] == "report-me-42" == r.headers["x-request-id"]


def _answer_then_fail_in_a_background_task():
    return JSONResponse({"ok": True}, background=BackgroundTask(_fail))


async def _failing_cleanup():
    yield
    raise RuntimeError("an unexpected failure")


def _answer_then_fail_in_a_dependencys_cleanup(cleanup: None = Depends(_failing_cleanup)):
    return {"ok": True}


@pytest.mark.parametrize("endpoint", [
    _answer_then_fail_in_a_background_task, _answer_then_fail_in_a_dependencys_cleanup,
], ids=["background-task", "dependency-cleanup"])
def test_an_error_after_the_whole_answer_is_logged_and_the_connection_kept(app, caplog, endpoint):
    app.add_api_route("/test-only/answer-then-fail", endpoint)
    with LiveServer(app) as base, httpx.Client(base_url=base, timeout=10) as http:
        r = http.get("/test-only/answer-then-fail")
        assert (r.status_code, r.json()) == (200, {"ok": True})
        _same_connection(http, r)
        # The failure comes after the answer, in the thread pool: its log line may trail the next request.
        deadline = time.monotonic() + 5
        while not _errors_logged(caplog) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert [rec.request_id for rec in _errors_logged(caplog)] == [r.headers["x-request-id"]]


def test_an_answer_cut_short_is_never_passed_off_as_whole(app, caplog):
    """Its status is already out, so no problem can follow: the connection is dropped, and the error logged."""
    def chunks():
        yield b"first part, "
        raise RuntimeError("an unexpected failure")

    app.add_api_route("/test-only/cut-short", lambda: StreamingResponse(chunks(), media_type="text/plain"))
    with LiveServer(app) as base, httpx.Client(base_url=base, timeout=10) as http:
        with pytest.raises(httpx.RemoteProtocolError):
            http.get("/test-only/cut-short", headers={"X-Request-ID": "cut-short-1"})
        assert [rec.request_id for rec in _errors_logged(caplog)] == ["cut-short-1"]
        assert http.get("/healthz").status_code == 200  # on a new connection
