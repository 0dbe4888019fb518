"""The kinds of list `list_import` reads: their columns, how a row is checked, how it is written.

Each kind checks a row with the admin API's own models and rules (`UnitCreate`,
`domain.visits.may_join_team`, `domain.action_teams.team_problems`, …) against the town
as stored and the rows above it, and writes it as the admin API would. People are named
by their phone, grids by name (or 支部/网格 where two branches have a grid of that name),
branches and units by name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlmodel import Session, col, delete, select

from domain.action_teams import team_problems
from domain.roles import Role
from domain.visits import WEEKDAY_LABELS, may_join_team
from domain.whistles import UNIT_KIND_LABELS, UnitKind
from storage.models import (
    ActionTeam, ActionTeamWorthy, Branch, Grid, Hall, Staff, Unit, VisitTeam, VisitTeamGrid, VisitTeamMember,
)
from workflows.action_team_inputs import ActionTeamCreate
from workflows.action_teams import people_of
from workflows.hall_inputs import HallCreate
from workflows.hierarchy_inputs import StaffCreate, StaffUpdate
from workflows.roster import cell_message
from workflows.roster_file import GRID_SEPARATORS, RosterInvalid, RosterRow, RowError, Sheet
from workflows.visit_inputs import TeamCreate
from workflows.whistle_inputs import UnitCreate


@dataclass
class Planned:
    row: int
    key: str
    existing: Any | None
    fields: dict[str, Any]
    # Lists of ids that replace the stored ones (members, grids, worthies), where the row gives them.
    links: dict[str, list[int]] = field(default_factory=dict)
    password: str | None = None
    changed: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ListKind:
    name: str  # as the path names it
    title: str  # as the office names it, and the template's sheet
    entity: str  # as the audit log names it
    sheet: Sheet
    notes: tuple[tuple[str, str], ...]
    text_columns: tuple[str, ...]
    plan: Callable[[Session, int, list[RosterRow]], list[Planned]]
    write: Callable[[Session, int, list[Planned], dict[int, str], datetime], None]


YES_NO = {"": None, "是": True, "否": False}
NAME, KIND, CONTACT, CONTACT_PHONE, ACTIVE = "名称", "类型", "联系人", "联系电话", "在用"
PERSON, UNIT, PHONE, PASSWORD = "姓名", "所属单位", "手机号", "初始密码"
WEEKDAY, LEADER, MEMBERS, GRIDS = "直联日", "组长手机号", "成员手机号", "驻点网格"
BRANCH, ADDRESS = "所属支部", "地址"
CADRE, LEAD, WORTHIES = "村干部手机号", "党员手机号", "乡贤手机号"


# --------------------------------------------------------------------------- shared checks


def _model(row: RosterRow, model: type[BaseModel], values: dict, column_of: dict[str, str],
           errors: list[RowError]) -> BaseModel | None:
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        errors += [RowError(row.number, column_of.get(str(e["loc"][0]) if e["loc"] else "", NAME), cell_message(e))
                   for e in exc.errors()]
        return None


def _yes_no(row: RosterRow, column: str, errors: list[RowError]) -> bool | None:
    if row[column] not in YES_NO:
        errors.append(RowError(row.number, column, f"{column}填“是”或“否”，或留空"))
        return None
    return YES_NO[row[column]]


def _split(cell: str) -> list[str]:
    return list(dict.fromkeys(p.strip() for p in GRID_SEPARATORS.split(cell) if p.strip()))


def _once(row: RosterRow, column: str, key: str, seen: dict[str, int], errors: list[RowError]) -> None:
    if key in seen:
        errors.append(RowError(row.number, column, f"与第 {seen[key]} 行重复"))
    seen[key] = row.number


def _changed(existing, fields: dict, links: dict[str, list[int]], stored_links: dict[str, list[int]]) -> list[str]:
    if existing is None:
        return []
    return ([k for k, v in fields.items() if getattr(existing, k) != v]
            + [k for k, ids in links.items() if sorted(ids) != sorted(stored_links.get(k, []))])


def _town_staff(db: Session, town_id: int) -> dict[str, Staff]:
    return {s.phone: s for s in db.exec(select(Staff).where(Staff.town_id == town_id))}


def _person(row: RosterRow, column: str, staff: dict[str, Staff], errors: list[RowError]) -> int | None:
    if not row[column]:
        return None
    found = staff.get(row[column])
    if found is None:
        errors.append(RowError(row.number, column, f"本镇没有手机号为 {row[column]} 的工作人员（先导入名单）"))
        return None
    return found.id


def _people(row: RosterRow, column: str, staff: dict[str, Staff], errors: list[RowError]) -> list[int] | None:
    if not row[column]:
        return None
    ids = []
    for phone in _split(row[column]):
        if phone not in staff:
            errors.append(RowError(row.number, column, f"本镇没有手机号为 {phone} 的工作人员（先导入名单）"))
        else:
            ids.append(staff[phone].id)
    return ids


def _branch_names(db: Session, town_id: int) -> dict[str, int]:
    return {name: i for i, name in db.exec(select(Branch.id, Branch.name).where(Branch.town_id == town_id))}


# --------------------------------------------------------------------------- 共建单位

UNIT_KIND_OF = {**{k.value: k for k in UnitKind}, **{label: k for k, label in UNIT_KIND_LABELS.items()}}
UNIT_COLUMNS = {"name": NAME, "kind": KIND, "contact_name": CONTACT, "contact_phone": CONTACT_PHONE}


def _plan_units(db: Session, town_id: int, rows: list[RosterRow]) -> list[Planned]:
    stored = {u.name: u for u in db.exec(select(Unit).where(Unit.town_id == town_id))}
    errors: list[RowError] = []
    planned, seen = [], {}
    for row in rows:
        row_errors: list[RowError] = []
        kind = UNIT_KIND_OF.get(row[KIND]) if row[KIND] else None
        if row[KIND] and kind is None:
            row_errors.append(RowError(row.number, KIND, f"类型填：{'、'.join(UNIT_KIND_LABELS.values())}"))
        active = _yes_no(row, ACTIVE, row_errors)
        given = {k: v for k, v in {"kind": kind, "contact_name": row[CONTACT] or None,
                                   "contact_phone": row[CONTACT_PHONE] or None}.items() if v is not None}
        body = _model(row, UnitCreate, {"name": row[NAME], **given}, UNIT_COLUMNS, row_errors)
        if body is not None:
            _once(row, NAME, body.name, seen, row_errors)
        if row_errors or body is None:
            errors += row_errors
            continue
        fields = body.model_dump(include=set(given), mode="json")
        if active is not None:
            fields["active"] = active
        existing = stored.get(body.name)
        planned.append(Planned(row.number, body.name, existing, fields, changed=_changed(existing, fields, {}, {})))
    if errors:
        raise RosterInvalid(errors, UNITS.columns)
    return planned


def _write_units(db: Session, town_id: int, planned: list[Planned], hashes: dict[int, str], now: datetime) -> None:
    for p in planned:
        if p.existing is None:
            db.add(Unit(town_id=town_id, name=p.key, created_at=now, **p.fields))
        for key in p.changed:
            setattr(p.existing, key, p.fields[key])
    db.flush()


UNITS = Sheet((NAME, KIND, CONTACT, CONTACT_PHONE, ACTIVE), (NAME,), {
    NAME: "镇供电所", KIND: "职能部门", CONTACT: "王所长", CONTACT_PHONE: "13800000000", ACTIVE: "是"})


# --------------------------------------------------------------------------- 单位人员

STAFF_COLUMNS = {"name": PERSON, "phone": PHONE, "password": PASSWORD, "unit_id": UNIT}


def _plan_unit_staff(db: Session, town_id: int, rows: list[RosterRow]) -> list[Planned]:
    units = {u.name: u.id for u in db.exec(select(Unit).where(Unit.town_id == town_id))}
    phones = sorted({r[PHONE] for r in rows if r[PHONE]})
    accounts = {s.phone: s for s in db.exec(select(Staff).where(col(Staff.phone).in_(phones)))} if phones else {}
    errors: list[RowError] = []
    planned, seen = [], {}
    for row in rows:
        row_errors: list[RowError] = []
        unit_id = units.get(row[UNIT])
        if unit_id is None:
            row_errors.append(RowError(row.number, UNIT, f"本镇没有共建单位“{row[UNIT]}”（先导入共建单位名单）"))
        existing = accounts.get(row[PHONE])
        if existing is not None and (existing.role != Role.UNIT_STAFF.value or existing.town_id != town_id):
            row_errors.append(RowError(row.number, PHONE, f"手机号 {row[PHONE]} 已是其他岗位或其他镇的账号"))
        if existing is None:
            body = _model(row, StaffCreate, {"name": row[PERSON], "phone": row[PHONE], "password": row[PASSWORD],
                                             "role": Role.UNIT_STAFF.value, "unit_id": unit_id or 1},
                          STAFF_COLUMNS, row_errors)
        else:
            body = _model(row, StaffUpdate, {"name": row[PERSON]}, STAFF_COLUMNS, row_errors)
        _once(row, PHONE, row[PHONE], seen, row_errors)
        if row_errors or body is None:
            errors += row_errors
            continue
        fields = {"name": body.name, "unit_id": unit_id}
        planned.append(Planned(row.number, row[PHONE], existing, fields,
                               password=body.password if existing is None else None,
                               changed=_changed(existing, fields, {}, {})))
    if errors:
        raise RosterInvalid(errors, UNIT_STAFF.columns)
    return planned


def _write_unit_staff(db: Session, town_id: int, planned: list[Planned], hashes: dict[int, str],
                      now: datetime) -> None:
    for p in planned:
        if p.existing is None:
            db.add(Staff(town_id=town_id, role=Role.UNIT_STAFF.value, phone=p.key, password_hash=hashes[p.row],
                         created_at=now, **p.fields))
        for key in p.changed:
            setattr(p.existing, key, p.fields[key])
            if key == "unit_id":
                p.existing.token_version += 1  # signed in for the old unit: sign in again
    db.flush()


UNIT_STAFF = Sheet((PERSON, UNIT, PHONE, PASSWORD), (PERSON, UNIT, PHONE), {
    PERSON: "张电工", UNIT: "镇供电所", PHONE: "13800000000", PASSWORD: "请改成8位以上"})


# --------------------------------------------------------------------------- 驻点直联组

WEEKDAY_OF = {**{label: int(day) for day, label in WEEKDAY_LABELS.items()}, **{str(int(d)): int(d) for d in WEEKDAY_LABELS}}
TEAM_COLUMNS = {"name": NAME, "link_weekday": WEEKDAY}


def _grid_names(db: Session, town_id: int) -> dict[str, list[int]]:
    """Grids by their name and by 支部/网格."""
    found: dict[str, list[int]] = {}
    for grid_id, grid, branch in db.exec(select(Grid.id, Grid.name, Branch.name)
                                         .join(Branch, col(Branch.id) == Grid.branch_id).where(Grid.town_id == town_id)):
        found.setdefault(grid, []).append(grid_id)
        found.setdefault(f"{branch}/{grid}", []).append(grid_id)
    return found


def _grids(row: RosterRow, grids: dict[str, list[int]], errors: list[RowError]) -> list[int] | None:
    if not row[GRIDS]:
        return None
    ids = []
    for name in _split(row[GRIDS]):
        named = grids.get(name, [])
        if len(named) == 1:
            ids.append(named[0])
        elif not named:
            errors.append(RowError(row.number, GRIDS, f"本镇没有网格“{name}”"))
        else:
            errors.append(RowError(row.number, GRIDS, f"本镇有几个网格叫“{name}”：请写成“支部名/网格名”"))
    return ids


def _plan_visit_teams(db: Session, town_id: int, rows: list[RosterRow]) -> list[Planned]:
    stored = {t.name: t for t in db.exec(select(VisitTeam).where(VisitTeam.town_id == town_id))}
    ids = [t.id for t in stored.values()]
    links: dict[int, dict[str, list[int]]] = {i: {"members": [], "grids": []} for i in ids}
    for team_id, staff_id in db.exec(select(VisitTeamMember.team_id, VisitTeamMember.staff_id)
                                     .where(col(VisitTeamMember.team_id).in_(ids))) if ids else ():
        links[team_id]["members"].append(staff_id)
    for team_id, grid_id in db.exec(select(VisitTeamGrid.team_id, VisitTeamGrid.grid_id)
                                    .where(col(VisitTeamGrid.team_id).in_(ids))) if ids else ():
        links[team_id]["grids"].append(grid_id)
    staff = _town_staff(db, town_id)
    grids = _grid_names(db, town_id)
    by_id = {s.id: s for s in staff.values()}
    errors: list[RowError] = []
    planned, seen = [], {}
    for row in rows:
        row_errors: list[RowError] = []
        weekday = WEEKDAY_OF.get(row[WEEKDAY]) if row[WEEKDAY] else None
        if row[WEEKDAY] and weekday is None:
            row_errors.append(RowError(row.number, WEEKDAY, "直联日填周一到周日"))
        members = _people(row, MEMBERS, staff, row_errors)
        refused = [by_id[i].phone for i in members or [] if not may_join_team(
            role=by_id[i].role, active=by_id[i].active, town_id=by_id[i].town_id, team_town_id=town_id)]
        if refused:
            row_errors.append(RowError(row.number, MEMBERS, f"只有在岗的党员和网格员可以入组：{'、'.join(refused)}"))
        grid_ids = _grids(row, grids, row_errors)
        leader = _person(row, LEADER, staff, row_errors)
        body = _model(row, TeamCreate, {"name": row[NAME], **({"link_weekday": weekday} if weekday else {})},
                      TEAM_COLUMNS, row_errors)
        if body is not None:
            _once(row, NAME, body.name, seen, row_errors)
        existing = stored.get(body.name) if body is not None else None
        now_links = links.get(existing.id, {}) if existing is not None else {}
        team_members = members if members is not None else now_links.get("members", [])
        if leader is not None and leader not in team_members:
            row_errors.append(RowError(row.number, LEADER, "组长须是本组成员"))
        if row_errors or body is None:
            errors += row_errors
            continue
        fields = {k: v for k, v in {"link_weekday": weekday, "leader_id": leader}.items() if v is not None}
        given = {k: v for k, v in {"members": members, "grids": grid_ids}.items() if v is not None}
        planned.append(Planned(row.number, body.name, existing, fields, given,
                               changed=_changed(existing, fields, given, now_links)))
    if errors:
        raise RosterInvalid(errors, VISIT_TEAMS.columns)
    return planned


def _write_visit_teams(db: Session, town_id: int, planned: list[Planned], hashes: dict[int, str],
                       now: datetime) -> None:
    for p in planned:
        team = p.existing
        if team is None:
            team = VisitTeam(town_id=town_id, name=p.key, created_at=now, **p.fields)
            db.add(team)
            db.flush()
        for key in p.changed:
            if key in p.fields:
                setattr(team, key, p.fields[key])
        if "members" in p.links and (p.existing is None or "members" in p.changed):
            db.exec(delete(VisitTeamMember).where(col(VisitTeamMember.team_id) == team.id))
            db.add_all([VisitTeamMember(team_id=team.id, staff_id=i) for i in p.links["members"]])
        if "grids" in p.links and (p.existing is None or "grids" in p.changed):
            db.exec(delete(VisitTeamGrid).where(col(VisitTeamGrid.team_id) == team.id))
            db.add_all([VisitTeamGrid(team_id=team.id, grid_id=i) for i in p.links["grids"]])
    db.flush()


VISIT_TEAMS = Sheet((NAME, WEEKDAY, LEADER, MEMBERS, GRIDS), (NAME,), {
    NAME: "东湖村直联组", WEEKDAY: "周三", LEADER: "13800000301", MEMBERS: "13800000301、13800000201",
    GRIDS: "东湖村第一网格、东湖村第二网格"})


# --------------------------------------------------------------------------- 说事厅

HALL_COLUMNS = {"name": NAME, "branch_id": BRANCH, "address": ADDRESS}


def _plan_halls(db: Session, town_id: int, rows: list[RosterRow]) -> list[Planned]:
    stored = {h.name: h for h in db.exec(select(Hall).where(Hall.town_id == town_id))}
    branches = _branch_names(db, town_id)
    errors: list[RowError] = []
    planned, seen = [], {}
    for row in rows:
        row_errors: list[RowError] = []
        branch_id = branches.get(row[BRANCH]) if row[BRANCH] else None
        if row[BRANCH] and branch_id is None:
            row_errors.append(RowError(row.number, BRANCH, f"本镇没有支部“{row[BRANCH]}”"))
        given = {k: v for k, v in {"branch_id": branch_id, "address": row[ADDRESS] or None}.items() if v is not None}
        body = _model(row, HallCreate, {"name": row[NAME], **given}, HALL_COLUMNS, row_errors)
        if body is not None:
            _once(row, NAME, body.name, seen, row_errors)
        if row_errors or body is None:
            errors += row_errors
            continue
        fields = body.model_dump(include=set(given))
        existing = stored.get(body.name)
        planned.append(Planned(row.number, body.name, existing, fields, changed=_changed(existing, fields, {}, {})))
    if errors:
        raise RosterInvalid(errors, HALLS.columns)
    return planned


def _write_halls(db: Session, town_id: int, planned: list[Planned], hashes: dict[int, str], now: datetime) -> None:
    for p in planned:
        if p.existing is None:
            db.add(Hall(town_id=town_id, name=p.key, created_at=now, **p.fields))
        for key in p.changed:
            setattr(p.existing, key, p.fields[key])
    db.flush()


HALLS = Sheet((NAME, BRANCH, ADDRESS), (NAME,), {
    NAME: "东湖村群众说事厅", BRANCH: "东湖村党支部", ADDRESS: "东湖村村委会一楼"})


# --------------------------------------------------------------------------- 行动队

ACTION_COLUMNS = {"name": NAME, "branch_id": BRANCH, "cadre_id": CADRE, "lead_id": LEAD, "worthy_ids": WORTHIES}
PROBLEM_COLUMNS = {"action-team.cadre-refused": (CADRE, "村干部须是本支部在岗的书记、网格员或党员"),
                   "action-team.lead-refused": (LEAD, "须是本支部在岗的党员，不能是乡贤"),
                   "action-team.worthy-refused": (WORTHIES, "每位都须是本支部在岗的乡贤"),
                   "action-team.person-twice": (WORTHIES, "同一个人在行动队中只能担任一个角色")}


def _plan_action_teams(db: Session, town_id: int, rows: list[RosterRow]) -> list[Planned]:
    branches = _branch_names(db, town_id)
    stored = {(t.branch_id, t.name): t for t in db.exec(select(ActionTeam).where(ActionTeam.town_id == town_id))}
    ids = [t.id for t in stored.values()]
    worthies_of: dict[int, list[int]] = {i: [] for i in ids}
    for team_id, staff_id in db.exec(select(ActionTeamWorthy.team_id, ActionTeamWorthy.staff_id)
                                     .where(col(ActionTeamWorthy.team_id).in_(ids))) if ids else ():
        worthies_of[team_id].append(staff_id)
    staff = _town_staff(db, town_id)
    people = people_of(db, town_id, [s.id for s in staff.values()
                                     if s.role in (Role.SECRETARY.value, Role.GRID_WORKER.value, Role.MEMBER.value)])
    errors: list[RowError] = []
    planned, seen = [], {}
    for row in rows:
        row_errors: list[RowError] = []
        branch_id = branches.get(row[BRANCH])
        if branch_id is None:
            row_errors.append(RowError(row.number, BRANCH, f"本镇没有支部“{row[BRANCH]}”"))
        cadre = _person(row, CADRE, staff, row_errors)
        lead = _person(row, LEAD, staff, row_errors)
        worthies = _people(row, WORTHIES, staff, row_errors)
        existing = stored.get((branch_id, row[NAME]))
        if existing is None:
            for column, given in ((CADRE, row[CADRE]), (LEAD, row[LEAD])):
                if not given:
                    row_errors.append(RowError(row.number, column, "新建行动队时必填"))
        body = _model(row, ActionTeamCreate, {"name": row[NAME], "cadre_id": cadre or 1, "lead_id": lead or 1},
                      ACTION_COLUMNS, row_errors)
        _once(row, NAME, f"{row[BRANCH]}/{row[NAME]}", seen, row_errors)
        if not row_errors and body is not None and branch_id is not None:
            final_cadre = cadre if cadre is not None else existing.cadre_id
            final_lead = lead if lead is not None else existing.lead_id
            final_worthies = worthies if worthies is not None else worthies_of.get(existing.id, []) if existing else []
            for key in team_problems(branch_id=branch_id, cadre=people.get(final_cadre), lead=people.get(final_lead),
                                     worthies=[people.get(i) for i in final_worthies]):
                column, message = PROBLEM_COLUMNS[key]
                row_errors.append(RowError(row.number, column, message))
        if row_errors or body is None:
            errors += row_errors
            continue
        fields = {k: v for k, v in {"cadre_id": cadre, "lead_id": lead}.items() if v is not None}
        given = {"worthies": worthies} if worthies is not None else {}
        stored_links = {"worthies": worthies_of.get(existing.id, [])} if existing else {}
        planned.append(Planned(row.number, f"{row[BRANCH]}/{body.name}", existing,
                               {"branch_id": branch_id, "name": body.name, **fields} if existing is None else fields,
                               given, changed=_changed(existing, fields, given, stored_links)))
    if errors:
        raise RosterInvalid(errors, ACTION_TEAMS.columns)
    return planned


def _write_action_teams(db: Session, town_id: int, planned: list[Planned], hashes: dict[int, str],
                        now: datetime) -> None:
    for p in planned:
        team = p.existing
        if team is None:
            team = ActionTeam(town_id=town_id, created_at=now, **p.fields)
            db.add(team)
            db.flush()
        for key in p.changed:
            if key in p.fields:
                setattr(team, key, p.fields[key])
        if "worthies" in p.links and (p.existing is None or "worthies" in p.changed):
            db.exec(delete(ActionTeamWorthy).where(col(ActionTeamWorthy.team_id) == team.id))
            db.add_all([ActionTeamWorthy(team_id=team.id, staff_id=i) for i in p.links["worthies"]])
    db.flush()


ACTION_TEAMS = Sheet((BRANCH, NAME, CADRE, LEAD, WORTHIES), (BRANCH, NAME), {
    BRANCH: "东湖村党支部", NAME: "东湖村乡贤行动队", CADRE: "13800000101", LEAD: "13800000301",
    WORTHIES: "13800000399"})


KINDS: dict[str, ListKind] = {kind.name: kind for kind in (
    ListKind("units", "共建单位", "unit", UNITS, (
        (NAME, "必填：单位名称，本镇内不重名；已有的单位按名称更新。"),
        (KIND, f"可填：{'、'.join(UNIT_KIND_LABELS.values())}；新建时默认职能部门。"),
        (CONTACT, "可填。"), (CONTACT_PHONE, "可填。"), (ACTIVE, "可填“是”或“否”：“否”停用该单位，不能再向它吹哨。"),
    ), (CONTACT_PHONE,), _plan_units, _write_units),
    ListKind("unit-staff", "单位人员", "staff", UNIT_STAFF, (
        (PERSON, "必填。"), (UNIT, "必填：本镇已有的共建单位名称（先导入共建单位名单）。"),
        (PHONE, "必填：登录用的手机号；已有的账号按手机号更新。"),
        (PASSWORD, "新账号必填，至少 8 位；已有账号的密码不会被改动。"),
    ), (PHONE,), _plan_unit_staff, _write_unit_staff),
    ListKind("visit-teams", "驻点直联组", "visit_team", VISIT_TEAMS, (
        (NAME, "必填：本镇内不重名；已有的组按名称更新。"), (WEEKDAY, "可填：周一到周日；新建时默认周三。"),
        (LEADER, "可填：组长的手机号，须是本组成员。"),
        (MEMBERS, "可填：成员（在岗的党员、网格员）的手机号，用“、”或逗号隔开；填了就替换原来的成员。"),
        (GRIDS, "可填：驻点的网格名称，用“、”或逗号隔开；重名的网格写成“支部名/网格名”；填了就替换原来的网格。"),
    ), (LEADER, MEMBERS), _plan_visit_teams, _write_visit_teams),
    ListKind("halls", "说事厅", "hall", HALLS, (
        (NAME, "必填：本镇内不重名；已有的说事厅按名称更新。"),
        (BRANCH, "可填：所在村、社区的支部；空着是镇里的说事厅。"), (ADDRESS, "可填。"),
    ), (), _plan_halls, _write_halls),
    ListKind("action-teams", "行动队", "action_team", ACTION_TEAMS, (
        (BRANCH, "必填：行动队所属的支部。"), (NAME, "必填：同一支部内不重名；已有的行动队按支部和名称更新。"),
        (CADRE, "新建时必填：村干部（本支部的书记、网格员或党员）的手机号。"),
        (LEAD, "新建时必填：负责接单办理的党员（不是乡贤）的手机号。"),
        (WORTHIES, "可填：本支部乡贤的手机号，用“、”或逗号隔开；填了就替换原来的乡贤。"),
    ), (CADRE, LEAD, WORTHIES), _plan_action_teams, _write_action_teams),
)}
