"""The office's files: the ledger (台账) export and the roster (名单) import."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import event, func
from sqlmodel import select

from domain.deadlines import DEFAULT_LIMITS
from storage.models import Branch, Grid, GridWorkerGrid, Staff
from tests.helpers import act, place, to_state, upload
from workflows import ledger, roster_file
from workflows.sweep import sweep

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PROBLEM = "application/problem+json"
NOVEMBER = {"date_from": "2026-11-01", "date_to": "2026-11-30"}
HEADERS = [
    "工单号", "下单时间", "网格", "支部", "类别", "紧急程度", "诉求内容", "地址", "群众姓名", "联系电话",
    "下单渠道", "当前状态", "领单时间", "领单人", "派单时间", "派单人", "接单时间", "接单人",
    "晒单/办结时间", "晒单/办结人", "评价时间", "评价人", "重办次数", "是否超时", "评价星级", "评价来源",
    "评价内容",
]


# Helpers


def export(client, world, who="admin", expect=200, **params):
    response = client.get("/admin/ledger.xlsx", params={**NOVEMBER, **params}, headers=world.auth(who))
    assert response.status_code == expect, response.text
    if expect != 200:
        assert response.headers["content-type"].startswith(PROBLEM)
        return response.json()
    assert response.headers["content-type"] == XLSX
    return load_workbook(io.BytesIO(response.content))


def rows_of(book) -> list[dict]:
    sheet = book["台账"]
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0]) == HEADERS
    return [dict(zip(HEADERS, row, strict=False)) for row in values[1:]]


def summary_of(book) -> dict:
    return {row[0]: row[1] for row in book["汇总"].iter_rows(values_only=True) if row and row[0]}


def shanghai(at: datetime) -> datetime:
    """The wall-clock minute in Asia/Shanghai (UTC+8) as the ledger shows it."""
    return (at + timedelta(hours=8)).replace(tzinfo=None, second=0, microsecond=0)


def step(client, world, clock, who, order_id, action, body=None, minutes=10):
    clock.advance(minutes=minutes)
    return act(client, world, who, order_id, action, body)


def finish(client, world, clock, order_id, member="memberA1", minutes=10, claim=True):
    """submitted (or claimed, with claim=False) → completed, a few minutes a stage."""
    if claim:
        step(client, world, clock, "workerA1", order_id, "claim", minutes=minutes)
    step(client, world, clock, "secA", order_id, "dispatch", {"member_id": world[member]}, minutes=minutes)
    step(client, world, clock, member, order_id, "accept", minutes=minutes)
    photo = upload(client, world, member)
    step(client, world, clock, member, order_id, "complete", {"note": "修好了", "photo_ids": [photo]}, minutes=minutes)


def count(database, model) -> int:
    with database.session() as db:
        return db.exec(select(func.count()).select_from(model)).one()


def counts(database) -> tuple[int, ...]:
    return tuple(count(database, m) for m in (Branch, Grid, Staff, GridWorkerGrid))


def post_roster(client, world, content: bytes, filename="roster.csv", who="admin", expect=200, **params):
    kind = XLSX if filename.endswith(".xlsx") else "text/csv"
    response = client.post("/admin/roster", params=params, files={"file": (filename, content, kind)},
                           headers=world.auth(who))
    assert response.status_code == expect, response.text
    return response.json()


def csv_bytes(rows: list[list[str]], encoding="utf-8-sig") -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows([list(roster_file.COLUMNS), *rows])
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list[str]]) -> bytes:
    book = Workbook()
    book.active.append(list(roster_file.COLUMNS))
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def errors_by_row(body) -> dict[int, list[dict]]:
    assert body["type"] == "urn:wudan:problem:roster-invalid", body
    found: dict[int, list[dict]] = {}
    for error in body["errors"]:
        assert set(error) == {"row", "column", "message"} and error["message"]
        found.setdefault(error["row"], []).append(error)
    return found


def sign_in(client, phone, password):
    response = client.post("/auth/staff", json={"phone": phone, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


# A roster that uses every kind of row; 甲村党支部 and its grid gridA1 are already in the town.
GOOD_ROWS = [
    ["支部", "丙村党支部", "", "", "", "", ""],
    ["支部", "丁社区党支部", "", "", "", "", ""],
    ["网格", "丙村第一网格", "丙村党支部", "", "", "", ""],
    ["网格", "丙村第二网格", "丙村党支部", "", "", "", ""],
    ["网格", "丁社区网格", "丁社区党支部", "", "", "", ""],
    ["网格员", "赵网格", "丙村党支部", "丙村第一网格、丙村第二网格", "13500000001", "pass-word-1", ""],
    ["网格员", "钱网格", "", "gridA1,丁社区网格", "13500000002", "pass-word-2", "否"],
    ["支部书记", "孙书记", "丙村党支部", "", "13500000003", "pass-word-3", ""],
    ["党员", "李党员", "丙村党支部", "", "13500000004", "pass-word-4", "否"],
    ["党员", "周乡贤", "丁社区党支部", "", "13500000005", "pass-word-5", "是"],
]
GOOD_COUNTS = {"branches": 2, "grids": 3, "grid_workers": 2, "secretaries": 1, "members": 2}


# The ledger


def test_ledger_has_one_row_per_order_with_stages_actors_and_labels(client, world, clock):
    placed_at = clock()
    closed = place(client, world, description="村口路灯不亮", address="村口")["id"]
    waiting = place(client, world, grid_id=world["gridB1"], description="=HYPERLINK(\"http://x\")")["id"]
    visit = place(client, world, who="workerA1", grid_id=world["gridA1"], contact_name="王大妈",
                  contact_phone="13900009999", channel="visit", urgency="urgent")["id"]
    finish(client, world, clock, closed)
    step(client, world, clock, "res1", closed, "rate", {"stars": 5, "comment": "很满意"})
    finish(client, world, clock, visit)
    step(client, world, clock, "workerA1", visit, "rate", {"stars": 4})

    book = export(client, world)
    assert book.sheetnames == ["台账", "汇总"]
    sheet = book["台账"]
    assert sheet.freeze_panes == "A2"
    assert all(cell.font.bold for cell in sheet[1])
    assert sheet.column_dimensions["G"].width == 40  # 诉求内容
    rows = rows_of(book)
    assert [r["工单号"] for r in rows] == [closed, waiting, visit]

    first = rows[0]
    assert first["下单时间"] == shanghai(placed_at) == datetime(2026, 11, 20, 9, 0)
    assert sheet.cell(row=2, column=2).number_format == "yyyy-mm-dd hh:mm"
    assert (first["网格"], first["支部"], first["类别"], first["紧急程度"]) == ("gridA1", "甲村党支部", "基础设施维修", "一般")
    assert (first["诉求内容"], first["地址"], first["群众姓名"], first["联系电话"]) == ("村口路灯不亮", "村口", "res1", "13900001111")
    assert (first["下单渠道"], first["当前状态"]) == ("小程序", "已办结")
    assert first["领单时间"] == shanghai(placed_at + timedelta(minutes=10)) == datetime(2026, 11, 20, 9, 10)
    assert (first["领单人"], first["派单人"], first["接单人"], first["晒单/办结人"], first["评价人"]) == (
        "workerA1", "secA", "memberA1", "memberA1", "res1")
    assert first["晒单/办结时间"] == datetime(2026, 11, 20, 9, 40)
    assert first["评价时间"] == datetime(2026, 11, 20, 9, 50)
    assert (first["重办次数"], first["是否超时"], first["评价星级"], first["评价来源"], first["评价内容"]) == (
        0, "否", 5, "群众", "很满意")

    second = rows[1]
    assert (second["网格"], second["支部"], second["当前状态"]) == ("gridB1", "乙村党支部", "待领单")
    assert second["领单时间"] is None and second["评价星级"] is None and second["评价来源"] is None
    # A resident's words are text, never a formula.
    assert second["诉求内容"] == "=HYPERLINK(\"http://x\")" and sheet.cell(row=3, column=7).data_type == "s"
    # Placed 100 minutes ago, claim limit 2 h: not late yet.
    assert second["是否超时"] == "否"

    third = rows[2]
    assert (third["下单渠道"], third["群众姓名"], third["联系电话"], third["紧急程度"]) == ("走访", "王大妈", "13900009999", "紧急")
    assert (third["评价人"], third["评价来源"], third["评价星级"], third["当前状态"]) == ("workerA1", "回访", 4, "已办结")

    summary = summary_of(book)
    assert summary["状态"] == "工单数"
    assert (summary["待领单"], summary["已办结"], summary["待派单"], summary["已撤单"]) == (1, 2, 0, 0)
    assert summary["合计"] == 3 and summary["其中超时"] == 0
    assert summary["统计期间"] == "2026-11-01 至 2026-11-30" and summary["范围"] == "全镇"
    assert book["汇总"]["A1"].font.bold and book["汇总"].freeze_panes == "A2"


def test_ledger_file_name_and_headers(client, world):
    response = client.get("/admin/ledger.xlsx", params=NOVEMBER, headers=world.auth("admin"))
    assert response.status_code == 200
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="ledger-2026-11.xlsx"')
    assert "filename*=UTF-8''%E5%8F%B0%E8%B4%A6-2026-11.xlsx" in disposition  # 台账-2026-11.xlsx
    assert rows_of(load_workbook(io.BytesIO(response.content))) == []
    other = client.get("/admin/ledger.xlsx", params={"date_from": "2026-11-03", "date_to": "2026-12-02"},
                       headers=world.auth("admin"))
    assert 'filename="ledger-2026-11-03_2026-12-02.xlsx"' in other.headers["content-disposition"]


def test_reopened_order_shows_last_round_and_count(client, world, clock):
    order = place(client, world)["id"]
    finish(client, world, clock, order)
    first_dispatch = shanghai(clock() - timedelta(minutes=20))
    step(client, world, clock, "res1", order, "rate", {"stars": 2, "comment": "还是漏"})
    finish(client, world, clock, order, member="memberA2", minutes=30, claim=False)  # reopened to 待派单
    step(client, world, clock, "res1", order, "rate", {"stars": 5})
    row = rows_of(export(client, world))[0]
    assert row["重办次数"] == 1 and row["当前状态"] == "已办结"
    assert row["派单时间"] > first_dispatch and row["接单人"] == "memberA2"
    assert row["领单人"] == "workerA1"
    assert (row["评价星级"], row["评价内容"]) == (5, None)


def test_overdue_stages_and_default_rating(client, world, clock, database):
    late_claim = place(client, world)["id"]
    clock.advance(hours=3)  # past the 2 h claim limit, then claimed
    act(client, world, "workerA1", late_claim, "claim")
    waiting = place(client, world)["id"]
    on_time = place(client, world)["id"]
    to_state(client, world, on_time, "completed")
    clock.advance(hours=2, minutes=1)  # `waiting` is now past its claim limit
    rows = {r["工单号"]: r for r in rows_of(export(client, world))}
    assert rows[late_claim]["是否超时"] == "是"
    assert rows[waiting]["是否超时"] == "是"
    assert rows[on_time]["是否超时"] == "否"
    assert summary_of(export(client, world))["其中超时"] == 2

    clock.advance(days=8)  # past the rating limit: the sweep closes it with a default rating
    assert sweep(database, now=clock()).auto_closed == 1
    row = {r["工单号"]: r for r in rows_of(export(client, world))}[on_time]
    assert (row["当前状态"], row["评价来源"], row["评价人"], row["评价星级"]) == ("已办结", "默认", "系统", None)
    assert row["是否超时"] == "否", "the rating stage is the resident's, not the office's"


def test_ran_late_walks_every_visit_of_a_stage():
    start = datetime(2026, 11, 1, tzinfo=UTC)

    def ev(state, minutes):
        return SimpleNamespace(to_state=state, created_at=start + timedelta(minutes=minutes))

    def order(state, deadline=None, urgency="normal"):
        return SimpleNamespace(state=state, stage_deadline=deadline, urgency=urgency)

    now = start + timedelta(days=30)
    on_time = [ev("submitted", 0), ev("claimed", 100), ev("dispatched", 200), ev("in_progress", 300),
               ev("completed", 300 + 72 * 60), ev("closed", 300 + 72 * 60 + 8 * 24 * 60)]
    assert not ledger.ran_late(order("closed"), on_time, DEFAULT_LIMITS, now)
    # The same, urgent: 24 h to complete.
    assert ledger.ran_late(order("closed", urgency="urgent"), on_time, DEFAULT_LIMITS, now)
    # A decline restarts the dispatch stage: each visit has its own limit.
    declined = [ev("submitted", 0), ev("claimed", 60), ev("dispatched", 60 + 23 * 60), ev("claimed", 60 + 24 * 60),
                ev("dispatched", 60 + 47 * 60)]
    assert not ledger.ran_late(order("dispatched", now), declined, DEFAULT_LIMITS, now - timedelta(days=1))
    # Withdrawn after 3 hours unclaimed: the claim stage ran late all the same.
    assert ledger.ran_late(order("cancelled"), [ev("submitted", 0), ev("cancelled", 180)], DEFAULT_LIMITS, now)
    # Overdue now, by the deadline stamped on the order.
    assert ledger.ran_late(order("claimed", now - timedelta(seconds=1)), [ev("submitted", 0), ev("claimed", 1)],
                           DEFAULT_LIMITS, now)


def test_period_is_days_in_the_towns_time_zone(client, world, clock):
    clock.now = datetime(2026, 10, 31, 16, 30, tzinfo=UTC)  # 2026-11-01 00:30 in Shanghai
    first = place(client, world)["id"]
    clock.now = datetime(2026, 10, 31, 15, 30, tzinfo=UTC)  # 2026-10-31 23:30 in Shanghai
    october = place(client, world)["id"]
    clock.now = datetime(2026, 11, 30, 16, 30, tzinfo=UTC)  # 2026-12-01 00:30 in Shanghai
    december = place(client, world)["id"]
    clock.now = datetime(2026, 11, 30, 15, 59, tzinfo=UTC)  # 2026-11-30 23:59 in Shanghai
    last = place(client, world)["id"]
    rows = rows_of(export(client, world))
    assert [r["工单号"] for r in rows] == [first, last]
    assert rows[0]["下单时间"] == datetime(2026, 11, 1, 0, 30)
    assert [r["工单号"] for r in rows_of(export(client, world, date_from="2026-10-31", date_to="2026-10-31"))] == [october]
    # The town's own zone, when it changes.
    assert client.patch("/admin/town", json={"timezone": "UTC"}, headers=world.auth("admin")).status_code == 200
    rows = rows_of(export(client, world))
    assert [r["工单号"] for r in rows] == [december, last]
    assert [r["下单时间"] for r in rows] == [datetime(2026, 11, 30, 16, 30), datetime(2026, 11, 30, 15, 59)]


def test_ledger_scope_and_filters(client, world):
    in_a1 = place(client, world)["id"]
    in_a2 = place(client, world, grid_id=world["gridA2"], category_id=world["cat_urgent"])["id"]
    in_b1 = place(client, world, grid_id=world["gridB1"])["id"]
    place(client, world, who="res3", category_id=world["cat2"])  # the other town

    def ids(**kw):
        return [r["工单号"] for r in rows_of(export(client, world, **kw))]

    assert ids() == [in_a1, in_a2, in_b1]
    assert ids(branch_id=world["branchA"]) == [in_a1, in_a2]
    assert ids(grid_id=world["gridA2"]) == [in_a2]
    assert ids(category_id=world["cat_urgent"]) == [in_a2]
    assert ids(who="secA") == [in_a1, in_a2]
    assert ids(who="secA", branch_id=world["branchA"], grid_id=world["gridA1"]) == [in_a1]
    assert summary_of(export(client, world, who="secA"))["范围"] == "甲村党支部"
    assert ids(who="secB") == [in_b1]
    # The other town's admin sees only their own town; naming ours is not found.
    assert len(ids(who="admin2")) == 1 and in_a1 not in ids(who="admin2")
    for who, params in (("secA", {"branch_id": world["branchB"]}), ("secA", {"grid_id": world["gridB1"]}),
                        ("admin2", {"branch_id": world["branchA"]}), ("admin2", {"grid_id": world["gridA1"]}),
                        ("admin", {"category_id": world["cat2"]}), ("admin", {"branch_id": world["branchC"]})):
        assert export(client, world, who=who, expect=404, **params)["status"] == 404


@pytest.mark.parametrize("who", ["workerA1", "memberA1", "res1", "dashboard"])
def test_ledger_refused_to_others(client, world, who):
    assert export(client, world, who=who, expect=403)["type"] == "urn:wudan:problem:not-permitted"


def test_ledger_needs_sign_in(client, world):
    assert client.get("/admin/ledger.xlsx", params=NOVEMBER).status_code == 401


@pytest.mark.parametrize("params", [
    {"date_from": "2026-11-30", "date_to": "2026-11-01"},
    {"date_from": "2026-01-01", "date_to": "2027-01-02"},  # 367 days
    {"date_from": "2026-11-31", "date_to": "2026-12-01"},
    {"date_from": "2026-11-01"},
    {"date_from": "2026-11-01", "date_to": "2026-11-30", "branch_id": "0"},
])
def test_ledger_bad_period(client, world, params):
    response = client.get("/admin/ledger.xlsx", params=params, headers=world.auth("admin"))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith(PROBLEM)


def test_ledger_of_366_days(client, world):
    book = export(client, world, date_from="2026-01-01", date_to="2027-01-01")
    assert rows_of(book) == []


def test_ledger_reads_a_fixed_number_of_queries(client, world, clock, database):
    def statements() -> int:
        seen = []

        def counter(*_args):
            seen.append(1)

        event.listen(database.engine, "before_cursor_execute", counter)
        try:
            export(client, world)
        finally:
            event.remove(database.engine, "before_cursor_execute", counter)
        return len(seen)

    finish(client, world, clock, place(client, world)["id"])
    one = statements()
    for _ in range(4):
        finish(client, world, clock, place(client, world)["id"])
    assert statements() == one


def test_ledger_filename_helpers():
    assert ledger.ledger_filename(date(2026, 2, 1), date(2026, 2, 28)) == "ledger-2026-02.xlsx"
    assert ledger.ledger_filename(date(2026, 2, 1), date(2026, 3, 31)) == "ledger-2026-02-01_2026-03-31.xlsx"
    assert ledger.ledger_filename(date(2026, 12, 1), date(2026, 12, 31)) == "ledger-2026-12.xlsx"


# The roster


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gb18030"])
def test_roster_csv_creates_branches_grids_and_staff(client, world, database, encoding):
    created = post_roster(client, world, csv_bytes(GOOD_ROWS, encoding))
    assert created == {"dry_run": False, "rows": len(GOOD_ROWS), "created": GOOD_COUNTS}
    admin = world.auth("admin")
    branches = {b["name"]: b for b in client.get("/admin/branches", params={"limit": 100}, headers=admin).json()["items"]}
    assert branches["丙村党支部"]["kind"] == "village" and branches["丁社区党支部"]["kind"] == "community"
    grids = {g["name"]: g for g in client.get("/admin/grids", params={"limit": 100}, headers=admin).json()["items"]}
    assert grids["丙村第一网格"]["branch_id"] == branches["丙村党支部"]["id"]
    assert grids["丁社区网格"]["branch_id"] == branches["丁社区党支部"]["id"]
    staff = {s["name"]: s for s in client.get("/admin/staff", params={"limit": 100}, headers=admin).json()["items"]}
    assert staff["赵网格"]["grid_ids"] == sorted([grids["丙村第一网格"]["id"], grids["丙村第二网格"]["id"]])
    assert staff["赵网格"]["branch_id"] == branches["丙村党支部"]["id"] and staff["赵网格"]["role_label"] == "网格员"
    assert staff["钱网格"]["grid_ids"] == sorted([world["gridA1"], grids["丁社区网格"]["id"]])
    assert staff["钱网格"]["branch_id"] is None
    assert (staff["孙书记"]["role"], staff["孙书记"]["branch_id"]) == ("secretary", branches["丙村党支部"]["id"])
    assert (staff["周乡贤"]["role"], staff["周乡贤"]["is_local_worthy"]) == ("member", True)
    assert staff["李党员"]["is_local_worthy"] is False

    # The grid worker signs in with the roster's password and serves the named grids.
    me = client.get("/me", headers=sign_in(client, "13500000001", "pass-word-1")).json()
    assert me["role"] == "grid_worker" and [g["id"] for g in me["grids"]] == staff["赵网格"]["grid_ids"]
    assert [g["name"] for g in me["grids"]] == ["丙村第一网格", "丙村第二网格"]
    headers = sign_in(client, "13500000002", "pass-word-2")
    order = place(client, world)["id"]  # in gridA1, which 钱网格 now serves too
    assert client.post(f"/orders/{order}/claim", headers=headers).status_code == 200


def test_roster_xlsx_with_numbers_for_phones(client, world):
    rows = [list(r) for r in GOOD_ROWS]
    rows[8][4] = 13500000004  # Excel keeps a typed phone as a number
    created = post_roster(client, world, xlsx_bytes(rows), "名单.xlsx")
    assert created["created"] == GOOD_COUNTS
    sign_in(client, "13500000004", "pass-word-4")


def test_roster_dry_run_writes_nothing(client, world, database):
    before = counts(database)
    result = post_roster(client, world, csv_bytes(GOOD_ROWS), dry_run="true")
    assert result == {"dry_run": True, "rows": len(GOOD_ROWS), "created": GOOD_COUNTS}
    assert counts(database) == before
    # A bad file is refused on a dry run too.
    post_roster(client, world, csv_bytes([["支部", "甲村党支部", "", "", "", "", ""]]), dry_run="true", expect=422)


def test_roster_with_bad_rows_lists_each_and_imports_nothing(client, world, database):
    before = counts(database)
    rows = [
        ["支部", "丙村党支部", "", "", "", "", ""],                              # 2 fine
        ["村", "某村", "", "", "", "", ""],                                      # 3 unknown type
        ["网格", "丙村第一网格", "不存在党支部", "", "", "", ""],                  # 4 unknown branch
        ["党员", "缺支部", "", "", "13500000010", "pass-word-1", ""],            # 5 member without branch
        ["党员", "短密码", "丙村党支部", "", "13500000011", "short", ""],         # 6 password too short
        ["网格员", "坏手机", "", "gridA1", "phone!", "pass-word-1", ""],          # 7 bad phone
        ["网格员", "无网格", "", "", "13500000012", "pass-word-1", ""],           # 8 no grids
        ["网格员", "错网格", "", "不存在网格", "13500000013", "pass-word-1", ""],  # 9 unknown grid
        ["党员", "网格党员", "丙村党支部", "gridA1", "13500000014", "pass-word-1", ""],  # 10 grids for a member
        ["党员", "乡贤错", "丙村党支部", "", "13500000015", "pass-word-1", "可能"],  # 11 bad 乡贤
        ["网格", "后定义网格", "戊村党支部", "", "", "", ""],                      # 12 branch defined below
        ["支部", "戊村党支部", "", "", "", "", ""],                              # 13 fine
        ["党员", "", "丙村党支部", "", "13500000016", "pass-word-1", ""],         # 14 no name
        ["支部", "x" * 101, "", "", "", "", ""],                                 # 15 name too long
        ["支部", "己村党支部", "甲村党支部", "", "", "", ""],                      # 16 a branch has no branch
        ["党员", "好党员", "丙村党支部", "", "13500000017", "pass-word-1", "是"],  # 17 fine
    ]
    body = post_roster(client, world, csv_bytes(rows), expect=422)
    found = errors_by_row(body)
    assert sorted(found) == [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 15, 16]
    assert {e["column"] for e in found[3]} == {"类型"}
    assert found[4][0]["column"] == "所属支部" and "不存在党支部" in found[4][0]["message"]
    assert found[5][0]["column"] == "所属支部"
    assert found[6][0]["column"] == "初始密码" and "8" in found[6][0]["message"]
    assert found[7][0]["column"] == "手机号"
    assert found[8][0]["column"] == "所属网格"
    assert found[9][0]["column"] == "所属网格" and "不存在网格" in found[9][0]["message"]
    assert found[10][0]["column"] == "所属网格"
    assert found[11][0]["column"] == "乡贤"
    assert found[12][0]["column"] == "所属支部"
    assert found[14][0]["column"] == "名称或姓名"
    assert found[15][0]["column"] == "名称或姓名" and "100" in found[15][0]["message"]
    assert found[16][0]["column"] == "所属支部"
    assert "13 row(s)" in body["detail"] and body["status"] == 422
    assert counts(database) == before


def test_roster_duplicates_in_the_file_and_in_the_town(client, world, database):
    before = counts(database)
    rows = [
        ["支部", "甲村党支部", "", "", "", "", ""],                               # 2 in the town already
        ["支部", "丙村党支部", "", "", "", "", ""],                               # 3 fine
        ["支部", "丙村党支部", "", "", "", "", ""],                               # 4 same as row 3
        ["网格", "gridA1", "甲村党支部", "", "", "", ""],                         # 5 in the branch already
        ["网格", "gridA1", "丙村党支部", "", "", "", ""],                         # 6 fine: another branch
        ["网格", "gridA1", "丙村党支部", "", "", "", ""],                         # 7 same as row 6
        ["党员", "甲", "丙村党支部", "", world.phones["workerA1"], "pass-word-1", ""],  # 8 phone taken
        ["党员", "乙", "丙村党支部", "", world.phones["memberC1"], "pass-word-1", ""],  # 9 taken in another town
        ["党员", "丙", "丙村党支部", "", "13500000020", "pass-word-1", ""],        # 10 fine
        ["党员", "丁", "丙村党支部", "", "13500000020", "pass-word-1", ""],        # 11 same phone as row 10
        ["网格员", "戊", "", "gridA1", "13500000021", "pass-word-1", ""],         # 12 gridA1 is in two branches now
    ]
    found = errors_by_row(post_roster(client, world, csv_bytes(rows), expect=422))
    assert sorted(found) == [2, 4, 5, 7, 8, 9, 11, 12]
    assert "已存在" in found[2][0]["message"]
    assert "第 3 行" in found[4][0]["message"]
    assert "已存在" in found[5][0]["message"]
    assert "第 6 行" in found[7][0]["message"]
    assert found[8][0]["column"] == "手机号" and "已被" in found[8][0]["message"]
    assert found[9][0]["column"] == "手机号"
    assert found[11][0]["column"] == "手机号" and "第 10 行" in found[11][0]["message"]
    assert found[12][0]["column"] == "所属网格" and "几个支部" in found[12][0]["message"]
    assert counts(database) == before


def test_roster_file_level_problems(client, world, database):
    before = counts(database)
    unknown = "类型,名称或姓名,备注\n支部,丙村党支部,x\n".encode()
    body = post_roster(client, world, unknown, expect=422)
    assert body["errors"] == [{"row": 1, "column": "备注", "message": body["errors"][0]["message"]}]
    missing = post_roster(client, world, "名称或姓名\n丙村党支部\n".encode(), expect=422)
    assert missing["errors"][0]["row"] == 1 and missing["errors"][0]["column"] == "类型"
    assert post_roster(client, world, b"", expect=422)["errors"][0]["row"] == 1
    too_many = csv_bytes([["支部", f"第{i}支部", "", "", "", "", ""] for i in range(roster_file.MAX_ROWS + 1)])
    assert "at most" in post_roster(client, world, too_many, expect=422)["detail"]
    assert "xls" in post_roster(client, world, b"\xd0\xcf\x11\xe0" + b"\0" * 100, "old.xls", expect=422)["detail"]
    assert post_roster(client, world, b"PK\x03\x04 not really a zip", "bad.xlsx", expect=422)["status"] == 422
    # Blank rows are skipped; the row numbers stay those of the spreadsheet.
    body = post_roster(client, world, csv_bytes([[""] * 7, ["网格", "x", "", "", "", "", ""]]), expect=422)
    assert [e["row"] for e in body["errors"]] == [3]
    assert counts(database) == before


@pytest.mark.parametrize("who", ["secA", "workerA1", "memberA1", "res1"])
def test_roster_is_for_town_admins(client, world, database, who):
    before = counts(database)
    body = post_roster(client, world, csv_bytes(GOOD_ROWS), who=who, expect=403)
    assert body["type"] == "urn:wudan:problem:not-permitted"
    assert client.get("/admin/roster/template.xlsx", headers=world.auth(who)).status_code == 403
    assert counts(database) == before


def test_roster_in_another_town_sees_only_that_town(client, world):
    # 甲村党支部 is the first town's: for the other town it is unknown, not a duplicate.
    rows = [["网格", "新网格", "甲村党支部", "", "", "", ""], ["支部", "甲村党支部", "", "", "", "", ""]]
    found = errors_by_row(post_roster(client, world, csv_bytes(rows), who="admin2", expect=422))
    assert sorted(found) == [2]
    created = post_roster(client, world, csv_bytes(rows[1:]), who="admin2")
    assert created["created"]["branches"] == 1


def test_template_downloads_and_reimports_after_filling(client, world, database):
    response = client.get("/admin/roster/template.xlsx", headers=world.auth("admin"))
    assert response.status_code == 200 and response.headers["content-type"] == XLSX
    disposition = response.headers["content-disposition"]
    assert 'filename="roster-template.xlsx"' in disposition and "filename*=UTF-8''" in disposition
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["名单", "说明"]
    sheet = book["名单"]
    assert [c.value for c in sheet[1]] == list(roster_file.COLUMNS)
    assert all(c.font.bold for c in sheet[1]) and sheet.freeze_panes == "A2"
    assert [c.value for c in sheet[2]] == [roster_file.EXAMPLE_ROW[c] for c in roster_file.COLUMNS]
    # Imported as it is, the template is empty: the example row is skipped.
    assert post_roster(client, world, response.content, "t.xlsx")["rows"] == 0

    # Filled in below the example, as someone in Excel would: from row 3.
    before = count(database, Staff)
    for number, row in enumerate(GOOD_ROWS, start=3):
        for column, value in enumerate(row, start=1):
            sheet.cell(row=number, column=column, value=value or None)
    out = io.BytesIO()
    book.save(out)
    created = post_roster(client, world, out.getvalue(), "filled.xlsx")
    assert created["created"] == GOOD_COUNTS
    assert count(database, Staff) == before + 5
    with database.session() as db:
        assert db.exec(select(Branch).where(Branch.name == "东湖村党支部")).first() is None
