"""A generated town runs a month: orders, whistles and report-ins, visits, hall sessions. The figures
the town office reports (办结率 per unit, 走访率, requests collected and solved on visits, hall
matters solved) come out of the stats endpoints equal to a recount of the raw rows."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from tests.helpers import act, get, place, to_state, upload
from tests.test_admin import ok
from tests.test_halls import hall, matter, recount as recount_halls, session
from tests.test_households import building, household
from tests.test_visits import recount as recount_visits, team
from tests.test_whistles import recount as recount_units, unit, unit_act, unit_staff, whistle

ZONE = ZoneInfo("Asia/Shanghai")
DAYS = 30


def _town(client, world, rng) -> dict:
    """Buildings and households of grids A1, A2 and B1 (paired with members), three units with staff,
    a visit team per branch, a hall per branch."""
    homes = {"gridA1": [], "gridA2": [], "gridB1": []}
    for b in range(2):
        block = building(client, world, name=f"{b + 1}号楼", group_leader_id=world["memberA1"])
        for r in range(6):
            homes["gridA1"].append(household(
                client, world, f"幸福路{b + 1}号{r + 1:02d}室", building_id=block["id"], room=f"{r + 1:02d}",
                head_name=f"住户{b}{r}", phone=f"1390000{b}{r:03d}",
                paired_member_id=world[rng.choice(("memberA1", "memberA2"))],
                flags=["独居老人"] if r % 3 == 0 else []))
    for g, (grid, branch_member) in enumerate((("gridA2", "memberA2"), ("gridB1", "memberB1"))):
        for r in range(5):
            homes[grid].append(household(client, world, f"{grid}-{r}号", grid=grid, head_name=f"{grid}户{r}",
                                         phone=f"1391000{g}{r:03d}", paired_member_id=world[branch_member]))
    units = [unit(client, world, name) for name in ("供电所", "自来水公司", "红色物业")]
    for u, staff_name in zip(units, ("uPower", "uWater", "uEstate"), strict=True):
        unit_staff(client, world, staff_name, u["id"], f"1381111{u['id']:04d}")
    teams = {"A": team(client, world, "甲村直联组", ["memberA1", "memberA2"], ["gridA1", "gridA2"]),
             "B": team(client, world, "乙村直联组", ["memberB1"], ["gridB1"])}
    halls = {"A": hall(client, world, "甲村说事厅", branch="branchA"), "B": hall(client, world, "乙村说事厅",
                                                                              branch="branchB")}
    return {"homes": homes, "units": units, "unit_staff": dict(zip([u["id"] for u in units],
                                                                   ("uPower", "uWater", "uEstate"), strict=True)),
            "teams": teams, "halls": halls}


def _day(client, world, town, rng, day: int, today) -> None:
    # Orders of the day: most go round the loop; one in three is whistled to units.
    for _ in range(2):
        order = place(client, world, description=f"第{day}天的诉求")
        fate = rng.random()
        if fate < 0.35:
            act(client, world, "workerA1", order["id"], "claim")
            chosen = rng.sample([u["id"] for u in town["units"]], rng.choice((1, 2)))
            for w in whistle(client, world, order["id"], chosen)["whistles"]:
                who = town["unit_staff"][w["unit"]["id"]]
                answer = rng.choice(("none", "report", "reply", "reply", "decline"))
                if answer == "decline":
                    unit_act(client, world, who, w["id"], "decline", {"reason": "不属本单位"})
                elif answer != "none":
                    unit_act(client, world, who, w["id"], "report-in")
                    if answer == "reply":
                        unit_act(client, world, who, w["id"], "reply",
                                 {"note": "已处理", "photo_ids": [upload(client, world, who)]})
            if get(client, world, "res1", order["id"])["state"] == "completed":
                act(client, world, "res1", order["id"], "rate", {"stars": rng.choice((3, 4, 5))})
        elif fate < 0.8:
            to_state(client, world, order["id"], "completed")
            act(client, world, "res1", order["id"], "rate", {"stars": rng.choice((4, 5))})
    # 驻点直联: a visit or two a day, more on the teams' 直联日 (Wednesday).
    visits = 4 if today.isoweekday() == 3 else 1
    for _ in range(visits):
        branch = rng.choice(("A", "B"))
        grid = rng.choice(("gridA1", "gridA2")) if branch == "A" else "gridB1"
        home = rng.choice(town["homes"][grid])
        who = rng.choice(("memberA1", "memberA2")) if branch == "A" else "memberB1"
        needs = [{"category_id": world["cat"], "description": "走访发现的需求"}] if rng.random() < 0.4 else []
        found = ok(client.post("/visits", json={"household_id": home["id"], "note": "拉家常", "needs": needs},
                               headers=world.auth(who)), 201)
        for o in found["orders"]:
            if grid == "gridA1" and rng.random() < 0.7:  # gridA1's worker and branch A's members finish it
                to_state(client, world, o["id"], "completed")
                act(client, world, "workerA1", o["id"], "rate", {"stars": 5})
    # 群众说事厅: a reception every Monday, a 下访 now and then.
    if day % 7 == 0 or rng.random() < 0.1:
        branch = rng.choice(("A", "B"))
        grid = "gridA1" if branch == "A" else "gridB1"
        kind = {"kind": "down", "grid_id": world[grid]} if rng.random() < 0.3 else {}
        s = session(client, world, town["halls"][branch]["id"], ["admin"], **kind)
        for _ in range(rng.choice((1, 2, 3))):
            if rng.random() < 0.5:
                matter(client, world, s["id"], "admin", outcome="settled", grid_id=world[grid], settled_note="已解答")
            else:
                said = matter(client, world, s["id"], "admin", outcome="order", grid_id=world[grid],
                              category_id=world["cat"], visitor_phone="13900001234")["matters"][-1]
                if grid == "gridA1" and rng.random() < 0.5:
                    to_state(client, world, said["order"]["id"], "completed")
                    act(client, world, "workerA1", said["order"]["id"], "rate", {"stars": 4})


def test_a_month_of_the_town_counts_the_way_its_reports_do(client, world, database, clock):
    rng = random.Random(2026)
    town = _town(client, world, rng)
    first = clock().astimezone(ZONE).date()
    for day in range(DAYS):
        _day(client, world, town, rng, day, clock().astimezone(ZONE).date())
        clock.advance(days=1)
    last = clock().astimezone(ZONE).date() - timedelta(days=1)
    period = f"date_from={first}&date_to={last}"
    lo, hi = datetime.combine(first, time(0), ZONE), datetime.combine(last + timedelta(days=1), time(0), ZONE)
    board = world.auth("dashboard")

    units = ok(client.get(f"/stats/units?{period}", headers=board))
    expected = recount_units(database, world["town"], clock(), lo, hi)
    for row in units["units"]:
        n = expected.get(row["unit"]["id"])
        assert {k: row[k] for k in n} == n, row["unit"]["name"]
        assert row["resolution_rate"] == round(n["replied"] / (n["whistled"] - n["declined"]), 4)
    assert sum(r["whistled"] for r in units["units"]) == units["total"]["whistled"] > 10

    visits = ok(client.get(f"/stats/visits?{period}", headers=board))
    expected = recount_visits(database, world["town"], first, last)
    keys = list(expected["total"])
    assert {k: visits["total"][k] for k in keys} == expected["total"]
    assert {r["team"]["id"]: {k: r[k] for k in keys} for r in visits["teams"]} == expected["teams"]
    total = expected["total"]
    assert visits["total"]["visit_rate"] == round(total["households_visited"] / total["households"], 4)
    assert total["visits"] >= DAYS and total["needs_collected"] > 5 and 0 < total["needs_solved"] < total[
        "needs_collected"]

    halls = ok(client.get(f"/stats/halls?{period}", headers=board))
    expected = recount_halls(database, world["town"], lo, hi, {h["id"] for h in town["halls"].values()})
    assert {k: halls["total"][k] for k in expected} == expected
    assert expected["matters"] > 5 and expected["solved"] > 0

    # Every order placed on a visit or at the hall is counted by its channel too.
    channels = {c["channel"]: c for c in ok(client.get(f"/stats/channels?{period}", headers=board))["channels"]}
    assert channels["visit"]["placed"] == visits["total"]["needs_collected"]
    assert channels["hall"]["placed"] == halls["total"]["ordered"]
