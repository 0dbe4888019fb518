"""Projects (共建项目, 领办项目): published for a year, taken up, milestones with photos, finished; both stores."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import inspect

from storage.migrate import alembic_config, upgrade
from tests.databases import TestDatabase, backend_params, postgres_reachable
from tests.helpers import place, upload
from tests.test_admin import ok, problem


def publish(client, world, who="secA", expect=201, **body) -> dict:
    body = {"year": 2026, "title": "老旧小区路灯改造", "description": "全村路灯换成太阳能", **body}
    r = client.post("/projects", json=body, headers=world.auth(who))
    assert r.status_code == expect, r.text
    return r.json()


def test_a_project_through_its_year(client, world, database):
    project = publish(client, world)
    assert (project["state"], project["state_label"], project["branch"]["id"], project["kind_label"]) == (
        "open", "待揭榜", world["branchA"], "党员领办项目")
    assert project["allowed_actions"] == ["drop", "link_order", "take"]
    path = f"/projects/{project['id']}"
    # Milestones wait for someone to take it up; another branch's member may not.
    problem(client.post(f"{path}/milestones", json={"title": "x"}, headers=world.auth("secA")), 409)
    problem(client.post(f"{path}/take", headers=world.auth("memberB1")), 403)
    taken = ok(client.post(f"{path}/take", headers=world.auth("memberA1")))
    assert (taken["state_label"], taken["lead"]["name"]) == ("推进中", "memberA1")
    refused = problem(client.post(f"{path}/take", headers=world.auth("memberA2")), 409)
    assert (refused["current_state"], refused["current_state_label"]) == ("taken", "推进中")
    # The lead records milestones with photos; another member may not.
    photo = upload(client, world, "memberA1")
    step = ok(client.post(f"{path}/milestones", json={"title": "完成选址", "note": "确定了20个点位",
                                                      "photo_ids": [photo]}, headers=world.auth("memberA1")), 201)
    assert [(m["title"], len(m["photos"])) for m in step["milestones"]] == [("完成选址", 1)]
    image = client.get(step["milestones"][0]["photos"][0]["url"])
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    assert client.get(f"/photos/{photo}", headers=world.auth("workerB1")).status_code == 200  # the town's staff
    assert client.get(f"/photos/{photo}", headers=world.auth("res1")).status_code == 404
    assert client.get(f"/photos/{photo}", headers=world.auth("admin2")).status_code == 404
    problem(client.post(f"{path}/milestones", json={"title": "x"}, headers=world.auth("memberA2")), 403)
    problem(client.post(f"{path}/milestones", json={"title": "x", "photo_ids": [photo]},
                        headers=world.auth("memberA1")), 422)  # a photo is one project's
    problem(client.post(f"{path}/milestones", json={"title": "x", "reached_on": "2099-01-01"},
                        headers=world.auth("memberA1")), 422)
    # An order it answers is linked once.
    order = place(client, world)["id"]
    linked = ok(client.post(f"{path}/orders", json={"order_id": order}, headers=world.auth("secA")))
    assert [(o["id"], o["state_label"]) for o in linked["orders"]] == [(order, "待领单")]
    problem(client.post(f"{path}/orders", json={"order_id": order}, headers=world.auth("secA")), 409)
    problem(client.post(f"{path}/orders", json={"order_id": 999999}, headers=world.auth("secA")), 404)
    # 张榜晒单: finished with its result.
    done = ok(client.post(f"{path}/finish", json={"result_note": "20盏路灯全部亮了",
                                                   "photo_ids": [upload(client, world, "memberA1")]},
                          headers=world.auth("memberA1")))
    assert (done["state_label"], done["result_note"], len(done["result_photos"]), done["allowed_actions"]) == (
        "已完成", "20盏路灯全部亮了", 1, [])
    problem(client.post(f"{path}/drop", json={"reason": "x"}, headers=world.auth("secA")), 409)
    # Every staff account of the town reads it; residents and the other town do not.
    assert ok(client.get(path, headers=world.auth("workerB1")))["id"] == project["id"]
    problem(client.get(path, headers=world.auth("admin2")), 404)
    problem(client.get(path, headers=world.auth("res1")), 403)


def test_who_publishes_gives_and_drops(client, world):
    town_project = publish(client, world, who="admin", kind="joint", title="镇级共建项目")
    assert (town_project["branch"], town_project["kind_label"]) == (None, "共建项目")
    publish(client, world, who="secA", branch_id=world["branchB"], expect=404)
    publish(client, world, who="memberA1", expect=403)
    publish(client, world, who="admin", unit_id=999999, expect=404)
    publish(client, world, who="admin", year=1999, expect=422)
    # A town project may be taken by any member of the town; a secretary gives a branch's to a team.
    assert ok(client.post(f"/projects/{town_project['id']}/take", headers=world.auth("memberB1")))["lead"][
        "name"] == "memberB1"
    team = ok(client.post("/action-teams", json={"name": "甲村行动队", "cadre_id": world["workerA1"],
                                                 "lead_id": world["memberA2"]}, headers=world.auth("secA")), 201)
    branch_project = publish(client, world)
    path = f"/projects/{branch_project['id']}"
    problem(client.post(f"{path}/take", json={"action_team_id": team["id"]}, headers=world.auth("memberA1")), 403)
    given = ok(client.post(f"{path}/take", json={"action_team_id": team["id"]}, headers=world.auth("secA")))
    assert (given["action_team"]["name"], given["lead"]["name"]) == ("甲村行动队", "memberA2")
    problem(client.post(f"{path}/drop", json={"reason": "x"}, headers=world.auth("memberA2")), 403)
    assert ok(client.post(f"{path}/drop", json={"reason": "资金未落实"}, headers=world.auth("secA")))[
        "state_label"] == "已撤销"
    # The year's figures.
    figures = ok(client.get("/projects/stats?year=2026", headers=world.auth("admin")))
    assert figures["by_state"] == {"open": 0, "taken": 1, "done": 0, "dropped": 1}
    assert (figures["taken_by_members"], figures["taken_by_teams"], figures["done_rate"]) == (1, 1, 0.0)
    assert ok(client.get("/projects/stats?year=2026", headers=world.auth("secA")))["by_state"]["dropped"] == 1
    problem(client.get("/projects/stats?year=2026", headers=world.auth("memberA1")), 403)
    listed = ok(client.get("/projects?year=2026&state=taken", headers=world.auth("memberA1")))
    assert [p["id"] for p in listed["items"]] == [town_project["id"]]


@pytest.mark.parametrize("backend", backend_params())
def test_the_migration_goes_up_and_down(backend, tmp_path):
    if backend == "postgres" and postgres_reachable():
        pytest.skip("PostgreSQL not reachable")
    old = TestDatabase(backend, tmp_path, revision="0020")
    try:
        engine = old.database.engine
        upgrade(engine)
        assert inspect(engine).has_table("projects")
        assert "project_id" in {c["name"] for c in inspect(engine).get_columns("photos")}
        config = alembic_config(engine)
        with engine.connect() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0020")
            connection.commit()
        assert not inspect(engine).has_table("projects")
        assert "project_id" not in {c["name"] for c in inspect(engine).get_columns("photos")}
    finally:
        old.drop()
