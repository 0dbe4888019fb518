"""Roster import (名单导入): branches, grids and staff from one XLSX or CSV file, all or nothing.

Three steps, so that the slow part holds no lock:
1. `read_roster` (pure, in `roster_file`): the file's rows, from XLSX or CSV.
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

from dataclasses import dataclass, field
from datetime import datetime

from pydantic import BaseModel, ValidationError
from sqlmodel import Session, col, select

from domain.roles import Role
from storage.models import Branch, Grid, GridWorkerGrid, Staff
from workflows.audit import audit
from workflows.hierarchy import require_admin
from workflows.roster_file import (
    BRANCH, COLUMNS, FIELD_COLUMNS, GRID_SEPARATORS, GRIDS, KIND_BRANCH, KIND_GRID, KINDS, NAME, PASSWORD,
    PERSON_ROLES, PHONE, TYPE, USES, WORTHY, RosterInvalid, RosterRow, RowError,
)
from workflows.hierarchy_inputs import BranchCreate, GridCreate, StaffCreate
from workflows.unit import use_case
from infra.passwords import hash_password

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
            RowError(row.number, FIELD_COLUMNS.get(str(e["loc"][0]) if e["loc"] else "", NAME), cell_message(e))
            for e in exc.errors()
        ]


def cell_message(error: dict) -> str:
    """A pydantic error of one cell, in the words of the office (Chinese)."""
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
    result = RosterResult(dry_run=False, rows=plan.rows, created=plan.counts())
    audit(db, actor, "import", "roster", None, {"rows": plan.rows, **result.created.model_dump()}, now=now)
    return result


def _id_of(ref: PlannedBranch | PlannedGrid | int) -> int:
    return ref if isinstance(ref, int) else ref.id
