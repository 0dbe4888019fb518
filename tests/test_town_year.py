"""A generated town runs a year: orders round the loop (some reopened, some late, some closed by
default), the secretaries' entries, a task through the 揭榜 board, a project through its year.
The passbook sums equal the leaderboard and a recount; stars come out of the configured
thresholds; the year's report, made by the scheduler, opens as XLSX and PDF and shows the
figures a recount of the raw rows gives. Both stores."""

from __future__ import annotations

import io
import random
from collections import Counter
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pypdf
from openpyxl import load_workbook
from sqlmodel import select

from domain.stars import MemberStarRules
from storage.models import Order, PointEntry, Report
from tests.helpers import act, place, to_state, upload
from tests.test_admin import ok
from tests.test_points import recount as recount_points
from workflows.reports import scheduled_reports
from workflows.sweep import sweep
from workflows.tasks import expire_tasks

ZONE = ZoneInfo("Asia/Shanghai")


def _month(client, world, database, clock, rng, month: int) -> None:
    for i in range(4):
        clock.advance(days=rng.randint(1, 6))
        resident = rng.choice(["res1", "res2"])
        grid = rng.choice(["gridA1", "gridA1", "gridA2"])
        order = place(client, world, who=resident, grid_id=world[grid], description=f"{month}月第{i}件")["id"]
        fate = rng.random()
        if fate < 0.1:
            act(client, world, resident, order, "cancel", {})
            continue
        if fate < 0.2:
            continue  # still waiting to be claimed
        worker = "workerA1" if grid == "gridA1" else "workerA2"
        for _ in range(3):
            member = rng.choice(["memberA1", "memberA2"])
            current = ok(client.get(f"/orders/{order}", headers=world.auth("admin")))["state"]
            if current == "submitted":
                act(client, world, worker, order, "claim")
            act(client, world, "secA", order, "dispatch", {"member_id": world[member]})
            act(client, world, member, order, "accept")
            if rng.random() < 0.25:
                clock.advance(days=4)  # past the 72 h limit
            act(client, world, member, order, "complete",
                {"note": "已办好", "photo_ids": [upload(client, world, member)]})
            if rng.random() < 0.1:
                clock.advance(days=8)
                sweep(database, now=clock())  # closed by default at the rating deadline
                break
            if act(client, world, resident, order, "rate", {"stars": rng.choice([1, 2, 4, 5, 5])})["state"] == "closed":
                break
    ok(client.post("/points/entries", json={"member_id": world[rng.choice(["memberA1", "memberA2"])],
                                            "points": 3, "activity": "theme_day", "reason": f"{month}月主题党日"},
                   headers=world.auth("secA")), 201)


