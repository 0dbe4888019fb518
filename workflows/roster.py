"""Roster import (名单导入): branches, grids and staff from one XLSX or CSV file, all or nothing.

Three steps, so that the slow part holds no lock:
1. `read_roster` (pure): the file's rows, from XLSX or CSV (UTF-8 with or without BOM,
   else GB18030, which is what Excel in a Chinese office saves).
2. `check_roster` (reads): every row checked with the admin API's rules — the pydantic
   models of `hierarchy_inputs` and the same uniqueness (a branch's name in the town, a
   grid's name in its branch, a phone among all staff) — against the town as stored and
   the rows above it. Any bad row refuses the whole file with every error listed.
3. `hash_passwords` (no database; argon2, about 0.05–0.1 s a person) and then
   `import_roster`, one transaction that checks again and writes.

A row refers to a branch or grid by name: one already in the town, or one defined on an
earlier row of the same file.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import BinaryIO

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from openpyxl.worksheet.datavalidation import DataValidation
from pydantic import BaseModel, ValidationError
from sqlmodel import Session, col, select

from domain.errors import RuleViolation
from domain.roles import Role
from storage.models import Branch, Grid, GridWorkerGrid, Staff
from workflows.hierarchy import require_admin
from workflows.hierarchy_inputs import BranchCreate, GridCreate, StaffCreate
from workflows.unit import use_case
from wudan.passwords import hash_password

MAX_ROWS = 5000
# An XLSX is a zip: what it may expand to, whatever its size on the wire.
MAX_XLSX_EXPANDED_BYTES = 64 * 1024 * 1024
MAX_COLUMNS = 30

TYPE, NAME, BRANCH, GRIDS, PHONE, PASSWORD, WORTHY = (
    "类型", "名称或姓名", "所属支部", "所属网格", "手机号", "初始密码", "乡贤")
COLUMNS = (TYPE, NAME, BRANCH, GRIDS, PHONE, PASSWORD, WORTHY)
REQUIRED_COLUMNS = (TYPE, NAME)

KIND_BRANCH, KIND_GRID = "支部", "网格"
PERSON_ROLES = {"网格员": Role.GRID_WORKER, "党员": Role.MEMBER, "支部书记": Role.SECRETARY}
KINDS = (KIND_BRANCH, KIND_GRID, *PERSON_ROLES)

# 所属网格 of a grid worker: several names, separated by 、 or a comma.
GRID_SEPARATORS = re.compile(r"[、,，]")

# The template's example row; left as it is, it is skipped on import.
EXAMPLE_ROW = {TYPE: "网格员", NAME: "李四", BRANCH: "东湖村党支部", GRIDS: "东湖村第一网格、东湖村第二网格",
               PHONE: "13800000000", PASSWORD: "请改成8位以上", WORTHY: "否"}

# Which columns a kind of row uses: "required", "optional"; the others must be empty.
USES: dict[str, dict[str, str]] = {
    KIND_BRANCH: {NAME: "required"},
    KIND_GRID: {NAME: "required", BRANCH: "required"},
    "网格员": {NAME: "required", BRANCH: "optional", GRIDS: "required", PHONE: "required",
            PASSWORD: "required", WORTHY: "optional"},
    "党员": {NAME: "required", BRANCH: "required", PHONE: "required", PASSWORD: "required", WORTHY: "optional"},
    "支部书记": {NAME: "required", BRANCH: "required", PHONE: "required", PASSWORD: "required",
             WORTHY: "optional"},
}

# The models' fields, as the columns they come from.
FIELD_COLUMNS = {"name": NAME, "phone": PHONE, "password": PASSWORD, "role": TYPE, "is_local_worthy": WORTHY,
                 "branch_id": BRANCH, "grid_ids": GRIDS}


class RosterInvalid(RuleViolation):
    """Rows of the roster break the rules; nothing was imported."""

    code = "roster-invalid"
    title = "The roster has errors"

    def __init__(self, errors: list[RowError]) -> None:
        self.errors = sorted(errors, key=lambda e: (e.row, COLUMNS.index(e.column) if e.column in COLUMNS else 99))
        rows = len({e.row for e in self.errors})
        super().__init__(f"{rows} row(s) of the roster have errors; nothing was imported. See errors.")

    def extensions(self) -> dict:
        return {"errors": [{"row": e.row, "column": e.column, "message": e.message} for e in self.errors]}


@dataclass(frozen=True)
class RowError:
    row: int  # as the spreadsheet numbers it: the header is row 1
    column: str
    message: str


@dataclass(frozen=True)
class RosterRow:
    number: int
    cells: dict[str, str]

    def __getitem__(self, column: str) -> str:
        return self.cells.get(column, "")


# 1. Reading the file


def read_roster(content: bytes) -> list[RosterRow]:
    """The data rows of an XLSX (its first sheet) or CSV file; blank rows are left out."""
    if content.startswith(b"PK\x03\x04"):
        table = _xlsx_rows(content)
    elif content.startswith(b"\xd0\xcf\x11\xe0"):
        raise RuleViolation("this is an old .xls workbook: save it as .xlsx or CSV (UTF-8) and try again")
    else:
        table = _csv_rows(content)
    return _rows_of(table)


def _xlsx_rows(content: bytes) -> Iterator[tuple[int, list]]:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            expanded = sum(member.file_size for member in archive.infolist())
        if expanded > MAX_XLSX_EXPANDED_BYTES:
            raise RuleViolation("the workbook is too large once unpacked; split it or save it as CSV")
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except RuleViolation:
        raise
    except Exception as exc:  # any failure to open means "not a workbook we can read"
        raise RuleViolation("the file is not a readable .xlsx workbook") from exc
    try:
        sheet = book.worksheets[0]
        for number, values in enumerate(sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True), start=1):
            yield number, [_text_of(v) for v in values]
    except Exception as exc:
        raise RuleViolation("the workbook could not be read to the end") from exc
    finally:
        book.close()


def _text_of(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a phone typed as a number
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return str(value).strip()


def _csv_rows(content: bytes) -> Iterator[tuple[int, list]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = content.decode("gb18030")
        except UnicodeDecodeError as exc:
            raise RuleViolation("the CSV is neither UTF-8 nor GB18030 (GBK) text") from exc
    try:
        for number, values in enumerate(csv.reader(io.StringIO(text, newline="")), start=1):
            yield number, [v.strip() for v in values[:MAX_COLUMNS]]
    except csv.Error as exc:
        raise RuleViolation(f"the CSV could not be read: {exc}") from exc


def _rows_of(table: Iterable[tuple[int, list]]) -> list[RosterRow]:
    table = iter(table)
    first = next(table, None)
    if first is None:
        raise RosterInvalid([RowError(1, TYPE, "文件是空的：第 1 行应为表头")])
    headers = _headers(first[1])
    rows: list[RosterRow] = []
    for number, values in table:
        cells = {h: v for h, v in zip(headers, values, strict=False) if h and v}
        if not cells:
            continue
        if len(rows) == MAX_ROWS:
            raise RuleViolation(f"a roster may have at most {MAX_ROWS} rows; split the file")
        if cells != EXAMPLE_ROW:
            rows.append(RosterRow(number, cells))
    return rows


def _headers(values: list) -> list[str]:
    headers = [str(v).strip() for v in values]
    errors = []
    seen = set()
    for header in headers:
        if not header:
            continue
        if header not in COLUMNS:
            errors.append(RowError(1, header, f"不认识的列“{header}”；可用的列：{'、'.join(COLUMNS)}"))
        elif header in seen:
            errors.append(RowError(1, header, f"列“{header}”出现了两次"))
        seen.add(header)
    errors += [RowError(1, c, f"缺少必需的列“{c}”") for c in REQUIRED_COLUMNS if c not in seen]
    if errors:
        raise RosterInvalid(errors)
    return headers


# 2. Checking the rows


@dataclass
class PlannedBranch:
    row: int
    body: BranchCreate
    id: int | None = None


@dataclass
class PlannedGrid:
    row: int
    body: GridCreate  # branch_id is a stand-in until `branch` is written
    branch: PlannedBranch | int
    id: int | None = None


@dataclass
class PlannedPerson:
    row: int
    body: StaffCreate  # branch_id and grid_ids are stand-ins until those are written
    branch: PlannedBranch | int | None
    grids: list[PlannedGrid | int] = field(default_factory=list)


@dataclass
class Plan:
    rows: int
    branches: list[PlannedBranch] = field(default_factory=list)
    grids: list[PlannedGrid] = field(default_factory=list)
    people: list[PlannedPerson] = field(default_factory=list)

    def counts(self) -> RosterCounts:
        roles = [p.body.role for p in self.people]
        return RosterCounts(
            branches=len(self.branches), grids=len(self.grids),
            grid_workers=roles.count(Role.GRID_WORKER.value), secretaries=roles.count(Role.SECRETARY.value),
            members=roles.count(Role.MEMBER.value),
        )


class RosterCounts(BaseModel):
    branches: int
    grids: int
    grid_workers: int
    secretaries: int
    members: int


class RosterResult(BaseModel):
    dry_run: bool
    rows: int
    created: RosterCounts


@dataclass
class TownIndex:
    """What a roster row may refer to or clash with: the town as stored, then the rows above."""

    branches: dict[str, PlannedBranch | int]  # by name
    grids: dict[tuple[str, str], PlannedGrid | int]  # by (branch name, grid name)
    phones_taken: set[str]
    # Where a name or phone was first given in this file, for the duplicate messages.
    defined_at: dict[tuple, int] = field(default_factory=dict)


# Ids the models need before the rows they name exist; replaced when writing.
_STAND_IN_ID = 1


def load_index(db: Session, town_id: int, rows: list[RosterRow]) -> TownIndex:
    """Three queries: the town's branches, its grids, and which of the file's phones are taken."""
    branches = db.exec(select(Branch.id, Branch.name).where(Branch.town_id == town_id)).all()
    branch_names = {branch_id: name for branch_id, name in branches}
    grids = db.exec(select(Grid.id, Grid.branch_id, Grid.name).where(Grid.town_id == town_id)).all()
    phones = sorted({r[PHONE] for r in rows if r[PHONE]})
    taken = set(db.exec(select(Staff.phone).where(col(Staff.phone).in_(phones))).all()) if phones else set()
    return TownIndex(
        branches={name: branch_id for branch_id, name in branches},
        grids={(branch_names[b], name): grid_id for grid_id, b, name in grids},
        phones_taken=taken,
    )


def plan_roster(rows: list[RosterRow], index: TownIndex) -> Plan:
    """Check every row against the rules and the rows above it; RosterInvalid lists all errors."""
    plan = Plan(rows=len(rows))
    errors: list[RowError] = []
    for row in rows:
        errors += _plan_row(row, index, plan)
    if errors:
        raise RosterInvalid(errors)
    return plan


def _plan_row(row: RosterRow, index: TownIndex, plan: Plan) -> list[RowError]:
    kind = row[TYPE]
    if kind not in KINDS:
        message = "必填" if not kind else f"类型应为 {'、'.join(KINDS)} 之一，而不是“{kind}”"
        return [RowError(row.number, TYPE, message)]
    errors = _columns_used(row, USES[kind])
    if kind == KIND_BRANCH:
        errors += _plan_branch(row, index, plan)
    elif kind == KIND_GRID:
        errors += _plan_grid(row, index, plan)
    else:
        errors += _plan_person(row, PERSON_ROLES[kind], index, plan)
    # One message per cell is enough.
    unique: dict[str, RowError] = {}
    for error in errors:
        unique.setdefault(error.column, error)
    return list(unique.values())


def _columns_used(row: RosterRow, uses: dict[str, str]) -> list[RowError]:
    errors = []
    for column in COLUMNS[1:]:
        use = uses.get(column)
        if use == "required" and not row[column]:
            errors.append(RowError(row.number, column, f"{row[TYPE]}须填写“{column}”"))
        elif use is None and row[column]:
            errors.append(RowError(row.number, column, f"{row[TYPE]}不填“{column}”，请留空"))
    return errors


def _plan_branch(row: RosterRow, index: TownIndex, plan: Plan) -> list[RowError]:
    name = row[NAME]
    body, errors = _model(row, BranchCreate, {"name": name, "kind": "community" if "社区" in name else "village"})
    if body is None:
        return errors
    name = body.name
    if name in index.branches:
        return [_duplicate(row, NAME, index, ("branch", name), f"支部“{name}”")]
    planned = PlannedBranch(row.number, body)
    index.branches[name] = planned
    index.defined_at[("branch", name)] = row.number
    plan.branches.append(planned)
    return []


def _plan_grid(row: RosterRow, index: TownIndex, plan: Plan) -> list[RowError]:
    body, errors = _model(row, GridCreate, {"branch_id": _STAND_IN_ID, "name": row[NAME]})
    branch_name = row[BRANCH]
    branch = index.branches.get(branch_name)
    if branch_name and branch is None:
        errors.append(_unknown_branch(row, branch_name))
    if body is None or branch is None:
        return errors
    key = (branch_name, body.name)
    if key in index.grids:
        return [_duplicate(row, NAME, index, ("grid", *key), f"“{branch_name}”的网格“{body.name}”")]
    planned = PlannedGrid(row.number, body, branch)
    index.grids[key] = planned
    index.defined_at[("grid", *key)] = row.number
    plan.grids.append(planned)
    return []


def _plan_person(row: RosterRow, role: Role, index: TownIndex, plan: Plan) -> list[RowError]:
    worthy = {"": False, "否": False, "是": True}.get(row[WORTHY])
    fields = {"name": row[NAME], "phone": row[PHONE], "role": role.value, "password": row[PASSWORD],
              "is_local_worthy": bool(worthy)}
    body, errors = _model(row, StaffCreate, fields)
    if worthy is None:
        errors.append(RowError(row.number, WORTHY, "乡贤填“是”或“否”，或留空"))
    branch_name = row[BRANCH]
    branch = index.branches.get(branch_name) if branch_name else None
    if branch_name and branch is None:
        errors.append(_unknown_branch(row, branch_name))
    grids: list[PlannedGrid | int] = []
    if role == Role.GRID_WORKER and row[GRIDS] and not (branch_name and branch is None):
        grids, grid_errors = _grids_named(row, branch_name, index)
        errors += grid_errors
    if body is not None and body.phone in index.phones_taken:
        if ("phone", body.phone) in index.defined_at:
            errors.append(_duplicate(row, PHONE, index, ("phone", body.phone), f"手机号 {body.phone}"))
        else:
            errors.append(RowError(row.number, PHONE, f"手机号 {body.phone} 已被其他账号使用"))
    if errors or body is None:
        return errors
    index.phones_taken.add(body.phone)
    index.defined_at[("phone", body.phone)] = row.number
    plan.people.append(PlannedPerson(row.number, body, branch, grids))
    return []


def _grids_named(row: RosterRow, branch_name: str, index: TownIndex) -> tuple[list, list[RowError]]:
    """The grids of 所属网格: in 所属支部 when it is given, else anywhere in the town if unambiguous."""
    found: list[PlannedGrid | int] = []
    problems: list[str] = []
    names = [n.strip() for n in GRID_SEPARATORS.split(row[GRIDS]) if n.strip()]
    for name in dict.fromkeys(names):
        if branch_name:
            matches = [g for (b, n), g in index.grids.items() if b == branch_name and n == name]
        else:
            matches = [g for (_, n), g in index.grids.items() if n == name]
        if len(matches) == 1:
            found.append(matches[0])
        elif matches:
            problems.append(f"网格“{name}”在几个支部里都有，请在“所属支部”里写明是哪个支部的")
        else:
            where = f"“{branch_name}”" if branch_name else "本镇"
            problems.append(f"{where}没有网格“{name}”（须已存在，或在本文件前面的行中定义）")
    if len(found) > 50:
        problems.append("一个网格员最多负责 50 个网格")
    return found, [RowError(row.number, GRIDS, "；".join(problems))] if problems else []


def _unknown_branch(row: RosterRow, name: str) -> RowError:
    return RowError(row.number, BRANCH, f"本镇没有支部“{name}”（须已存在，或在本文件前面的行中定义）")


def _duplicate(row: RosterRow, column: str, index: TownIndex, key: tuple, what: str) -> RowError:
    earlier = index.defined_at.get(key)
    if earlier is not None:
        return RowError(row.number, column, f"{what}与第 {earlier} 行重复")
    return RowError(row.number, column, f"{what}已存在")


def _model(row: RosterRow, model: type[BaseModel], fields: dict) -> tuple[BaseModel | None, list[RowError]]:
    """The admin API's model of the row, or its errors as cells of the row."""
    try:
        return model.model_validate(fields), []
    except ValidationError as exc:
        return None, [
            RowError(row.number, FIELD_COLUMNS.get(str(e["loc"][0]) if e["loc"] else "", NAME), _message(e))
            for e in exc.errors()
        ]


