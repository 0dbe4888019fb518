"""The office's reports: made on demand and by the scheduler, stored, listed, XLSX and PDF that show
figures equal to a recount of the rows; both stores."""

from __future__ import annotations

import io
from datetime import date, datetime, timezone

import pypdf
import pytest
from alembic import command
from openpyxl import load_workbook
from sqlalchemy import inspect
from sqlmodel import select

from domain.reports import PeriodKind, hot_issues, last_ended, period_label, period_of
from notifications.dispatcher import Dispatcher, RetryPolicy
from notifications.inapp import InAppChannel
from storage.migrate import alembic_config, upgrade
from storage.models import Order, Report
from tests.databases import TestDatabase, backend_params, postgres_reachable
from tests.helpers import act, place, to_state
from tests.test_admin import ok, problem
from workflows.reports import scheduled_reports


def test_periods():
    assert period_of(PeriodKind.MONTH, date(2026, 12, 3)) == (date(2026, 12, 1), date(2026, 12, 31))
    assert period_of(PeriodKind.QUARTER, date(2026, 11, 20)) == (date(2026, 10, 1), date(2026, 12, 31))
    assert period_of(PeriodKind.QUARTER, date(2026, 2, 28)) == (date(2026, 1, 1), date(2026, 3, 31))
    assert last_ended(PeriodKind.MONTH, date(2026, 1, 1)) == (date(2025, 12, 1), date(2025, 12, 31))
    assert last_ended(PeriodKind.YEAR, date(2026, 6, 1)) == (date(2025, 1, 1), date(2025, 12, 31))
    assert [period_label(k, date(2026, 10, 1)) for k in PeriodKind] == ["2026年10月", "2026年第4季度", "2026年"]
    assert hot_issues({(1, 1): 3, (1, 2): 2, (2, 1): 5}) == [(2, 1, 5), (1, 1, 3)]


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(content)).pages)


def recount(database, start: datetime, end: datetime) -> dict:
    with database.session() as db:
        orders = [o for o in db.exec(select(Order)).all() if start <= o.created_at < end]
    closed = [o for o in orders if o.state == "closed"]
    rated = [o for o in closed if o.rating_stars is not None and o.rating_source != "default"]
    cancelled = sum(o.state == "cancelled" for o in orders)
    return {"placed": len(orders), "closed": len(closed), "cancelled": cancelled, "rated": len(rated),
            "satisfied": sum(o.rating_stars >= 4 for o in rated)}


def test_a_months_report_shows_what_a_recount_says(client, world, database, clock):
    clock.now = datetime(2026, 11, 2, 2, 0, tzinfo=timezone.utc)
    for i, stars in enumerate((5, 4, 2, None, None, 3)):
        order = place(client, world, description=f"路灯{i}")["id"]
        if stars is None:
            continue
        to_state(client, world, order, "completed")
        act(client, world, "res1", order, "rate", {"stars": stars})
    act(client, world, "res1", place(client, world)["id"], "cancel", {})
    clock.now = datetime(2026, 12, 3, 2, 0, tzinfo=timezone.utc)
    place(client, world, description="下个月的")  # outside November
    made = ok(client.post("/reports", json={"scope_kind": "town", "period_kind": "month"},
                          headers=world.auth("admin")), 201)
    assert (made["label"], made["period_start"], made["period_end"], made["generated_by_scheduler"]) == (
        "测试镇2026年11月月报", "2026-11-01", "2026-11-30", False)
    figures = made["figures"]
    expected = recount(database, datetime(2026, 10, 31, 16, tzinfo=timezone.utc),
                       datetime(2026, 11, 30, 16, tzinfo=timezone.utc))
    assert {k: figures[k] for k in expected} == expected == {"placed": 7, "closed": 3, "cancelled": 1, "rated": 3,
                                                             "satisfied": 2}
    assert figures["resolution_rate"] == 0.5 and figures["satisfaction_rate"] == round(2 / 3, 4)
    assert figures["hot_issues"] == [{"category": "基础设施维修", "grid": "gridA1", "orders": 7}]
    assert figures["members"][0]["member"] == "memberA1"
    assert set(figures["stage_hours"]) == {"领单", "派单", "接单", "办结"} and figures["stage_hours"]["领单"] == 0.0
    # The files show the same figures.
    pdf = client.get(made["pdf_url"], headers=world.auth("admin"))
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = pdf_text(pdf.content)
    assert "测试镇2026年11月月报" in text and "热点问题" in text
    lines = text.split("\n")
    assert lines[lines.index("受理诉求") + 1] == "7" and lines[lines.index("已办结") + 1] == "3"
    assert lines[lines.index("解决率（办结率）") + 1] == "50.0%"
    book = load_workbook(io.BytesIO(client.get(made["xlsx_url"], headers=world.auth("admin")).content))
    summary = {row[0]: row[1] for row in book["概况"].iter_rows(min_row=4, max_row=12, values_only=True)}
    assert summary["受理诉求"] == "7" and summary["满意率"] == "66.7%"
    assert book["分类"]._charts and [r for r in book["热点问题"].iter_rows(min_row=2, values_only=True)] == [
        ("基础设施维修", "gridA1", 7)]
    # Made again, it replaces itself; the admins are told.
    again = ok(client.post("/reports", json={"scope_kind": "town", "period_kind": "month", "day": "2026-11-15"},
                           headers=world.auth("admin")), 201)
    assert ok(client.get("/reports", headers=world.auth("admin")))["total"] == 1 and again["label"] == made["label"]
    Dispatcher(database, [InAppChannel(database, clock)], RetryPolicy(), clock).run_once()
    inbox = ok(client.get("/me/inbox", headers=world.auth("admin")))["items"]
    assert [i["title"] for i in inbox][:1] == ["报告已生成"]


