"""驻点直联: teams visit households; each need found becomes an order; 走访率 is counted from the rows."""

from __future__ import annotations

import random
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlmodel import select

from storage.migrate import alembic_config, upgrade
from storage.models import Household, Order, Visit
from tests.databases import TestDatabase, backend_params, insert_filled, insert_old_town, postgres_reachable
from tests.helpers import act, get, to_state
from tests.test_admin import ok, problem
from tests.test_households import household

ZONE = ZoneInfo("Asia/Shanghai")


def team(client, world, name, members, grids, who="admin", expect=201, **extra) -> dict:
    r = client.post("/admin/visit-teams", json={
        "name": name, "member_ids": [world[m] for m in members], "grid_ids": [world[g] for g in grids], **extra,
    }, headers=world.auth(who))
    assert r.status_code == expect, r.text
    return r.json()


@pytest.fixture
def town(client, world) -> dict:
    """Households in A1 (one with a head and phone, one bare), A2 and B1; team A over A1+A2, team B over B1."""
    homes = {
        "sun": household(client, world, "幸福路3号", head_name="孙奶奶", phone="13900007777", flags=["独居老人"]),
        "bare": household(client, world, "幸福路4号"),
        "a2": household(client, world, "和平路8号", grid="gridA2", head_name="李叔", phone="13900006666"),
        "b1": household(client, world, "乙村3组5号", grid="gridB1", head_name="王婶", phone="13900005555"),
    }
    team_a = team(client, world, "甲村直联组", ["memberA1", "workerA1"], ["gridA1", "gridA2"],
                  leader_id=world["memberA1"], link_weekday=3)
    team_b = team(client, world, "乙村直联组", ["memberB1"], ["gridB1"], link_weekday=5)
    return {**homes, "team_a": team_a, "team_b": team_b}


def visit(client, world, who, household_id, expect=201, **body) -> dict:
    r = client.post("/visits", json={"household_id": household_id, **body}, headers=world.auth(who))
    assert r.status_code == expect, r.text
    return r.json()


def need(world, description="屋顶漏雨", **extra) -> dict:
    return {"category_id": world["cat"], "description": description, **extra}


def test_the_admin_keeps_the_teams(client, world, town):
    a = town["team_a"]
    assert (a["link_weekday"], a["link_weekday_label"], a["leader"]["id"], a["households"]) == (3, "周三",
                                                                                               world["memberA1"], 3)
    assert [m["id"] for m in a["members"]] == sorted([world["memberA1"], world["workerA1"]])
    assert {g["name"] for g in a["grids"]} == {"gridA1", "gridA2"}
    # Only party members and grid workers of the town; grids of the town; the leader one of the members.
    bad = team(client, world, "x", ["secA", "memberC1"], [], expect=422)
    assert str(world["secA"]) in bad["detail"] and str(world["memberC1"]) in bad["detail"]
    assert str(world["gridC1"]) in team(client, world, "y", [], ["gridC1"], expect=422)["detail"]
    team(client, world, "z", ["memberA2"], [], leader_id=world["memberA1"], expect=422)
    assert team(client, world, "甲村直联组", [], [], expect=409)["status"] == 409
    team(client, world, "w", [], [], who="secA", expect=403)
    # A change of members replaces the list; the leader must stay among them.
    path = f"/admin/visit-teams/{a['id']}"
    problem(client.patch(path, json={"member_ids": [world["workerA1"]]}, headers=world.auth("admin")), 422)
    changed = ok(client.patch(path, json={"member_ids": [world["workerA1"], world["memberA2"]], "leader_id": None,
                                          "link_weekday": 6}, headers=world.auth("admin")))
    assert [m["id"] for m in changed["members"]] == sorted([world["workerA1"], world["memberA2"]])
    assert (changed["leader"], changed["link_weekday_label"], len(changed["grids"])) == (None, "周六", 2)
    problem(client.patch(f"/admin/visit-teams/{a['id']}", json={"name": "n"}, headers=world.auth("admin2")), 404)


