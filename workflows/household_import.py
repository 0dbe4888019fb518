"""Households from a file (住户名单): XLSX or CSV, checked whole, then written in one transaction.

A row is one household, known by its grid and address: a household already at that
address of the grid is updated, any other is created, so importing the same file again
changes nothing. A cell left empty keeps what is stored (an import fills and changes; it
never clears: that is the admin API's). A building named on a row is created in its grid
if the grid has none of that name. Members are named by their phone. Any bad row refuses
the whole file with every error listed; with `dry_run` the answer says, row by row, what
would be created or changed, and nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import BinaryIO

from pydantic import BaseModel, ValidationError
from sqlmodel import Session, col, select

from domain.households import may_look_after, unknown_flags
from storage.models import Branch, Building, Grid, Household, Staff, Town
from workflows.audit import audit
from workflows.hierarchy import require_admin
from workflows.household_inputs import HouseholdCreate
from workflows.roster import cell_message
from workflows.roster_file import (
    GRID_SEPARATORS, MAX_ROWS, RosterInvalid, RosterRow, RowError, Sheet, write_list_template,
)
from workflows.unit import use_case

BRANCH, GRID, BUILDING, ADDRESS, UNIT, ROOM, HEAD, PHONE, PEOPLE, FLAGS, PAIRED, CENTRAL = (
    "所属支部", "网格", "楼栋", "地址", "单元", "房号", "户主", "电话", "人数", "标签", "联户党员手机号",
    "中心户党员手机号")
COLUMNS = (BRANCH, GRID, BUILDING, ADDRESS, UNIT, ROOM, HEAD, PHONE, PEOPLE, FLAGS, PAIRED, CENTRAL)
HOUSEHOLDS = Sheet(COLUMNS, (GRID, ADDRESS), {
    BRANCH: "新城社区党支部", GRID: "新城社区第一网格", BUILDING: "1栋", ADDRESS: "幸福小区1栋1单元101室",
    UNIT: "1", ROOM: "101", HEAD: "张三", PHONE: "13900000000", PEOPLE: "3", FLAGS: "独居老人、低保户",
    PAIRED: "13800000301",
})
# The fields compared to decide whether a stored household changes.
FIELDS = ("building_id", "unit", "room", "head_name", "phone", "people", "flags", "paired_member_id",
          "central_member_id")
COLUMN_OF = {"address": ADDRESS, "unit": UNIT, "room": ROOM, "head_name": HEAD, "phone": PHONE, "people": PEOPLE,
             "flags": FLAGS, "paired_member_id": PAIRED, "central_member_id": CENTRAL, "grid_id": GRID,
             "building_id": BUILDING}


NOTES = (
    (BRANCH, "可留空；只有本镇几个支部有同名网格时才需要填写。"),
    (GRID, "必填：本镇已有的网格名称。"),
    (BUILDING, "可填：楼栋名称；该网格还没有这个楼栋时会新建。"),
    (ADDRESS, "必填：住户的完整地址（含单元、房号）。同一网格内一个地址一户；已有的住户按地址更新。"),
    (UNIT, "可填。"), (ROOM, "可填。"), (HEAD, "可填：户主姓名。"), (PHONE, "可填：户主或联系电话。"),
    (PEOPLE, "可填：1 到 100 的整数。"),
    (FLAGS, "可填：一个或几个本镇设置的住户标签，用“、”或逗号隔开。"),
    (PAIRED, "可填：联户党员的手机号，须是该网格所在支部的在职党员。"),
    (CENTRAL, "可填：把这一户登记为这位党员自己的家（党员中心户），一位党员只能有一户。"),
    ("", f"第 2 行是示例，原样保留时导入会跳过它。最多 {MAX_ROWS} 行。空着的格子保留原来的值，导入不会清空任何内容。"
         "有一行不对，整个文件都不导入，并列出每一行的问题；先用 dry_run=true 试一下。"),
)


def write_template(out: BinaryIO) -> None:
    """An empty 住户名单: the headers, one example row (skipped if left as it is), a sheet of notes."""
    write_list_template(out, title="住户名单", sheet=HOUSEHOLDS, text_columns=(PHONE, PAIRED, CENTRAL), notes=NOTES)


class RowPlan(BaseModel):
    row: int
    grid_id: int
    address: str
    action: str  # create | update | unchanged
    changed: list[str] = []


class HouseholdImportResult(BaseModel):
    dry_run: bool
    rows: int
    created: int
    updated: int
    unchanged: int
    buildings_created: list[str]
    plan: list[RowPlan]


@dataclass
class _Planned:
    row: int
    grid: Grid
    building: str | None
    fields: dict
    existing: Household | None
    changed: list[str] = field(default_factory=list)


@dataclass
class _Town:
    id: int
    flags: list[str]
    grids: list[tuple[Grid, str]]
    buildings: dict[tuple[int, str], Building]
    members: dict[str, Staff]
    households: dict[tuple[int, str], Household]
    homes: dict[int, Household]  # 党员中心户 by their member


def _load(db: Session, town_id: int) -> _Town:
    town = db.get(Town, town_id)
    grids = db.exec(select(Grid, Branch.name).join(Branch, col(Branch.id) == Grid.branch_id)
                    .where(Grid.town_id == town_id)).all()
    buildings = {(b.grid_id, b.name): b for b in db.exec(select(Building).where(Building.town_id == town_id))}
    members = {s.phone: s for s in db.exec(select(Staff).where(Staff.town_id == town_id))}
    stored = db.exec(select(Household).where(Household.town_id == town_id)).all()
    households = {(h.grid_id, h.address): h for h in stored}
    homes = {h.central_member_id: h for h in stored if h.central_member_id is not None}
    return _Town(town_id, list(town.household_flags), list(grids), buildings, members, households, homes)


def _grid_of(row: RosterRow, town: _Town) -> tuple[Grid | None, list[RowError]]:
    named = [(g, b) for g, b in town.grids if g.name == row[GRID]]
    if row[BRANCH]:
        named = [(g, b) for g, b in named if b == row[BRANCH]]
    if len(named) == 1:
        return named[0][0], []
    if not named:
        where = f"支部“{row[BRANCH]}”中" if row[BRANCH] else "本镇"
        return None, [RowError(row.number, GRID, f"{where}没有网格“{row[GRID]}”")]
    return None, [RowError(row.number, BRANCH, f"本镇有几个网格叫“{row[GRID]}”：请填写所属支部")]


def _member(row: RosterRow, column: str, grid: Grid, town: _Town) -> tuple[int | None, list[RowError]]:
    if not row[column]:
        return None, []
    staff = town.members.get(row[column])
    if staff is None or not may_look_after(role=staff.role, active=staff.active, member_branch_id=staff.branch_id,
                                           grid_branch_id=grid.branch_id):
        return None, [RowError(row.number, column, f"手机号 {row[column]} 不是该网格所在支部的在职党员")]
    return staff.id, []


def plan_households(db: Session, actor, rows: list[RosterRow]) -> list[_Planned]:
    """What each row would do, or RosterInvalid with every row's errors. Reads only."""
    town = _load(db, require_admin(actor))
    errors: list[RowError] = []
    planned: list[_Planned] = []
    seen: dict[tuple[int, str], int] = {}
    central_rows: dict[int, int] = {}
    for row in rows:
        grid, row_errors = _grid_of(row, town)
        if grid is None:
            errors += row_errors
            continue
        paired, e1 = _member(row, PAIRED, grid, town)
        central, e2 = _member(row, CENTRAL, grid, town)
        row_errors += e1 + e2
        flags = [f.strip() for f in GRID_SEPARATORS.split(row[FLAGS]) if f.strip()] if row[FLAGS] else None
        if flags and (unknown := unknown_flags(flags, town.flags)):
            row_errors.append(RowError(row.number, FLAGS, f"本镇未设置这些住户标签：{'、'.join(unknown)}"))
        people = None
        if row[PEOPLE]:
            if row[PEOPLE].isascii() and row[PEOPLE].isdigit() and 1 <= int(row[PEOPLE]) <= 100:
                people = int(row[PEOPLE])
            else:
                row_errors.append(RowError(row.number, PEOPLE, "人数应为 1 到 100 的整数"))
        given = {"unit": row[UNIT] or None, "room": row[ROOM] or None, "head_name": row[HEAD] or None,
                 "phone": row[PHONE] or None, "people": people, "flags": flags,
                 "paired_member_id": paired, "central_member_id": central}
        given = {k: v for k, v in given.items() if v is not None}
        try:
            body = HouseholdCreate(grid_id=grid.id, address=row[ADDRESS], **given)
        except ValidationError as exc:
            row_errors += [RowError(row.number, COLUMN_OF.get(str(e["loc"][0]) if e["loc"] else "", ADDRESS),
                                    cell_message(e)) for e in exc.errors()]
            errors += row_errors
            continue
        key = (grid.id, body.address)
        if key in seen:
            row_errors.append(RowError(row.number, ADDRESS, f"与第 {seen[key]} 行是同一户（同一网格、同一地址）"))
        seen[key] = row.number
        existing = town.households.get(key)
        if central is not None:
            holder = town.homes.get(central)
            if central in central_rows or (holder is not None and holder is not existing):
                row_errors.append(RowError(row.number, CENTRAL, "这位党员已登记了自己的住户（党员中心户）"))
            central_rows[central] = row.number
        if row_errors:
            errors += row_errors
            continue
        fields = body.model_dump(exclude_unset=True, exclude={"grid_id", "address"})
        if "flags" in fields:
            fields["flags"] = list(dict.fromkeys(fields["flags"]))
        planned.append(_Planned(row.number, grid, row[BUILDING] or None, {"address": body.address, **fields},
                                existing))
    if errors:
        raise RosterInvalid(errors, COLUMNS)
    for item in planned:
        building = town.buildings.get((item.grid.id, item.building)) if item.building else None
        if item.building:
            item.fields["building_id"] = building.id if building else None
        if item.existing is not None:
            item.changed = [k for k in FIELDS if k in item.fields and getattr(item.existing, k) != item.fields[k]]
            if item.building and building is None and "building_id" not in item.changed:
                item.changed.append("building_id")  # a building still to be made: a change whatever is stored
    return planned


