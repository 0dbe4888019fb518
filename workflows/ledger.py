"""The monthly ledger (台账): every order placed in a period, one row each, as an XLSX file.

Reading is separate from writing the file: `read_ledger` loads the period's orders and
their events in a fixed number of queries (not one per order) and shapes the rows;
`write_ledger_xlsx` turns them into a workbook with openpyxl, row by row (write-only
mode), so a year of a large town does not sit in memory twice.

是否超时 (ran late) is kept simple: an order ran late when one of the office's stages —
领单, 派单, 接单, 办结 (claim, dispatch, accept, complete) — ended after its time limit,
or the one it is in now is past its deadline. Each visit of a stage starts at the event
that entered it (a decline or a reopen starts the stage again, as `move` does) and its
limit is the category's limit now (a limit changed since is applied to the past too);
the stage now running uses the deadline stamped on the order. The rating stage is the
resident's, ended by auto-close at its limit, and does not count.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import BinaryIO
from urllib.parse import quote
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlmodel import Session, col, select

from domain.channels import channel_label
from domain.deadlines import (
    STAGE_OF_STATE,
    Stage,
    StageLimits,
    overdue_seconds,
    stage_deadline,
)
from domain.errors import NotFound, NotPermitted, RuleViolation
from domain.rating import RatingSource
from domain.roles import ROLE_LABELS, Role
from domain.states import OrderState, Urgency
from domain.transitions import Action
from storage.models import Branch, Category, Grid, Order, OrderEvent, Town
from workflows.inputs import check_days
from workflows.principal import Principal
from workflows.transition import category_limits

MAX_PERIOD_DAYS = 366
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TIME_FORMAT = "yyyy-mm-dd hh:mm"

# The office's stages: a late one of these marks the order 超时.
OFFICE_STAGES = frozenset({Stage.CLAIM, Stage.DISPATCH, Stage.ACCEPT, Stage.COMPLETE})

URGENCY_LABELS = {Urgency.NORMAL.value: "一般", Urgency.URGENT.value: "紧急"}
SOURCE_LABELS = {RatingSource.RESIDENT.value: "群众", RatingSource.CALLBACK.value: "回访",
                 RatingSource.DEFAULT.value: "默认"}

# The columns of stage times and actors, by the action that makes the stage happen.
STAGE_COLUMNS: tuple[tuple[str, frozenset[str]], ...] = (
    ("领单", frozenset({Action.CLAIM.value})),
    ("派单", frozenset({Action.DISPATCH.value})),
    ("接单", frozenset({Action.ACCEPT.value})),
    ("晒单/办结", frozenset({Action.COMPLETE.value})),
    ("评价", frozenset({Action.RATE.value, Action.REOPEN.value, Action.AUTO_CLOSE.value})),
)

# (header, width in characters)
COLUMNS: tuple[tuple[str, int], ...] = (
    ("工单号", 8), ("下单时间", 17), ("网格", 16), ("支部", 16), ("类别", 12), ("紧急程度", 9),
    ("诉求内容", 40), ("地址", 24), ("群众姓名", 10), ("联系电话", 14), ("下单渠道", 11),
    ("当前状态", 10),
    *((f"{stage}{part}", width) for stage, _ in STAGE_COLUMNS
      for part, width in (("时间", 17), ("人", 10))),
    ("重办次数", 9), ("是否超时", 9), ("评价星级", 9), ("评价来源", 9), ("评价内容", 30),
)
HEADERS = tuple(name for name, _ in COLUMNS)
TIME_COLUMNS = frozenset(i for i, name in enumerate(HEADERS) if name.endswith("时间"))
# Typed by residents or staff: never read as a formula, even if it starts with "=".
TEXT_COLUMNS = frozenset(HEADERS.index(name) for name in (
    "网格", "支部", "类别", "诉求内容", "地址", "群众姓名", "联系电话", "评价内容",
    *(f"{stage}人" for stage, _ in STAGE_COLUMNS),
))

# What openpyxl refuses in a cell (inputs refuse these too; old rows might not).
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


@dataclass(frozen=True)
class LedgerQuery:
    date_from: date
    date_to: date
    branch_id: int | None = None
    grid_id: int | None = None
    category_id: int | None = None


@dataclass
class Ledger:
    town_name: str
    scope: str  # 全镇, or the branch's name
    query: LedgerQuery
    exported_at: datetime  # in the town's time zone
    rows: list[tuple] = field(default_factory=list)
    by_state: Counter = field(default_factory=Counter)
    late: int = 0

    @property
    def filename(self) -> str:
        return ledger_filename(self.query.date_from, self.query.date_to)


def period_bounds(date_from: date, date_to: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The period as [start, end) instants: whole days in the town's time zone."""
    check_days(date_from=date_from, date_to=date_to)
    if date_to < date_from:
        raise RuleViolation(key="period.reversed")
    if (date_to - date_from).days + 1 > MAX_PERIOD_DAYS:
        raise RuleViolation(key="period.too-long", days=MAX_PERIOD_DAYS)
    start = datetime.combine(date_from, time(0), tzinfo=zone)
    end = datetime.combine(date_to + timedelta(days=1), time(0), tzinfo=zone)
    return start, end