def test_scopes_and_who_reads_them(client, world, clock):
    place(client, world)
    branch = ok(client.post("/reports", json={"scope_kind": "branch", "scope_id": world["branchA"],
                                              "period_kind": "year", "day": "2026-06-01"},
                            headers=world.auth("secA")), 201)
    assert branch["figures"]["placed"] == 1 and branch["label"] == "甲村党支部2026年年报"
    grid = ok(client.post("/reports", json={"scope_kind": "grid", "scope_id": world["gridA2"],
                                            "period_kind": "quarter", "day": "2026-11-01"},
                          headers=world.auth("secA")), 201)
    assert grid["figures"]["placed"] == 0 and grid["figures"]["scope_label"] == "网格"
    for body in ({"scope_kind": "town", "period_kind": "month"},
                 {"scope_kind": "branch", "scope_id": world["branchB"], "period_kind": "month"},
                 {"scope_kind": "grid", "scope_id": world["gridB1"], "period_kind": "month"}):
        assert client.post("/reports", json=body, headers=world.auth("secA")).status_code in (403, 404)
    problem(client.post("/reports", json={"scope_kind": "branch", "scope_id": world["branchC"],
                                          "period_kind": "month"}, headers=world.auth("admin")), 404)
    for who in ("memberA1", "res1", "dashboard"):
        assert client.post("/reports", json={"scope_kind": "town", "period_kind": "month"},
                           headers=world.auth(who)).status_code == 403
    assert sorted(r["id"] for r in ok(client.get("/reports", headers=world.auth("secA")))["items"]) == sorted(
        [branch["id"], grid["id"]])
    assert ok(client.get("/reports", headers=world.auth("secB")))["total"] == 0
    problem(client.get(f"/reports/{branch['id']}.pdf", headers=world.auth("secB")), 404)
    problem(client.get(f"/reports/{branch['id']}", headers=world.auth("admin2")), 404)


def test_the_scheduler_makes_each_ended_period_once(client, world, database, clock):
    place(client, world)
    clock.now = datetime(2027, 1, 1, 1, 0, tzinfo=timezone.utc)  # 09:00 on New Year's Day in the town
    first = scheduled_reports(database, now=clock())
    assert first > 0 and scheduled_reports(database, now=clock()) == 0
    with database.session() as db:
        made = db.exec(select(Report).where(Report.town_id == world["town"])).all()
    kinds = {(r.scope_kind, r.period_kind, r.period_start) for r in made}
    assert ("town", "year", date(2026, 1, 1)) in kinds and ("town", "quarter", date(2026, 10, 1)) in kinds
    assert ("branch", "month", date(2026, 12, 1)) in kinds and all(r.generated_by_id is None for r in made)
    town_year = next(r for r in made if (r.scope_kind, r.period_kind) == ("town", "year"))
    assert town_year.figures["placed"] == 1 and pdf_text(town_year.pdf).count("2026年年报") == 1


@pytest.mark.parametrize("backend", backend_params())
def test_the_migration_goes_up_and_down(backend, tmp_path):
    if backend == "postgres" and postgres_reachable():
        pytest.skip("PostgreSQL not reachable")
    old = TestDatabase(backend, tmp_path, revision="0022")
    try:
        engine = old.database.engine
        upgrade(engine)
        assert inspect(engine).has_table("reports")
        config = alembic_config(engine)
        with engine.connect() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0022")
            connection.commit()
        assert not inspect(engine).has_table("reports")
    finally:
        old.drop()


def test_the_worker_schedules_the_reports_unless_turned_off(client, app):
    from jobs.worker import Worker

    on = Worker(app.state.settings, app.state.db, app.state.clock, app.state.wechat)
    off = Worker(app.state.settings.model_copy(update={"reports_enabled": False}), app.state.db, app.state.clock,
                 app.state.wechat)
    try:
        assert on.scheduler().get_job("reports") is not None
        assert off.scheduler().get_job("reports") is None
    finally:
        on.close()
        off.close()