@pytest.mark.parametrize("who, expected", [
    ("admin", {"team_a", "team_b"}), ("secA", {"team_a"}), ("secB", {"team_b"}), ("memberA1", {"team_a"}),
    ("workerA1", {"team_a"}), ("memberA2", set()), ("admin2", set()),
])
def test_each_reads_only_their_teams(client, world, town, who, expected):
    page = ok(client.get("/visit-teams", headers=world.auth(who)))
    assert {item["id"] for item in page["items"]} == {town[name]["id"] for name in expected}
    for name in {"team_a", "team_b"} - expected:
        problem(client.get(f"/visit-teams/{town[name]['id']}", headers=world.auth(who)), 404)


@pytest.mark.parametrize("who", ["res1", "dashboard", "workerB1"])
def test_residents_and_dashboards_read_no_teams_or_visits(client, world, town, who):
    status = 200 if who == "workerB1" else 403
    r = client.get("/visit-teams", headers=world.auth(who))
    assert r.status_code == status
    if status == 200:
        assert r.json()["items"] == []
    assert client.get("/visits", headers=world.auth(who)).status_code == status


def test_a_visit_places_each_need_as_an_order_on_the_residents_behalf(client, world, town):
    answer = visit(client, world, "memberA1", town["sun"]["id"], note="孙奶奶说屋顶漏雨，楼道灯也坏了",
                   needs=[need(world), need(world, "楼道灯不亮", urgency="urgent")])
    assert (answer["kind"], answer["kind_label"], answer["team"]["id"]) == ("household", "入户走访",
                                                                            town["team_a"]["id"])
    assert answer["household"]["flags"] == ["独居老人"] and answer["visitor"]["id"] == world["memberA1"]
    assert [o["state_label"] for o in answer["orders"]] == ["待领单", "待领单"]
    order = get(client, world, "workerA1", answer["orders"][1]["id"])
    assert (order["channel"], order["channel_label"], order["visit_id"], order["placed_on_behalf"]) == (
        "visit", "走访", answer["id"], True)
    assert (order["contact_name"], order["contact_phone"], order["urgency"], order["grid"]["id"]) == (
        "孙奶奶", "13900007777", "urgent", world["gridA1"])
    # The order runs the loop like any other; the visit shows where it is.
    to_state(client, world, order["id"], "completed")
    act(client, world, "workerA1", order["id"], "rate", {"stars": 5})
    again = ok(client.get(f"/visits/{answer['id']}", headers=world.auth("secA")))
    assert [o["state"] for o in again["orders"]] == ["submitted", "closed"]
    # A visit with nothing to do is a visit too.
    assert visit(client, world, "workerA1", town["a2"]["id"])["orders"] == []


def submits_counted() -> float:
    from infra.metrics import TRANSITIONS

    return TRANSITIONS.labels("submit")._value.get()


def test_a_visit_is_written_whole_or_not_at_all(client, world, town, database):
    counted = submits_counted()
    body = [need(world), {"category_id": world["cat2"], "description": "邻镇的类别"}]
    problem(client.post("/visits", json={"household_id": town["sun"]["id"], "needs": body},
                        headers=world.auth("memberA1")), 422)
    # A need at a household with no phone names who to call.
    problem(client.post("/visits", json={"household_id": town["bare"]["id"], "needs": [need(world)]},
                        headers=world.auth("memberA1")), 422)
    with database.session() as db:
        assert db.exec(select(Visit)).all() == [] and db.exec(select(Order)).all() == []
    done = visit(client, world, "memberA1", town["bare"]["id"],
                 needs=[need(world, contact_name="赵伯", contact_phone="13900004444")])
    # Only the committed placement is counted as a move, once.
    assert submits_counted() == counted + 1
    assert get(client, world, "admin", done["orders"][0]["id"])["contact_name"] == "赵伯"


