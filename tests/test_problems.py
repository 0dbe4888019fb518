"""One error shape across the API: RFC 9457 problem details."""

from __future__ import annotations

import re

import pytest


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
