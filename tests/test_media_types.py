"""Request bodies: of the media type the operation documents (else 415), and JSON in UTF-8 (else 400)."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from tests.helpers import place, upload
from tests.live_server import LiveServer

PROBLEM_JSON = "application/problem+json"
ORDER = {"description": "村口路灯不亮,晚上很黑"}


def _post(client, world, content: bytes, content_type: str | None, path: str = "/orders", who: str = "res1"):
    headers = world.auth(who)
    if content_type is not None:
        headers["content-type"] = content_type
    return client.post(path, content=content, headers=headers)


def _problem(r, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM_JSON
    body = r.json()
    assert (body["status"], body["type"]) == (status, f"urn:wudan:problem:{code}")
    return body


def _orders_of(client, world, who="res1") -> int:
    return client.get("/orders", headers=world.auth(who)).json()["total"]


def _order(world) -> str:
    return json.dumps({"category_id": world["cat"], **ORDER}, ensure_ascii=False)


WRONG_ENCODINGS = [
    ("utf-16", "NUL bytes"),  # with a byte order mark
    ("utf-16-le", "NUL bytes"),  # without one
    ("utf-16-be", "NUL bytes"),
    ("utf-32", "NUL bytes"),
    ("utf-32-le", "NUL bytes"),
    ("utf-8-sig", "byte order mark"),
]


@pytest.mark.parametrize(("encoding", "description", "why"), [
    *[(encoding, text, why) for encoding, why in WRONG_ENCODINGS for text in ("村口路灯不亮", "street light")],
    ("gb18030", "村口路灯不亮", "not valid UTF-8"),
])
def test_json_in_another_encoding_is_400_and_places_nothing(client, world, encoding, description, why):
    """In ASCII alone, UTF-16 is valid UTF-8 (with NUL bytes), and json.loads would read it as UTF-16."""
    content = json.dumps({"category_id": world["cat"], "description": description}, ensure_ascii=False)
    r = _post(client, world, content.encode(encoding), "application/json")
    body = _problem(r, 400, "malformed-body")
    assert why in body["detail"] and body["instance"] == "/orders"
    assert _orders_of(client, world) == 0


def test_json_in_utf8_is_taken_with_or_without_a_charset(client, world):
    content = _order(world).encode()
    for content_type in ("application/json", "application/json; charset=utf-8", "Application/JSON;charset=\"UTF-8\""):
        r = _post(client, world, content, content_type)
        assert r.status_code == 201, (content_type, r.text)
        assert r.json()["description"] == ORDER["description"]
    assert _orders_of(client, world) == 3


def test_a_charset_other_than_utf8_is_415(client, world):
    r = _post(client, world, _order(world).encode("utf-16"), "application/json; charset=utf-16")
    body = _problem(r, 415, "unsupported-media-type")
    assert "charset=utf-16" in body["detail"] and body["accepted"] == ["application/json"]


@pytest.mark.parametrize("content_type", [
    "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/xml",
    "application/merge-patch+json", None,
])
def test_a_json_operation_sent_another_media_type_is_415_naming_json(client, world, content_type):
    content = (f"category_id={world['cat']}&description=x".encode()
               if content_type == "application/x-www-form-urlencoded" else _order(world).encode())
    body = _problem(_post(client, world, content, content_type), 415, "unsupported-media-type")
    assert body["accepted"] == ["application/json"] and "application/json" in body["detail"]
    assert _orders_of(client, world) == 0


def test_uploads_take_multipart_and_nothing_else(client, world):
    photo_id = upload(client, world, "res1")  # multipart/form-data, as the mini-program's wx.uploadFile sends
    assert client.get(f"/photos/{photo_id}", headers=world.auth("res1")).status_code == 200
    for path, who in (("/photos", "res1"), ("/admin/roster", "admin")):
        r = _post(client, world, b'{"file": "x"}', "application/json", path=path, who=who)
        assert _problem(r, 415, "unsupported-media-type")["accepted"] == ["multipart/form-data"], path
    roster = "类型,名称或姓名\n支部,新村党支部\n".encode()
    r = client.post("/admin/roster", params={"dry_run": "true"}, files={"file": ("名单.csv", roster, "text/csv")},
                    headers=world.auth("admin"))
    assert r.status_code == 200 and r.json()["created"]["branches"] == 1, r.text


def test_operations_without_a_body_need_no_content_type(client, world):
    oid = place(client, world)["id"]
    r = client.post(f"/orders/{oid}/claim", headers=world.auth("workerA1"))
    assert r.status_code == 200, r.text
    r = client.post(f"/orders/{oid}/cancel", headers=world.auth("res1"))  # its reason is optional
    assert r.status_code == 200 and r.json()["state"] == "cancelled", r.text


def _operations(app):
    for path, methods in app.openapi()["paths"].items():
        for method, operation in methods.items():
            yield method.upper(), path, operation


def test_every_operation_with_a_body_documents_and_answers_415(client, app):
    """Before any sign-in: a body of the wrong type is refused for what it is."""
    checked = 0
    for method, path, operation in _operations(app):
        if "requestBody" not in operation:
            continue
        assert PROBLEM_JSON in operation["responses"]["415"]["content"], (method, path)
        accepted = list(operation["requestBody"]["content"])
        url = re.sub(r"\{[a-z_]+\}", "1", path)
        r = client.request(method, url, content=b"x=1", headers={"content-type": "text/plain"})
        assert (r.status_code, r.json()["accepted"]) == (415, accepted), (method, path)
        checked += 1
    assert checked >= 20


def test_a_chunked_body_is_checked_too(app, world):
    """Over a real socket, a body without Content-Length (chunked) is held to the same rules."""
    def chunks(content: bytes):
        yield content[:10]
        yield content[10:]

    with LiveServer(app) as base, httpx.Client(base_url=base, timeout=10) as http:
        r = http.post("/orders", content=chunks(_order(world).encode("utf-16")),
                      headers={**world.auth("res1"), "content-type": "application/json"})
        assert r.request.headers["transfer-encoding"] == "chunked"
        _problem(r, 400, "malformed-body")
        r = http.post("/orders", content=chunks(_order(world).encode()), headers=world.auth("res1"))
        _problem(r, 415, "unsupported-media-type")
        r = http.post("/orders", content=chunks(_order(world).encode()),
                      headers={**world.auth("res1"), "content-type": "application/json"})
        assert r.status_code == 201, r.text
