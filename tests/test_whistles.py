"""吹哨报到: a branch whistles an order to co-building units; each reports in, replies or declines."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from sqlalchemy import inspect, text

from notifications.dispatcher import Dispatcher, RetryPolicy
from notifications.inapp import InAppChannel
from storage.migrate import alembic_config, upgrade
from storage.models import OutboxMessage, Staff, Town, WhistleAlert
from tests.databases import TestDatabase, backend_params, insert_old_town, postgres_reachable
from sqlmodel import select
from tests.helpers import act, get, place, upload
from tests.test_admin import ok, problem
from tests.world import _token
from workflows.whistle_sweep import sweep_whistles


def unit(client, world, name, kind="department", who="admin") -> dict:
    return ok(client.post("/admin/units", json={"name": name, "kind": kind}, headers=world.auth(who)), 201)


def unit_staff(client, world, name, unit_id, phone, who="admin", town="town") -> None:
    staff = ok(client.post("/admin/staff", json={
        "name": name, "phone": phone, "role": "unit_staff", "password": "a long password", "unit_id": unit_id,
    }, headers=world.auth(who)), 201)
    world.ids[name] = staff["id"]
    world.tokens[name] = _token(world.settings, "staff", staff["id"], "unit_staff", world[town], None or _now(client))


def _now(client):
    return client.app.state.clock()


@pytest.fixture
def units(client, world) -> dict:
    """Two staffed units of the town (供电所, 红色物业), one without staff, one of the other town."""
    power = unit(client, world, "供电所")
    estate = unit(client, world, "红色物业", kind="property")
    empty = unit(client, world, "消防站")
    other = unit(client, world, "邻镇供电所", who="admin2")
    unit_staff(client, world, "uPower", power["id"], "13811110001")
    unit_staff(client, world, "uEstate", estate["id"], "13811110002")
    unit_staff(client, world, "uOther", other["id"], "13811110003", who="admin2", town="town2")
    return {"power": power, "estate": estate, "empty": empty, "other": other}


def claimed_order(client, world) -> dict:
    order = place(client, world, description="小区管线老化，需供电、物业一同处理")
    return act(client, world, "workerA1", order["id"], "claim")


def whistle(client, world, order_id, unit_ids, who="secA", expect=200, **extra):
    r = client.post(f"/orders/{order_id}/whistle", json={"unit_ids": unit_ids, **extra}, headers=world.auth(who))
    assert r.status_code == expect, r.text
    return r.json()


def unit_act(client, world, who, whistle_id, action, body=None, expect=200):
    r = client.post(f"/whistles/{whistle_id}/{action}", json=body, headers=world.auth(who))
    assert r.status_code == expect, r.text
    return r.json()


def test_units_and_their_staff_are_the_admins(client, world, units):
    listed = ok(client.get("/units", headers=world.auth("secA")))
    assert [(u["name"], u["kind_label"], u["staff"]) for u in listed["items"]] == [
        ("供电所", "职能部门", 1), ("红色物业", "物业企业", 1), ("消防站", "职能部门", 0)]
    assert ok(client.get("/units", headers=world.auth("admin2")))["total"] == 1
    problem(client.get("/units", headers=world.auth("memberA1")), 403)
    problem(client.get("/units", headers=world.auth("uPower")), 403)
    problem(client.get(f"/units/{units['other']['id']}", headers=world.auth("secA")), 404)
    problem(client.post("/admin/units", json={"name": "供电所"}, headers=world.auth("admin")), 409)
    problem(client.post("/admin/units", json={"name": "x", "kind": "bank"}, headers=world.auth("admin")), 422)
    problem(client.post("/admin/units", json={"name": "x"}, headers=world.auth("secA")), 403)
    patched = ok(client.patch(f"/admin/units/{units['empty']['id']}", json={"contact_phone": "13800001234"},
                              headers=world.auth("admin")))
    assert patched["contact_phone"] == "13800001234"
    # A unit's staff belong to a unit of the town; nobody else belongs to one.
    staff = {"name": "x", "phone": "13822220000", "role": "unit_staff", "password": "a long password"}
    assert problem(client.post("/admin/staff", json=staff, headers=world.auth("admin")), 422)["detail"].startswith(
        "a unit's staff belong to a unit")
    problem(client.post("/admin/staff", json={**staff, "unit_id": units["other"]["id"]},
                        headers=world.auth("admin")), 422)
    problem(client.post("/admin/staff", json={**staff, "role": "member", "branch_id": world["branchA"],
                                              "unit_id": units["power"]["id"]}, headers=world.auth("admin")), 422)


def test_a_whistled_order_waits_for_its_units_then_goes_to_be_rated(client, world, units, database, clock):
    order = claimed_order(client, world)
    whistled = whistle(client, world, order["id"], [units["power"]["id"], units["estate"]["id"]], note="请报到")
    assert (whistled["state"], whistled["state_label"]) == ("whistled", "部门办理中")
    assert [w["unit"]["name"] for w in whistled["whistles"]] == ["供电所", "红色物业"]
    first = whistled["whistles"][0]
    assert first["state"] == "whistled" and first["state_label"] == "待报到" and first["reported_on_time"] is None
    assert first["report_deadline"] == (clock() + timedelta(hours=24)).isoformat().replace("+00:00", "Z")
    assert first["allowed_actions"] == []  # the secretary reads it; only the unit acts on it
    power_id, estate_id = (w["id"] for w in whistled["whistles"])

    # Each unit sees its own whistle, with its buttons, and the order; no other unit does.
    mine = ok(client.get("/whistles", headers=world.auth("uPower")))
    assert [w["id"] for w in mine["items"]] == [power_id]
    assert mine["items"][0]["allowed_actions"] == ["report_in", "unit_decline"]
    assert mine["items"][0]["order"]["description"].startswith("小区管线")
    assert get(client, world, "uPower", order["id"])["state"] == "whistled"
    get(client, world, "uOther", order["id"], expect=404)
    problem(client.get(f"/whistles/{estate_id}", headers=world.auth("uPower")), 404)
    problem(client.post(f"/whistles/{estate_id}/report-in", headers=world.auth("uPower")), 404)
    # The units are told, in their inbox.
    Dispatcher(database, [InAppChannel(database, clock)], RetryPolicy(), clock).run_once()
    told = ok(client.get("/me/inbox", headers=world.auth("uPower")))["items"]
    assert [i["kind"] for i in told] == ["whistle.whistled"] and told[0]["title"] == "吹哨:请本单位报到"

    # Replying before reporting in names the whistle's state and what it allows.
    refused = problem(client.post(f"/whistles/{power_id}/reply", json={"note": "好了"},
                                  headers=world.auth("uPower")), 409)
    assert refused["current_state"] == "whistled" and refused["allowed_actions"] == ["report_in", "unit_decline"]
    assert refused["current_state_label"] == "待报到"

    clock.advance(hours=1)
    reported = unit_act(client, world, "uPower", power_id, "report-in")
    assert reported["state"] == "reported" and reported["reported_on_time"] is True
    assert reported["allowed_actions"] == ["unit_decline", "unit_reply"]
    assert reported["reply_deadline"] == (clock() + timedelta(hours=72)).isoformat().replace("+00:00", "Z")
    photo = upload(client, world, "uPower")
    replied = unit_act(client, world, "uPower", power_id, "reply", {"note": "已更换线路", "photo_ids": [photo]})
    assert replied["state"] == "replied" and replied["order"]["state"] == "whistled"  # the estate is still at work

    unit_act(client, world, "uEstate", estate_id, "report-in")
    unit_act(client, world, "uEstate", estate_id, "decline", {"reason": "不属于物业管辖"})
    done = get(client, world, "res1", order["id"])
    assert (done["state"], done["state_label"]) == ("completed", "待评价")
    assert done["completion_note"] == "供电所：已更换线路"
    assert [e["action"] for e in done["timeline"]] == [
        "submit", "claim", "whistle", "report_in", "unit_reply", "report_in", "unit_decline", "units_done"]
    assert [e["action_label"] for e in done["timeline"]][-1] == "部门办结"
    assert [p["id"] for p in done["photos"] if p["purpose"] == "evidence"] == [photo]
    assert all(w["settled"] for w in done["whistles"])
    assert done["allowed_actions"] == ["rate"]
    closed = act(client, world, "res1", order["id"], "rate", {"stars": 5})
    assert closed["state"] == "closed"
    # A settled whistle allows its unit nothing more.
    assert unit_act(client, world, "uPower", power_id, "decline", {"reason": "x"}, expect=409)["allowed_actions"] == []


def test_when_every_unit_declines_the_order_goes_back_to_the_branch(client, world, units):
    order = claimed_order(client, world)
    whistled = whistle(client, world, order["id"], [units["power"]["id"]])
    unit_act(client, world, "uPower", whistled["whistles"][0]["id"], "decline", {"reason": "非本单位职责"})
    back = get(client, world, "secA", order["id"])
    assert back["state"] == "claimed" and back["timeline"][-1]["action"] == "units_returned"
    assert "dispatch" in back["allowed_actions"] and "whistle" in back["allowed_actions"]
    # Whistled again, the same unit gets a new whistle; the declined one stays on record.
    again = whistle(client, world, order["id"], [units["power"]["id"]])
    assert [w["state"] for w in again["whistles"]] == ["declined", "whistled"]


def test_who_may_whistle_and_to_whom(client, world, units):
    order = claimed_order(client, world)
    for ids, key in (([units["empty"]["id"]], "no active staff"), ([units["other"]["id"]], "not units of this town"),
                     ([999999], "not units of this town")):
        assert key in whistle(client, world, order["id"], ids, expect=422)["detail"]
    problem(client.post(f"/orders/{order['id']}/whistle", json={"unit_ids": []}, headers=world.auth("secA")), 422)
    whistle(client, world, order["id"], [units["power"]["id"]], who="secB", expect=404)  # another branch's order
    whistle(client, world, order["id"], [units["power"]["id"]], who="memberA1", expect=403)
    whistle(client, world, order["id"], [units["power"]["id"]], who="uPower", expect=403)
    whistle(client, world, order["id"], [units["power"]["id"]], who="admin2", expect=404)
    ok(client.patch(f"/admin/units/{units['estate']['id']}", json={"active": False}, headers=world.auth("admin")))
    assert "inactive" in whistle(client, world, order["id"], [units["estate"]["id"]], expect=422)["detail"]
    # The town admin may whistle too; a unit already waited for is not whistled twice.
    whistled = whistle(client, world, order["id"], [units["power"]["id"]], who="admin")
    assert "already waits" in whistle(client, world, order["id"], [units["power"]["id"]], expect=422)["detail"]
    assert len(whistled["whistles"]) == 1
    # Unsubmitted moves: a submitted order is the grid's, not yet the branch's.
    fresh = place(client, world)
    refused = whistle(client, world, fresh["id"], [units["power"]["id"]], expect=409)
    assert refused["current_state"] == "submitted" and refused["allowed_actions"] == []
    # Residents and members see no whistles list; the secretary sees the branch's.
    problem(client.get("/whistles", headers=world.auth("res1")), 403)
    problem(client.get("/whistles", headers=world.auth("memberA1")), 403)
    assert ok(client.get("/whistles", headers=world.auth("secB")))["total"] == 0
    assert ok(client.get("/whistles", headers=world.auth("secA")))["total"] == 1


def test_urgent_limits_are_the_towns(client, world, units, clock):
    ok(client.patch("/admin/town", json={"whistle_report_urgent_minutes": 60}, headers=world.auth("admin")))
    order = claimed_order(client, world)
    whistled = whistle(client, world, order["id"], [units["power"]["id"]], urgency="urgent")
    assert whistled["whistles"][0]["report_deadline"] == (
        clock() + timedelta(minutes=60)).isoformat().replace("+00:00", "Z")


def test_late_units_are_reminded_and_the_town_office_told_once(client, world, units, database, clock):
    order = claimed_order(client, world)
    whistled = whistle(client, world, order["id"], [units["power"]["id"]])
    whistle_id = whistled["whistles"][0]["id"]
    assert sweep_whistles(database, now=clock()).alerts == 0
    clock.advance(hours=24, minutes=1)
    assert sweep_whistles(database, now=clock()).alerts == 1
    assert sweep_whistles(database, now=clock()).alerts == 0  # raised once
    late = ok(client.get(f"/whistles/{whistle_id}", headers=world.auth("uPower")))
    assert late["overdue"] is True and late["reported_on_time"] is False
    assert ok(client.get("/whistles?overdue=true", headers=world.auth("admin")))["total"] == 1
    clock.advance(hours=24)
    assert sweep_whistles(database, now=clock()).alerts == 2  # the latest reminder, and the escalation
    with database.session() as db:
        alerts = db.exec(select(WhistleAlert.kind, WhistleAlert.round, WhistleAlert.audience)
                         .order_by(WhistleAlert.id)).all()
        notices = db.exec(select(OutboxMessage.kind, OutboxMessage.audience, OutboxMessage.audience_id)
                          .where(OutboxMessage.kind.like("whistle.%")).order_by(OutboxMessage.id)).all()
    assert [tuple(a) for a in alerts] == [("reminder", 1, "unit_staff"), ("reminder", 3, "unit_staff"),
                                          ("escalation", 1, "town_admins")]
    assert [tuple(n) for n in notices] == [
        ("whistle.whistled", "unit_staff", units["power"]["id"]), ("whistle.reminder", "unit_staff", units["power"]["id"]),
        ("whistle.reminder", "unit_staff", units["power"]["id"]), ("whistle.escalation", "town_admins", world["town"])]
    # Reporting in starts the reply stage: its alerts are its own, and nothing is due yet.
    unit_act(client, world, "uPower", whistle_id, "report-in")
    assert sweep_whistles(database, now=clock()).examined == 0


def recount(database, town_id, now, start, end) -> dict[int, dict]:
    """The per-unit figures counted again in Python from the raw whistle rows."""
    from storage.models import Whistle

    with database.session() as db:
        rows = db.exec(select(Whistle).where(Whistle.town_id == town_id)).all()
    out: dict[int, dict] = {}
    for w in rows:
        if not start <= w.whistled_at < end:
            continue
        n = out.setdefault(w.unit_id, dict.fromkeys(
            ("whistled", "reported", "answers_due", "answered_on_time", "replied", "declined", "open", "rated",
             "satisfied"), 0))
        answered = w.reported_at or w.declined_at
        n["whistled"] += 1
        n["reported"] += w.reported_at is not None
        n["answers_due"] += answered is not None or w.report_deadline < now
        n["answered_on_time"] += answered is not None and answered <= w.report_deadline
        n["replied"] += w.state == "replied"
        n["declined"] += w.state == "declined"
        n["open"] += w.state in ("whistled", "reported")
        n["rated"] += w.rating_stars is not None
        n["satisfied"] += (w.rating_stars or 0) >= 4
    return out


def test_unit_stats_equal_a_recount_of_the_whistles(client, world, units, database, clock):
    import random

    rng = random.Random(12)
    staff_of = {units["power"]["id"]: "uPower", units["estate"]["id"]: "uEstate"}
    start = clock()
    for _ in range(14):
        order = claimed_order(client, world)
        chosen = rng.sample(sorted(staff_of), rng.choice((1, 2)))
        urgency = rng.choice(("normal", "urgent"))
        for w in whistle(client, world, order["id"], chosen, urgency=urgency)["whistles"]:
            clock.advance(minutes=rng.choice((30, 90, 200)))
            who = staff_of[w["unit"]["id"]]
            fate = rng.choice(("report", "reply", "reply", "decline", "none"))
            if fate == "none":
                continue
            if fate == "decline":
                unit_act(client, world, who, w["id"], "decline", {"reason": "非本单位"})
                continue
            unit_act(client, world, who, w["id"], "report-in")
            if fate == "reply":
                unit_act(client, world, who, w["id"], "reply", {"note": "已处理"})
        now_order = get(client, world, "res1", order["id"])
        if now_order["state"] == "completed" and rng.random() < 0.8:
            act(client, world, "res1", order["id"], "rate", {"stars": rng.choice((1, 3, 4, 5))})
    clock.advance(hours=3)
    zone = ZoneInfo("Asia/Shanghai")
    # From the second day of the month on: the whistles of its first day are left out, by their town day.
    first = start.astimezone(zone).date() + timedelta(days=1)
    last = clock().astimezone(zone).date()
    answer = ok(client.get(f"/stats/units?date_from={first}&date_to={last}", headers=world.auth("dashboard")))
    expected = recount(database, world["town"], clock(), datetime.combine(first, time(0), zone),
                       datetime.combine(last + timedelta(days=1), time(0), zone))
    got = {row["unit"]["id"]: {k: row[k] for k in expected.get(row["unit"]["id"], {})} for row in answer["units"]}
    assert {k: v for k, v in got.items() if v} == expected
    assert sum(n["whistled"] for n in expected.values()) == answer["total"]["whistled"] > 5
    everything = ok(client.get(f"/stats/units?date_from={first - timedelta(days=1)}&date_to={last}",
                               headers=world.auth("dashboard")))
    assert everything["total"]["whistled"] > answer["total"]["whistled"]
    power = next(r for r in answer["units"] if r["unit"]["id"] == units["power"]["id"])
    n = expected[units["power"]["id"]]
    assert power["resolution_rate"] == round(n["replied"] / (n["whistled"] - n["declined"]), 4)
    assert power["report_rate_on_time"] == round(n["answered_on_time"] / n["answers_due"], 4)
    empty = next(r for r in answer["units"] if r["unit"]["id"] == units["empty"]["id"])
    assert empty["whistled"] == 0 and empty["resolution_rate"] is None
    # A secretary reads the branch's whistles only; a grid worker reads none.
    assert ok(client.get("/stats/units", headers=world.auth("secB")))["total"]["whistled"] == 0
    problem(client.get("/stats/units", headers=world.auth("workerA1")), 403)
    problem(client.get("/stats/units", headers=world.auth("uPower")), 403)


@pytest.mark.parametrize("backend", backend_params())
def test_upgrading_a_populated_database_gives_towns_the_default_limits(backend, tmp_path):
    if backend == "postgres" and postgres_reachable():
        pytest.skip("PostgreSQL not reachable")
    old = TestDatabase(backend, tmp_path, revision="0013")
    try:
        engine = old.database.engine
        with engine.begin() as connection:
            insert_old_town(connection)
            connection.execute(text(
                "INSERT INTO staff (id, town_id, role, name, phone, password_hash, is_local_worthy, active,"
                " token_version, created_at) VALUES (1, 1, 'town_admin', 'a', '13800000000', 'x', false, true, 0,"
                " CURRENT_TIMESTAMP)"))
        upgrade(engine)
        with old.database.session() as db:
            town = db.get(Town, 1)
            assert (town.whistle_report_minutes, town.whistle_report_urgent_minutes, town.whistle_reply_minutes,
                    town.whistle_reply_urgent_minutes) == (1440, 120, 4320, 1440)
            assert db.get(Staff, 1).unit_id is None
        config = alembic_config(engine)
        with engine.connect() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0013")
            connection.commit()
        assert "unit_id" not in {c["name"] for c in inspect(engine).get_columns("staff")}
        assert not inspect(engine).has_table("whistles") and not inspect(engine).has_table("units")
        with engine.connect() as connection:
            assert connection.execute(text("SELECT name FROM staff WHERE id = 1")).scalar_one() == "a"
    finally:
        old.drop()


def test_units_replying_at_once_move_the_order_on_exactly_once(app, client, world, database, clock):
    """Six units reply at the same moment over a real socket: each reply stands, and only the last
    one to commit moves the order on, once."""
    import httpx

    from storage.models import OrderEvent
    from tests.live_server import LiveServer
    from tests.test_races import _all_at_once

    n = 6
    ids = []
    for i in range(n):
        made = unit(client, world, f"单位{i}")
        unit_staff(client, world, f"u{i}", made["id"], f"1381111{i:04d}")
        ids.append(made["id"])
    order = claimed_order(client, world)
    whistled = whistle(client, world, order["id"], ids)
    by_unit = {w["unit"]["id"]: w["id"] for w in whistled["whistles"]}
    for i, unit_id in enumerate(ids):
        unit_act(client, world, f"u{i}", by_unit[unit_id], "report-in")
    with LiveServer(app) as url, httpx.Client(base_url=url, timeout=60) as http:
        responses = _all_at_once([
            lambda i=i, unit_id=unit_id: http.post(f"/whistles/{by_unit[unit_id]}/reply", json={"note": f"第{i}项已办"},
                                                  headers=world.auth(f"u{i}"))
            for i, unit_id in enumerate(ids)])
    assert [r.status_code for r in responses] == [200] * n, [r.text for r in responses]
    done = get(client, world, "res1", order["id"])
    assert done["state"] == "completed"
    assert sorted(done["completion_note"].splitlines()) == sorted(f"单位{i}：第{i}项已办" for i in range(n))
    with database.session() as db:
        actions = db.exec(select(OrderEvent.action).where(OrderEvent.order_id == order["id"])).all()
    assert actions.count("unit_reply") == n and actions.count("units_done") == 1
