"""Ids, counts and booleans in paths and queries are read only in their canonical spelling."""

from __future__ import annotations

import pytest

from tests.helpers import place, upload

# Each would be read as a number by pydantic's lax parsing; "٣" is an Arabic-Indic three.
NOT_PLAIN_DIGITS = ["1.0", "+1", " 1", "1 ", "1_000", "01", "1e3", "0x1", "-1", "٣", ""]
NOT_TRUE_OR_FALSE = ["yes", "no", "1", "0", "on", "off", "True", "FALSE", "t", " true", ""]


def _refused(r, where: str, name: str) -> dict:
    """A 422 problem whose errors name the parameter."""
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["type"] == "urn:wudan:problem:validation-error"
    assert [where, name] in [e["loc"] for e in body["errors"]], body
    return body


@pytest.mark.parametrize("raw", [*NOT_PLAIN_DIGITS[:-1], "0"])
def test_a_path_id_is_plain_digits(client, world, raw):
    oid = place(client, world)["id"]
    spelled = raw.replace("1", str(oid)) if "1" in raw else raw
    _refused(client.get(f"/orders/{spelled}", headers=world.auth("admin")), "path", "order_id")
    assert client.get(f"/orders/{oid}", headers=world.auth("admin")).status_code == 200


def test_path_ids_are_strict_on_every_kind_of_route(client, world):
    admin = world.auth("admin")
    _refused(client.get("/admin/staff/+1", headers=admin), "path", "staff_id")
    _refused(client.get("/towns/1.0/grids"), "path", "town_id")
    _refused(client.post("/me/inbox/01/read", headers=admin), "path", "item_id")
    assert client.get(f"/towns/{world['town']}/grids").status_code == 200


@pytest.mark.parametrize("raw", NOT_PLAIN_DIGITS)
def test_a_query_id_is_plain_digits(client, world, raw):
    spelled = raw.replace("1", str(world["gridA1"]))
    r = client.get("/orders", params={"grid_id": spelled}, headers=world.auth("admin"))
    _refused(r, "query", "grid_id")


def test_plain_query_ids_still_filter(client, world):
    mine = place(client, world)["id"]
    admin = world.auth("admin")
    items = client.get("/orders", params={"grid_id": world["gridA1"]}, headers=admin).json()["items"]
    assert [o["id"] for o in items] == [mine]
    assert client.get("/orders", params={"grid_id": world["gridB1"]}, headers=admin).json()["items"] == []
    _refused(client.get("/stats/overview", params={"branch_id": "1.0"}, headers=admin), "query", "branch_id")
    _refused(client.get("/admin/grids", params={"branch_id": "+1"}, headers=admin), "query", "branch_id")


@pytest.mark.parametrize("raw", ["+5", "5.0", " 5", "05", "1_0", "-0", "5e0", ""])
@pytest.mark.parametrize("name", ["limit", "offset"])
def test_paging_is_plain_digits(client, world, name, raw):
    _refused(client.get("/orders", params={name: raw}, headers=world.auth("admin")), "query", name)


def test_plain_paging_still_works(client, world):
    first, second = place(client, world)["id"], place(client, world)["id"]
    admin = world.auth("admin")
    page = client.get("/orders", params={"limit": "1", "offset": "0", "sort": "oldest"}, headers=admin).json()
    assert [o["id"] for o in page["items"]] == [first] and page["total"] == 2
    page = client.get("/orders", params={"limit": "1", "offset": "1", "sort": "oldest"}, headers=admin).json()
    assert [o["id"] for o in page["items"]] == [second]
    _refused(client.get("/orders", params={"limit": "0"}, headers=admin), "query", "limit")
    _refused(client.get("/orders", params={"limit": "101"}, headers=admin), "query", "limit")
    _refused(client.get("/stats/overdue", params={"limit": "+5"}, headers=admin), "query", "limit")
    assert client.get("/stats/overdue", params={"limit": "5"}, headers=admin).status_code == 200


@pytest.mark.parametrize("raw", NOT_TRUE_OR_FALSE)
def test_a_boolean_is_true_or_false(client, world, raw):
    r = client.get("/orders", params={"overdue": raw}, headers=world.auth("admin"))
    _refused(r, "query", "overdue")
    _refused(client.get("/me/inbox", params={"unread_only": raw}, headers=world.auth("res1")), "query", "unread_only")


def test_true_and_false_still_work(client, world, clock):
    oid = place(client, world)["id"]
    clock.advance(hours=3)  # past the 2 h to claim
    admin = world.auth("admin")
    overdue = client.get("/orders", params={"overdue": "true"}, headers=admin).json()["items"]
    on_time = client.get("/orders", params={"overdue": "false"}, headers=admin).json()["items"]
    assert [o["id"] for o in overdue] == [oid] and on_time == []
    for raw in ("true", "false"):
        assert client.get("/me/inbox", params={"unread_only": raw}, headers=world.auth("res1")).status_code == 200