def test_who_may_record_a_visit_and_when(client, world, town, clock):
    sun = town["sun"]["id"]
    for who in ("secA", "admin", "res1", "dashboard"):
        problem(client.post("/visits", json={"household_id": sun}, headers=world.auth(who)), 403)
    problem(client.post("/visits", json={"household_id": sun}, headers=world.auth("memberB1")), 403)  # not B's grid
    problem(client.post("/visits", json={"household_id": sun, "team_id": town["team_b"]["id"]},
                        headers=world.auth("memberA1")), 403)
    problem(client.post("/visits", json={"household_id": 999999}, headers=world.auth("memberA1")), 404)
    problem(client.post("/visits", json={"household_id": sun, "visited_at": (clock() + timedelta(hours=1)).isoformat()},
                        headers=world.auth("memberA1")), 422)
    problem(client.post("/visits", json={"household_id": sun, "visited_at": (clock() - timedelta(days=31)).isoformat()},
                        headers=world.auth("memberA1")), 422)
    problem(client.post("/visits", json={"household_id": sun, "visited_at": "2026-11-30T10:00:00"},
                        headers=world.auth("memberA1")), 422)  # no time zone
    # Written up later, the visit counts on its own day.
    earlier = clock() - timedelta(days=2)
    back = visit(client, world, "memberA1", sun, visited_at=earlier.isoformat())
    assert back["visited_on"] == str(earlier.astimezone(ZONE).date())
    # Off the team, no more visits.
    ok(client.patch(f"/admin/visit-teams/{town['team_a']['id']}", json={"member_ids": [world["memberA1"]]},
                    headers=world.auth("admin")))
    problem(client.post("/visits", json={"household_id": sun}, headers=world.auth("workerA1")), 403)
    ok(client.patch(f"/admin/visit-teams/{town['team_a']['id']}", json={"active": False}, headers=world.auth("admin")))
    problem(client.post("/visits", json={"household_id": sun}, headers=world.auth("memberA1")), 403)


def test_each_reads_only_the_visits_they_may(client, world, town):
    a = visit(client, world, "memberA1", town["sun"]["id"])["id"]
    b = visit(client, world, "memberB1", town["b1"]["id"])["id"]
    for who, expected in (("admin", {a, b}), ("secA", {a}), ("secB", {b}), ("workerA1", {a}), ("memberB1", {b}),
                          ("memberA2", set()), ("admin2", set())):
        page = ok(client.get("/visits", headers=world.auth(who)))
        assert {item["id"] for item in page["items"]} == expected, who
        for other in {a, b} - expected:
            problem(client.get(f"/visits/{other}", headers=world.auth(who)), 404)
    assert ok(client.get(f"/visits?household_id={town['sun']['id']}", headers=world.auth("admin")))["total"] == 1


def test_the_weeks_plan_puts_the_unvisited_first(client, world, town, clock):
    path = f"/visit-teams/{town['team_a']['id']}/plan"
    before = ok(client.get(path, headers=world.auth("memberA1")))
    assert (before["households"], before["visited_this_week"], before["link_weekday_label"]) == (3, 0, "周三")
    assert date_of(before["link_day"]).isoweekday() == 3
    assert date_of(before["week_of"]) <= date_of(before["link_day"]) < date_of(before["week_of"]) + timedelta(days=7)
    visit(client, world, "memberA1", town["sun"]["id"])
    after = ok(client.get(path, headers=world.auth("memberA1")))
    assert after["visited_this_week"] == 1
    assert [i["household"]["id"] for i in after["items"]][-1] == town["sun"]["id"]
    assert after["items"][-1]["visited_this_week"] and after["items"][0]["last_visited_on"] is None
    # Next week the visit is last week's.
    later = (clock() + timedelta(days=7)).astimezone(ZONE).date()
    nxt = ok(client.get(f"{path}?day={later}", headers=world.auth("memberA1")))
    assert nxt["visited_this_week"] == 0 and nxt["items"][-1]["last_visited_on"] is not None
    problem(client.get(path, headers=world.auth("memberB1")), 404)


def date_of(text_value: str):
    from datetime import date

    return date.fromisoformat(text_value)


def recount(database, town_id, first, last, grids=None) -> dict:
    """走访率 and the visits' requests counted again in Python from the raw rows: in all and per team."""
    with database.session() as db:
        households = db.exec(select(Household).where(Household.town_id == town_id)).all()
        visits = [v for v in db.exec(select(Visit).where(Visit.town_id == town_id)).all()
                  if first <= v.visited_on <= last and (grids is None or v.grid_id in grids)]
        orders = db.exec(select(Order).where(Order.town_id == town_id)).all()
        from storage.models import VisitTeamGrid

        team_grids = {}
        for row in db.exec(select(VisitTeamGrid)).all():
            team_grids.setdefault(row.team_id, set()).add(row.grid_id)

    def counts(vs, homes):
        needs = [o for o in orders if o.visit_id in {v.id for v in vs}]
        return {"households": len(homes), "households_visited": len({v.household_id for v in vs}),
                "visits": len(vs), "needs_collected": len(needs),
                "needs_solved": sum(o.state == "closed" for o in needs),
                "needs_open": sum(o.state not in ("closed", "cancelled", "rejected") for o in needs)}

    in_scope = [h for h in households if grids is None or h.grid_id in grids]
    teams = {t: counts([v for v in visits if v.team_id == t],
                       [h for h in in_scope if h.grid_id in g]) for t, g in team_grids.items()
             if grids is None or g & grids}
    return {"total": counts(visits, in_scope), "teams": teams}


