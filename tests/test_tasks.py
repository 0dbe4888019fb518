"""揭榜: a claimed order on the branch's task board; members volunteer; the secretary picks, or the first takes it."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlmodel import select

from notifications.dispatcher import Dispatcher, RetryPolicy
from notifications.inapp import InAppChannel
from storage.migrate import alembic_config, upgrade
from storage.models import Order, TaskVolunteer
from tests.databases import TestDatabase, backend_params, insert_filled, postgres_reachable
from tests.helpers import act, get, place
from tests.test_admin import ok, problem
from workflows.tasks import expire_tasks


def claimed(client, world, who="res1") -> dict:
    order = place(client, world, who=who)
    return act(client, world, "workerA1", order["id"], "claim")


def titles(client, world, who) -> list[str]:
    return [i["title"] for i in ok(client.get("/me/inbox", headers=world.auth(who)))["items"]]


def test_members_volunteer_and_the_secretary_picks(client, world, database, clock):
    order = claimed(client, world)
    deadline = order["stage_deadline"]
    secretary_view = get(client, world, "secA", order["id"])
    assert "post_task" in secretary_view["allowed_actions"] and "dispatch" in secretary_view["allowed_actions"]
    get(client, world, "memberA1", order["id"], expect=404)  # not on the board yet
    posted = act(client, world, "secA", order["id"], "post-task", {"hours": 48, "note": "谁有空帮忙修一下"})
    assert (posted["state"], posted["stage_deadline"]) == ("claimed", deadline)  # the dispatch limit runs on
    assert posted["timeline"][-1]["action_label"] == "发布揭榜"
    # The branch's members see it on the board and as an order; another branch's do not.
    board = ok(client.get("/tasks", headers=world.auth("memberA1")))["items"]
    assert [(t["order_id"], t["mode"], t["mode_label"], t["volunteered"]) for t in board] == [
        (order["id"], "pick", "书记选派", False)]
    assert ok(client.get("/tasks", headers=world.auth("memberB1")))["total"] == 0
    get(client, world, "memberB1", order["id"], expect=404)
    assert get(client, world, "memberA1", order["id"])["allowed_actions"] == ["volunteer"]
    Dispatcher(database, [InAppChannel(database, clock)], RetryPolicy(), clock).run_once()
    assert "支部发布揭榜任务,欢迎党员揭榜" in titles(client, world, "memberA2")
    assert "支部发布揭榜任务,欢迎党员揭榜" not in titles(client, world, "memberB1")
    # Volunteering keeps the order claimed; once a member.
    mine = act(client, world, "memberA1", order["id"], "volunteer", {"note": "我会木工"})
    assert (mine["state"], mine["timeline"][-1]["action_label"], mine["stage_deadline"]) == (
        "claimed", "党员揭榜", deadline)
    assert problem(client.post(f"/orders/{order['id']}/volunteer", headers=world.auth("memberA1")), 409)
    act(client, world, "memberA2", order["id"], "volunteer")
    problem(client.post(f"/orders/{order['id']}/volunteer", headers=world.auth("memberB1")), 404)
    board = ok(client.get("/tasks", headers=world.auth("secA")))["items"]
    assert [(v["member"]["name"], v["note"]) for v in board[0]["volunteers"]] == [("memberA1", "我会木工"),
                                                                               ("memberA2", None)]
    assert ok(client.get("/tasks", headers=world.auth("memberA1")))["items"][0]["volunteered"] is True
    Dispatcher(database, [InAppChannel(database, clock)], RetryPolicy(), clock).run_once()
    assert "有党员揭榜,请选派" in titles(client, world, "secA")
    # The suggestions put the volunteers first, saying why.
    suggested = ok(client.get(f"/orders/{order['id']}/dispatch-suggestions", headers=world.auth("secA")))["items"]
    assert [s["member"]["name"] for s in suggested][:2] == ["memberA1", "memberA2"]
    assert "已揭榜" in [r["label"] for r in suggested[0]["reasons"]]
    # The secretary picks with the ordinary dispatch: the order leaves the board.
    picked = act(client, world, "secA", order["id"], "dispatch", {"member_id": world["memberA2"]})
    assert picked["assignee"]["name"] == "memberA2"
    get(client, world, "memberA1", order["id"], expect=404)
    assert ok(client.get("/tasks", headers=world.auth("secA")))["total"] == 0
    with database.session() as db:
        assert db.get(Order, order["id"]).task_until is None
        assert len(db.exec(select(TaskVolunteer)).all()) == 2  # who volunteered stays on record


def test_where_the_first_volunteer_takes_it(client, world):
    ok(client.patch(f"/admin/branches/{world['branchA']}", json={"task_mode": "first"}, headers=world.auth("admin")))
    order = claimed(client, world)
    act(client, world, "secA", order["id"], "post-task", {})
    taken = act(client, world, "memberA2", order["id"], "volunteer")
    assert (taken["state"], taken["assignee"]["name"], taken["timeline"][-1]["action_label"]) == (
        "dispatched", "memberA2", "揭榜领办")
    assert taken["allowed_actions"] == ["accept", "decline"]
    refused = problem(client.post(f"/orders/{order['id']}/volunteer", headers=world.auth("memberA1")), 404)
    assert refused["status"] == 404  # off the board: no longer the other members' to see
    assert act(client, world, "memberA2", order["id"], "accept")["state"] == "in_progress"


def test_a_window_that_closes_with_nobody_sends_it_back(client, world, database, clock):
    order = claimed(client, world)
    act(client, world, "secA", order["id"], "post-task", {"hours": 1})
    assert expire_tasks(database, now=clock()) == 0
    clock.advance(hours=1, minutes=1)
    problem(client.post(f"/orders/{order['id']}/volunteer", headers=world.auth("memberA1")), 409)  # closed
    assert expire_tasks(database, now=clock()) == 1
    assert expire_tasks(database, now=clock()) == 0
    back = get(client, world, "secA", order["id"])
    assert (back["state"], back["timeline"][-1]["action_label"], back["timeline"][-1]["note"]) == (
        "claimed", "揭榜期满", "揭榜期满,请支部派单")
    get(client, world, "memberA1", order["id"], expect=404)
    Dispatcher(database, [InAppChannel(database, clock)], RetryPolicy(), clock).run_once()
    assert "揭榜期满无人领办,请派单" in titles(client, world, "secA")
    # It may be posted again.
    assert act(client, world, "secA", order["id"], "post-task", {"hours": 2})["state"] == "claimed"


def test_who_may_post_and_how_long(client, world):
    order = claimed(client, world)
    for hours in (0, 169):
        problem(client.post(f"/orders/{order['id']}/post-task", json={"hours": hours}, headers=world.auth("secA")),
                422)
    problem(client.post(f"/orders/{order['id']}/post-task", json={}, headers=world.auth("secB")), 404)
    problem(client.post(f"/orders/{order['id']}/post-task", json={}, headers=world.auth("workerA1")), 403)
    act(client, world, "secA", order["id"], "post-task", {})
    problem(client.post(f"/orders/{order['id']}/post-task", json={}, headers=world.auth("secA")), 409)
    # The resident may still cancel it; it leaves the board.
    act(client, world, "res1", order["id"], "cancel", {})
    assert ok(client.get("/tasks", headers=world.auth("memberA1")))["total"] == 0
    for who in ("res1", "workerA1", "dashboard"):
        problem(client.get("/tasks", headers=world.auth(who)), 403)
    submitted = place(client, world)
    problem(client.post(f"/orders/{submitted['id']}/post-task", json={}, headers=world.auth("secA")), 409)


@pytest.mark.parametrize("backend", backend_params())
def test_upgrading_a_populated_database_keeps_its_orders(backend, tmp_path):
    if backend == "postgres" and postgres_reachable():
        pytest.skip("PostgreSQL not reachable")
    old = TestDatabase(backend, tmp_path, revision="0019")
    try:
        engine = old.database.engine
        with engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO towns (id, name, timezone, public_board_enabled, public_points_board_enabled,"
                " household_flags, whistle_report_minutes, whistle_report_urgent_minutes, whistle_reply_minutes,"
                " whistle_reply_urgent_minutes, created_at) VALUES (1, 't', 'Asia/Shanghai', false, false, '[]',"
                " 1440, 120, 4320, 1440, CURRENT_TIMESTAMP)"))
            insert_filled(connection, "branches", id=1, town_id=1, name="b")
            insert_filled(connection, "grids", id=1, town_id=1, branch_id=1, name="g")
            insert_filled(connection, "categories", id=1, town_id=1, name="c", default_urgency="normal")
            insert_filled(connection, "orders", id=1, town_id=1, branch_id=1, grid_id=1, category_id=1,
                          state="claimed", urgency="normal", description="路灯不亮", channel="mini_program",
                          version=1, reopen_count=0)
        upgrade(engine)
        with old.database.session() as db:
            assert db.get(Order, 1).task_until is None
        with engine.connect() as connection:
            assert connection.execute(text("SELECT task_mode FROM branches")).scalar_one() == "pick"
        config = alembic_config(engine)
        with engine.connect() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0019")
            connection.commit()
        assert "task_until" not in {c["name"] for c in inspect(engine).get_columns("orders")}
        assert not inspect(engine).has_table("task_volunteers")
        with engine.connect() as connection:
            assert connection.execute(text("SELECT description FROM orders WHERE id = 1")).scalar_one() == "路灯不亮"
    finally:
        old.drop()
