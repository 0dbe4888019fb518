"""The whole loop over HTTP, and each refusal of a move in the wrong state."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlmodel import select

from storage.models import OrderEvent, OutboxMessage
from tests.helpers import act, get, place, to_state, upload


def test_the_whole_loop(client, world, clock, database):
    photo = upload(client, world, "res1")
    order = place(client, world, address="东湖村村口", latitude=30.1, longitude=120.2, photo_ids=[photo])
    oid = order["id"]
    assert order["state"] == "submitted" and order["state_label"] == "待领单"
    assert order["grid"]["id"] == world["gridA1"], "the grid comes from the resident's profile"
    assert order["stage_deadline"] == "2026-11-20T03:00:00Z"
    assert order["photos"][0]["purpose"] == "request"

    clock.advance(minutes=10)
    order = act(client, world, "workerA1", oid, "claim")
    assert (order["state"], order["state_label"]) == ("claimed", "待派单")
    members = client.get("/branch/members", headers=world.auth("secA")).json()["items"]
    assert {m["name"] for m in members} == {"memberA1", "memberA2"}
    order = act(client, world, "secA", oid, "dispatch", {"member_id": world["memberA1"], "note": "请尽快"})
    assert order["assignee"] == {"id": world["memberA1"], "name": "memberA1"}
    assert order["state_label"] == "待接单"
    loads = {m["name"]: m["open_orders"] for m in client.get("/branch/members", headers=world.auth("secA")).json()["items"]}
    assert loads == {"memberA1": 1, "memberA2": 0}

    order = act(client, world, "memberA1", oid, "accept")
    assert order["state_label"] == "办理中"
    evidence = upload(client, world, "memberA1")
    order = act(client, world, "memberA1", oid, "complete", {"note": "已更换灯泡", "photo_ids": [evidence]})
    assert (order["state"], order["completion_note"]) == ("completed", "已更换灯泡")
    assert order["allowed_actions"] == []  # the member can do nothing more

    order = get(client, world, "res1", oid)
    assert order["allowed_actions"] == ["rate"]
    assert {p["purpose"] for p in order["photos"]} == {"request", "evidence"}
    order = act(client, world, "res1", oid, "rate", {"stars": 5, "comment": "谢谢"})
    assert (order["state"], order["state_label"]) == ("closed", "已办结")
    assert order["rating"] == {"stars": 5, "comment": "谢谢", "source": "resident"}
    assert order["stage_deadline"] is None and order["closed_at"]

    timeline = get(client, world, "res1", oid)["timeline"]
    assert [(e["action"], e["to_state_label"]) for e in timeline] == [
        ("submit", "待领单"), ("claim", "待派单"), ("dispatch", "待接单"),
        ("accept", "办理中"), ("complete", "待评价"), ("rate", "已办结"),
    ]
    assert timeline[1]["actor_name"] == "workerA1" and timeline[1]["actor_role_label"] == "网格员"
    assert timeline[2]["note"] == "请尽快"
    assert timeline[1]["at"] == "2026-11-20T01:10:00Z"

    with database.session() as db:
        events = db.exec(select(OrderEvent).where(OrderEvent.order_id == oid)).all()
        outbox = db.exec(select(OutboxMessage).where(OutboxMessage.order_id == oid)).all()
    assert len(events) == 6
    kinds = {(m.kind, m.audience) for m in outbox}
    assert ("order.submit", "grid_workers") in kinds
    assert ("order.dispatch", "assignee") in kinds
    assert ("order.complete", "resident") in kinds
    assert all(m.status == "pending" for m in outbox)


def test_low_rating_reopens_twice_then_closes_unsatisfied(client, world, database):
    oid = place(client, world)["id"]
    for round_ in (1, 2):
        to_state(client, world, oid, "completed")
        order = act(client, world, "res1", oid, "rate", {"stars": 1, "comment": "没修好"})
        assert (order["state"], order["reopen_count"]) == ("claimed", round_)
        assert order["rating"]["stars"] == 1, "the low rating is kept"
        assert order["assignee"] is None
    to_state(client, world, oid, "completed")
    order = act(client, world, "res1", oid, "rate", {"stars": 2})
    assert (order["state"], order["reopen_count"]) == ("closed", 2)
    with database.session() as db:
        unsatisfied = db.exec(select(OutboxMessage).where(OutboxMessage.kind == "order.closed_unsatisfied")).all()
    assert [(m.audience, m.audience_id) for m in unsatisfied] == [("branch_secretaries", world["branchA"])]
    actions = [e["action"] for e in get(client, world, "res1", oid)["timeline"]]
    assert actions.count("reopen") == 2 and actions[-1] == "rate"


def test_decline_goes_back_to_the_secretary(client, world):
    oid = place(client, world)["id"]
    to_state(client, world, oid, "dispatched")
    order = act(client, world, "memberA1", oid, "decline", {"reason": "本周在外地"})
    assert (order["state"], order["assignee"]) == ("claimed", None)
    order = act(client, world, "secA", oid, "dispatch", {"member_id": world["memberA2"]})
    assert order["assignee"]["id"] == world["memberA2"]
    get(client, world, "memberA1", oid, expect=404)  # no longer theirs


def test_transfer_reject_cancel(client, world):
    oid = place(client, world)["id"]
    order = act(client, world, "workerA1", oid, "transfer", {"grid_id": world["gridB1"], "reason": "属于乙村"})
    assert (order["state"], order["grid"]["id"], order["branch"]) == (
        "submitted", world["gridB1"], {"id": world["branchB"], "name": "乙村党支部"})
    get(client, world, "workerA1", oid, expect=404)
    order = act(client, world, "workerB1", oid, "reject", {"reason": "重复提交"})
    assert (order["state"], order["state_label"]) == ("rejected", "不予受理")

    oid = place(client, world)["id"]
    act(client, world, "workerA1", oid, "claim")
    order = act(client, world, "res1", oid, "cancel", {"reason": "已自行解决"})
    assert (order["state"], order["state_label"]) == ("cancelled", "已撤单")
    order = act(client, world, "res1", place(client, world)["id"], "cancel")  # the reason is optional
    assert order["state"] == "cancelled"


MOVES = {
    "claim": ("workerA1", None),
    "transfer": ("workerA1", {"grid_id": 0, "reason": "x"}),
    "reject": ("workerA1", {"reason": "x"}),
    "cancel": ("res1", {}),
    "dispatch": ("secA", {"member_id": 0}),
    "accept": ("memberA1", None),
    "decline": ("memberA1", {"reason": "x"}),
    "complete": ("memberA1", {"note": "x", "photo_ids": ["a" * 32]}),
    "rate": ("res1", {"stars": 5}),
}
ALLOWED_FROM = {
    "submitted": {"claim", "transfer", "reject", "cancel"},
    "claimed": {"cancel", "dispatch"},
    "dispatched": {"accept", "decline"},
    "in_progress": {"complete"},
    "completed": {"rate"},
}


@pytest.mark.parametrize("state", list(ALLOWED_FROM) + ["closed"])
def test_wrong_state_is_409_with_state_and_allowed_actions(client, world, state):
    oid = place(client, world)["id"]
    to_state(client, world, oid, "completed" if state == "closed" else state)
    if state == "closed":
        act(client, world, "res1", oid, "rate", {"stars": 4})
    before = get(client, world, "admin", oid)
    for action in set(MOVES) - ALLOWED_FROM.get(state, set()):
        who, body = MOVES[action]
        if body and "grid_id" in body:
            body = {**body, "grid_id": world["gridB1"]}
        if body and "member_id" in body:
            body = {**body, "member_id": world["memberA1"]}
        r = client.post(f"/orders/{oid}/{action}", json=body, headers=world.auth(who))
        if who.startswith("member") and state in ("submitted", "claimed"):
            assert r.status_code == 404, "before dispatch the order is nobody's to accept"
            continue
        assert r.status_code == 409, (action, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        problem = r.json()
        assert problem["status"] == 409 and problem["type"] == "urn:wudan:problem:invalid-transition"
        assert problem["current_state"] == state
        # One meaning everywhere: what this person may do now, as the order's view says.
        assert problem["allowed_actions"] == get(client, world, who, oid)["allowed_actions"]
        assert problem["current_state_label"]
    after = get(client, world, "admin", oid)
    assert (after["state"], len(after["timeline"]), after["updated_at"]) == (
        before["state"], len(before["timeline"]), before["updated_at"])


def test_callback_rating_by_grid_worker(client, world):
    order = place(client, world, who="workerA1", grid_id=world["gridA1"], contact_name="孙爷爷",
                  contact_phone="13912345678", channel="visit")
    assert order["placed_on_behalf"] and order["channel"] == "visit"
    to_state(client, world, order["id"], "completed")
    rated = act(client, world, "workerA1", order["id"], "rate", {"stars": 4})
    assert rated["rating"]["source"] == "callback"
    # A grid worker cannot rate an order the resident placed themselves.
    oid = place(client, world)["id"]
    to_state(client, world, oid, "completed")
    r = client.post(f"/orders/{oid}/rate", json={"stars": 5}, headers=world.auth("workerA1"))
    assert r.status_code == 403 and r.json()["type"] == "urn:wudan:problem:not-permitted"


def test_staff_placing_on_behalf_needs_contact_and_own_grid(client, world):
    base = {"grid_id": world["gridA1"], "contact_name": "孙爷爷", "contact_phone": "13912345678"}
    place(client, world, who="workerA1", expect=422, grid_id=world["gridA1"])
    place(client, world, who="workerA1", expect=422, **{**base, "grid_id": world["gridB1"]})
    place(client, world, who="memberA1", **{**base, "grid_id": world["gridA2"]})  # a member: own branch
    place(client, world, who="memberA1", expect=422, **{**base, "grid_id": world["gridB1"]})
    place(client, world, who="secA", expect=403, **base)
    place(client, world, who="res1", expect=422, contact_name="别人")


def test_urgent_category_shortens_the_handling_limit(client, world, clock):
    oid = place(client, world, category_id=world["cat_urgent"])["id"]
    order = to_state(client, world, oid, "in_progress")
    assert order["urgency"] == "urgent"
    accepted_at = datetime.fromisoformat(order["updated_at"])
    assert datetime.fromisoformat(order["stage_deadline"]) - accepted_at == timedelta(hours=24)


def test_overdue_is_shown_and_sorted_first(client, world, clock):
    early = place(client, world)["id"]
    clock.advance(hours=1)
    late = place(client, world)["id"]
    clock.advance(hours=1, minutes=30)  # the first is 30 min past its 2 h limit
    todo = client.get("/orders/todo", headers=world.auth("workerA1")).json()
    assert [o["id"] for o in todo["items"]] == [early, late]
    assert todo["items"][0]["overdue"] is True and todo["items"][0]["overdue_seconds"] == 1800
    assert todo["items"][1]["overdue"] is False
    overdue = client.get("/orders", params={"overdue": "true"}, headers=world.auth("admin")).json()
    assert [o["id"] for o in overdue["items"]] == [early]


def test_lists_are_paginated_and_filtered(client, world):
    ids = [place(client, world)["id"] for _ in range(5)]
    act(client, world, "workerA1", ids[0], "claim")
    page1 = client.get("/orders", params={"limit": 2}, headers=world.auth("res1")).json()
    page2 = client.get("/orders", params={"limit": 2, "offset": 2}, headers=world.auth("res1")).json()
    assert page1["total"] == 5 and [o["id"] for o in page1["items"]] == ids[::-1][:2]
    assert [o["id"] for o in page2["items"]] == ids[::-1][2:4]
    claimed = client.get("/orders", params={"state": "claimed"}, headers=world.auth("workerA1")).json()
    assert [o["id"] for o in claimed["items"]] == [ids[0]]
    oldest = client.get("/orders", params={"sort": "oldest", "limit": 1}, headers=world.auth("admin")).json()
    assert oldest["items"][0]["id"] == ids[0]
    assert client.get("/orders", params={"limit": 101}, headers=world.auth("res1")).status_code == 422
    assert client.get("/orders", params={"state": "nonsense"}, headers=world.auth("res1")).status_code == 422
    queue = client.get("/orders/todo", headers=world.auth("secA")).json()
    assert [o["id"] for o in queue["items"]] == [ids[0]]


def test_public_town_data(client, world):
    towns = client.get("/towns").json()
    assert {t["name"] for t in towns["items"]} == {"测试镇", "邻镇"}
    grids = client.get(f"/towns/{world['town']}/grids").json()
    assert [g["name"] for g in grids["items"]] == ["gridA1", "gridA2", "gridB1"]
    categories = client.get(f"/towns/{world['town']}/categories").json()
    assert {c["name"] for c in categories["items"]} == {"基础设施维修", "房屋修缮"}
    assert client.get("/towns/999999/grids").status_code == 404


def test_allowed_actions_are_this_persons_buttons(client, world):
    oid = place(client, world)["id"]
    assert get(client, world, "workerA1", oid)["allowed_actions"] == ["claim", "reject", "transfer"]
    assert get(client, world, "admin", oid)["allowed_actions"] == []
    to_state(client, world, oid, "completed")
    assert get(client, world, "workerA1", oid)["allowed_actions"] == [], "the resident rates, not a callback"
    on_behalf = place(client, world, who="memberA2", grid_id=world["gridA1"], contact_name="孙爷爷",
                      contact_phone="13912345678")["id"]
    to_state(client, world, on_behalf, "dispatched", member="memberA1")
    assert get(client, world, "memberA2", on_behalf)["allowed_actions"] == [], "placed it, not assigned"
    assert get(client, world, "memberA1", on_behalf)["allowed_actions"] == ["accept", "decline"]