def test_visit_numbers_equal_a_recount_of_the_rows(client, world, town, database, clock):
    rng = random.Random(5)
    homes = {"memberA1": [town["sun"], town["a2"]], "memberB1": [town["b1"]]}
    start = clock().astimezone(ZONE).date()
    for _ in range(12):
        who = rng.choice(sorted(homes))
        home = rng.choice(homes[who])
        needs = [need(world, f"需求{i}") for i in range(rng.choice((0, 0, 1, 2)))]
        for placed in visit(client, world, who, home["id"], needs=needs)["orders"]:
            if home is town["sun"] and rng.random() < 0.6:  # gridA1's: to_state runs its loop
                to_state(client, world, placed["id"], "completed")
                act(client, world, "workerA1", placed["id"], "rate", {"stars": 4})
        clock.advance(hours=rng.choice((5, 20, 30)))
    last = clock().astimezone(ZONE).date()
    first = start + timedelta(days=1)  # the first day's visits are left out
    expected = recount(database, world["town"], first, last)
    answer = ok(client.get(f"/stats/visits?date_from={first}&date_to={last}", headers=world.auth("dashboard")))
    keys = list(expected["total"])
    assert {k: answer["total"][k] for k in keys} == expected["total"]
    assert {row["team"]["id"]: {k: row[k] for k in keys} for row in answer["teams"]} == expected["teams"]
    assert answer["total"]["visits"] > 3 and answer["total"]["needs_collected"] > 0
    assert answer["total"]["visit_rate"] == round(expected["total"]["households_visited"] / 4, 4)
    # A secretary counts the branch's grids only, whatever they ask for.
    branch_a = {world["gridA1"], world["gridA2"]}
    mine = ok(client.get(f"/stats/visits?date_from={first}&date_to={last}", headers=world.auth("secA")))
    assert {k: mine["total"][k] for k in keys} == recount(database, world["town"], first, last, branch_a)["total"]
    assert [row["team"]["id"] for row in mine["teams"]] == [town["team_a"]["id"]]
    problem(client.get(f"/stats/visits?branch_id={world['branchB']}", headers=world.auth("secA")), 404)
    for who in ("memberA1", "workerA1", "res1"):
        problem(client.get("/stats/visits", headers=world.auth(who)), 403)


@pytest.mark.parametrize("backend", backend_params())
def test_upgrading_a_populated_database_keeps_its_orders(backend, tmp_path):
    if backend == "postgres" and postgres_reachable():
        pytest.skip("PostgreSQL not reachable")
    old = TestDatabase(backend, tmp_path, revision="0014")
    try:
        engine = old.database.engine
        with engine.begin() as connection:
            insert_old_town(connection)
            insert_filled(connection, "branches", id=1, town_id=1, name="b")
            insert_filled(connection, "grids", id=1, town_id=1, branch_id=1, name="g")
            insert_filled(connection, "categories", id=1, town_id=1, name="c", default_urgency="normal")
            insert_filled(connection, "orders", id=1, town_id=1, branch_id=1, grid_id=1, category_id=1,
                          state="submitted", urgency="normal", description="路灯不亮", channel="mini_program",
                          version=1, reopen_count=0)
        upgrade(engine)
        with old.database.session() as db:
            assert db.get(Order, 1).visit_id is None and db.exec(select(Visit)).all() == []
        config = alembic_config(engine)
        with engine.connect() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0014")
            connection.commit()
        assert "visit_id" not in {c["name"] for c in inspect(engine).get_columns("orders")}
        assert not inspect(engine).has_table("visits") and not inspect(engine).has_table("visit_teams")
        with engine.connect() as connection:
            assert connection.execute(text("SELECT description FROM orders WHERE id = 1")).scalar_one() == "路灯不亮"
    finally:
        old.drop()