def _message(error: dict) -> str:
    context = error.get("ctx") or {}
    field_name = str(error["loc"][0]) if error["loc"] else ""
    match error["type"]:
        case "string_too_short" if context.get("min_length") == 1:
            return "不能为空"
        case "string_too_short":
            return f"至少 {context.get('min_length')} 个字符"
        case "string_too_long":
            return f"最多 {context.get('max_length')} 个字符"
        case "string_pattern_mismatch" if field_name == "phone":
            return "手机号应为 5–15 位数字（可以 + 开头）"
        case "string_pattern_mismatch":
            return "含有不可见的控制字符"
        case "missing":
            return "必填"
    return error.get("msg", "不正确")


def check_roster(db: Session, actor, rows: list[RosterRow]) -> Plan:
    """The plan of what the rows would create, or RosterInvalid. Reads only."""
    town_id = require_admin(actor)
    return plan_roster(rows, load_index(db, town_id, rows))


# 3. Writing


def hash_passwords(plan: Plan) -> dict[int, str]:
    """Argon2 hashes of the people's passwords by row, before any write lock is taken."""
    return {person.row: hash_password(person.body.password) for person in plan.people}


@use_case
def import_roster(
    db: Session, actor, rows: list[RosterRow], password_hashes: dict[int, str], *, now: datetime
) -> RosterResult:
    """Check again (the town may have changed since) and create everything, in one transaction."""
    town_id = require_admin(actor)
    plan = plan_roster(rows, load_index(db, town_id, rows))
    for branch in plan.branches:
        row = Branch(town_id=town_id, created_at=now, **branch.body.model_dump())
        db.add(row)
        db.flush()
        branch.id = row.id
    for grid in plan.grids:
        fields = grid.body.model_dump() | {"branch_id": _id_of(grid.branch)}
        row = Grid(town_id=town_id, created_at=now, **fields)
        db.add(row)
        db.flush()
        grid.id = row.id
    for person in plan.people:
        body = person.body
        staff = Staff(
            town_id=town_id, role=body.role, name=body.name, phone=body.phone,
            password_hash=password_hashes.get(person.row) or hash_password(body.password),
            branch_id=_id_of(person.branch) if person.branch is not None else None,
            is_local_worthy=body.is_local_worthy, created_at=now,
        )
        db.add(staff)
        db.flush()
        for grid_id in sorted({_id_of(g) for g in person.grids}):
            db.add(GridWorkerGrid(staff_id=staff.id, grid_id=grid_id))
    db.flush()
    return RosterResult(dry_run=False, rows=plan.rows, created=plan.counts())


