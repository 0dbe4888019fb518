"""Odd but valid input, and the edges of the rules: never a 500, never a stuck order."""

from __future__ import annotations

from datetime import date
from io import BytesIO

import pytest
from openpyxl import load_workbook

from domain.errors import RuleViolation
from domain.roles import Role
from storage.models import Grid
from tests.helpers import act, get, place, to_state, upload
from workflows import ledger, stats
from workflows.principal import Principal

BIG = 2**31


@pytest.mark.parametrize("path", [
    f"/orders/{BIG}", f"/orders/{10**30}", f"/towns/{BIG}/grids", f"/admin/staff/{BIG}",
])
def test_huge_ids_in_paths_are_422(client, world, path):
    r = client.get(path, headers=world.auth("admin"))
    assert r.status_code == 422, r.text
    assert r.json()["type"] == "urn:wudan:problem:validation-error"


def test_huge_ids_in_queries_and_bodies_are_422(client, world):
    assert client.get("/orders", params={"grid_id": BIG}, headers=world.auth("admin")).status_code == 422
    r = client.post("/orders", json={"category_id": BIG, "description": "x"}, headers=world.auth("res1"))
    assert r.status_code == 422
    oid = place(client, world)["id"]
    act(client, world, "workerA1", oid, "transfer", {"grid_id": BIG, "reason": "x"}, expect=422)


@pytest.mark.parametrize("field", ["description", "address"])
def test_control_characters_are_refused(client, world, field):
    body = {"category_id": world["cat"], "description": "路灯", field: "坏了\x00"}
    r = client.post("/orders", json=body, headers=world.auth("res1"))
    assert r.status_code == 422, r.text


def test_newlines_and_unicode_are_kept(client, world):
    order = place(client, world, description="第一行\n第二行\t😀 <b>不是HTML</b>")
    assert get(client, world, "res1", order["id"])["description"] == "第一行\n第二行\t😀 <b>不是HTML</b>"