def _new_buildings(planned: list[_Planned]) -> list[tuple[Grid, str]]:
    wanted = {}
    for item in planned:
        if item.building and item.fields.get("building_id") is None:
            wanted.setdefault((item.grid.id, item.building), (item.grid, item.building))
    return list(wanted.values())


def _result(planned: list[_Planned], rows: int, *, dry_run: bool) -> HouseholdImportResult:
    plan = [RowPlan(row=p.row, grid_id=p.grid.id, address=p.fields["address"],
                    action="create" if p.existing is None else ("update" if p.changed else "unchanged"),
                    changed=p.changed) for p in planned]
    return HouseholdImportResult(
        dry_run=dry_run, rows=rows, plan=plan, created=sum(p.action == "create" for p in plan),
        updated=sum(p.action == "update" for p in plan), unchanged=sum(p.action == "unchanged" for p in plan),
        buildings_created=[f"{grid.name} {name}" for grid, name in _new_buildings(planned)],
    )


def check_households(db: Session, actor, rows: list[RosterRow]) -> HouseholdImportResult:
    """The dry run: what the file would do, row by row."""
    return _result(plan_households(db, actor, rows), len(rows), dry_run=True)


@use_case
def import_households(db: Session, actor, rows: list[RosterRow], *, now: datetime) -> HouseholdImportResult:
    """Check again (the town may have changed since) and write, in one transaction."""
    town_id = require_admin(actor)
    planned = plan_households(db, actor, rows)
    result = _result(planned, len(rows), dry_run=False)
    made = {}
    for grid, name in _new_buildings(planned):
        building = Building(town_id=town_id, grid_id=grid.id, name=name, created_at=now)
        db.add(building)
        made[grid.id, name] = building
    db.flush()
    for item in planned:
        if item.building and item.fields.get("building_id") is None:
            item.fields["building_id"] = made[item.grid.id, item.building].id
        if item.existing is None:
            db.add(Household(town_id=town_id, grid_id=item.grid.id, created_at=now, **item.fields))
        else:
            for key in item.changed:
                setattr(item.existing, key, item.fields[key])
    db.flush()
    audit(db, actor, "import", "household", None, {
        "rows": result.rows, "created": result.created, "updated": result.updated, "unchanged": result.unchanged,
        "buildings_created": len(result.buildings_created)}, now=now)
    return result
