"""Nobody sees or touches what is not theirs: orders, lists, moves and photos, role by role.

Orders are built through the API: res1 places in gridA1 (town, branchA), res3 in gridC1
(town2); workerA1 claims, secA dispatches to memberA1, memberA1 accepts and completes.
Anything outside a caller's scope is answered 404 (it might as well not exist); a caller
who may see the order but whose role may not take the action is answered 403. Either
way the order is left exactly as it was.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlmodel import select

from storage.models import OutboxMessage
from infra.images import solid_png

PROBLEM = "application/problem+json"

EVERYONE = (
    "res1", "res2", "res3",
    "workerA1", "workerA2", "workerB1", "workerC1",
    "secA", "secB",
    "memberA1", "memberA2", "memberB1", "memberC1",
    "admin", "admin2", "dashboard",
)
STATES = ("submitted", "claimed", "dispatched", "in_progress", "completed")


# Helpers


def ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.text
    return response.json()


def refused(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status and body["type"] and body["title"]
    return body


def place(client, world, who="res1", category="cat", **extra) -> dict:
    body = {"category_id": world[category], "description": "楼道灯不亮", **extra}
    return ok(client.post("/orders", json=body, headers=world.auth(who)), 201)


def act(client, world, who, order_id, action, body=None, expect=200) -> dict:
    response = client.post(f"/orders/{order_id}/{action}", json=body, headers=world.auth(who))
    assert response.status_code == expect, response.text
    return response.json()


def upload(client, world, who, rgb=(200, 30, 30)) -> str:
    files = {"file": ("p.png", solid_png(rgb=rgb), "image/png")}
    return ok(client.post("/photos", files=files, headers=world.auth(who)), 201)["id"]


def snapshot(client, world, order_id) -> dict:
    """The order as the town admin sees it; equal snapshots mean nothing changed."""
    return ok(client.get(f"/orders/{order_id}", headers=world.auth("admin")))


def advance(client, world, order_id, state) -> dict:
    """Move a gridA1 order from submitted forward to `state`."""
    steps = {
        "claimed": ("workerA1", "claim", None),
        "dispatched": ("secA", "dispatch", lambda: {"member_id": world["memberA1"]}),
        "in_progress": ("memberA1", "accept", None),
        "completed": ("memberA1", "complete",
                      lambda: {"note": "已修好", "photo_ids": [upload(client, world, "memberA1")]}),
    }
    order = None
    for name in STATES[1:STATES.index(state) + 1]:
        who, action, body = steps[name]
        order = act(client, world, who, order_id, action, body() if body else None)
        assert order["state"] == name
    return order


def order_in(client, world, state) -> int:
    order_id = place(client, world)["id"]
    advance(client, world, order_id, state)
    return order_id


def visible_to(state: str) -> set[str]:
    """Who may read a gridA1 order of res1 in `state`."""
    who = {"res1", "workerA1", "secA", "admin"}
    if STATES.index(state) >= STATES.index("dispatched"):
        who.add("memberA1")
    return who


# Reading one order


@pytest.mark.parametrize("state", STATES)
def test_who_may_read_an_order(client, world, state):
    order_id = order_in(client, world, state)
    expected = {who: 200 if who in visible_to(state) else 404 for who in EVERYONE}
    expected["dashboard"] = 403  # a dashboard reads numbers, never residents' orders
    seen = {who: client.get(f"/orders/{order_id}", headers=world.auth(who)).status_code for who in EVERYONE}
    assert seen == expected


def test_who_may_read_an_order_of_another_town(client, world):
    order_id = place(client, world, who="res3", category="cat2")["id"]
    visible = {"res3", "workerC1", "admin2"}
    expected = {who: 200 if who in visible else 404 for who in EVERYONE}
    expected["dashboard"] = 403
    seen = {who: client.get(f"/orders/{order_id}", headers=world.auth(who)).status_code for who in EVERYONE}
    assert seen == expected


def test_out_of_scope_looks_like_absent(client, world):
    order_id = place(client, world)["id"]
    hidden = refused(client.get(f"/orders/{order_id}", headers=world.auth("res2")), 404)
    absent = refused(client.get(f"/orders/{order_id + 1000}", headers=world.auth("res2")), 404)
    assert hidden["type"] == absent["type"] == "urn:wudan:problem:not-found"
    assert hidden["title"] == absent["title"]
    assert hidden["detail"].replace(str(order_id), "N") == absent["detail"].replace(str(order_id + 1000), "N")
    # Nothing of the order leaks into the refusal.
    assert "楼道灯" not in str(hidden)


def test_dashboard_reads_numbers_not_orders(client, world):
    mine = place(client, world)["id"]
    board = world.auth("dashboard")
    refused(client.get(f"/orders/{mine}", headers=board), 403)
    refused(client.get("/orders", headers=board), 403)
    summary = ok(client.get("/stats/summary", headers=board))
    assert summary["by_state"]["submitted"] == 1 and summary["town_id"] == world["town"]


# Moves: out of scope → 404, in scope with the wrong role → 403, and nothing changes

MOVES = {
    # action: (state it applies in, body, callers out of scope, callers in scope with the wrong role)
    "claim": ("submitted", None,
              ["res2", "res3", "workerA2", "workerB1", "workerC1", "secB", "memberA1", "admin2"],
              ["res1", "secA", "admin", "dashboard"]),
    "transfer": ("submitted", lambda w: {"grid_id": w["gridA2"], "reason": "不属本网格"},
                 ["res2", "workerA2", "workerB1", "workerC1", "secB", "admin2"],
                 ["res1", "secA", "admin", "dashboard"]),
    "reject": ("submitted", lambda w: {"reason": "重复提交"},
               ["res2", "workerA2", "workerB1", "workerC1", "secB", "admin2"],
               ["res1", "secA", "admin", "dashboard"]),
    "cancel": ("submitted", lambda w: {"reason": "不需要了"},
               ["res2", "res3", "workerA2", "secB", "memberA1", "admin2"],
               ["workerA1", "secA", "admin", "dashboard"]),
    "dispatch": ("claimed", lambda w: {"member_id": w["memberA1"]},
                 ["res2", "workerA2", "workerB1", "secB", "memberA1", "admin2"],
                 ["res1", "workerA1", "admin", "dashboard"]),
    "accept": ("dispatched", None,
               ["res2", "workerA2", "secB", "memberA2", "memberB1", "memberC1", "admin2"],
               ["res1", "workerA1", "secA", "admin", "dashboard"]),
    "decline": ("dispatched", lambda w: {"reason": "近期外出"},
                ["res2", "workerB1", "secB", "memberA2", "memberB1", "admin2"],
                ["res1", "workerA1", "secA", "admin", "dashboard"]),
    "complete": ("in_progress", lambda w: {"note": "已修好", "photo_ids": ["A" * 32]},
                 ["res2", "workerA2", "secB", "memberA2", "memberB1", "memberC1", "admin2"],
                 ["res1", "workerA1", "secA", "admin", "dashboard"]),
    "rate": ("completed", lambda w: {"stars": 5, "comment": "好"},
             ["res2", "res3", "workerA2", "workerC1", "secB", "memberA2", "admin2"],
             ["memberA1", "workerA1", "secA", "admin", "dashboard"]),
}

# Who may really take each action, to show the order was still movable after the refusals.
RIGHTFUL = {
    "claim": ("workerA1", "claimed"), "transfer": ("workerA1", "submitted"), "reject": ("workerA1", "rejected"),
    "cancel": ("res1", "cancelled"), "dispatch": ("secA", "dispatched"), "accept": ("memberA1", "in_progress"),
    "decline": ("memberA1", "claimed"), "rate": ("res1", "closed"),
}


@pytest.mark.parametrize("action", list(MOVES))
def test_moves_out_of_scope_or_wrong_role_change_nothing(client, world, action):
    state, body, out_of_scope, wrong_role = MOVES[action]
    order_id = order_in(client, world, state)
    payload = body(world) if body else None
    before = snapshot(client, world, order_id)
    assert before["state"] == state
    expected = {**{who: 404 for who in out_of_scope}, **{who: 403 for who in wrong_role}}
    seen = {}
    for who in expected:
        response = client.post(f"/orders/{order_id}/{action}", json=payload, headers=world.auth(who))
        seen[who] = response.status_code
        assert response.headers["content-type"].startswith(PROBLEM), (who, response.text)
        kind = {404: "not-found", 403: "not-permitted"}.get(response.status_code)
        assert kind is None or response.json()["type"] == f"urn:wudan:problem:{kind}", (who, response.text)
        after = snapshot(client, world, order_id)
        assert (after["state"], len(after["timeline"])) == (before["state"], len(before["timeline"])), who
        assert after == before, who
    assert seen == expected
    if action in RIGHTFUL:
        who, target = RIGHTFUL[action]
        moved = act(client, world, who, order_id, action, payload)
        assert moved["state"] == target and len(moved["timeline"]) == len(before["timeline"]) + 1


def test_refused_moves_leave_no_notices(client, world, database):
    order_id = order_in(client, world, "claimed")

    def count():
        with database.session() as db:
            return db.exec(select(func.count()).select_from(OutboxMessage)).one()

    before = count()
    act(client, world, "secB", order_id, "dispatch", {"member_id": world["memberB1"]}, expect=404)
    act(client, world, "admin", order_id, "dispatch", {"member_id": world["memberA1"]}, expect=403)
    act(client, world, "secA", order_id, "dispatch", {"member_id": world["memberB1"]}, expect=422)
    assert count() == before


def test_grid_worker_may_not_claim_an_order_they_placed_in_a_grid_they_do_not_serve(client, world):
    order = place(client, world, who="workerA1", grid_id=world["gridA1"], contact_name="王大爷",
                  contact_phone="13955556666", channel="visit")
    act(client, world, "workerA1", order["id"], "transfer", {"grid_id": world["gridB1"], "reason": "属乙村"})
    before = snapshot(client, world, order["id"])
    response = client.post(f"/orders/{order['id']}/claim", headers=world.auth("workerA1"))
    assert response.status_code in (403, 404), response.text
    assert snapshot(client, world, order["id"]) == before
    assert act(client, world, "workerB1", order["id"], "claim")["state"] == "claimed"


# Targets of a move must be in scope too


def test_dispatch_only_to_an_active_member_of_the_branch(client, world):
    order_id = order_in(client, world, "claimed")
    ok(client.patch(f"/admin/staff/{world['memberA2']}", json={"active": False}, headers=world.auth("admin")))
    before = snapshot(client, world, order_id)
    for target in ("memberB1", "memberC1", "workerA1", "secA", "memberA2"):
        body = refused(client.post(f"/orders/{order_id}/dispatch", json={"member_id": world[target]},
                                   headers=world.auth("secA")), 422)
        assert body["type"] == "urn:wudan:problem:rule-violation", target
        assert snapshot(client, world, order_id) == before, target
    refused(client.post(f"/orders/{order_id}/dispatch", json={"member_id": 999999}, headers=world.auth("secA")), 422)
    assert snapshot(client, world, order_id) == before
    # memberB1 was not made the assignee: it still cannot see the order.
    refused(client.get(f"/orders/{order_id}", headers=world.auth("memberB1")), 404)
    dispatched = act(client, world, "secA", order_id, "dispatch", {"member_id": world["memberA1"]})
    assert dispatched["state"] == "dispatched" and dispatched["assignee"]["id"] == world["memberA1"]


def test_transfer_only_to_a_grid_of_the_town(client, world):
    order_id = place(client, world)["id"]
    before = snapshot(client, world, order_id)
    for grid_id in (world["gridC1"], 999999, world["gridA1"]):
        refused(client.post(f"/orders/{order_id}/transfer", json={"grid_id": grid_id, "reason": "转走"},
                            headers=world.auth("workerA1")), 422)
        assert snapshot(client, world, order_id) == before, grid_id
    for who in ("workerC1", "admin2", "res3"):
        refused(client.get(f"/orders/{order_id}", headers=world.auth(who)), 404)
    # A transfer within the town moves the order out of the old grid's scope and into the new one's.
    moved = act(client, world, "workerA1", order_id, "transfer", {"grid_id": world["gridB1"], "reason": "属乙村"})
    assert moved["grid"]["id"] == world["gridB1"] and moved["branch_id"] == world["branchB"]
    refused(client.get(f"/orders/{order_id}", headers=world.auth("workerA1")), 404)
    refused(client.get(f"/orders/{order_id}", headers=world.auth("secA")), 404)
    assert ok(client.get(f"/orders/{order_id}", headers=world.auth("workerB1")))["state"] == "submitted"
    assert ok(client.get(f"/orders/{order_id}", headers=world.auth("secB")))["state"] == "submitted"
    act(client, world, "workerA1", order_id, "claim", expect=404)
    assert act(client, world, "workerB1", order_id, "claim")["state"] == "claimed"


# Lists


def _ids(client, world, who, path="/orders", **params) -> list[int]:
    page = ok(client.get(path, params={"limit": 100, **params}, headers=world.auth(who)))
    assert page["total"] == len(page["items"])
    return sorted(o["id"] for o in page["items"])


def test_lists_show_only_orders_in_scope(client, world):
    a1_submitted = place(client, world)["id"]
    a1_claimed = order_in(client, world, "claimed")
    a1_dispatched = order_in(client, world, "dispatched")
    a2_submitted = place(client, world, grid_id=world["gridA2"])["id"]
    b1_submitted = place(client, world, who="res2", grid_id=world["gridB1"])["id"]
    c1_submitted = place(client, world, who="res3", category="cat2")["id"]
    grid_a1 = {a1_submitted, a1_claimed, a1_dispatched}
    town = grid_a1 | {a2_submitted, b1_submitted}
    expected = {
        "res1": grid_a1 | {a2_submitted},
        "res2": {b1_submitted},
        "res3": {c1_submitted},
        "workerA1": grid_a1,
        "workerA2": {a2_submitted},
        "workerB1": {b1_submitted},
        "workerC1": {c1_submitted},
        "secA": grid_a1 | {a2_submitted},
        "secB": {b1_submitted},
        "memberA1": {a1_dispatched},
        "memberA2": set(),
        "memberB1": set(),
        "memberC1": set(),
        "admin": town,
        "admin2": {c1_submitted},
    }
    seen = {who: set(_ids(client, world, who)) for who in EVERYONE if who != "dashboard"}
    assert seen == expected
    # Filters narrow within scope; they never widen it.
    assert _ids(client, world, "workerA2", grid_id=world["gridA1"]) == []
    assert _ids(client, world, "admin2", grid_id=world["gridA1"]) == []
    assert _ids(client, world, "admin2", category_id=world["cat"]) == []
    assert _ids(client, world, "res2", grid_id=world["gridA1"]) == []
    assert _ids(client, world, "secB", state="submitted") == [b1_submitted]
    assert _ids(client, world, "memberA2", assignee_id=world["memberA1"]) == []
    assert _ids(client, world, "secB", assignee_id=world["memberA1"]) == []
    assert _ids(client, world, "admin", grid_id=world["gridC1"]) == []


def test_todo_lists_only_what_waits_on_the_caller(client, world):
    a1_submitted = [place(client, world)["id"], place(client, world, who="res2")["id"]]
    a1_claimed = order_in(client, world, "claimed")
    a1_dispatched = order_in(client, world, "dispatched")
    place(client, world, grid_id=world["gridA2"])
    b1 = place(client, world, grid_id=world["gridB1"])["id"]
    c1 = place(client, world, who="res3", category="cat2")["id"]
    todo = ok(client.get("/orders/todo", headers=world.auth("workerA1")))
    assert sorted(o["id"] for o in todo["items"]) == sorted(a1_submitted) and todo["total"] == 2
    assert {(o["state"], o["grid"]["id"]) for o in todo["items"]} == {("submitted", world["gridA1"])}
    assert _ids(client, world, "workerB1", "/orders/todo") == [b1]
    assert _ids(client, world, "workerC1", "/orders/todo") == [c1]
    assert _ids(client, world, "secA", "/orders/todo") == [a1_claimed]
    assert _ids(client, world, "secB", "/orders/todo") == []
    assert _ids(client, world, "memberA1", "/orders/todo") == [a1_dispatched]
    assert _ids(client, world, "memberA2", "/orders/todo") == []
    assert _ids(client, world, "res2", "/orders/todo") == []
    refused(client.get("/orders/todo", headers=world.auth("dashboard")), 403)
    refused(client.get("/orders/todo", headers=world.auth("admin")), 403)


# Photos


def test_photo_is_seen_only_by_who_may_see_its_order(client, world):
    photo_id = upload(client, world, "res1")
    url = f"/photos/{photo_id}"
    response = client.get(url, headers=world.auth("res1"))
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    assert response.content == solid_png()
    # Not yet attached: only its uploader sees it.
    for who in ("res2", "workerA1", "secA", "admin", "res3", "admin2"):
        refused(client.get(url, headers=world.auth(who)), 404)
    refused(client.get(url, headers=world.auth("dashboard")), 403)
    # res2 cannot put res1's upload in its own order, and no order is created.
    refused(client.post("/orders", json={"category_id": world["cat"], "description": "借图", "photo_ids": [photo_id]},
                        headers=world.auth("res2")), 422)
    assert _ids(client, world, "res2") == []
    order = place(client, world, photo_ids=[photo_id])
    assert [p["id"] for p in order["photos"]] == [photo_id]
    assert order["photos"][0]["url"] == url and order["photos"][0]["purpose"] == "request"
    # Attached: it follows the order's scope.
    for who in ("res1", "workerA1", "secA", "admin"):
        response = client.get(url, headers=world.auth(who))
        assert response.status_code == 200, who
        assert response.headers["content-type"] == "image/png" and response.content == solid_png()
    for who in ("res2", "workerA2", "workerB1", "workerC1", "secB", "memberA1", "memberB1", "admin2", "res3"):
        refused(client.get(url, headers=world.auth(who)), 404)
    # Once attached it cannot be attached again, even by its uploader.
    refused(client.post("/orders", json={"category_id": world["cat"], "description": "再用",
                                         "photo_ids": [photo_id]}, headers=world.auth("res1")), 422)
    # The assigned member sees it once dispatched; another member still does not.
    advance(client, world, order["id"], "dispatched")
    assert client.get(url, headers=world.auth("memberA1")).status_code == 200
    refused(client.get(url, headers=world.auth("memberA2")), 404)


def test_evidence_photo_follows_the_order(client, world):
    order_id = order_in(client, world, "in_progress")
    evidence = upload(client, world, "memberA1", rgb=(10, 200, 10))
    refused(client.get(f"/photos/{evidence}", headers=world.auth("res1")), 404)
    # Another member cannot slip its upload into this order, nor may memberA1 use res1's.
    other = upload(client, world, "memberA2")
    act(client, world, "memberA1", order_id, "complete", {"note": "修好", "photo_ids": [other]}, expect=422)
    assert snapshot(client, world, order_id)["state"] == "in_progress"
    done = act(client, world, "memberA1", order_id, "complete", {"note": "修好", "photo_ids": [evidence]})
    assert [p["id"] for p in done["photos"] if p["purpose"] == "evidence"] == [evidence]
    for who in ("res1", "workerA1", "secA", "memberA1", "admin"):
        assert client.get(f"/photos/{evidence}", headers=world.auth(who)).status_code == 200, who
    for who in ("res2", "workerB1", "secB", "memberA2", "admin2"):
        refused(client.get(f"/photos/{evidence}", headers=world.auth(who)), 404)
    refused(client.get(f"/photos/{other}", headers=world.auth("memberA1")), 404)


def test_unknown_photo_is_not_found(client, world):
    refused(client.get("/photos/" + "Z" * 32, headers=world.auth("res1")), 404)