def test_a_roster_dry_run_is_true_or_false(client, world):
    file = {"file": ("roster.csv", b"\xef\xbb\xbf", "text/csv")}
    r = client.post("/admin/roster", params={"dry_run": "1"}, files=file, headers=world.auth("admin"))
    _refused(r, "query", "dry_run")


def test_the_schema_still_says_integer_and_boolean(app):
    def parameter(path, method, name):
        operation = schema["paths"][path][method]
        return next(p["schema"] for p in operation["parameters"] if p["name"] == name)

    schema = app.openapi()
    assert parameter("/orders/{order_id}", "get", "order_id") == {
        "type": "integer", "exclusiveMinimum": 0, "maximum": 2**31 - 1, "title": "Order Id"}
    assert {"type": "integer", "exclusiveMinimum": 0, "maximum": 2**31 - 1} in (
        parameter("/orders", "get", "grid_id")["anyOf"])
    assert parameter("/orders", "get", "overdue")["anyOf"] == [{"type": "boolean"}, {"type": "null"}]
    limit = parameter("/orders", "get", "limit")
    assert (limit["type"], limit["minimum"], limit["maximum"]) == ("integer", 1, 100)
    offset = parameter("/orders", "get", "offset")
    assert (offset["type"], offset["minimum"]) == ("integer", 0)
    assert parameter("/admin/roster", "post", "dry_run")["type"] == "boolean"
    assert parameter("/me/inbox", "get", "unread_only")["type"] == "boolean"


# A NUL byte was a 500 on PostgreSQL, which refuses it in text; the others are not URL-safe
# base64 or not the length of a photo id. "%0A" is a newline after an id that is otherwise fine.
NOT_PHOTO_IDS = ["%00", "A" * 31 + "%00", "A" * 41, "A" * 300, "A" * 15, "A" * 31 + "%0A", "A" * 31 + "=",
                 "A" * 31 + ".", "A" * 31 + "+", "A" * 31 + "%20", "A" * 31 + "~", "A" * 31 + "%C3%A9"]


def _photo_routes(app) -> list[str]:
    return sorted(path for path in app.openapi()["paths"] if "{photo_id}" in path)


def _photo_url(route: str, photo_id: str) -> str:
    """`route` for `photo_id`; a signed URL with a made-up signature, so only the id is in question."""
    url = route.replace("{photo_id}", photo_id)
    return f"{url}?expires=4102444800&signature=made-up" if route.endswith("/signed") else url


def test_every_photo_route_is_known(app):
    """A new route naming a photo is covered by the tests below only if it is listed here."""
    assert _photo_routes(app) == ["/photos/{photo_id}", "/photos/{photo_id}/signed", "/public/photos/{photo_id}"]
    for route in _photo_routes(app):
        parameter = next(p for p in app.openapi()["paths"][route]["get"]["parameters"] if p["name"] == "photo_id")
        assert parameter["schema"]["pattern"] == "^[A-Za-z0-9_-]{16,40}$", route


@pytest.mark.parametrize("raw", NOT_PHOTO_IDS)
def test_a_photo_id_is_url_safe_base64_on_every_photo_route(client, world, app, raw):
    for route in _photo_routes(app):
        signed_in = {} if route.startswith("/public/") else world.auth("res1")
        _refused(client.get(_photo_url(route, raw), headers=signed_in), "path", "photo_id")


def test_well_formed_photo_ids_still_serve_or_are_not_found(client, world, app):
    mine = upload(client, world, "res1")
    assert client.get(f"/photos/{mine}", headers=world.auth("res1")).status_code == 200
    for route in _photo_routes(app):
        r = client.get(_photo_url(route, "A" * 32), headers=world.auth("res1"))
        # A signed URL is checked before the photo is looked for: a made-up one is refused.
        expected = 403 if route.endswith("/signed") else 404
        assert r.status_code == expected and r.headers["content-type"] == "application/problem+json", (route, r.text)
    r = client.get(f"/public/photos/{mine}")  # not evidence on a board
    assert r.status_code == 404


def test_bodies_naming_photos_are_refused_alike(client, world):
    body = {"category_id": world["cat"], "description": "x", "photo_ids": ["A" * 31 + "\x00"]}
    r = client.post("/orders", json=body, headers=world.auth("res1"))
    assert r.status_code == 422, r.text
    assert ["body", "photo_ids", 0] in [e["loc"] for e in r.json()["errors"]]
