"""The town's other lists from files: 共建单位, 单位人员, 驻点直联组, 说事厅, 行动队 — checked whole, idempotent."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook, load_workbook
from sqlmodel import func, select

from storage.models import ActionTeam, ActionTeamWorthy, Hall, Staff, Unit, VisitTeam, VisitTeamGrid, VisitTeamMember
from tests.test_admin import ok
from tests.test_office import errors_by_row, sign_in
from workflows.list_sheets import KINDS

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def workbook(kind: str, rows: list[dict[str, str]]) -> bytes:
    columns = KINDS[kind].sheet.columns
    book = Workbook()
    book.active.append(list(columns))
    for row in rows:
        book.active.append([row.get(c, "") for c in columns])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def post(client, world, kind, rows, who="admin", expect=200, **params) -> dict:
    r = client.post(f"/admin/lists/{kind}/import", params=params, headers=world.auth(who),
                    files={"file": (f"{kind}.xlsx", workbook(kind, rows), XLSX)})
    assert r.status_code == expect, r.text
    return r.json()


def count(database, model, *where) -> int:
    with database.session() as db:
        return db.exec(select(func.count()).select_from(model).where(*where)).one()


def phone(world, who) -> str:
    return world.phones[who]


@pytest.fixture
def worthy(client, world) -> str:
    ok(client.post("/admin/staff", json={"name": "乡贤老周", "phone": "13600000001", "role": "member",
                                         "password": "a long password", "branch_id": world["branchA"],
                                         "is_local_worthy": True}, headers=world.auth("admin")), 201)
    return "13600000001"


def test_units_and_their_staff_from_files_twice_change_nothing_the_second_time(client, world, database):
    units = [{"名称": "镇供电所", "类型": "职能部门", "联系人": "王所长", "联系电话": "13800001111"},
             {"名称": "幸福小区物业", "类型": "物业企业"}]
    # A dry run says what it would do and writes nothing.
    planned = post(client, world, "units", units, dry_run="true")
    assert (planned["dry_run"], planned["created"], [p["key"] for p in planned["plan"]]) == (
        True, 2, ["镇供电所", "幸福小区物业"])
    assert count(database, Unit) == 0
    assert post(client, world, "units", units)["created"] == 2
    again = post(client, world, "units", units)
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 2)
    with database.session() as db:
        power = db.exec(select(Unit).where(Unit.name == "镇供电所")).one()
        assert (power.kind, power.contact_name, power.contact_phone) == ("department", "王所长", "13800001111")
    # An empty cell keeps what is stored; a given one changes it.
    changed = post(client, world, "units", [{"名称": "镇供电所", "在用": "否"}])
    assert changed["plan"][0]["changed"] == ["active"]
    with database.session() as db:
        power = db.get(Unit, power.id)
        assert (power.active, power.contact_name) == (False, "王所长")
    staff = [{"姓名": "张电工", "所属单位": "镇供电所", "手机号": "13811112222", "初始密码": "a long password"}]
    assert post(client, world, "unit-staff", staff)["created"] == 1
    assert post(client, world, "unit-staff", staff)["unchanged"] == 1
    assert ok(client.get("/me", headers=sign_in(client, "13811112222", "a long password")))["role"] == "unit_staff"
    # Moved to another unit: its old sign-ins stop working.
    moved = post(client, world, "unit-staff", [{**staff[0], "所属单位": "幸福小区物业", "初始密码": ""}])
    assert moved["plan"][0]["changed"] == ["unit_id"]
    with database.session() as db:
        electrician = db.exec(select(Staff).where(Staff.phone == "13811112222")).one()
        assert electrician.token_version == 1
    # Row-level errors, every one, and nothing written.
    bad = post(client, world, "unit-staff", [
        {"姓名": "无单位", "所属单位": "不存在的单位", "手机号": "13811113333", "初始密码": "a long password"},
        {"姓名": "网格员", "所属单位": "镇供电所", "手机号": phone(world, "workerA1"), "初始密码": "a long password"},
        {"姓名": "短密码", "所属单位": "镇供电所", "手机号": "13811114444", "初始密码": "short"},
        {"姓名": "重复", "所属单位": "镇供电所", "手机号": "13811114444", "初始密码": "a long password"},
    ], expect=422)
    found = errors_by_row(bad)
    assert [e["column"] for e in found[2]] == ["所属单位"] and [e["column"] for e in found[3]] == ["手机号"]
    assert [e["column"] for e in found[4]] == ["初始密码"] and "第 4 行" in found[5][0]["message"]
    assert count(database, Staff, Staff.role == "unit_staff") == 1
    bad_kind = post(client, world, "units", [{"名称": "x", "类型": "银行"}], expect=422)
    assert errors_by_row(bad_kind)[2][0]["column"] == "类型"


def test_visit_teams_from_a_file(client, world, database):
    rows = [{"名称": "甲村直联组", "直联日": "周五", "组长手机号": phone(world, "memberA1"),
             "成员手机号": f"{phone(world, 'memberA1')}、{phone(world, 'workerA1')}", "驻点网格": "gridA1、甲村党支部/gridA2"}]
    assert post(client, world, "visit-teams", rows)["created"] == 1
    assert post(client, world, "visit-teams", rows)["unchanged"] == 1
    with database.session() as db:
        team = db.exec(select(VisitTeam)).one()
        members = set(db.exec(select(VisitTeamMember.staff_id)).all())
        grids = set(db.exec(select(VisitTeamGrid.grid_id)).all())
    assert (team.link_weekday, team.leader_id) == (5, world["memberA1"])
    assert members == {world["memberA1"], world["workerA1"]} and grids == {world["gridA1"], world["gridA2"]}
    # A list in a cell replaces the stored one; the others stay.
    changed = post(client, world, "visit-teams", [{"名称": "甲村直联组", "成员手机号": phone(world, "memberA1")}])
    assert changed["plan"][0]["changed"] == ["members"]
    assert count(database, VisitTeamMember) == 1 and count(database, VisitTeamGrid) == 2
    bad = errors_by_row(post(client, world, "visit-teams", [
        {"名称": "乙", "直联日": "礼拜八", "成员手机号": phone(world, "secA")},
        {"名称": "丙", "驻点网格": "没有的网格", "组长手机号": phone(world, "memberB1")},
        {"名称": "丁", "成员手机号": "13000000000"},
    ], expect=422))
    assert {e["column"] for e in bad[2]} == {"直联日", "成员手机号"}
    assert {e["column"] for e in bad[3]} == {"驻点网格", "组长手机号"} and bad[4][0]["column"] == "成员手机号"
    assert count(database, VisitTeam) == 1


def test_halls_from_a_file(client, world, database):
    rows = [{"名称": "甲村说事厅", "所属支部": "甲村党支部", "地址": "村委会"}, {"名称": "测试镇说事厅"}]
    assert post(client, world, "halls", rows)["created"] == 2
    assert post(client, world, "halls", rows)["unchanged"] == 2
    with database.session() as db:
        halls = {h.name: h.branch_id for h in db.exec(select(Hall))}
    assert halls == {"甲村说事厅": world["branchA"], "测试镇说事厅": None}
    bad = errors_by_row(post(client, world, "halls", [{"名称": "x", "所属支部": "邻镇党支部"}], expect=422))
    assert bad[2][0]["column"] == "所属支部"


def test_action_teams_from_a_file(client, world, database, worthy):
    rows = [{"所属支部": "甲村党支部", "名称": "甲村行动队", "村干部手机号": phone(world, "secA"),
             "党员手机号": phone(world, "memberA1"), "乡贤手机号": worthy}]
    assert post(client, world, "action-teams", rows)["created"] == 1
    assert post(client, world, "action-teams", rows)["unchanged"] == 1
    with database.session() as db:
        team = db.exec(select(ActionTeam)).one()
        assert (team.branch_id, team.cadre_id, team.lead_id) == (world["branchA"], world["secA"], world["memberA1"])
        worthies = db.exec(select(Staff.phone).join(ActionTeamWorthy, ActionTeamWorthy.staff_id == Staff.id)).all()
    assert worthies == [worthy]
    # The same rules as the API's, as cells; new teams need their cadre and member.
    bad = errors_by_row(post(client, world, "action-teams", [
        {"所属支部": "乙村党支部", "名称": "乙村行动队", "村干部手机号": phone(world, "secB"),
         "党员手机号": phone(world, "memberA1")},
        {"所属支部": "甲村党支部", "名称": "新队"},
        {"所属支部": "甲村党支部", "名称": "甲村行动队", "党员手机号": worthy},
    ], expect=422))
    assert bad[2][0]["column"] == "党员手机号"
    assert {e["column"] for e in bad[3]} == {"村干部手机号", "党员手机号"}
    assert bad[4][0]["column"] == "党员手机号"
    # Changing one column keeps the others.
    moved = post(client, world, "action-teams", [{"所属支部": "甲村党支部", "名称": "甲村行动队",
                                                  "党员手机号": phone(world, "memberA2")}])
    assert moved["plan"][0]["changed"] == ["lead_id"] and count(database, ActionTeamWorthy) == 1


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_template_downloads_and_imports_as_empty(client, world, kind):
    r = client.get(f"/admin/lists/{kind}/template.xlsx", headers=world.auth("admin"))
    assert r.status_code == 200 and r.headers["content-type"] == XLSX
    book = load_workbook(io.BytesIO(r.content))
    assert book.sheetnames == [KINDS[kind].title, "说明"]
    assert [c.value for c in book.active[1]] == list(KINDS[kind].sheet.columns)
    # Left as it is, the example row is skipped.
    r = client.post(f"/admin/lists/{kind}/import", headers=world.auth("admin"),
                    files={"file": ("t.xlsx", r.content, XLSX)})
    assert r.status_code == 200, r.text
    assert r.json()["rows"] == 0


@pytest.mark.parametrize("who", ["secA", "memberA1", "res1", "dashboard"])
def test_lists_are_for_town_admins(client, world, who, database):
    assert client.get("/admin/lists/halls/template.xlsx", headers=world.auth(who)).status_code == 403
    post(client, world, "halls", [{"名称": "x"}], who=who, expect=403)
    assert count(database, Hall) == 0


def test_an_unknown_list_is_422(client, world):
    assert client.get("/admin/lists/people/template.xlsx", headers=world.auth("admin")).status_code == 422