def test_long_idempotency_key(client, world, database):
    key = "k" * 200
    headers = {**world.auth("res1"), "Idempotency-Key": key}
    body = {"category_id": world["cat"], "description": "x"}
    first = client.post("/orders", json=body, headers=headers)
    again = client.post("/orders", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    too_long = client.post("/orders", json=body, headers={**world.auth("res1"), "Idempotency-Key": "k" * 201})
    assert too_long.status_code == 422


def test_offset_past_the_end_is_an_empty_page(client, world):
    place(client, world)
    page = client.get("/orders", params={"offset": 500}, headers=world.auth("res1")).json()
    assert page["items"] == [] and page["total"] == 1


def test_evidence_is_never_refused_after_reopens(client, world, settings):
    request_photos = [upload(client, world, "res1") for _ in range(settings.photos_per_order)]
    oid = place(client, world, photo_ids=request_photos)["id"]
    for _ in range(2):
        to_state(client, world, oid, "in_progress")
        evidence = [upload(client, world, "memberA1") for _ in range(settings.photos_per_order)]
        act(client, world, "memberA1", oid, "complete", {"note": "好了", "photo_ids": evidence})
        act(client, world, "res1", oid, "rate", {"stars": 1})
    to_state(client, world, oid, "completed")
    assert len(get(client, world, "res1", oid)["photos"]) == 9 + 9 + 9 + 1


def test_a_missing_photo_file_is_404_not_500(client, world, settings):
    photo = upload(client, world, "res1")
    (settings.photo_dir / photo[:2] / photo).unlink()
    r = client.get(f"/photos/{photo}", headers=world.auth("res1"))
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"


def test_transfer_to_a_grid_nobody_serves_is_refused(client, world, database, clock):
    with database.session(write=True) as db:
        grid = Grid(town_id=world["town"], branch_id=world["branchB"], name="无人网格", created_at=clock())
        db.add(grid)
        db.commit()
        empty = grid.id
    oid = place(client, world)["id"]
    act(client, world, "workerA1", oid, "transfer", {"grid_id": empty, "reason": "x"}, expect=422)
    assert get(client, world, "res1", oid)["grid"]["id"] == world["gridA1"]


def test_a_member_holding_orders_cannot_be_disabled_or_moved(client, world):
    oid = place(client, world)["id"]
    to_state(client, world, oid, "in_progress")
    admin = world.auth("admin")
    r = client.patch(f"/admin/staff/{world['memberA1']}", json={"active": False}, headers=admin)
    assert r.status_code == 409
    r = client.patch(f"/admin/staff/{world['memberA1']}", json={"branch_id": world["branchB"]}, headers=admin)
    assert r.status_code == 409
    assert act(client, world, "memberA1", oid, "complete",
               {"note": "好了", "photo_ids": [upload(client, world, "memberA1")]})["state"] == "completed"
    assert client.patch(f"/admin/staff/{world['memberA1']}", json={"active": False}, headers=admin).status_code == 200


def test_staff_phone_can_be_corrected(client, world):
    admin = world.auth("admin")
    r = client.patch(f"/admin/staff/{world['workerA1']}", json={"phone": "13766667777"}, headers=admin)
    assert r.status_code == 200 and r.json()["phone"] == "13766667777"
    taken = client.patch(f"/admin/staff/{world['workerA2']}", json={"phone": "13766667777"}, headers=admin)
    assert taken.status_code == 409


def test_todo_lists_only_the_grids_one_serves(client, world):
    placed = place(client, world, who="workerA1", grid_id=world["gridA1"], contact_name="孙爷爷",
                   contact_phone="13912345678")["id"]
    act(client, world, "workerA1", placed, "transfer", {"grid_id": world["gridB1"], "reason": "属乙村"})
    todo = client.get("/orders/todo", headers=world.auth("workerA1")).json()
    assert todo["items"] == []
    assert [o["id"] for o in client.get("/orders/todo", headers=world.auth("workerB1")).json()["items"]] == [placed]


def test_deadline_sort_puts_finished_orders_last(client, world):
    done = place(client, world)["id"]
    act(client, world, "res1", done, "cancel")
    waiting = place(client, world)["id"]
    items = client.get("/orders", params={"sort": "deadline"}, headers=world.auth("admin")).json()["items"]
    assert [o["id"] for o in items] == [waiting, done]


def test_demo_is_refused_outside_development():
    from pydantic import ValidationError

    from infra.settings import Settings

    with pytest.raises(ValidationError, match="DEMO"):
        Settings(_env_file=None, environment="production", secret_key="s" * 40, demo=True)


def test_oversized_bodies_are_refused_before_parsing(client, world, settings):
    huge = b"x" * (settings.max_request_bytes + 1)
    r = client.post("/photos", content=huge, headers={**world.auth("res1"), "content-type": "multipart/form-data; boundary=x"})
    assert r.status_code == 413 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["type"] == "urn:wudan:problem:payload-too-large"
    r = client.post("/orders", content=huge, headers={**world.auth("res1"), "content-type": "application/json"})
    assert r.status_code == 413


def test_oversized_streamed_body_is_refused(client, world, settings):
    def chunks():
        for _ in range(settings.max_request_bytes // 1024 + 2):
            yield b"x" * 1024

    r = client.post("/orders", content=chunks(), headers={**world.auth("res1"), "content-type": "application/json"})
    assert r.status_code == 413, r.text
    assert r.json()["type"] == "urn:wudan:problem:payload-too-large"


# Days near the calendar's ends were a 500 (OverflowError) in the period arithmetic: the
# default date_from 29 days before date_to, a day's midnight in the town's zone, the day
# after the last. Supported days are 1970-01-01 .. 9998-12-31; outside them is a 422.
OUT_OF_RANGE_PERIODS = [
    {"date_to": "0001-01-29"},
    {"date_from": "0001-01-01", "date_to": "0001-01-02"},
    {"date_from": "0001-01-01", "date_to": "2026-11-20"},
    {"date_from": "1969-12-31", "date_to": "1970-01-01"},
    {"date_from": "9999-12-31", "date_to": "9999-12-31"},
    {"date_from": "9998-12-31", "date_to": "9999-01-01"},
    {"date_to": "9999-12-31"},
]
EDGE_PERIODS = [
    {"date_to": "1970-01-01"},
    {"date_from": "1970-01-01", "date_to": "1970-01-01"},
    {"date_from": "9998-12-31", "date_to": "9998-12-31"},
    {"date_from": "9998-01-01", "date_to": "9998-12-31"},
]


def _period(params: dict) -> str:
    return "&".join(f"{name}={value}" for name, value in params.items())


def _stats_routes_with_days(app) -> list[str]:
    paths = app.openapi()["paths"]
    return sorted(path for path, ops in paths.items() if path.startswith("/stats/")
                  and "date_to" in [p["name"] for p in ops["get"].get("parameters", [])])


def _out_of_range(r, params: dict) -> None:
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["type"] == "urn:wudan:problem:validation-error"
    wrong = {name for name, value in params.items() if not "1970-01-01" <= value <= "9998-12-31"}
    assert {e["loc"][-1] for e in body["errors"]} == wrong, body


def test_every_stats_route_with_days_is_known(app):
    assert _stats_routes_with_days(app) == [
        "/stats/action-teams", "/stats/buildings", "/stats/channels", "/stats/daily", "/stats/grids", "/stats/halls", "/stats/hot-spots", "/stats/leaderboard", "/stats/overdue", "/stats/overview",
        "/stats/stars", "/stats/units", "/stats/visits"]


@pytest.mark.parametrize("params", OUT_OF_RANGE_PERIODS, ids=_period)
def test_days_near_the_calendars_ends_are_422_on_every_stats_route(client, world, app, params):
    for route in _stats_routes_with_days(app):
        _out_of_range(client.get(route, params=params, headers=world.auth("dashboard")), params)


@pytest.mark.parametrize("params", EDGE_PERIODS, ids=_period)
def test_the_first_and_last_supported_days_are_answered_on_every_stats_route(client, world, app, params):
    for route in _stats_routes_with_days(app):
        r = client.get(route, params=params, headers=world.auth("dashboard"))
        assert r.status_code == 200, (route, r.text)
    daily = client.get("/stats/daily", params=params, headers=world.auth("dashboard")).json()
    assert daily["date_from"] >= "1970-01-01" and daily["date_to"] <= "9998-12-31"
    first, last = date.fromisoformat(daily["date_from"]), date.fromisoformat(daily["date_to"])
    assert len(daily["days"]) == (last - first).days + 1


@pytest.mark.parametrize("params", [
    {"date_from": "9999-12-31", "date_to": "9999-12-31"},
    {"date_from": "0001-01-01", "date_to": "0001-01-01"},
    {"date_from": "0001-01-01", "date_to": "0001-12-31"},
    {"date_from": "9998-12-31", "date_to": "9999-01-01"},
    {"date_from": "1969-12-31", "date_to": "1970-01-01"},
], ids=_period)
def test_days_near_the_calendars_ends_are_422_on_the_ledger(client, world, params):
    _out_of_range(client.get("/admin/ledger.xlsx", params=params, headers=world.auth("admin")), params)


@pytest.mark.parametrize("params", EDGE_PERIODS[1:], ids=_period)
def test_the_first_and_last_supported_days_give_a_ledger(client, world, params):
    place(client, world)  # placed in 2026: in no edge period
    r = client.get("/admin/ledger.xlsx", params=params, headers=world.auth("admin"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(BytesIO(r.content))["台账"]
    assert sheet.max_row == 1  # the header alone


def test_the_workflows_refuse_days_a_caller_did_not_parse(database, world, clock):
    """Outside the API (a script, the bench) the period arithmetic is guarded too: a rule problem."""
    admin = Principal(kind="staff", id=world["admin"], role=Role.TOWN_ADMIN, town_id=world["town"])
    with database.session() as db:
        with pytest.raises(RuleViolation, match="date_to"):
            stats.overview(db, admin, stats.StatsQuery(date_to=date(1, 1, 29)), clock())
        with pytest.raises(RuleViolation, match="date_from"):
            ledger.read_ledger(db, admin, ledger.LedgerQuery(date(9999, 12, 31), date(9999, 12, 31)), clock())
