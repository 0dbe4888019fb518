"""Small steps of the loop over HTTP, shared by the API tests."""

from __future__ import annotations

from infra.images import solid_png


def place(client, world, who: str = "res1", expect: int = 201, headers: dict | None = None, **body) -> dict:
    body.setdefault("category_id", world["cat"])
    body.setdefault("description", "村口路灯不亮")
    r = client.post("/orders", json=body, headers={**world.auth(who), **(headers or {})})
    assert r.status_code == expect, r.text
    return r.json()


def act(client, world, who: str, order_id: int, action: str, body: dict | None = None, expect: int = 200) -> dict:
    r = client.post(f"/orders/{order_id}/{action}", json=body, headers=world.auth(who))
    assert r.status_code == expect, r.text
    return r.json()


def upload(client, world, who: str, content: bytes | None = None) -> str:
    r = client.post("/photos", files={"file": ("p.png", content or solid_png(), "image/png")}, headers=world.auth(who))
    assert r.status_code == 201, r.text
    return r.json()["id"]


def get(client, world, who: str, order_id: int, expect: int = 200) -> dict:
    r = client.get(f"/orders/{order_id}", headers=world.auth(who))
    assert r.status_code == expect, r.text
    return r.json()


def to_state(client, world, order_id: int, state: str, member: str = "memberA1") -> dict:
    """Move an order of gridA1 (branchA) forward to `state`."""
    steps = [
        ("claimed", "workerA1", "claim", None),
        ("dispatched", "secA", "dispatch", {"member_id": world[member]}),
        ("in_progress", member, "accept", None),
        ("completed", member, "complete", lambda: {"note": "修好了", "photo_ids": [upload(client, world, member)]}),
    ]
    current = get(client, world, "admin", order_id)
    order = current
    names = ["submitted"] + [s[0] for s in steps]
    for name, who, action, body in steps[names.index(current["state"]):names.index(state)]:
        order = act(client, world, who, order_id, action, body() if callable(body) else body)
        assert order["state"] == name
    return order