def ledger_filename(date_from: date, date_to: date, stem: str = "ledger") -> str:
    """`ledger-2026-11.xlsx` for one calendar month, else `ledger-2026-11-01_2026-12-15.xlsx`."""
    next_day = date_to + timedelta(days=1)
    if date_from.day == 1 and next_day.day == 1 and (date_from.year, date_from.month) == (date_to.year, date_to.month):
        return f"{stem}-{date_from:%Y-%m}.xlsx"
    return f"{stem}-{date_from:%Y-%m-%d}_{date_to:%Y-%m-%d}.xlsx"


def content_disposition(ascii_name: str, chinese_name: str) -> str:
    """An attachment header with a plain ASCII name and the Chinese one for clients that read RFC 5987."""
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(chinese_name)}"


def read_ledger(db: Session, actor: Principal, query: LedgerQuery, now: datetime) -> Ledger:
    """The period's orders in the actor's scope: the town for its admins, the branch for its secretary.

    Six queries whatever the number of orders: the town, its branches, grids and
    categories, the orders, and their events.
    """
    town = _town_of(db, actor)
    zone = ZoneInfo(town.timezone)
    start, end = period_bounds(query.date_from, query.date_to, zone)
    branches = {b.id: b for b in db.exec(select(Branch).where(Branch.town_id == town.id))}
    grids = {g.id: g for g in db.exec(select(Grid).where(Grid.town_id == town.id))}
    categories = {c.id: c for c in db.exec(select(Category).where(Category.town_id == town.id))}
    conditions = [Order.town_id == town.id, col(Order.created_at) >= start, col(Order.created_at) < end]
    conditions += _filters(actor, query, branches, grids, categories)

    orders = db.exec(select(Order).where(*conditions).order_by(col(Order.id))).all()
    events: dict[int, list[OrderEvent]] = {o.id: [] for o in orders}
    statement = (
        select(OrderEvent).join(Order, col(Order.id) == col(OrderEvent.order_id))
        .where(*conditions).order_by(col(OrderEvent.order_id), col(OrderEvent.id))
    )
    for event in db.exec(statement):
        events[event.order_id].append(event)

    scope = "全镇" if actor.role == Role.TOWN_ADMIN else branches[actor.branch_id].name
    ledger = Ledger(town.name, scope, query, now.astimezone(zone))
    for order in orders:
        category = categories[order.category_id]
        late = ran_late(order, events[order.id], category_limits(category), now)
        ledger.rows.append(_row(order, events[order.id], late, zone, branches, grids, category))
        ledger.by_state[order.state] += 1
        ledger.late += late
    return ledger


def _town_of(db: Session, actor: Principal) -> Town:
    if actor.role not in (Role.TOWN_ADMIN, Role.SECRETARY) or actor.town_id is None:
        raise NotPermitted(key="ledger.for-whom")
    if actor.role == Role.SECRETARY and actor.branch_id is None:
        raise NotPermitted(key="ledger.no-branch")
    town = db.get(Town, actor.town_id)
    if town is None:
        raise NotFound(key="town.not-found", id=actor.town_id)
    return town


def _filters(actor: Principal, query: LedgerQuery, branches, grids, categories) -> list:
    """The scope and the filters as conditions; a filter outside the scope is not found."""
    own_branch = actor.branch_id if actor.role == Role.SECRETARY else None
    conditions = []
    if own_branch is not None:
        conditions.append(Order.branch_id == own_branch)
    if query.branch_id is not None:
        if query.branch_id not in branches or own_branch not in (None, query.branch_id):
            raise NotFound(key="branch.not-found", id=query.branch_id)
        conditions.append(Order.branch_id == query.branch_id)
    if query.grid_id is not None:
        grid = grids.get(query.grid_id)
        if grid is None or own_branch not in (None, grid.branch_id):
            raise NotFound(key="grid.not-found", id=query.grid_id)
        conditions.append(Order.grid_id == query.grid_id)
    if query.category_id is not None:
        if query.category_id not in categories:
            raise NotFound(key="category.not-found", id=query.category_id)
        conditions.append(Order.category_id == query.category_id)
    return conditions


