"""/stats/buildings: each building group's households and their orders, equal to a recount of the rows."""

from __future__ import annotations

import random

from sqlmodel import select

from storage.models import Household, Order
from tests.helpers import act, place, to_state
from tests.test_admin import ok, problem
from tests.test_households import building, household

KEYS = ("households", "paired", "placed", "cancelled", "closed", "rated", "satisfied")


def recount(database) -> dict[int, dict[str, int]]:
    with database.session() as db:
        homes = db.exec(select(Household).where(Household.building_id.is_not(None))).all()
        orders = db.exec(select(Order)).all()
    out: dict[int, dict[str, int]] = {}
    where = {h.id: h.building_id for h in homes}
    for h in homes:
        n = out.setdefault(h.building_id, dict.fromkeys(KEYS, 0))
        n["households"] += 1
        n["paired"] += h.paired_member_id is not None
    for o in orders:
        if o.household_id not in where:
            continue
        n = out[where[o.household_id]]
        rated = o.state == "closed" and o.rating_stars is not None and o.rating_source != "default"
        n["placed"] += 1
        n["cancelled"] += o.state == "cancelled"
        n["closed"] += o.state == "closed"
        n["rated"] += rated
        n["satisfied"] += rated and o.rating_stars >= 4
    return out


def test_building_numbers_equal_a_recount_of_the_rows(client, world, database):
    b1 = building(client, world, group_leader_id=world["memberA1"])
    b2 = building(client, world, name="2号楼")
    building(client, world, name="3号楼")  # no households yet
    household(client, world, "幸福路1号101", building_id=b1["id"], phone=world.phones["res1"])
    household(client, world, "幸福路1号102", building_id=b1["id"], phone=world.phones["res2"],
              paired_member_id=world["memberA1"])
    household(client, world, "幸福路2号201", building_id=b2["id"], phone="13900005555")
    rng = random.Random(9)
    for _ in range(12):
        who = rng.choice(("res1", "res2", "behalf"))
        if who == "behalf":
            order = place(client, world, who="workerA1", grid_id=world["gridA1"], contact_name="王婶",
                          contact_phone="13900005555", channel="phone")
        else:
            order = place(client, world, who=who)
        fate = rng.choice(("open", "cancel", "close"))
        if fate == "cancel" and who != "behalf":
            act(client, world, who, order["id"], "cancel")
        elif fate == "close":
            to_state(client, world, order["id"], "completed")
            act(client, world, "workerA1" if who == "behalf" else who, order["id"], "rate",
                {"stars": rng.choice((3, 4, 5))})
    answer = ok(client.get("/stats/buildings", headers=world.auth("dashboard")))
    got = {row["building"]["id"]: {k: row[k] for k in KEYS} for row in answer["buildings"]}
    expected = recount(database)
    assert {k: v for k, v in got.items() if v["households"]} == expected
    assert sum(n["placed"] for n in expected.values()) == 12
    first = next(r for r in answer["buildings"] if r["building"]["id"] == b1["id"])
    assert first["group_leader"]["id"] == world["memberA1"] and first["grid"]["name"] == "gridA1"
    n = expected[b1["id"]]
    assert first["resolution_rate"] == round(n["closed"] / (n["placed"] - n["cancelled"]), 4)
    assert [r["building"]["name"] for r in answer["buildings"]] == ["1号楼", "2号楼", "3号楼"]
    # A secretary reads the branch's buildings only; members, workers and residents none.
    assert ok(client.get("/stats/buildings", headers=world.auth("secB")))["buildings"] == []
    assert len(ok(client.get("/stats/buildings", headers=world.auth("secA")))["buildings"]) == 3
    assert ok(client.get(f"/stats/buildings?grid_id={world['gridA2']}", headers=world.auth("admin")))["buildings"] == []
    for who in ("memberA1", "workerA1", "res1"):
        problem(client.get("/stats/buildings", headers=world.auth(who)), 403)
