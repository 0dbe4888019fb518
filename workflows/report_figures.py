"""A report's figures, counted from the raw rows of one scope and period (see `domain.reports`).

Each figure is read from the orders, their events, the whistles, the passbook and the
projects as they are when the report is made, never from the dashboards' cubes: a
report says what a recount of the rows says.

- placed: orders placed in the period (town days); for a unit, the orders whistled to it;
- response rate: placed orders whose first claim came within its limit ÷ placed;
- resolution rate (办结率): closed ÷ placed less cancelled (duplicates rejected as such are not placed);
- satisfaction rate: closed orders rated 4–5 stars ÷ closed orders rated by a person;
- late moves: moves that ended a stage after its limit (claim, dispatch, accept, complete);
- stage hours: the mean time each of those stages took, in hours;
- hot issues: the same category in the same grid at least HOT_ISSUE_MIN_ORDERS times.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlalchemy import func
from sqlmodel import Session, col, select

from domain.channels import channel_label
from domain.projects import ProjectState
from domain.rating import SATISFIED_MIN_STARS, RatingSource
from domain.reports import PERIOD_KIND_LABELS, SCOPE_KIND_LABELS, PeriodKind, ScopeKind, hot_issues, period_label
from domain.states import OrderState
from domain.stats import share
from domain.transitions import Action
from storage.models import Branch, Category, Grid, Order, OrderEvent, Project, Town, Unit, Whistle
from workflows.refs import names
from workflows.stars import grades_of

# The moves that end a stage, and the stage (as the reports name it) each ends.
STAGE_OF_ACTION = {Action.CLAIM.value: "领单", Action.DISPATCH.value: "派单", Action.TAKE_TASK.value: "派单",
                   Action.ACCEPT.value: "接单", Action.COMPLETE.value: "办结"}
STAGE_ENDS = tuple(STAGE_OF_ACTION)


class Count(BaseModel):
    name: str
    placed: int
    closed: int = 0


class HotIssue(BaseModel):
    category: str
    grid: str
    orders: int


class MemberLine(BaseModel):
    member: str
    branch: str
    points: int
    stars: int


class BranchLine(BaseModel):
    branch: str
    index: float | None
    stars: int


class ReportFigures(BaseModel):
    town: str
    scope_kind: str
    scope_label: str
    scope_name: str
    period_kind: str
    period_label: str
    title: str
    date_from: date
    date_to: date
    placed: int
    cancelled: int
    rejected: int
    closed: int
    claimed_in_time: int
    rated: int
    satisfied: int
    response_rate: float | None
    resolution_rate: float | None
    satisfaction_rate: float | None
    by_state: dict[str, int]
    by_category: list[Count]
    by_channel: list[Count]
    late_moves: int
    stage_hours: dict[str, float | None]
    avg_hours_to_close: float | None
    hot_issues: list[HotIssue]
    members: list[MemberLine]
    branches: list[BranchLine]
    projects: dict[str, int]
    whistles: dict[str, int]
    generated_at: datetime


def _scope_name(db: Session, town: Town, kind: ScopeKind, scope_id: int) -> tuple[str, int | None]:
    """The scope's name and the branch whose members and projects it covers (none: the town's)."""
    match kind:
        case ScopeKind.TOWN:
            return town.name, None
        case ScopeKind.BRANCH:
            branch = db.get(Branch, scope_id)
            return branch.name, branch.id
        case ScopeKind.GRID:
            grid = db.get(Grid, scope_id)
            return grid.name, grid.branch_id
        case ScopeKind.UNIT:
            return db.get(Unit, scope_id).name, None


def compute_figures(db: Session, town: Town, kind: ScopeKind, scope_id: int, period: PeriodKind, first: date,
                    last: date, *, now: datetime) -> ReportFigures:
    zone = ZoneInfo(town.timezone)
    start = datetime.combine(first, datetime.min.time(), zone)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), zone)
    scope_name, branch_id = _scope_name(db, town, kind, scope_id)
    if kind is ScopeKind.UNIT:
        whistled = select(Whistle.order_id).where(Whistle.unit_id == scope_id, col(Whistle.whistled_at) >= start,
                                                  col(Whistle.whistled_at) < end)
        where = [Order.town_id == town.id, col(Order.id).in_(whistled)]
    else:
        where = [Order.town_id == town.id, col(Order.created_at) >= start, col(Order.created_at) < end]
        if kind is ScopeKind.BRANCH:
            where.append(Order.branch_id == scope_id)
        elif kind is ScopeKind.GRID:
            where.append(Order.grid_id == scope_id)
    # A duplicate rejected as such is counted as the order it repeats, as the dashboards count it.
    where.append(col(Order.duplicate_of_id).is_(None))
    orders = db.exec(select(Order).where(*where).order_by(col(Order.id))).all()
    ids = [o.id for o in orders]
    states = {s.value: sum(o.state == s.value for o in orders) for s in OrderState}
    closed = [o for o in orders if o.state == OrderState.CLOSED.value]
    rated = [o for o in closed if o.rating_stars is not None and o.rating_source != RatingSource.DEFAULT.value]
    satisfied = sum(o.rating_stars >= SATISFIED_MIN_STARS for o in rated)
    events = db.exec(select(OrderEvent.order_id, OrderEvent.action, OrderEvent.created_at, OrderEvent.stage_deadline,
                            OrderEvent.stage_started_at)
                     .where(col(OrderEvent.order_id).in_(ids), col(OrderEvent.action).in_(STAGE_ENDS))
                     .order_by(col(OrderEvent.id))).all() if ids else []
    first_claim: dict[int, bool] = {}
    late = 0
    spent: dict[str, list[float]] = {stage: [] for stage in STAGE_OF_ACTION.values()}
    for order_id, action, at, deadline, started in events:
        on_time = deadline is None or at <= deadline
        late += not on_time
        if started is not None:
            spent[STAGE_OF_ACTION[action]].append((at - started).total_seconds() / 3600)
        if action == Action.CLAIM.value and order_id not in first_claim:
            first_claim[order_id] = on_time
    claimed_in_time = sum(first_claim.values())
    hours = [(o.closed_at - o.created_at).total_seconds() / 3600 for o in closed if o.closed_at]
    categories = names(db, Category, {o.category_id for o in orders})
    grids = names(db, Grid, {o.grid_id for o in orders})
    by_category: dict[int, Count] = {}
    by_channel: dict[str, Count] = {}
    places: dict[tuple[int, int], int] = {}
    for o in orders:
        c = by_category.setdefault(o.category_id, Count(name=categories.get(o.category_id, ""), placed=0))
        ch = by_channel.setdefault(o.channel, Count(name=channel_label(o.channel), placed=0))
        c.placed += 1
        ch.placed += 1
        c.closed += o.state == OrderState.CLOSED.value
        ch.closed += o.state == OrderState.CLOSED.value
        places[(o.category_id, o.grid_id)] = places.get((o.category_id, o.grid_id), 0) + 1
    members: list[MemberLine] = []
    branches: list[BranchLine] = []
    if kind is not ScopeKind.UNIT:
        grades = grades_of(db, town, branch_id, first, last, now)
        members = [MemberLine(member=m.member.name, branch=m.branch.name if m.branch else "", points=m.points,
                              stars=m.grade.stars) for m in sorted(grades.members, key=lambda m: (-m.points,
                                                                                                   m.member.id))[:10]]
        branches = [BranchLine(branch=b.branch.name, index=b.grade.index, stars=b.grade.stars) for b in grades.branches]
    project_where = [Project.town_id == town.id, col(Project.year) >= first.year, col(Project.year) <= last.year]
    if branch_id is not None:
        project_where.append(Project.branch_id == branch_id)
    elif kind is ScopeKind.UNIT:
        project_where.append(Project.unit_id == scope_id)
    project_states = dict(db.exec(select(Project.state, func.count()).where(*project_where)
                                  .group_by(col(Project.state))).all())
    whistles: dict[str, int] = {}
    if kind is ScopeKind.UNIT:
        rows = db.exec(select(Whistle.state, func.count()).where(
            Whistle.unit_id == scope_id, col(Whistle.whistled_at) >= start, col(Whistle.whistled_at) < end)
            .group_by(col(Whistle.state))).all()
        whistles = {state: int(n) for state, n in rows}
    label = period_label(period, first)
    return ReportFigures(
        town=town.name, scope_kind=kind.value, scope_label=SCOPE_KIND_LABELS[kind], scope_name=scope_name,
        period_kind=period.value, period_label=label,
        title=f"{scope_name}{label}{PERIOD_KIND_LABELS[period]}", date_from=first, date_to=last,
        placed=len(orders), cancelled=states["cancelled"], rejected=states["rejected"], closed=len(closed),
        claimed_in_time=claimed_in_time, rated=len(rated), satisfied=satisfied,
        response_rate=share(claimed_in_time, len(orders)),
        resolution_rate=share(len(closed), len(orders) - states["cancelled"]),
        satisfaction_rate=share(satisfied, len(rated)), by_state=states,
        by_category=sorted(by_category.values(), key=lambda c: (-c.placed, c.name)),
        by_channel=sorted(by_channel.values(), key=lambda c: (-c.placed, c.name)),
        late_moves=late, stage_hours={k: round(sum(v) / len(v), 1) if v else None for k, v in spent.items()},
        avg_hours_to_close=round(sum(hours) / len(hours), 1) if hours else None,
        hot_issues=[HotIssue(category=categories.get(c, ""), grid=grids.get(g, ""), orders=n)
                    for c, g, n in hot_issues(places)],
        members=members, branches=branches,
        projects={s.value: int(project_states.get(s.value, 0)) for s in ProjectState},
        whistles=whistles, generated_at=now)