def ran_late(order: Order, events: Sequence[OrderEvent], limits: StageLimits, now: datetime) -> bool:
    """Whether an office stage ended after its limit, or the current one is past its deadline."""
    urgency = Urgency(order.urgency)
    deadline: datetime | None = None  # of the office stage now being walked through
    for event in events:
        if deadline is not None and event.created_at > deadline:
            return True
        state = OrderState(event.to_state)
        running = STAGE_OF_STATE.get(state) in OFFICE_STAGES
        deadline = stage_deadline(state, event.created_at, limits, urgency) if running else None
    current = STAGE_OF_STATE.get(OrderState(order.state))
    return current in OFFICE_STAGES and overdue_seconds(order.stage_deadline, now) > 0


def _row(order: Order, events: Sequence[OrderEvent], late: bool, zone: ZoneInfo,
         branches: dict, grids: dict, category: Category) -> tuple:
    def at(moment: datetime | None) -> datetime | None:
        # Excel has no time zones: the town's wall-clock time, to the minute, as shown.
        return moment.astimezone(zone).replace(tzinfo=None, second=0, microsecond=0) if moment else None

    stages = []
    for _, actions in STAGE_COLUMNS:
        last = next((e for e in reversed(events) if e.action in actions), None)
        stages += [at(last.created_at), _actor(last)] if last else [None, None]
    reopens = sum(1 for e in events if e.action == Action.REOPEN.value)
    grid = grids.get(order.grid_id)
    branch = branches.get(order.branch_id)
    return (
        order.id, at(order.created_at), grid.name if grid else "", branch.name if branch else "",
        category.name, URGENCY_LABELS.get(order.urgency, order.urgency), order.description,
        order.address, order.contact_name, order.contact_phone,
        channel_label(order.channel), OrderState(order.state).label,
        *stages,
        reopens, "是" if late else "否", order.rating_stars,
        SOURCE_LABELS.get(order.rating_source) if order.rating_source else None, order.rating_comment,
    )


def _actor(event: OrderEvent) -> str:
    if event.actor_name:
        return event.actor_name
    return ROLE_LABELS.get(Role(event.actor_role), event.actor_role)


# The workbook


def write_ledger_xlsx(ledger: Ledger, out: BinaryIO) -> None:
    """The ledger sheet (台账: bold frozen header, widths, minute times) and the 汇总 sheet."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("台账")
    _prepare(sheet, COLUMNS)
    sheet.append(_header(sheet, HEADERS))
    for row in ledger.rows:
        sheet.append(_cells(sheet, row))

    summary = book.create_sheet("汇总")
    _prepare(summary, (("状态", 14), ("工单数", 10)))
    summary.append(_header(summary, ("状态", "工单数")))
    for state in OrderState:
        summary.append([state.label, ledger.by_state.get(state.value, 0)])
    summary.append(_header(summary, ("合计", len(ledger.rows))))
    summary.append(["其中超时", ledger.late])
    summary.append([])
    query = ledger.query
    for label, value in (
        ("乡镇", ledger.town_name), ("范围", ledger.scope),
        ("统计期间", f"{query.date_from:%Y-%m-%d} 至 {query.date_to:%Y-%m-%d}"),
        ("导出时间", ledger.exported_at.strftime("%Y-%m-%d %H:%M")),
    ):
        summary.append(_cells(summary, (label, value), text=(0, 1)))
    book.save(out)


def _prepare(sheet, columns: Iterable[tuple[str, int]]) -> None:
    # Write-only sheets take widths and panes before the first row.
    for index, (_, width) in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"


def _header(sheet, values: Iterable) -> list[WriteOnlyCell]:
    bold = Font(bold=True)
    cells = []
    for value in values:
        cell = WriteOnlyCell(sheet, value=value)
        cell.font = bold
        cells.append(cell)
    return cells


def _cells(sheet, row: Sequence, text: Iterable[int] = TEXT_COLUMNS) -> list:
    text = frozenset(text)
    cells = []
    for index, value in enumerate(row):
        if isinstance(value, datetime) and index in TIME_COLUMNS:
            cell = WriteOnlyCell(sheet, value=value)
            cell.number_format = TIME_FORMAT
        elif isinstance(value, str) and index in text:
            cell = WriteOnlyCell(sheet, value=_ILLEGAL.sub("", value))
            cell.data_type = "s"  # "=1+1" from a resident stays text
        else:
            cell = value
        cells.append(cell)
    return cells
