"""派单建议: the branch's members ranked for a claimed order, with the reasons, for the one who may dispatch it."""

from __future__ import annotations

from domain.suggestions import Candidate, rank
from tests.test_admin import ok, place, problem


def test_the_ranking_weighs_pairing_building_and_workload():
    ranked = rank([
        Candidate(1, open_orders=0),
        Candidate(2, paired=True, open_orders=3),
        Candidate(3, leads_building=True, open_orders=1),
        Candidate(4, open_orders=0, overdue_recently=2, points_recently=200),
        Candidate(5, open_orders=0),
    ])
    # 2: 40 + 5; 3: 20 + 15; 1 and 5: 20 (tie: same workload, lower id first); 4: 20 - 10 + 10.
    assert [(s.member_id, s.score) for s in ranked] == [(2, 45), (3, 35), (1, 20), (4, 20), (5, 20)]
    assert [r.code for r in ranked[0].reasons] == ["paired", "open-orders"]


def claimed(client, world, **extra) -> int:
    order = place(client, world, **extra)
    ok(client.post(f"/orders/{order['id']}/claim", headers=world.auth("workerA1")))
    return order["id"]


def res1_home(client, world) -> tuple[dict, dict]:
    """res1's household (at res1's phone) in a building of gridA1: paired with memberA1, the building led by memberA2."""
    admin = world.auth("admin")
    building = ok(client.post("/admin/buildings", json={"grid_id": world["gridA1"], "name": "1号楼",
                                                        "group_leader_id": world["memberA2"]}, headers=admin), 201)
    home = ok(client.post("/admin/households", json={
        "grid_id": world["gridA1"], "address": "幸福路1号101", "building_id": building["id"],
        "phone": world.phones["res1"], "paired_member_id": world["memberA1"]}, headers=admin), 201)
    return building, home


def test_the_secretary_gets_the_paired_member_first(client, world):
    admin = world.auth("admin")
    building, home = res1_home(client, world)
    order_id = claimed(client, world)
    answer = ok(client.get(f"/orders/{order_id}/dispatch-suggestions", headers=world.auth("secA")))
    assert answer["household"] == {"id": home["id"], "address": "幸福路1号101", "building_id": building["id"]}
    items = answer["items"]
    assert [i["member"]["id"] for i in items] == [world["memberA1"], world["memberA2"]]
    first = {r["code"]: r for r in items[0]["reasons"]}
    assert first["paired"]["label"] == "联户党员" and first["paired"]["weight"] == 40
    assert {r["code"] for r in items[1]["reasons"]} >= {"building-leader"}
    assert items[0]["score"] == sum(r["weight"] for r in items[0]["reasons"])

    # memberA1 takes on two orders: the paired member still leads, with fewer points for workload.
    for _ in range(2):
        other = claimed(client, world, who="res2")
        ok(client.post(f"/orders/{other}/dispatch", json={"member_id": world["memberA1"]}, headers=world.auth("secA")))
    again = ok(client.get(f"/orders/{order_id}/dispatch-suggestions", headers=world.auth("secA")))["items"]
    workload = {r["code"]: r for r in again[0]["reasons"]}["open-orders"]
    assert (again[0]["member"]["id"], workload["value"], workload["weight"]) == (world["memberA1"], 2, 10)


def test_an_order_without_a_household_ranks_by_workload(client, world):
    order_id = claimed(client, world, who="res2")
    answer = ok(client.get(f"/orders/{order_id}/dispatch-suggestions", headers=world.auth("secA")))
    assert answer["household"] is None
    assert [i["member"]["id"] for i in answer["items"]] == [world["memberA1"], world["memberA2"]]
    assert all(i["score"] == 20 for i in answer["items"])


def test_only_who_may_dispatch_it_now_asks(client, world):
    order_id = claimed(client, world)
    for who, status in (("secB", 404), ("workerA1", 403), ("memberA1", 404), ("res1", 403), ("admin", 403)):
        problem(client.get(f"/orders/{order_id}/dispatch-suggestions", headers=world.auth(who)), status)
    unclaimed = place(client, world)["id"]
    body = problem(client.get(f"/orders/{unclaimed}/dispatch-suggestions", headers=world.auth("secA")), 409)
    assert body["current_state"] == "submitted"


def test_the_members_who_look_after_a_household_hear_of_its_order(client, world, database, clock):
    from notifications.dispatcher import Dispatcher, RetryPolicy
    from notifications.inapp import InAppChannel
    from tests.helpers import place as place_order

    admin = world.auth("admin")
    building, home = res1_home(client, world)
    placed = place_order(client, world)  # res1, whose phone is the household's
    on_behalf = place_order(client, world, who="workerA1", grid_id=world["gridA1"], contact_name="李奶奶",
                            contact_phone="13900005555", address="幸福路1号101")
    elsewhere = place_order(client, world, who="res2")
    with database.session() as db:
        from sqlmodel import select

        from storage.models import Order, OutboxMessage
        households = {o.id: o.household_id for o in db.exec(select(Order))}
        carers = sorted(m.order_id for m in db.exec(select(OutboxMessage).where(
            OutboxMessage.audience == "household_carers")))
    assert households == {placed["id"]: home["id"], on_behalf["id"]: home["id"], elsewhere["id"]: None}
    assert carers == sorted([placed["id"], on_behalf["id"]])

    Dispatcher(database, [InAppChannel(database, clock)], RetryPolicy(), clock).run_once()
    for member in ("memberA1", "memberA2"):
        items = ok(client.get("/me/inbox", headers=world.auth(member)))["items"]
        assert sorted(i["order_id"] for i in items) == sorted([placed["id"], on_behalf["id"]]), member
        assert {i["title"] for i in items} == {"您联系的住户有新的诉求"}
    assert ok(client.get("/me/inbox", headers=world.auth("memberB1")))["total"] == 0
    # The suggestions read the order's own household.
    ok(client.post(f"/orders/{placed['id']}/claim", headers=world.auth("workerA1")))
    answer = ok(client.get(f"/orders/{placed['id']}/dispatch-suggestions", headers=world.auth("secA")))
    assert answer["household"]["id"] == home["id"] and answer["items"][0]["member"]["id"] == world["memberA1"]
    # A household deleted leaves its orders, for no household.
    assert client.delete(f"/admin/households/{home['id']}", headers=admin).status_code == 204
    assert ok(client.get(f"/orders/{placed['id']}/dispatch-suggestions", headers=world.auth("secA")))[
        "household"] is None
