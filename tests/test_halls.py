"""群众说事厅: halls, reception sessions and 下访, matters settled on the spot or placed as orders."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from storage.models import HallMatter, HallSession, Order
from tests.helpers import act, get, place, to_state
from tests.test_admin import ok, problem
from tests.test_households import household

ZONE = ZoneInfo("Asia/Shanghai")


def hall(client, world, name, branch=None, who="admin", expect=201) -> dict:
    body = {"name": name, **({"branch_id": world[branch]} if branch else {})}
    r = client.post("/admin/halls", json=body, headers=world.auth(who))
    assert r.status_code == expect, r.text
    return r.json()


def session(client, world, hall_id, hosts, who="admin", expect=201, **extra) -> dict:
    body = {"starts_at": extra.pop("starts_at", client.app.state.clock().isoformat()),
            "host_ids": [world[h] for h in hosts], **extra}
    r = client.post(f"/halls/{hall_id}/sessions", json=body, headers=world.auth(who))
    assert r.status_code == expect, r.text
    return r.json()


def matter(client, world, session_id, who, expect=201, **body) -> dict:
    body.setdefault("visitor_name", "王大爷")
    body.setdefault("description", "村口垃圾没人清")
    r = client.post(f"/hall-sessions/{session_id}/matters", json=body, headers=world.auth(who))
    assert r.status_code == expect, r.text
    return r.json()


@pytest.fixture
def halls(client, world) -> dict:
    return {"village": hall(client, world, "甲村群众说事厅", branch="branchA"),
            "town": hall(client, world, "镇群众说事厅"),
            "b": hall(client, world, "乙村群众说事厅", branch="branchB")}


def test_halls_are_the_admins_and_sessions_the_branchs(client, world, halls):
    assert halls["village"]["branch"] == {"id": world["branchA"], "name": "甲村党支部"}
    hall(client, world, "甲村群众说事厅", expect=409)
    hall(client, world, "x", who="secA", expect=403)
    problem(client.post("/admin/halls", json={"name": "y", "branch_id": world["branchC"]},
                        headers=world.auth("admin")), 404)
    names = {h["name"] for h in ok(client.get("/halls", headers=world.auth("memberA1")))["items"]}
    assert names == {"甲村群众说事厅", "镇群众说事厅", "乙村群众说事厅"}
    for who in ("res1", "dashboard"):
        problem(client.get("/halls", headers=world.auth(who)), 403)
    # The secretary sets up sessions at the branch's hall only; the admin anywhere in the town.
    made = session(client, world, halls["village"]["id"], ["secA", "memberA1"], who="secA", note="每周三接访")
    assert (made["kind"], made["kind_label"], [h["id"] for h in made["hosts"]]) == (
        "reception", "接访", sorted([world["secA"], world["memberA1"]]))
    session(client, world, halls["town"]["id"], ["secA"], who="secA", expect=403)
    session(client, world, halls["b"]["id"], ["secA"], who="secA", expect=403)
    session(client, world, halls["town"]["id"], ["admin", "workerB1"])
    session(client, world, halls["town"]["id"], ["memberC1"], expect=422)  # another town's
    session(client, world, halls["town"]["id"], [], expect=422)
    session(client, world, halls["village"]["id"], ["secA"], kind="down", who="secA", expect=422)  # which grid?
    session(client, world, halls["village"]["id"], ["secA"], kind="down", grid_id=world["gridB1"], who="secA",
            expect=404)
    down = session(client, world, halls["village"]["id"], ["secA"], kind="down", grid_id=world["gridA2"], who="secA")
    assert (down["kind_label"], down["grid"]["id"]) == ("下访", world["gridA2"])
    now = client.app.state.clock()
    session(client, world, halls["town"]["id"], ["admin"], starts_at=(now - timedelta(days=31)).isoformat(),
            expect=422)
    session(client, world, halls["town"]["id"], ["admin"], ends_at=(now - timedelta(hours=1)).isoformat(),
            expect=422)


def test_matters_are_settled_on_the_spot_or_placed_as_orders(client, world, halls, database):
    home = household(client, world, "甲村1组2号", head_name="王大爷", phone="13900001234")
    s = session(client, world, halls["village"]["id"], ["secA", "memberA1"], who="secA")
    settled = matter(client, world, s["id"], "secA", outcome="settled", grid_id=world["gridA1"],
                     settled_note="当场联系保洁员清运")
    assert settled["matters"][0]["outcome_label"] == "当场解决" and settled["matters"][0]["solved"]
    placed = matter(client, world, s["id"], "memberA1", outcome="order", household_id=home["id"],
                    category_id=world["cat"], visitor_phone="13900001234", description="屋后排水沟堵了")
    m = placed["matters"][1]
    assert (m["outcome"], m["solved"], m["grid"]["id"], m["order"]["state_label"]) == (
        "order", False, world["gridA1"], "待领单")
    order = get(client, world, "workerA1", m["order"]["id"])
    assert (order["channel"], order["channel_label"], order["contact_name"], order["placed_on_behalf"]) == (
        "hall", "群众说事厅", "王大爷", True)
    to_state(client, world, order["id"], "completed")
    act(client, world, "workerA1", order["id"], "rate", {"stars": 5})
    again = ok(client.get(f"/hall-sessions/{s['id']}", headers=world.auth("memberA1")))
    assert [x["solved"] for x in again["matters"]] == [True, True]
    # What a matter lacks is 422 and nothing is written.
    matter(client, world, s["id"], "secA", outcome="settled", grid_id=world["gridA1"], expect=422)
    matter(client, world, s["id"], "secA", outcome="order", grid_id=world["gridA1"], expect=422)
    matter(client, world, s["id"], "secA", outcome="settled", settled_note="n", expect=422)  # no grid
    matter(client, world, s["id"], "secA", outcome="order", grid_id=world["gridA1"], category_id=world["cat2"],
           visitor_phone="13900001234", expect=422)
    matter(client, world, s["id"], "secA", outcome="order", household_id=home["id"], grid_id=world["gridA2"],
           category_id=world["cat"], visitor_phone="13900001234", expect=422)
    with database.session() as db:
        assert len(db.exec(select(HallMatter)).all()) == 2 and len(db.exec(select(Order)).all()) == 1
    # The hall's door is its sessions: no order with the channel `hall` through /orders.
    place(client, world, who="workerA1", expect=422, grid_id=world["gridA1"], contact_name="王大爷",
          contact_phone="13900001234", channel="hall")
    place(client, world, who="secA", expect=403, grid_id=world["gridA1"], contact_name="王大爷",
          contact_phone="13900001234", channel="phone")


def test_only_the_staff_on_duty_record_and_each_reads_their_sessions(client, world, halls, clock):
    s = session(client, world, halls["village"]["id"], ["memberA1"], who="secA")
    other = session(client, world, halls["b"]["id"], ["memberB1"])
    later = session(client, world, halls["town"]["id"], ["workerA1"],
                    starts_at=(clock() + timedelta(days=2)).isoformat())
    body = {"outcome": "settled", "grid_id": world["gridA1"], "settled_note": "已解答"}
    matter(client, world, s["id"], "memberA1", **body)
    matter(client, world, s["id"], "secA", **body)  # the branch's secretary runs the hall
    matter(client, world, s["id"], "memberA2", expect=404, **body)
    matter(client, world, s["id"], "secB", expect=404, **body)
    matter(client, world, s["id"], "res1", expect=403, **body)
    matter(client, world, later["id"], "workerA1", expect=422, **body)  # not begun
    for who, expected in (("admin", {s["id"], other["id"], later["id"]}), ("secA", {s["id"]}),
                          ("secB", {other["id"]}), ("memberA1", {s["id"]}), ("workerA1", {later["id"]}),
                          ("memberA2", set())):
        page = ok(client.get("/hall-sessions", headers=world.auth(who)))
        assert {x["id"] for x in page["items"]} == expected, who


def recount(database, town_id, start, end, hall_ids) -> dict:
    with database.session() as db:
        sessions = [s for s in db.exec(select(HallSession).where(HallSession.town_id == town_id)).all()
                    if start <= s.starts_at < end and s.hall_id in hall_ids]
        matters = [m for m in db.exec(select(HallMatter).where(HallMatter.town_id == town_id)).all()
                   if start <= m.recorded_at < end and m.hall_id in hall_ids]
        closed = {o.id for o in db.exec(select(Order).where(Order.state == "closed")).all()}
    settled = sum(m.outcome == "settled" for m in matters)
    orders_closed = sum(m.order_id in closed for m in matters)
    return {"receptions": sum(s.kind == "reception" for s in sessions),
            "down_visits": sum(s.kind == "down" for s in sessions), "matters": len(matters), "settled": settled,
            "ordered": sum(m.outcome == "order" for m in matters), "orders_closed": orders_closed,
            "solved": settled + orders_closed}


def test_hall_numbers_equal_a_recount_of_the_rows(client, world, halls, database, clock):
    rng = random.Random(3)
    start = clock()
    for _ in range(10):
        which = rng.choice(("village", "town", "b"))
        kind = rng.choice(("reception", "reception", "down"))
        grid = {"village": "gridA1", "town": "gridA1", "b": "gridB1"}[which]
        extra = {"kind": "down", "grid_id": world[grid]} if kind == "down" else {}
        s = session(client, world, halls[which]["id"], ["admin"], **extra)
        for _ in range(rng.choice((0, 1, 2, 3))):
            if rng.random() < 0.5:
                matter(client, world, s["id"], "admin", outcome="settled", grid_id=world[grid], settled_note="已答复")
                continue
            m = matter(client, world, s["id"], "admin", outcome="order", grid_id=world[grid], category_id=world["cat"],
                       visitor_phone="13900001234")["matters"][-1]
            if grid == "gridA1" and rng.random() < 0.6:
                to_state(client, world, m["order"]["id"], "completed")
                act(client, world, "workerA1", m["order"]["id"], "rate", {"stars": 4})
        clock.advance(hours=rng.choice((6, 20)))
    first = start.astimezone(ZONE).date() + timedelta(days=1)
    last = clock().astimezone(ZONE).date()
    lo, hi = datetime.combine(first, time(0), ZONE), datetime.combine(last + timedelta(days=1), time(0), ZONE)
    answer = ok(client.get(f"/stats/halls?date_from={first}&date_to={last}", headers=world.auth("dashboard")))
    everything = {h["id"] for h in halls.values()}
    expected = recount(database, world["town"], lo, hi, everything)
    assert {k: answer["total"][k] for k in expected} == expected
    assert expected["matters"] > 3 and expected["solved"] > 0
    assert answer["total"]["solved_rate"] == round(expected["solved"] / expected["matters"], 4)
    for row in answer["halls"]:
        assert {k: row[k] for k in expected} == recount(database, world["town"], lo, hi, {row["hall"]["id"]})
    mine = ok(client.get(f"/stats/halls?date_from={first}&date_to={last}", headers=world.auth("secA")))
    assert [h["hall"]["id"] for h in mine["halls"]] == [halls["village"]["id"]]
    assert {k: mine["total"][k] for k in expected} == recount(database, world["town"], lo, hi,
                                                              {halls["village"]["id"]})
    for who in ("memberA1", "res1"):
        problem(client.get("/stats/halls", headers=world.auth(who)), 403)
