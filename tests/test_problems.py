"""One error shape across the API: RFC 9457 problem details."""

from __future__ import annotations


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


def test_malformed_json_is_422_problem(client, world):
    r = client.post("/orders", content=b"{not json", headers={**world.auth("res1"), "content-type": "application/json"})
    _is_problem(r, 422)


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
