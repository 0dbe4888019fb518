"""The office's files: the monthly ledger (台账) out; rosters (名单), 住户名单 and the town's other lists in."""

from __future__ import annotations

from collections.abc import Iterator
from tempfile import SpooledTemporaryFile
from typing import Annotated, BinaryIO, Literal

from fastapi import File, Path, Query, UploadFile
from fastapi.responses import StreamingResponse
from starlette.background import BackgroundTask

from api.deps import Admin, AppSettings, Db, Now, QueryBool, QueryId, ReadDb, require
from api.problems import problem_responses
from api.routing import api_router
from domain.errors import RuleViolation
from domain.roles import Role
from workflows import household_import, ledger, list_import, roster, roster_file
from workflows.inputs import DAYS, Day as IsoDay
from workflows.principal import Principal

router = api_router(prefix="/admin", tags=["office"], responses=problem_responses(401, 403))
XLSX = {200: {"content": {ledger.XLSX_MEDIA_TYPE: {}}, "description": "An XLSX workbook"}}
Office = Annotated[Principal, require(Role.TOWN_ADMIN, Role.SECRETARY)]
Day = Annotated[IsoDay, Query(description=f"YYYY-MM-DD, a day in the town's time zone, {DAYS}")]


@router.get("/ledger.xlsx", response_class=StreamingResponse, responses={**XLSX, **problem_responses(404, 422)})
def export_ledger(
    user: Office, db: Db, now: Now, date_from: Day, date_to: Day,
    branch_id: QueryId = None, grid_id: QueryId = None, category_id: QueryId = None,
) -> StreamingResponse:
    """台账: one row per order placed in the period (at most 366 days), a 汇总 sheet of counts by state.

    A town admin exports the town (or one branch, grid or category of it); a secretary their branch.
    """
    query = ledger.LedgerQuery(date_from, date_to, branch_id, grid_id, category_id)
    book = ledger.read_ledger(db, user, query, now)
    name = ledger.ledger_filename(date_from, date_to)
    return _xlsx(lambda out: ledger.write_ledger_xlsx(book, out), name, name.replace("ledger", "台账"))


@router.get("/roster/template.xlsx", response_class=StreamingResponse, responses=XLSX)
def roster_template(user: Admin) -> StreamingResponse:
    """An empty roster with the column headers, an example row and a sheet explaining each column."""
    return _xlsx(roster_file.write_template, "roster-template.xlsx", "名单模板.xlsx")


@router.get("/households/template.xlsx", response_class=StreamingResponse, responses=XLSX)
def households_template(user: Admin) -> StreamingResponse:
    """An empty 住户名单 for POST /admin/households/import: headers, an example row and a sheet of notes."""
    return _xlsx(household_import.write_template, "households-template.xlsx", "住户名单模板.xlsx")


@router.post("/roster", responses=problem_responses(body=True))
def import_roster(
    file: Annotated[UploadFile, File(description="XLSX, or CSV in UTF-8 or GB18030 (GBK)")],
    user: Admin, read_db: ReadDb, db: Db, now: Now, settings: AppSettings,
    dry_run: Annotated[QueryBool, Query(description="Check every row and count, but write nothing")] = False,
) -> roster.RosterResult:
    """Create branches, grids and staff from a roster, all or nothing; any bad row gives 422 listing all.

    Checked on a read session, passwords hashed (about 0.1 s a person), then written in one transaction.
    """
    rows = roster_file.read_roster(_uploaded(file, settings))
    plan = roster.check_roster(read_db, user, rows)
    if dry_run:
        return roster.RosterResult(dry_run=True, rows=plan.rows, created=plan.counts())
    read_db.close()
    return roster.import_roster(db, user, rows, roster.hash_passwords(plan), now=now)


