"""Roster files (名单): reading an XLSX or CSV into rows, and the template to fill in.

Pure: no database. CSV is read as UTF-8 (with or without BOM), else GB18030, which is
what Excel in a Chinese office saves.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from openpyxl.worksheet.datavalidation import DataValidation

from domain.errors import RuleViolation
from domain.roles import Role

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

    def __init__(self, errors: list[RowError], columns: tuple[str, ...] = COLUMNS) -> None:
        self.errors = sorted(errors, key=lambda e: (e.row, columns.index(e.column) if e.column in columns else 99))
        super().__init__(rows=len({e.row for e in self.errors}))

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


@dataclass(frozen=True)
class Sheet:
    """What a kind of file holds: its columns, those it must have, the template's example row."""

    columns: tuple[str, ...]
    required: tuple[str, ...]
    example: dict[str, str]


ROSTER = Sheet(COLUMNS, REQUIRED_COLUMNS, EXAMPLE_ROW)


# 1. Reading the file


def read_roster(content: bytes, sheet: Sheet = ROSTER) -> list[RosterRow]:
    """The data rows of an XLSX (its first sheet) or CSV file; blank rows are left out."""
    if content.startswith(b"PK\x03\x04"):
        table = _xlsx_rows(content)
    elif content.startswith(b"\xd0\xcf\x11\xe0"):
        raise RuleViolation(key="roster.xls")
    else:
        table = _csv_rows(content)
    return _rows_of(table, sheet)


def _xlsx_rows(content: bytes) -> Iterator[tuple[int, list]]:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            expanded = sum(member.file_size for member in archive.infolist())
        if expanded > MAX_XLSX_EXPANDED_BYTES:
            raise RuleViolation(key="roster.unpacked-too-large")
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except RuleViolation:
        raise
    except Exception as exc:  # any failure to open means "not a workbook we can read"
        raise RuleViolation(key="roster.not-xlsx") from exc
    try:
        sheet = book.worksheets[0]
        for number, values in enumerate(sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True), start=1):
            yield number, [_text_of(v) for v in values]
    except Exception as exc:
        raise RuleViolation(key="roster.truncated") from exc
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
            raise RuleViolation(key="roster.encoding") from exc
    try:
        for number, values in enumerate(csv.reader(io.StringIO(text, newline="")), start=1):
            yield number, [v.strip() for v in values[:MAX_COLUMNS]]
    except csv.Error as exc:
        raise RuleViolation(key="roster.bad-csv", error=exc) from exc


def _rows_of(table: Iterable[tuple[int, list]], sheet: Sheet) -> list[RosterRow]:
    table = iter(table)
    first = next(table, None)
    if first is None:
        raise RosterInvalid([RowError(1, sheet.columns[0], "文件是空的：第 1 行应为表头")], sheet.columns)
    headers = _headers(first[1], sheet)
    rows: list[RosterRow] = []
    for number, values in table:
        cells = {h: v for h, v in zip(headers, values, strict=False) if h and v}
        if not cells:
            continue
        if len(rows) == MAX_ROWS:
            raise RuleViolation(key="roster.too-many-rows", max_rows=MAX_ROWS)
        if cells != sheet.example:
            rows.append(RosterRow(number, cells))
    return rows


def _headers(values: list, sheet: Sheet) -> list[str]:
    headers = [str(v).strip() for v in values]
    errors = []
    seen = set()
    for header in headers:
        if not header:
            continue
        if header not in sheet.columns:
            errors.append(RowError(1, header, f"不认识的列“{header}”；可用的列：{'、'.join(sheet.columns)}"))
        elif header in seen:
            errors.append(RowError(1, header, f"列“{header}”出现了两次"))
        seen.add(header)
    errors += [RowError(1, c, f"缺少必需的列“{c}”") for c in sheet.required if c not in seen]
    if errors:
        raise RosterInvalid(errors, sheet.columns)
    return headers


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


def write_list_template(out: BinaryIO, *, title: str, sheet: Sheet, text_columns: tuple[str, ...],
                        notes: Iterable[tuple[str, str]]) -> None:
    """An empty list to fill in: the headers, the example row (skipped if left as it is), a sheet 说明 of notes."""
    book = Workbook()
    rows = book.active
    rows.title = title
    rows.append(list(sheet.columns))
    rows.append([sheet.example.get(c, "") for c in sheet.columns])
    for cell in rows[1]:
        cell.font = Font(bold=True)
    for cell in rows[2]:
        cell.font = Font(italic=True, color="808080")
    rows.freeze_panes = "A2"
    # Phones stay text: Excel would turn 13800000000 into 1.38E+10.
    for number in range(2, 501):
        for column in text_columns:
            rows.cell(row=number, column=sheet.columns.index(column) + 1).number_format = "@"
    explained = book.create_sheet("说明")
    explained.append(["列", "说明"])
    for cell in explained[1]:
        cell.font = Font(bold=True)
    for column, text in notes:
        explained.append([column, text])
    explained.column_dimensions["B"].width = 90
    book.save(out)
