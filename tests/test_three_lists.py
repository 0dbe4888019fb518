"""三张清单: needs (from orders and entered), resources of members and units, needs matched into projects."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import inspect

from domain.three_lists import NeedFacts, ResourceFacts, rank
from storage.migrate import alembic_config, upgrade
from tests.databases import TestDatabase, backend_params, postgres_reachable
from tests.helpers import place
from tests.test_admin import ok, problem
from tests.test_whistles import unit, unit_staff


def test_the_ranking_says_why():
    need = NeedFacts("村卫生室需要做无障碍坡道", category_id=7, branch_id=1)
    ranked = rank(need, [
        ResourceFacts(1, tags=("坡道",), branch_id=1),
        ResourceFacts(2, category_ids=frozenset({7}), is_unit=True, committed=1),
        ResourceFacts(3, branch_id=2),
    ])
    assert [(m.resource_id, m.score) for m in ranked] == [(1, 50), (2, 35), (3, 10)]
    assert [r.label for r in ranked[0].reasons] == ["关键词相符", "同一支部", "当前空闲"]
    assert [(r.code, r.weight) for r in ranked[1].reasons] == [("category", 40), ("town-unit", 5),
                                                               ("committed", -10)]


def test_from_needs_and_resources_to_a_project(client, world):
    # Needs the orders state: counted by category and grid.
    for _ in range(2):
        place(client, world, description="路灯坏了")
    listed = ok(client.get("/lists/needs", headers=world.auth("secA")))
    assert [(n["category"]["id"], n["grid"]["id"], n["open_orders"]) for n in listed["from_orders"]] == [
        (world["cat"], world["gridA1"], 2)]
    # A need entered by the branch, and resources offered.
    need = ok(client.post("/lists/needs", json={"title": "卫生室无障碍坡道", "description": "老人坐轮椅进不去卫生室",
                                                "grid_id": world["gridA1"], "category_id": world["cat"]},
                          headers=world.auth("secA")), 201)
    assert (need["branch"]["id"], need["state_label"]) == (world["branchA"], "待对接")
    mine = ok(client.post("/lists/resources", json={"kind": "skill", "title": "泥瓦工手艺", "tags": ["坡道", "砌墙"],
                                                    "amount": "每月8小时"}, headers=world.auth("memberA1")), 201)
    assert (mine["member"]["name"], mine["kind_label"]) == ("memberA1", "技能")
    power = unit(client, world, "建筑公司", kind="enterprise")
    unit_staff(client, world, "施工员", power["id"], "13811110002")
    theirs = ok(client.post("/lists/resources", json={"kind": "money", "title": "材料费2万元",
                                                      "category_ids": [world["cat"]]},
                            headers=world.auth("施工员")), 201)
    assert theirs["unit"]["name"] == "建筑公司"
    problem(client.post("/lists/resources", json={"kind": "skill", "title": "x", "member_id": world["memberA2"]},
                        headers=world.auth("memberA1")), 403)
    problem(client.post("/lists/resources", json={"kind": "skill", "title": "x"}, headers=world.auth("secA")), 422)
    problem(client.post("/lists/resources", json={"kind": "skill", "title": "x", "member_id": world["memberB1"]},
                        headers=world.auth("secA")), 404)
    # The suggestions rank every resource, with the reasons.
    ranked = ok(client.get(f"/lists/needs/{need['id']}/matches", headers=world.auth("secA")))["items"]
    assert [(m["resource"]["id"], m["score"]) for m in ranked] == [(theirs["id"], 55), (mine["id"], 50)]
    assert {r["label"] for r in ranked[1]["reasons"]} == {"关键词相符", "同一支部", "当前空闲"}
    # Matched: a 共建项目 with the unit, the need marked 已对接; the resources now committed.
    project = ok(client.post(f"/lists/needs/{need['id']}/projects", json={
        "resource_ids": [mine["id"], theirs["id"]], "year": 2026}, headers=world.auth("secA")), 201)
    assert (project["kind"], project["unit"]["name"], project["need"]["id"], project["state"]) == (
        "joint", "建筑公司", need["id"], "open")
    assert [r["name"] for r in project["resources"]] == ["泥瓦工手艺", "材料费2万元"]
    entered = ok(client.get("/lists/needs", headers=world.auth("admin")))["entered"]
    assert [(n["state_label"], [p["id"] for p in n["projects"]]) for n in entered] == [("已对接", [project["id"]])]
    again = ok(client.get(f"/lists/needs/{need['id']}/matches", headers=world.auth("secA")))["items"]
    assert {m["resource"]["id"]: m["resource"]["committed"] for m in again} == {mine["id"]: 1, theirs["id"]: 1}
    # Who: needs are the admin's and secretaries' (a secretary's own branch), resources the town's staff's.
    problem(client.get(f"/lists/needs/{need['id']}/matches", headers=world.auth("secB")), 404)
    problem(client.get("/lists/needs", headers=world.auth("memberA1")), 403)
    assert ok(client.get("/lists/resources", headers=world.auth("workerB1")))["total"] == 2
    assert ok(client.get("/lists/resources", headers=world.auth("admin2")))["total"] == 0
    problem(client.get("/lists/resources", headers=world.auth("res1")), 403)
    problem(client.post(f"/lists/needs/{need['id']}/projects", json={"resource_ids": [999999], "year": 2026},
                        headers=world.auth("secA")), 422)


@pytest.mark.parametrize("backend", backend_params())
def test_the_migration_goes_up_and_down(backend, tmp_path):
    if backend == "postgres" and postgres_reachable():
        pytest.skip("PostgreSQL not reachable")
    old = TestDatabase(backend, tmp_path, revision="0021")
    try:
        engine = old.database.engine
        upgrade(engine)
        assert inspect(engine).has_table("community_needs") and inspect(engine).has_table("resources")
        assert "need_id" in {c["name"] for c in inspect(engine).get_columns("projects")}
        config = alembic_config(engine)
        with engine.connect() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0021")
            connection.commit()
        assert not inspect(engine).has_table("resources")
        assert "need_id" not in {c["name"] for c in inspect(engine).get_columns("projects")}
    finally:
        old.drop()


def test_the_dashboard_counts_projects_lists_and_the_board(client, world, clock):
    ok(client.post("/lists/needs", json={"title": "坡道", "description": "卫生室"}, headers=world.auth("secA")), 201)
    ok(client.post("/lists/needs", json={"title": "书屋", "description": "乙村"}, headers=world.auth("secB")), 201)
    ok(client.post("/lists/resources", json={"kind": "hours", "title": "每周半天"}, headers=world.auth("memberA1")),
       201)
    ok(client.post("/projects", json={"year": 2026, "title": "亮化", "description": "路灯"},
                   headers=world.auth("secA")), 201)
    order = place(client, world)
    client.post(f"/orders/{order['id']}/claim", headers=world.auth("workerA1"))
    client.post(f"/orders/{order['id']}/post-task", json={}, headers=world.auth("secA"))
    town = ok(client.get("/stats/programmes?year=2026", headers=world.auth("dashboard")))
    assert (town["needs"]["open"], town["resources"]["hours"], town["projects"]["by_state"]["open"],
            town["tasks_on_board"], town["need_labels"]["open"]) == (2, 1, 1, 1, "待对接")
    mine = ok(client.get("/stats/programmes?year=2026", headers=world.auth("secB")))
    assert (mine["needs"]["open"], mine["resources"]["hours"], mine["tasks_on_board"]) == (1, 0, 0)
    for who in ("memberA1", "res1"):
        problem(client.get("/stats/programmes", headers=world.auth(who)), 403)