def test_a_town_runs_a_year(client, world, database, clock):
    rng = random.Random(2026)
    clock.now = datetime(2026, 1, 2, 1, 0, tzinfo=timezone.utc)
    # The town's star thresholds, its own.
    rules = ok(client.get("/admin/star-rules", headers=world.auth("admin")))
    rules["member"]["thresholds"] = [10, 30, 50, 70]
    ok(client.put("/admin/star-rules", json=rules, headers=world.auth("admin")))
    # A project published at the start of the year, taken up (揭榜挂帅).
    project = ok(client.post("/projects", json={"year": 2026, "title": "村道亮化", "description": "全村路灯改造"},
                             headers=world.auth("secA")), 201)
    ok(client.post(f"/projects/{project['id']}/take", headers=world.auth("memberA1")))
    for month in range(1, 13):
        _month(client, world, database, clock, rng, month)
        if month in (4, 8):
            ok(client.post(f"/projects/{project['id']}/milestones", json={
                "title": f"{month}月进展", "photo_ids": [upload(client, world, "memberA1")]},
                headers=world.auth("memberA1")), 201)
        if month == 6:  # a task through the board: posted, volunteered, picked
            task = place(client, world, description="帮忙搬运救灾物资")["id"]
            act(client, world, "workerA1", task, "claim")
            act(client, world, "secA", task, "post-task", {"hours": 24})
            act(client, world, "memberA2", task, "volunteer", {"note": "我有车"})
            act(client, world, "secA", task, "dispatch", {"member_id": world["memberA2"]})
            to_state(client, world, task, "completed", member="memberA2")
            act(client, world, "res1", task, "rate", {"stars": 5})
            expire_tasks(database, now=clock())
        if clock().astimezone(ZONE).year > 2026:
            break
    ok(client.post(f"/projects/{project['id']}/finish", json={"result_note": "全村新装路灯40盏"},
                   headers=world.auth("memberA1")))

    # The passbook: its sums are the leaderboard, and a recount from the timelines.
    clock.now = datetime(2026, 12, 31, 15, 0, tzinfo=timezone.utc)  # the year's last evening, town time
    expected = recount_points(database, world["town"])
    board = ok(client.get("/stats/leaderboard?date_from=2026-01-01&date_to=2026-12-31",
                          headers=world.auth("dashboard")))["items"]
    assert {world[m["member"]["name"]]: m["points"] for m in board} == expected
    with database.session() as db:
        summed = Counter()
        for e in db.exec(select(PointEntry)).all():
            summed[e.member_id] += e.points
    assert dict(summed) == expected
    # Stars from the town's thresholds.
    grades = ok(client.get("/stats/stars?date_from=2026-01-01&date_to=2026-12-31", headers=world.auth("admin")))
    for m in grades["members"]:
        index = m["grade"]["index"]
        assert m["grade"]["stars"] == (1 if index is None else 1 + sum(index >= t for t in [10, 30, 50, 70]))
    assert {m["grade"]["stars"] for m in grades["members"]} != {1}
    assert MemberStarRules().thresholds != (10, 30, 50, 70)  # the town's, not the defaults

    # The year's report, by the scheduler on New Year's Day.
    clock.now = datetime(2027, 1, 1, 1, 0, tzinfo=timezone.utc)
    assert scheduled_reports(database, now=clock()) > 0
    with database.session() as db:
        report = db.exec(select(Report).where(Report.town_id == world["town"], Report.scope_kind == "town",
                                              Report.period_kind == "year")).one()
        start, end = datetime(2025, 12, 31, 16, tzinfo=timezone.utc), datetime(2026, 12, 31, 16, tzinfo=timezone.utc)
        orders = [o for o in db.exec(select(Order)).all() if start <= o.created_at < end]
    closed = [o for o in orders if o.state == "closed"]
    rated = [o for o in closed if o.rating_stars is not None and o.rating_source != "default"]
    cancelled = sum(o.state == "cancelled" for o in orders)
    figures = report.figures
    assert (figures["placed"], figures["closed"], figures["cancelled"], figures["rated"]) == (
        len(orders), len(closed), cancelled, len(rated))
    assert figures["resolution_rate"] == round(len(closed) / (len(orders) - cancelled), 4)
    assert figures["satisfied"] == sum(o.rating_stars >= 4 for o in rated)
    places = Counter((o.category_id, o.grid_id) for o in orders)
    assert sum(h["orders"] for h in figures["hot_issues"]) == sum(n for n in places.values() if n >= 3)
    assert figures["projects"]["done"] == 1
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(report.pdf)).pages)
    lines = text.split("\n")
    assert "测试镇2026年年报" in text
    assert lines[lines.index("受理诉求") + 1] == str(len(orders))
    assert lines[lines.index("已办结") + 1] == str(len(closed))
    book = load_workbook(io.BytesIO(report.xlsx))
    summary = {row[0]: row[1] for row in book["概况"].iter_rows(min_row=4, max_row=12, values_only=True)}
    assert summary["受理诉求"] == str(len(orders)) and summary["已撤单"] == str(cancelled)
    top = {r[0]: r[2] for r in book["党员积分"].iter_rows(min_row=2, values_only=True)}
    assert {world[name]: points for name, points in top.items()} == {world[name]: expected.get(world[name], 0)
                                                                      for name in top}
    assert len(orders) > 30 and cancelled and len(rated)