@router.post("/households/import", responses=problem_responses(body=True))
def import_households(
    file: Annotated[UploadFile, File(description="XLSX, or CSV in UTF-8 or GB18030 (GBK)")],
    user: Admin, read_db: ReadDb, db: Db, now: Now, settings: AppSettings,
    dry_run: Annotated[QueryBool, Query(description="Check every row and say what it would do; write nothing")]
    = False,
) -> household_import.HouseholdImportResult:
    """住户名单: create or update households (and their buildings) from a file, all or nothing.

    Columns: 所属支部, 网格, 楼栋, 地址, 单元, 房号, 户主, 电话, 人数, 标签, 联户党员手机号,
    中心户党员手机号 (网格 and 地址 required). A household is known by its grid and address, so
    importing the same file again changes nothing; an empty cell keeps what is stored. Any bad
    row gives 422 listing every error.
    """
    rows = roster_file.read_roster(_uploaded(file, settings), household_import.HOUSEHOLDS)
    if dry_run:
        return household_import.check_households(read_db, user, rows)
    read_db.close()
    return household_import.import_households(db, user, rows, now=now)


ListName = Annotated[Literal["units", "unit-staff", "visit-teams", "halls", "action-teams"], Path(
    description="共建单位 (units), 单位人员 (unit-staff), 驻点直联组 (visit-teams), 说事厅 (halls), 行动队 (action-teams)")]


@router.get("/lists/{kind}/template.xlsx", response_class=StreamingResponse, responses={**XLSX, **problem_responses(422)})
def list_template(kind: ListName, user: Admin) -> StreamingResponse:
    """An empty list of this kind for POST /admin/lists/{kind}/import: headers, an example row and a sheet of notes."""
    sheet = list_import.kind_of(kind)
    return _xlsx(lambda out: list_import.write_template(sheet, out), f"{kind}-template.xlsx", f"{sheet.title}模板.xlsx")


@router.post("/lists/{kind}/import", responses=problem_responses(body=True))
def import_list(
    kind: ListName,
    file: Annotated[UploadFile, File(description="XLSX, or CSV in UTF-8 or GB18030 (GBK)")],
    user: Admin, read_db: ReadDb, db: Db, now: Now, settings: AppSettings,
    dry_run: Annotated[QueryBool, Query(description="Check every row and say what it would do; write nothing")]
    = False,
) -> list_import.ListImportResult:
    """The town's other lists, all or nothing: 共建单位, 单位人员, 驻点直联组, 说事厅, 行动队.

    A row is known by its key (a name; a unit's staff member by phone; an action team by
    支部 and 名称), so importing the same file again changes nothing; an empty cell keeps
    what is stored, and a list in a cell (members, grids, worthies) replaces the stored
    one. People are named by phone. Any bad row gives 422 listing every error. The
    template says what each column takes.
    """
    sheet = list_import.kind_of(kind)
    rows = roster_file.read_roster(_uploaded(file, settings), sheet.sheet)
    if dry_run:
        return list_import.dry_run(read_db, user, sheet, rows)
    hashes = list_import.hash_passwords(list_import.check_list(read_db, user, sheet, rows))
    read_db.close()
    return list_import.import_list(db, user, sheet, rows, hashes, now=now)


def _uploaded(file: UploadFile, settings) -> bytes:
    """The file's bytes, or 422 past the request limit (read one byte over to tell)."""
    content = file.file.read(settings.max_request_bytes + 1)
    if len(content) > settings.max_request_bytes:
        raise RuleViolation(key="roster.too-large", max_bytes=settings.max_request_bytes)
    return content


def _xlsx(write, ascii_name: str, chinese_name: str) -> StreamingResponse:
    # Spilled to disk past a few MiB: a year of a large town need not sit in memory.
    buffer = SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115  (closed after the response is sent)
    try:
        write(buffer)
        buffer.seek(0)
    except BaseException:
        buffer.close()
        raise
    return StreamingResponse(
        _chunks(buffer), media_type=ledger.XLSX_MEDIA_TYPE, background=BackgroundTask(buffer.close),
        headers={"Content-Disposition": ledger.content_disposition(ascii_name, chinese_name),
                 "Cache-Control": "no-store"},
    )


def _chunks(buffer: BinaryIO) -> Iterator[bytes]:
    while chunk := buffer.read(64 * 1024):
        yield chunk
