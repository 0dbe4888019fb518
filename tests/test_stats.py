"""The dashboards' numbers: from aggregates, equal to what the orders say, cheap to poll."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import func, select

from storage.models import Order, StatsCount, StatsStageTime
from tests.helpers import act, count_moves, place, to_state, upload
from workflows.sweep import sweep


def stats(client, world, path="overview", who="dashboard", expect=200, **params):
    count_moves(client)
    r = client.get(f"/stats/{path}", params=params, headers=world.auth(who))
    assert r.status_code == expect, r.text
    return r.json() if expect == 200 else r


def test_three_rates_by_their_definitions(client, world, clock, database):
    a, b, c, d, e = (place(client, world)["id"] for _ in range(5))
    act(client, world, "workerA1", a, "claim")  # in time
    to_state(client, world, b, "completed")  # in time
    act(client, world, "res1", b, "rate", {"stars": 5})
    act(client, world, "res1", c, "cancel")
    clock.advance(hours=3)
    to_state(client, world, d, "completed")  # claimed late
    act(client, world, "res1", d, "rate", {"stars": 1})  # reopens: a rating, not a good one
    to_state(client, world, d, "completed")
    act(client, world, "res1", d, "rate", {"stars": 4})
    to_state(client, world, e, "completed")  # left unrated: closes by default
    clock.advance(days=8)
    sweep(database, now=clock())

    body = stats(client, world, date_from="2026-11-01", date_to="2026-11-30")
    assert body["submitted"] == 5
    assert body["by_state"] == {"submitted": 0, "claimed": 1, "dispatched": 0, "whistled": 0, "in_progress": 0,
                                "completed": 0, "closed": 3, "rejected": 0, "cancelled": 1}
    assert body["labels"]["closed"] == "已办结"
    assert body["rate_counts"] == {"claimed_in_time": 2, "closed": 3, "cancelled": 1, "ratings": 3,
                                   "ratings_good": 2, "ratings_default": 1, "duplicates": 0}
    assert body["rates"] == {"response": 2 / 5, "resolution": 3 / 4, "satisfaction": 2 / 3}
    assert body["stage_times"]["claim"]["count"] == 4
    assert body["stage_times"]["rate"]["count"] == 4  # three ratings and the default close
    claim = body["stage_times"]["claim"]
    assert claim["avg_seconds"] == pytest.approx((0 + 0 + 3 * 3600 + 3 * 3600) / 4)
    assert claim["p90_seconds"] is not None and 3600 * 2 < claim["p90_seconds"] <= 3 * 3600 * 1.5


def test_member_points(client, world, clock):
    a, b = place(client, world)["id"], place(client, world)["id"]
    to_state(client, world, a, "completed")
    act(client, world, "res1", a, "rate", {"stars": 5})
    to_state(client, world, b, "in_progress", member="memberA2")
    clock.advance(days=4)  # past the 72 h limit
    act(client, world, "memberA2", b, "complete", {"note": "晚了", "photo_ids": [upload(client, world, "memberA2")]})
    # Earned when the work is judged, not when it is marked done.
    assert [m["member"]["name"] for m in stats(client, world, "leaderboard")["items"]] == ["memberA1"]
    act(client, world, "res1", b, "rate", {"stars": 4})
    board = stats(client, world, "leaderboard")["items"]
    assert [(m["member"]["name"], m["points"], m["completed"], m["five_star"], m["overdue"]) for m in board] == [
        ("memberA1", 15, 1, 1, 0), ("memberA2", 5, 1, 0, 1),
    ]
    # The rules are the town's configuration, in versions from a day on.
    today = clock().astimezone(ZoneInfo("Asia/Shanghai")).date().isoformat()
    r = client.post("/admin/point-rules", json={"effective_from": today, "closed_satisfied": 20, "five_star": 5,
                                                "default_close": 10, "low_rating": -3, "overdue_completion": -5},
                    headers=world.auth("admin"))
    assert r.status_code == 201, r.text
    c = place(client, world)["id"]
    to_state(client, world, c, "completed", member="memberA2")
    act(client, world, "res1", c, "rate", {"stars": 3})
    assert stats(client, world, "leaderboard")["items"][0] == {
        "member": {"id": world["memberA2"], "name": "memberA2"}, "branch": {"id": world["branchA"], "name": "甲村党支部"},
        "points": 25, "completed": 2, "five_star": 0, "overdue": 1}


def test_aggregates_agree_with_the_orders(client, world, clock, database):
    """Random walks through the loop; the cube must say what a scan of the orders says."""
    rng = random.Random(7)
    ids = [place(client, world, **({"grid_id": world["gridA2"]} if i % 3 == 0 else {}))["id"] for i in range(24)]
    for oid in ids:
        clock.advance(minutes=rng.randint(1, 200))
        target = rng.choice(["submitted", "claimed", "dispatched", "in_progress", "completed", "closed", "cancelled"])
        if target == "cancelled":
            act(client, world, "res1", oid, "cancel")
            continue
        grid = "gridA2" if ids.index(oid) % 3 == 0 else "gridA1"
        if grid == "gridA2" and target != "submitted":
            act(client, world, "workerA2", oid, "claim")
        if target == "closed":
            to_state(client, world, oid, "completed")
            act(client, world, "res1", oid, "rate", {"stars": rng.randint(1, 5)})
        else:
            to_state(client, world, oid, target)
    with database.session() as db:
        truth = dict(db.exec(select(Order.state, func.count()).group_by(Order.state)).all())
        per_grid = dict(db.exec(select(Order.grid_id, func.count()).group_by(Order.grid_id)).all())
    body = stats(client, world, who="admin")
    assert {k: v for k, v in body["by_state"].items() if v} == truth
    assert body["submitted"] == len(ids)
    for grid in ("gridA1", "gridA2"):
        assert stats(client, world, who="admin", grid_id=world[grid])["submitted"] == per_grid.get(world[grid], 0)
    member = stats(client, world, who="admin", member_id=world["memberA1"])
    with database.session() as db:
        held = db.exec(select(func.count()).select_from(Order).where(Order.assignee_id == world["memberA1"])).one()
    assert member["submitted"] == held
    summary = client.get("/stats/summary", headers=world.auth("admin")).json()
    assert {k: v for k, v in summary["by_state"].items() if v} == truth
    # The branch cube is the place cube summed over grids and categories, cell for cell.
    with database.session() as db:
        for model, keys in ((StatsCount, ("metric",)), (StatsStageTime, ("stage", "bucket"))):
            sums = [model.n] + ([model.seconds_sum] if model is StatsStageTime else [])
            group = [model.day, model.branch_id, *(getattr(model, k) for k in keys)]

            def cube(*where, group=group, sums=sums, model=model):
                rows = db.exec(select(*group, *(func.sum(c) for c in sums)).where(*where).group_by(*group)).all()
                return {tuple(r[:len(group)]): tuple(int(v) for v in r[len(group):]) for r in rows}

            place_cube = cube(model.member_id == 0, model.grid_id > 0)
            assert place_cube and cube(model.member_id == 0, model.grid_id == 0) == place_cube


def test_days_are_counted_in_the_towns_time_zone(client, world, clock):
    clock.now = datetime(2026, 11, 20, 17, 30, tzinfo=UTC)  # 01:30 on the 21st in Shanghai
    place(client, world)
    days = stats(client, world, "daily", date_from="2026-11-20", date_to="2026-11-22")["days"]
    assert [(d["date"], d["submitted"]) for d in days] == [("2026-11-20", 0), ("2026-11-21", 1), ("2026-11-22", 0)]


def test_scopes_and_who_may_ask(client, world):
    place(client, world)
    place(client, world, who="res2", grid_id=world["gridB1"])
    assert stats(client, world, who="admin")["submitted"] == 2
    assert stats(client, world, who="secA")["submitted"] == 1, "a secretary sees the branch"
    assert stats(client, world, who="secA", expect=404, branch_id=world["branchB"])
    assert stats(client, world, who="admin", branch_id=world["branchB"])["submitted"] == 1
    assert stats(client, world, who="admin", category_id=world["cat_urgent"])["submitted"] == 0
    assert stats(client, world, who="admin2")["submitted"] == 0
    assert stats(client, world, who="admin2", expect=404, grid_id=world["gridA1"])
    for who in ("workerA1", "memberA1", "res1"):
        stats(client, world, who=who, expect=403)
    stats(client, world, expect=422, date_from="2026-01-01", date_to="2027-06-01")
    stats(client, world, expect=422, date_from="2026-11-20", date_to="2026-11-01")
    stats(client, world, expect=422, date_from="yesterday")


def test_grids_ranked_and_overdue_listed(client, world, clock):
    good = place(client, world)["id"]
    to_state(client, world, good, "completed")
    act(client, world, "res1", good, "rate", {"stars": 5})
    place(client, world, grid_id=world["gridA2"])
    clock.advance(hours=5)
    ranked = stats(client, world, "grids")["items"]
    assert [(g["grid"]["name"], g["branch"]["name"]) for g in ranked] == [
        ("gridA1", "甲村党支部"), ("gridA2", "甲村党支部"), ("gridB1", "乙村党支部")]
    assert ranked[0]["grid"]["id"] == world["gridA1"]
    assert ranked[0]["rates"] == {"response": 1.0, "resolution": 1.0, "satisfaction": 1.0}
    overdue = stats(client, world, "overdue")["items"]
    assert [(o["grid"], o["category"], o["stage"], o["state_label"], o["overdue_seconds"]) for o in overdue] == [
        ({"id": world["gridA2"], "name": "gridA2"}, {"id": world["cat"], "name": "基础设施维修"}, "claim", "待领单",
         3 * 3600)]
    assert "description" not in overdue[0] and "contact_phone" not in overdue[0]
    assert stats(client, world)["overdue_now"] == {"total": 1, "by_stage": {
        "claim": 1, "dispatch": 0, "accept": 0, "complete": 0, "rate": 0}}


def test_an_unchanged_poll_is_304(client, world, clock):
    place(client, world)
    count_moves(client)
    headers = world.auth("dashboard")
    first = client.get("/stats/overview", headers=headers)
    etag = first.headers["etag"]
    again = client.get("/stats/overview", headers={**headers, "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    other_question = client.get("/stats/daily", headers={**headers, "If-None-Match": etag})
    assert other_question.status_code == 200
    place(client, world)
    not_counted_yet = client.get("/stats/overview", headers={**headers, "If-None-Match": etag})
    assert not_counted_yet.status_code == 304, "a move counts once the projection has read it"
    count_moves(client)
    moved = client.get("/stats/overview", headers={**headers, "If-None-Match": etag})
    assert moved.status_code == 200 and moved.headers["etag"] != etag and moved.json()["submitted"] == 2
    clock.advance(minutes=1)  # overdue counts age with the clock
    later = client.get("/stats/overview", headers={**headers, "If-None-Match": moved.headers["etag"]})
    assert later.status_code == 200
