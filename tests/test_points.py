"""党员积分存折: entries written with the moves that earn them; the leaderboard is their sum."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlmodel import select

from domain.points import (
    BUILT_IN, DEFAULT_VALUES, Earned, PointRule, PointValues, RuleVersion, judged_attempt, new_version_problem,
    version_on,
)
from storage.migrate import alembic_config, upgrade
from storage.models import AuditEntry, OrderEvent, PointEntry, Town
from tests.databases import TestDatabase, backend_params, insert_filled, insert_old_town, postgres_reachable
from tests.helpers import act, place, to_state, upload
from tests.test_admin import ok, problem
from workflows.sweep import sweep

ZONE = ZoneInfo("Asia/Shanghai")
R = PointRule


def test_what_a_judged_attempt_earns():
    v = DEFAULT_VALUES
    assert judged_attempt(v, stars=5, by_default=False, overdue=False) == [
        Earned(R.CLOSED_SATISFIED, 10), Earned(R.FIVE_STAR, 5)]
    assert judged_attempt(v, stars=3, by_default=False, overdue=True) == [
        Earned(R.CLOSED_SATISFIED, 10), Earned(R.OVERDUE_COMPLETION, -5)]
    assert judged_attempt(v, stars=2, by_default=False, overdue=False) == [Earned(R.LOW_RATING, -3)]
    assert judged_attempt(v, stars=1, by_default=False, overdue=True) == [
        Earned(R.LOW_RATING, -3), Earned(R.OVERDUE_COMPLETION, -5)]
    assert judged_attempt(v, stars=None, by_default=True, overdue=False) == [Earned(R.DEFAULT_CLOSE, 10)]
    # A rule worth nothing writes no entry.
    assert judged_attempt(PointValues(low_rating=0), stars=2, by_default=False, overdue=False) == []


def test_the_version_in_effect_and_when_a_new_one_may_begin():
    v1 = RuleVersion(1, date(2026, 1, 1), PointValues(closed_satisfied=20))
    v2 = RuleVersion(2, date(2026, 6, 1), PointValues(closed_satisfied=30))
    assert version_on([v1, v2], date(2025, 12, 31)) == BUILT_IN
    assert version_on([v1, v2], date(2026, 5, 31)) == v1 and version_on([v1, v2], date(2026, 6, 1)) == v2
    assert new_version_problem(date(2026, 5, 1), date(2026, 5, 2), None) == "points.rules-in-past"
    assert new_version_problem(date(2026, 5, 2), date(2026, 5, 2), v2) == "points.rules-before-latest"
    assert new_version_problem(date(2026, 6, 1), date(2026, 5, 2), v2) is None


def entries(database, **where) -> list[PointEntry]:
    with database.session() as db:
        statement = select(PointEntry).order_by(PointEntry.id)
        for key, value in where.items():
            statement = statement.where(getattr(PointEntry, key) == value)
        return list(db.exec(statement).all())


def board(client, world, who="dashboard", **params) -> dict[str, dict]:
    items = ok(client.get("/stats/leaderboard", params=params, headers=world.auth(who)))["items"]
    return {m["member"]["name"]: m for m in items}


def test_a_reopened_attempt_earns_nothing_and_a_low_rating_costs(client, world, database):
    """The defect this passbook fixes: reopened twice, then rated 1 star, the member earned 30."""
    order = place(client, world)["id"]
    for stars in (2, 1, 1):
        to_state(client, world, order, "completed")
        act(client, world, "res1", order, "rate", {"stars": stars})
    assert ok(client.get(f"/orders/{order}", headers=world.auth("res1")))["state"] == "closed"
    member = board(client, world)["memberA1"]
    assert (member["points"], member["completed"], member["five_star"], member["overdue"]) == (-9, 0, 0, 0)
    written = entries(database, member_id=world["memberA1"])
    assert [(e.rule, e.points, e.order_id) for e in written] == [("low_rating", -3, order)] * 3
    assert sum(e.points for e in written) == member["points"]


def test_a_satisfied_close_earns_once_with_five_stars_on_top(client, world, database, clock):
    a = place(client, world)["id"]
    to_state(client, world, a, "completed")
    act(client, world, "res1", a, "rate", {"stars": 2})  # memberA1's attempt: −3
    to_state(client, world, a, "completed", member="memberA2")
    act(client, world, "res1", a, "rate", {"stars": 5})  # memberA2's: +10 +5
    late = place(client, world)["id"]
    to_state(client, world, late, "in_progress", member="memberA2")
    clock.advance(days=4)
    act(client, world, "memberA2", late, "complete", {"note": "晚了", "photo_ids": [upload(client, world, "memberA2")]})
    assert [e.rule for e in entries(database, order_id=late)] == []  # marked done is not judged
    clock.advance(days=8)
    sweep(database, now=clock())  # the rating deadline passes: closed by default
    assert [(e.rule, e.points) for e in entries(database, order_id=late)] == [
        ("default_close", 10), ("overdue_completion", -5)]
    shown = board(client, world)
    assert (shown["memberA1"]["points"], shown["memberA2"]["points"]) == (-3, 20)
    assert (shown["memberA2"]["completed"], shown["memberA2"]["five_star"], shown["memberA2"]["overdue"]) == (2, 1, 1)
    # Every entry names its rule, its version, its order and the move it came with.
    with database.session() as db:
        for e in entries(database):
            event = db.get(OrderEvent, e.event_id)
            assert (event.order_id, e.rule_version, e.granted_by_id) == (e.order_id, 0, None)
            assert event.action in ("rate", "reopen", "auto_close")


def test_the_town_changes_its_rules_from_a_day_on_and_history_stays(client, world, database, clock):
    admin = world.auth("admin")
    versions = ok(client.get("/admin/point-rules", headers=admin))
    assert [(v["version"], v["in_effect"], v["closed_satisfied"]) for v in versions] == [(0, True, 10)]
    first = place(client, world)["id"]
    to_state(client, world, first, "completed")
    act(client, world, "res1", first, "rate", {"stars": 4})
    today = clock().astimezone(ZONE).date()
    rules = {"closed_satisfied": 12, "five_star": 6, "default_close": 8, "low_rating": -4, "overdue_completion": -6}
    problem(client.post("/admin/point-rules", json={"effective_from": str(today - timedelta(days=1)), **rules},
                        headers=admin), 422)
    made = ok(client.post("/admin/point-rules", json={"effective_from": str(today + timedelta(days=1)), **rules},
                          headers=admin), 201)
    assert (made["version"], made["in_effect"]) == (1, False)
    problem(client.post("/admin/point-rules", json={"effective_from": str(today), **rules}, headers=admin), 422)
    for who in ("secA", "memberA1"):
        problem(client.post("/admin/point-rules", json={"effective_from": str(today + timedelta(days=2)), **rules},
                            headers=world.auth(who)), 403)
    second = place(client, world)["id"]
    to_state(client, world, second, "completed")
    act(client, world, "res1", second, "rate", {"stars": 4})  # still version 0 today
    clock.advance(days=1)
    third = place(client, world)["id"]
    to_state(client, world, third, "completed")
    act(client, world, "res1", third, "rate", {"stars": 4})
    assert [(e.order_id, e.points, e.rule_version) for e in entries(database)] == [
        (first, 10, 0), (second, 10, 0), (third, 12, 1)]
    versions = ok(client.get("/admin/point-rules", headers=admin))
    assert [(v["version"], v["in_effect"]) for v in versions] == [(0, False), (1, True)]
    assert board(client, world, date_from=str(today), date_to=str(today + timedelta(days=1)))[
        "memberA1"]["points"] == 32


def test_a_whistled_order_earns_no_member_anything(client, world, database):
    from tests.test_whistles import unit, unit_act, unit_staff, whistle
    power = unit(client, world, "供电所")
    unit_staff(client, world, "电工", power["id"], "13811110001")
    order = place(client, world)["id"]
    act(client, world, "workerA1", order, "claim")
    w = whistle(client, world, order, [power["id"]])["whistles"][0]["id"]
    unit_act(client, world, "电工", w, "report-in")
    unit_act(client, world, "电工", w, "reply", {"note": "修好了", "photo_ids": [upload(client, world, "电工")]})
    act(client, world, "res1", order, "rate", {"stars": 5})
    assert entries(database) == []


def test_a_secretary_grants_and_deducts_for_other_duties(client, world, database):
    grant = {"member_id": world["memberA1"], "points": 5, "activity": "theme_day", "reason": "参加11月主题党日"}
    made = ok(client.post("/points/entries", json=grant, headers=world.auth("secA")), 201)
    assert (made["rule"], made["rule_label"], made["activity_label"], made["granted_by"]["name"], made["points"]) == (
        "manual", "支部记分", "主题党日", "secA", 5)
    ok(client.post("/points/entries", json={**grant, "points": -2, "activity": "three_one", "reason": "缺席党课"},
                   headers=world.auth("admin")), 201)
    # Of the branch's members only, a member, not zero, with a reason, not in the future.
    problem(client.post("/points/entries", json={**grant, "member_id": world["memberB1"]},
                        headers=world.auth("secA")), 404)
    problem(client.post("/points/entries", json={**grant, "member_id": world["workerA1"]},
                        headers=world.auth("admin")), 422)
    problem(client.post("/points/entries", json={**grant, "points": 0}, headers=world.auth("secA")), 422)
    problem(client.post("/points/entries", json={**grant, "reason": " "}, headers=world.auth("secA")), 422)
    problem(client.post("/points/entries", json={**grant, "day": "2099-01-01"}, headers=world.auth("secA")), 422)
    for who in ("memberA1", "workerA1", "res1", "dashboard", "admin2"):
        assert client.post("/points/entries", json=grant, headers=world.auth(who)).status_code in (403, 404), who
    with database.session() as db:
        audited = db.exec(select(AuditEntry).where(AuditEntry.entity == "point_entry")).all()
    assert [(a.actor_name, a.changes["points"]) for a in audited] == [("secA", 5), ("admin", -2)]
    assert board(client, world)["memberA1"]["points"] == 3


def test_who_reads_which_passbook(client, world):
    for member, secretary in (("memberA1", "secA"), ("memberA2", "secA"), ("memberB1", "secB")):
        ok(client.post("/points/entries", json={"member_id": world[member], "points": 4, "activity": "volunteer",
                                                "reason": "志愿服务4小时"}, headers=world.auth(secretary)), 201)

    def seen(who, **params):
        page = ok(client.get("/points/entries", params=params, headers=world.auth(who)))
        return sorted(e["member"]["name"] for e in page["items"]), page["points"]

    assert seen("memberA1") == (["memberA1"], 4)
    assert seen("memberA1", member_id=world["memberA2"]) == ([], 0)  # another's passbook reads as empty
    assert seen("secA") == (["memberA1", "memberA2"], 8)
    assert seen("admin") == (["memberA1", "memberA2", "memberB1"], 12)
    assert seen("admin", rule="manual", member_id=world["memberB1"]) == (["memberB1"], 4)
    assert seen("admin2") == ([], 0)
    for who in ("workerA1", "res1", "dashboard"):
        problem(client.get("/points/entries", headers=world.auth(who)), 403)
    mine = ok(client.get("/me/points", headers=world.auth("memberA1")))
    assert (mine["points"], mine["points_this_month"], mine["points_this_year"]) == (4, 4, 4)
    assert [e["activity_label"] for e in mine["recent"]] == ["志愿服务"]
    problem(client.get("/me/points", headers=world.auth("secA")), 403)


def recount(database, town_id) -> dict[int, int]:
    """Each member's points counted again from the orders' timelines, by the default rules."""
    with database.session() as db:
        events = db.exec(select(OrderEvent).order_by(OrderEvent.order_id, OrderEvent.id)).all()
        manual = db.exec(select(PointEntry).where(PointEntry.rule == "manual", PointEntry.town_id == town_id)).all()
    points: Counter = Counter({e.member_id: 0 for e in manual})
    for e in manual:
        points[e.member_id] += e.points
    late: dict[int, bool] = {}
    for event in events:
        if event.action == "complete":
            late[event.order_id] = event.created_at > event.stage_deadline
        elif event.action in ("rate", "reopen", "auto_close") and event.prev_assignee_id:
            member, stars = event.prev_assignee_id, event.data.get("stars")
            if event.action == "auto_close":
                points[member] += 10
            elif stars <= 2:
                points[member] -= 3
            else:
                points[member] += 10 + (5 if stars == 5 else 0)
            if late[event.order_id]:
                points[member] -= 5
    return {m: p for m, p in points.items()}


def test_a_month_of_moves_sums_to_a_recount(client, world, database, clock):
    rng = random.Random(13)
    members = ["memberA1", "memberA2"]
    for i in range(30):
        clock.advance(hours=rng.randint(1, 20))
        resident = rng.choice(["res1", "res2"])
        order = place(client, world, who=resident, description=f"事项{i}")["id"]
        for _ in range(3):
            member = rng.choice(members)
            to_state(client, world, order, "in_progress", member=member)
            if rng.random() < 0.3:
                clock.advance(days=4)  # late
            act(client, world, member, order, "complete", {"note": "好了", "photo_ids": [upload(client, world, member)]})
            if rng.random() < 0.15:
                clock.advance(days=8)
                sweep(database, now=clock())
                break
            rated = act(client, world, resident, order, "rate", {"stars": rng.choice([1, 2, 3, 4, 5, 5])})
            if rated["state"] == "closed":
                break
        if i % 7 == 0:
            ok(client.post("/points/entries", json={"member_id": world[rng.choice(members)], "points": 3,
                                                    "activity": "volunteer", "reason": "志愿服务"},
                           headers=world.auth("secA")), 201)
    expected = recount(database, world["town"])
    last = clock().astimezone(ZONE).date()
    shown = board(client, world, date_from=str(last - timedelta(days=365)), date_to=str(last))
    assert {world[name]: m["points"] for name, m in shown.items()} == expected
    with database.session() as db:
        summed = Counter()
        for e in db.exec(select(PointEntry)).all():
            summed[e.member_id] += e.points
    assert dict(summed) == expected
    rules = Counter(e.rule for e in entries(database))
    assert len(expected) == 2 and all(rules[r] for r in ("low_rating", "closed_satisfied", "five_star",
                                                          "overdue_completion", "default_close", "manual")), rules


@pytest.mark.parametrize("backend", backend_params())
def test_upgrading_carries_the_old_points_over_and_the_towns_settings_become_version_1(backend, tmp_path):
    if backend == "postgres" and postgres_reachable():
        pytest.skip("PostgreSQL not reachable")
    old = TestDatabase(backend, tmp_path, revision="0017")
    try:
        engine = old.database.engine
        with engine.begin() as connection:
            insert_old_town(connection)
            connection.execute(text("UPDATE towns SET points_completed = 8, points_overdue = -2"))
            insert_filled(connection, "branches", id=1, town_id=1, name="b")
            insert_filled(connection, "staff", id=1, town_id=1, branch_id=1, role="member", name="m",
                          phone="13700000001", password_hash="x", is_local_worthy=False, active=True, token_version=0)
            for day, points, completed in (("2026-11-02", 13, 1), ("2026-11-05", 8, 1), ("2026-11-06", 0, 0)):
                insert_filled(connection, "member_points", town_id=1, branch_id=1, member_id=1, day=day,
                              points=points, completed=completed, five_star=int(points == 13), overdue=0)
        upgrade(engine)
        with old.database.session() as db:
            carried = db.exec(select(PointEntry).order_by(PointEntry.day)).all()
            assert [(e.day, e.points, e.rule, e.member_id, e.branch_id) for e in carried] == [
                (date(2026, 11, 2), 13, "carried_over", 1, 1), (date(2026, 11, 5), 8, "carried_over", 1, 1)]
            assert carried[0].at.astimezone(ZONE).date() == date(2026, 11, 2)
            assert db.get(Town, 1).passbook_since is not None
        with engine.connect() as connection:
            v1 = connection.execute(text("SELECT version, closed_satisfied, five_star, default_close, low_rating,"
                                         " overdue_completion FROM point_rule_versions")).one()
        assert tuple(v1) == (1, 8, 5, 8, -3, -2)
        assert not inspect(engine).has_table("member_points")
        assert "points_completed" not in {c["name"] for c in inspect(engine).get_columns("towns")}
        config = alembic_config(engine)
        with engine.connect() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0017")
            connection.commit()
        with engine.connect() as connection:
            assert connection.execute(text("SELECT points_completed, points_overdue FROM towns")).one() == (8, -2)
            assert connection.execute(text("SELECT SUM(points), SUM(completed) FROM member_points")).one() == (21, 0)
        assert not inspect(engine).has_table("point_entries")
    finally:
        old.drop()


def test_an_attempt_completed_before_the_passbook_began_was_counted_then(client, world, database, clock):
    order = place(client, world)["id"]
    to_state(client, world, order, "completed")
    with database.session(write=True) as db:
        db.get(Town, world["town"]).passbook_since = clock() + timedelta(seconds=1)
        db.commit()
    clock.advance(minutes=5)
    act(client, world, "res1", order, "rate", {"stars": 5})
    assert [(e.rule, e.points) for e in entries(database)] == [("five_star", 5)]


def test_dates_in_utc_and_town_days(client, world, database, clock):
    clock.now = datetime(2026, 11, 30, 17, 0, tzinfo=timezone.utc)  # 1 December, 01:00 in the town
    order = place(client, world)["id"]
    to_state(client, world, order, "completed")
    act(client, world, "res1", order, "rate", {"stars": 4})
    entry = entries(database)[0]
    assert entry.day == date(2026, 12, 1)
    shown = ok(client.get("/points/entries", headers=world.auth("admin")))["items"][0]
    assert shown["at"].endswith("Z") and shown["day"] == "2026-12-01"
    problem(client.get("/points/entries?date_from=2026-13-01", headers=world.auth("admin")), 422)
