"""Action teams (行动队): a village cadre, a party member and local worthies, dispatched to as one."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlmodel import select

from domain.action_teams import Person, team_problems
from notifications.dispatcher import Dispatcher, RetryPolicy
from notifications.inapp import InAppChannel
from storage.migrate import alembic_config, upgrade
from storage.models import Order, OutboxMessage
from tests.databases import TestDatabase, backend_params, insert_filled, insert_old_town, postgres_reachable
from tests.helpers import act, get, place, to_state, upload
from tests.test_admin import ok, problem
from tests.world import _token


def person(i, role="member", *, worthy=False, active=True, branches=(1,)) -> Person:
    return Person(id=i, role=role, active=active, is_local_worthy=worthy, branch_ids=frozenset(branches))


def test_who_may_make_a_team():
    cadre, lead, worthy = person(1, "grid_worker"), person(2), person(3, worthy=True)
    assert team_problems(branch_id=1, cadre=cadre, lead=lead, worthies=[worthy]) == []
    assert team_problems(branch_id=2, cadre=cadre, lead=lead, worthies=[worthy]) == [
        "action-team.cadre-refused", "action-team.lead-refused", "action-team.worthy-refused"]
    assert team_problems(branch_id=1, cadre=person(1, "town_admin"), lead=person(2, worthy=True),
                         worthies=[person(3), None]) == [
        "action-team.cadre-refused", "action-team.lead-refused", "action-team.worthy-refused"]
    assert team_problems(branch_id=1, cadre=cadre, lead=lead, worthies=[person(2, worthy=True)]) == [
        "action-team.person-twice"]
    assert team_problems(branch_id=1, cadre=person(1, active=False), lead=lead, worthies=[]) == [
        "action-team.cadre-refused"]


def worthy(client, world, name, phone, branch="branchA") -> None:
    staff = ok(client.post("/admin/staff", json={
        "name": name, "phone": phone, "role": "member", "password": "a long password", "branch_id": world[branch],
        "is_local_worthy": True}, headers=world.auth("admin")), 201)
    world.ids[name] = staff["id"]
    world.tokens[name] = _token(world.settings, "staff", staff["id"], "member", world["town"],
                                client.app.state.clock())


def action_team(client, world, name="甲村行动队", cadre="workerA1", lead="memberA1", worthies=("乡贤老周",),
                who="secA", expect=201, **extra) -> dict:
    r = client.post("/action-teams", json={"name": name, "cadre_id": world[cadre], "lead_id": world[lead],
                                           "worthy_ids": [world[w] for w in worthies], **extra},
                    headers=world.auth(who))
    assert r.status_code == expect, r.text
    return r.json()


@pytest.fixture
def team(client, world) -> dict:
    worthy(client, world, "乡贤老周", "13600000001")
    worthy(client, world, "乡贤老吴", "13600000002")
    worthy(client, world, "乙村乡贤", "13600000003", branch="branchB")
    return action_team(client, world, worthies=("乡贤老周", "乡贤老吴"))


def test_the_branch_keeps_its_teams(client, world, team):
    assert (team["branch"]["id"], team["cadre"]["id"], team["lead"]["id"], team["open_orders"]) == (
        world["branchA"], world["workerA1"], world["memberA1"], 0)
    assert [w["name"] for w in team["worthies"]] == ["乡贤老周", "乡贤老吴"]
    # The rules of who may be on it, as 422s; a name once per branch, as 409.
    for bad in ({"lead": "乡贤老周", "worthies": ()}, {"worthies": ("memberA2",)}, {"worthies": ("乙村乡贤",)},
                {"cadre": "workerB1"}, {"cadre": "memberA1"}):
        assert problem(client.post("/action-teams", json={
            "name": "x", "cadre_id": world[bad.get("cadre", "secA")], "lead_id": world[bad.get("lead", "memberA1")],
            "worthy_ids": [world[w] for w in bad.get("worthies", ())]}, headers=world.auth("secA")), 422)
    assert action_team(client, world, expect=409)["status"] == 409
    # The admin names the branch; a secretary keeps only their own; the others keep none.
    assert problem(client.post("/action-teams", json={"name": "x", "cadre_id": world["secA"],
                                                      "lead_id": world["memberA2"]}, headers=world.auth("admin")),
                   422)["detail"]
    made = action_team(client, world, "第二队", cadre="secA", lead="memberA2", worthies=(), who="admin",
                       branch_id=world["branchA"])
    assert made["branch"]["id"] == world["branchA"]
    action_team(client, world, "x", who="secB", expect=422)  # not people of branch B
    action_team(client, world, "x", who="secB", expect=404, branch_id=world["branchA"])
    action_team(client, world, "x", who="memberA1", expect=403)
    # Reading: the admin all, a secretary the branch's, the people on a team their own.
    def ids(who):
        return [t["id"] for t in ok(client.get("/action-teams", headers=world.auth(who)))["items"]]
    assert ids("admin") == ids("secA") == [team["id"], made["id"]]
    assert ids("secB") == [] and ids("乡贤老吴") == ids("workerA1") == [team["id"]] and ids("memberA2") == [made["id"]]
    problem(client.get(f"/action-teams/{team['id']}", headers=world.auth("memberA2")), 404)
    problem(client.get("/action-teams", headers=world.auth("res1")), 403)
    assert ok(client.get("/action-teams", headers=world.auth("admin2")))["total"] == 0
    # A change of worthies replaces the list; the rules hold on every change.
    path = f"/action-teams/{team['id']}"
    changed = ok(client.patch(path, json={"worthy_ids": [world["乡贤老吴"]], "name": "甲村乡贤行动队"},
                              headers=world.auth("secA")))
    assert ([w["name"] for w in changed["worthies"]], changed["name"]) == (["乡贤老吴"], "甲村乡贤行动队")
    problem(client.patch(path, json={"lead_id": world["乡贤老吴"]}, headers=world.auth("secA")), 422)
    problem(client.patch(path, json={"name": "第二队"}, headers=world.auth("secA")), 409)
    problem(client.patch(path, json={"name": "n"}, headers=world.auth("secB")), 404)
    # A branch with teams stays.
    assert client.delete(f"/admin/branches/{world['branchA']}", headers=world.auth("admin")).status_code == 409


def test_an_order_dispatched_to_a_team_is_its_members_and_the_team_is_told(client, world, team, database, clock):
    order = place(client, world)
    act(client, world, "workerA1", order["id"], "claim")
    # One target, of the order's branch, active.
    act(client, world, "secA", order["id"], "dispatch", {}, expect=422)
    act(client, world, "secA", order["id"], "dispatch", {"member_id": world["memberA1"],
                                                         "action_team_id": team["id"]}, expect=422)
    dispatched = act(client, world, "secA", order["id"], "dispatch", {"action_team_id": team["id"]})
    assert (dispatched["state"], dispatched["assignee"]["id"], dispatched["action_team"]) == (
        "dispatched", world["memberA1"], {"id": team["id"], "name": "甲村行动队"})
    listed = ok(client.get("/orders", headers=world.auth("乡贤老周")))["items"]
    assert [(o["id"], o["action_team"]["name"]) for o in listed] == [(order["id"], "甲村行动队")]
    detail = get(client, world, "乡贤老周", order["id"])
    assert detail["timeline"][-1]["data"]["action_team_name"] == "甲村行动队"
    assert detail["allowed_actions"] == [] and get(client, world, "memberA1", order["id"])["allowed_actions"] == [
        "accept", "decline"]
    # The worthies read it but do not act on it; someone off the team does not see it.
    act(client, world, "乡贤老周", order["id"], "accept", expect=403)
    get(client, world, "memberA2", order["id"], expect=404)
    get(client, world, "乙村乡贤", order["id"], expect=404)
    # The cadre and the worthies are told; the member is told as the one it is dispatched to.
    Dispatcher(database, [InAppChannel(database, clock)], RetryPolicy(), clock).run_once()
    for who in ("workerA1", "乡贤老周", "乡贤老吴"):
        titles = [i["title"] for i in ok(client.get("/me/inbox", headers=world.auth(who)))["items"]]
        assert "支部派单给您所在的行动队" in titles, who
    assert "支部派单给您" in [i["title"] for i in ok(client.get("/me/inbox", headers=world.auth("memberA1")))["items"]]
    # A decline hands it back to the branch, and the team no longer holds it.
    declined = act(client, world, "memberA1", order["id"], "decline", {"reason": "不在村里"})
    assert (declined["assignee"], declined["action_team"]) == (None, None)
    get(client, world, "乡贤老周", order["id"], expect=404)
    # An inactive team is not dispatched to.
    ok(client.patch(f"/action-teams/{team['id']}", json={"active": False}, headers=world.auth("secA")))
    act(client, world, "secA", order["id"], "dispatch", {"action_team_id": team["id"]}, expect=422)
    ok(client.patch(f"/action-teams/{team['id']}", json={"active": True}, headers=world.auth("secA")))
    # Then through the loop: the member completes, the resident rates, and it is counted for the team.
    act(client, world, "secA", order["id"], "dispatch", {"action_team_id": team["id"]})
    act(client, world, "memberA1", order["id"], "accept")
    act(client, world, "memberA1", order["id"], "complete", {"note": "乡贤帮忙修好了",
                                                             "photo_ids": [upload(client, world, "memberA1")]})
    act(client, world, "res1", order["id"], "rate", {"stars": 5})
    assert len(get(client, world, "乡贤老吴", order["id"])["photos"]) == 1
    # An order of another branch may not go to the team.
    other = place(client, world, who="res1", grid_id=world["gridA1"])
    act(client, world, "workerA1", other["id"], "claim")
    with database.session(write=True) as db:
        db.get(Order, other["id"]).branch_id = world["branchB"]
        db.commit()
    act(client, world, "secB", other["id"], "dispatch", {"action_team_id": team["id"]}, expect=422)


def recount(database, team_id) -> dict:
    with database.session() as db:
        orders = db.exec(select(Order).where(Order.action_team_id == team_id)).all()
    rated = [o for o in orders if o.state == "closed" and o.rating_stars is not None and o.rating_source != "default"]
    closed = sum(o.state == "closed" for o in orders)
    return {"held": len(orders), "open": sum(o.state in ("dispatched", "in_progress") for o in orders),
            "closed": closed, "rated": len(rated), "satisfied": sum(o.rating_stars >= 4 for o in rated)}


def test_team_stats_equal_a_recount(client, world, team, database):
    stars = [5, 4, 2, None, None]
    for i, rating in enumerate(stars):
        order = place(client, world, description=f"事项{i}")
        to_state(client, world, order["id"], "claimed")
        act(client, world, "secA", order["id"], "dispatch", {"action_team_id": team["id"]})
        if i == 4:
            continue  # still dispatched
        to_state(client, world, order["id"], "completed")
        if rating is not None:
            act(client, world, "res1", order["id"], "rate", {"stars": rating})
    elsewhere = place(client, world, description="给个人的")
    to_state(client, world, elsewhere["id"], "completed")
    answer = ok(client.get("/stats/action-teams", headers=world.auth("dashboard")))
    row = next(r for r in answer["teams"] if r["team"]["id"] == team["id"])
    expected = recount(database, team["id"])
    assert {k: row[k] for k in expected} == expected
    # The 2-star rating reopened its order: no longer the team's. Five placed, four held.
    assert (row["held"], row["open"], row["closed"], row["satisfied"]) == (4, 1, 2, 2)
    assert row["resolution_rate"] == round(2 / 4, 4) and row["satisfaction_rate"] == 1.0
    assert row["worthies"] == 2 and row["lead"]["id"] == world["memberA1"]
    assert ok(client.get("/stats/action-teams", headers=world.auth("secB")))["teams"] == []
    for who in ("memberA1", "workerA1", "res1"):
        problem(client.get("/stats/action-teams", headers=world.auth(who)), 403)


@pytest.mark.parametrize("backend", backend_params())
def test_upgrading_a_populated_database_keeps_its_orders(backend, tmp_path):
    if backend == "postgres" and postgres_reachable():
        pytest.skip("PostgreSQL not reachable")
    old = TestDatabase(backend, tmp_path, revision="0016")
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
            assert db.get(Order, 1).action_team_id is None
            assert db.exec(select(OutboxMessage)).all() == []
        config = alembic_config(engine)
        with engine.connect() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0016")
            connection.commit()
        assert "action_team_id" not in {c["name"] for c in inspect(engine).get_columns("orders")}
        assert not inspect(engine).has_table("action_teams")
        with engine.connect() as connection:
            assert connection.execute(text("SELECT description FROM orders WHERE id = 1")).scalar_one() == "路灯不亮"
    finally:
        old.drop()
