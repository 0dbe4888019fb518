"""The town's other lists from files: 共建单位, 单位人员, 驻点直联组, 说事厅, 行动队 (XLSX or CSV).

Each list is a file of its own, read like the roster (`roster_file.read_roster`), checked
whole, then written in one transaction. A row is known by its key (a unit, team or hall
by its name, an action team by its branch and name, a unit's staff member by their
phone): a row whose key is stored updates it, any other creates one, so importing the same
file again changes nothing. A cell left empty keeps what is stored; a list given in a
cell (members, grids, worthies) replaces the stored list. Any bad row refuses the whole
file with every error listed; with `dry_run` the answer says, row by row, what would be
created or changed, and nothing is written.

The kinds themselves (their columns and rules) are in `list_sheets`.
"""

from __future__ import annotations

from datetime import datetime
from typing import BinaryIO

from pydantic import BaseModel
from sqlmodel import Session

from infra.passwords import hash_password
from workflows.audit import audit
from workflows.hierarchy import require_admin
from workflows.list_sheets import KINDS, ListKind, Planned
from workflows.roster_file import MAX_ROWS, RosterRow, write_list_template
from workflows.unit import use_case


class ListRowPlan(BaseModel):
    row: int
    key: str
    action: str  # create | update | unchanged
    changed: list[str] = []


class ListImportResult(BaseModel):
    kind: str
    dry_run: bool
    rows: int
    created: int
    updated: int
    unchanged: int
    plan: list[ListRowPlan]


def kind_of(name: str) -> ListKind:
    return KINDS[name]


def write_template(kind: ListKind, out: BinaryIO) -> None:
    """An empty list of this kind: the headers, one example row (skipped if left as it is), a sheet of notes."""
    write_list_template(out, title=kind.title, sheet=kind.sheet, text_columns=kind.text_columns, notes=(
        *kind.notes,
        ("", f"第 2 行是示例，原样保留时导入会跳过它。最多 {MAX_ROWS} 行。空着的格子保留原来的值；"
             "填了名单的格子（成员、网格、乡贤）会替换原来的名单。有一行不对，整个文件都不导入，"
             "并列出每一行的问题；先用 dry_run=true 试一下。"),
    ))


def _result(kind: ListKind, planned: list[Planned], rows: int, *, dry_run: bool) -> ListImportResult:
    plan = [ListRowPlan(row=p.row, key=p.key, changed=p.changed,
                        action="create" if p.existing is None else ("update" if p.changed else "unchanged"))
            for p in planned]
    return ListImportResult(
        kind=kind.name, dry_run=dry_run, rows=rows, plan=plan,
        created=sum(p.action == "create" for p in plan), updated=sum(p.action == "update" for p in plan),
        unchanged=sum(p.action == "unchanged" for p in plan))


def check_list(db: Session, actor, kind: ListKind, rows: list[RosterRow]) -> list[Planned]:
    """What each row would do, or RosterInvalid with every row's errors. Reads only."""
    return kind.plan(db, require_admin(actor), rows)


def dry_run(db: Session, actor, kind: ListKind, rows: list[RosterRow]) -> ListImportResult:
    return _result(kind, check_list(db, actor, kind, rows), len(rows), dry_run=True)


def hash_passwords(planned: list[Planned]) -> dict[int, str]:
    """Argon2 hashes of the new accounts' passwords by row, before any write lock is taken."""
    return {p.row: hash_password(p.password) for p in planned if p.existing is None and p.password}


@use_case
def import_list(db: Session, actor, kind: ListKind, rows: list[RosterRow], hashes: dict[int, str], *,
                now: datetime) -> ListImportResult:
    """Check again (the town may have changed since) and write, in one transaction."""
    town_id = require_admin(actor)
    planned = kind.plan(db, town_id, rows)
    result = _result(kind, planned, len(rows), dry_run=False)
    missing = [p.row for p in planned if p.existing is None and p.password and p.row not in hashes]
    if missing:  # the file changed under the check: hash what is new now
        hashes = {**hashes, **{p.row: hash_password(p.password) for p in planned if p.row in missing}}
    kind.write(db, town_id, planned, hashes, now)
    audit(db, actor, "import", kind.entity, None, {
        "rows": result.rows, "created": result.created, "updated": result.updated,
        "unchanged": result.unchanged}, now=now)
    return result