def _id_of(ref: PlannedBranch | PlannedGrid | int) -> int:
    return ref if isinstance(ref, int) else ref.id


def write_template(out: BinaryIO) -> None:
    """An empty roster: the headers, one example row (skipped if left as it is) and a sheet of notes."""
    book = Workbook()
    sheet = book.active
    sheet.title = "名单"
    sheet.append(list(COLUMNS))
    sheet.append([EXAMPLE_ROW[c] for c in COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for cell in sheet[2]:
        cell.font = Font(italic=True, color="808080")
    for letter, width in zip("ABCDEFG", (10, 16, 18, 32, 15, 16, 8), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    last = MAX_ROWS + 1
    # Phones and passwords stay text: Excel would turn 13800000000 into 1.38E+10.
    for number in range(2, 501):
        for letter in "EF":
            sheet[f"{letter}{number}"].number_format = "@"
    kinds = DataValidation(type="list", formula1=f'"{",".join(KINDS)}"', allow_blank=True)
    kinds.add(f"A2:A{last}")
    worthy = DataValidation(type="list", formula1='"是,否"', allow_blank=True)
    worthy.add(f"G2:G{last}")
    sheet.add_data_validation(kinds)
    sheet.add_data_validation(worthy)

    notes = book.create_sheet("说明")
    notes.append(["列", "说明"])
    for cell in notes[1]:
        cell.font = Font(bold=True)
    for column, text in (
        (TYPE, "支部、网格、网格员、党员、支部书记 之一。"),
        (NAME, "支部或网格的名称，或人的姓名。名称含“社区”的支部记为社区党支部，其余为村党支部。"),
        (BRANCH, ("网格、党员、支部书记必填；网格员可填，用来在同名网格中确定是哪个支部的。"
                  "须是本镇已有的支部，或本文件前面的行里定义的支部。")),
        (GRIDS, "只填网格员：负责的一个或几个网格，用“、”或逗号隔开。须已存在，或在前面的行里定义。"),
        (PHONE, "人员必填，用于登录；不能与已有账号重复。"),
        (PASSWORD, "人员必填，至少 8 个字符；请通知本人登录后修改。"),
        (WORTHY, "党员可填“是”表示乡贤；可留空（即“否”）。"),
        ("", (f"第 2 行是示例，原样保留时导入会跳过它。每行一个支部、网格或人员，最多 {MAX_ROWS} 行；"
              "先写支部，再写网格，再写人员。有一行不对，整个文件都不导入，并列出每一行的问题。")),
    ):
        notes.append([column, text])
    notes.column_dimensions["A"].width = 12
    notes.column_dimensions["B"].width = 90
    book.save(out)
