"""The numbers of a period and a scope, read from the aggregates the projection keeps.

Answers say `as_of`: the aggregates count every move the projection had read by then
(workflows/projection.py; the worker runs it every PROJECTION_INTERVAL_SECONDS).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field
from sqlalchemy import case, func
from sqlmodel import Session, col, select

from domain.deadlines import STAGE_OF_STATE, Stage
from domain.errors import NotFound, NotPermitted, RuleViolation
from domain.points import CLOSE_RULES, PointRule
from domain.roles import Role
from domain.states import OrderState
from domain.stats import RateCounts, percentile
from storage.models import (
    Branch, Category, Grid, Order, PointEntry, Staff, StatsCount, StatsStageTime, Town,
)
from workflows.inputs import FIRST_DAY, check_days
from workflows.principal import Principal
from workflows.projection import counted_up_to
from workflows.refs import Ref

MAX_DAYS = 366


@dataclass(frozen=True)
class StatsQuery:
    date_from: date | None = None
    date_to: date | None = None
    branch_id: int | None = None
    grid_id: int | None = None
    category_id: int | None = None
    member_id: int | None = None


@dataclass(frozen=True)
class Scope:
    """A query made safe: the caller's town, the period resolved, a secretary kept to the branch."""

    town_id: int
    timezone: str
    date_from: date
    date_to: date
    branch_id: int | None
    grid_id: int | None
    category_id: int | None
    member_id: int | None
    # The grids of the town (or the secretary's branch): the place cube is read grid by
    # grid, an index range each, rather than over every grid's rows of every day.
    grid_ids: tuple[int, ...] = ()


class Rates(BaseModel):
    response: float | None
    resolution: float | None
    satisfaction: float | None


class StageTime(BaseModel):
    count: int
    avg_seconds: float | None
    p90_seconds: float | None


class OverdueNow(BaseModel):
    total: int
    by_stage: dict[str, int]


class Overview(BaseModel):
    town_id: int
    timezone: str
    date_from: date
    date_to: date
    scope: dict[str, int | None]
    submitted: int
    by_state: dict[str, int]
    labels: dict[str, str]
    rates: Rates
    rate_counts: dict[str, int]
    overdue_now: OverdueNow
    stage_times: dict[str, StageTime]
    as_of: datetime | None = Field(
        description="The numbers count every move made up to this moment (the stats projection's last pass);"
                    " null before its first.")


class Day(BaseModel):
    date: date
    submitted: int
    closed: int
    claimed_in_time: int
    ratings: int
    ratings_good: int


class Daily(BaseModel):
    town_id: int
    date_from: date
    date_to: date
    days: list[Day]
    as_of: datetime | None = Field(
        description="The numbers count every move made up to this moment (the stats projection's last pass);"
                    " null before its first.")


class GridRank(BaseModel):
    grid: Ref
    branch: Ref
    submitted: int
    rates: Rates


class GridRanking(BaseModel):
    items: list[GridRank]
    as_of: datetime | None = Field(
        description="The numbers count every move made up to this moment (the stats projection's last pass);"
                    " null before its first.")


class Leader(BaseModel):
    member: Ref
    branch: Ref | None
    points: int = Field(description="The sum of the member's passbook entries of the period.")
    completed: int = Field(description="Closes that earned points (satisfied, or by the rating deadline).")
    five_star: int
    overdue: int = Field(description="Attempts completed late.")


class Leaderboard(BaseModel):
    items: list[Leader]
    as_of: datetime | None = Field(description="When the passbook was read: it is written with each move.")


class OverdueOrder(BaseModel):
    order_id: int
    category: Ref
    grid: Ref
    stage: str
    state_label: str
    overdue_seconds: int


class OverdueList(BaseModel):
    items: list[OverdueOrder]


def count_where(condition):
    """SQL: how many rows of each group meet `condition`."""
    return func.sum(case((condition, 1), else_=0))


def resolve_scope(db: Session, actor: Principal, query: StatsQuery, now: datetime) -> Scope:
    if actor.role not in (Role.TOWN_ADMIN, Role.DASHBOARD, Role.SECRETARY) or actor.town_id is None:
        raise NotPermitted(key="stats.for-whom")
    town = db.get(Town, actor.town_id)
    if town is None:
        raise NotFound(key="town.not-found", id=actor.town_id)
    branch_id = query.branch_id
    if actor.role == Role.SECRETARY:
        if branch_id not in (None, actor.branch_id):
            raise NotFound(key="branch.not-found", id=branch_id)
        branch_id = actor.branch_id
    check_days(date_from=query.date_from, date_to=query.date_to)
    today = now.astimezone(ZoneInfo(town.timezone)).date()
    date_to = query.date_to or today
    # Not before FIRST_DAY: the answer names its period, and a client may ask for it again.
    date_from = query.date_from or max(date_to - timedelta(days=29), FIRST_DAY)
    if date_from > date_to:
        raise RuleViolation(key="period.reversed")
    if (date_to - date_from).days >= MAX_DAYS:
        raise RuleViolation(key="period.too-long", days=MAX_DAYS)
    if query.grid_id is not None:
        grid = db.get(Grid, query.grid_id)
        if grid is None or grid.town_id != town.id or (branch_id and grid.branch_id != branch_id):
            raise NotFound(key="grid.not-found", id=query.grid_id)
    grids = select(Grid.id).where(Grid.town_id == town.id).order_by(col(Grid.id))
    if branch_id is not None:
        grids = grids.where(Grid.branch_id == branch_id)
    return Scope(town.id, town.timezone, date_from, date_to, branch_id, query.grid_id, query.category_id,
                 query.member_id, tuple(db.exec(grids).all()))


def data_version(db: Session) -> str:
    """Changes when the projection counts a move or moves `as_of`: what the ETag of every stats answer rests on."""
    cursor = counted_up_to(db)
    return f"{cursor.event_id}:{len(cursor.gaps)}:{cursor.as_of.isoformat()}" if cursor else ""


def counted_as_of(db: Session) -> datetime | None:
    cursor = counted_up_to(db)
    return cursor.as_of if cursor else None


def branch_cube(model) -> list:
    """The branch cube's cells of an aggregate table: neither a grid nor a member."""
    return [model.member_id == 0, model.grid_id == 0]


def _cells(model, scope: Scope, *, by_grid: bool = False) -> list:
    """The cells of the scope in the cube that answers it with the fewest rows.

    A member's numbers come from the member cube; a grid's or a category's (or any
    answer `by_grid`) from the place cube; the rest from the branch cube.
    """
    where = [model.town_id == scope.town_id, col(model.day) >= scope.date_from, col(model.day) <= scope.date_to]
    if scope.member_id is not None:
        where += [model.member_id == scope.member_id, model.grid_id == 0]
    elif by_grid or scope.grid_id is not None or scope.category_id is not None:
        where.append(model.member_id == 0)
        if scope.grid_id is not None:
            where.append(model.grid_id == scope.grid_id)
        else:
            where.append(col(model.grid_id).in_(scope.grid_ids))
        if scope.category_id is not None:
            where.append(model.category_id == scope.category_id)
    else:
        where += branch_cube(model)
    if scope.branch_id is not None:
        where.append(model.branch_id == scope.branch_id)
    return where


def _metrics(db: Session, scope: Scope) -> dict[str, int]:
    rows = db.exec(
        select(StatsCount.metric, func.sum(StatsCount.n)).where(*_cells(StatsCount, scope))
        .group_by(col(StatsCount.metric))
    ).all()
    return {metric: int(n or 0) for metric, n in rows}


def rate_counts(metrics: dict[str, int]) -> RateCounts:
    states = {s.value: metrics.get(f"state:{s.value}", 0) for s in OrderState}
    return RateCounts(
        submitted=sum(states.values()), claimed_in_time=metrics.get("claimed_in_time", 0),
        closed=states["closed"], cancelled=states["cancelled"], ratings=metrics.get("ratings", 0),
        ratings_good=metrics.get("ratings_good", 0), ratings_default=metrics.get("ratings_default", 0),
        duplicates=metrics.get("duplicates", 0),
    )


def _rates(counts: RateCounts) -> Rates:
    return Rates(response=counts.response, resolution=counts.resolution, satisfaction=counts.satisfaction)


def overview(db: Session, actor: Principal, query: StatsQuery, now: datetime) -> Overview:
    scope = resolve_scope(db, actor, query, now)
    metrics = _metrics(db, scope)
    counts = rate_counts(metrics)
    return Overview(
        town_id=scope.town_id, timezone=scope.timezone, date_from=scope.date_from, date_to=scope.date_to,
        scope={"branch_id": scope.branch_id, "grid_id": scope.grid_id, "category_id": scope.category_id,
               "member_id": scope.member_id},
        submitted=counts.submitted,
        by_state={s.value: metrics.get(f"state:{s.value}", 0) for s in OrderState},
        labels={s.value: s.label for s in OrderState},
        rates=_rates(counts),
        rate_counts={"claimed_in_time": counts.claimed_in_time, "closed": counts.closed,
                     "cancelled": counts.cancelled, "ratings": counts.ratings,
                     "ratings_good": counts.ratings_good, "ratings_default": counts.ratings_default,
                     "duplicates": counts.duplicates},
        overdue_now=_overdue_now(db, scope, now),
        stage_times=_stage_times(db, scope),
        as_of=counted_as_of(db),
    )


def _overdue_now(db: Session, scope: Scope, now: datetime) -> OverdueNow:
    where = [Order.town_id == scope.town_id, col(Order.stage_deadline) < now]
    where += _order_filters(scope)
    rows = db.exec(select(Order.state, func.count()).where(*where).group_by(col(Order.state))).all()
    by_stage = {stage.value: 0 for stage in Stage}
    for state, n in rows:
        stage = STAGE_OF_STATE.get(OrderState(state))
        if stage:
            by_stage[stage.value] += n
    return OverdueNow(total=sum(by_stage.values()), by_stage=by_stage)


def _order_filters(scope: Scope) -> list:
    where = []
    for column, value in ((Order.branch_id, scope.branch_id), (Order.grid_id, scope.grid_id),
                          (Order.category_id, scope.category_id), (Order.assignee_id, scope.member_id)):
        if value is not None:
            where.append(column == value)
    return where


def _stage_times(db: Session, scope: Scope) -> dict[str, StageTime]:
    rows = db.exec(
        select(StatsStageTime.stage, StatsStageTime.bucket, func.sum(StatsStageTime.n),
               func.sum(StatsStageTime.seconds_sum))
        .where(*_cells(StatsStageTime, scope))
        .group_by(col(StatsStageTime.stage), col(StatsStageTime.bucket))
    ).all()
    buckets: dict[str, dict[int, int]] = defaultdict(dict)
    sums: dict[str, dict[int, int]] = defaultdict(dict)
    for stage, bucket, n, total in rows:
        buckets[stage][bucket] = int(n)
        sums[stage][bucket] = int(total)
    times = {}
    for stage in Stage:
        count = sum(buckets[stage.value].values())
        times[stage.value] = StageTime(
            count=count,
            avg_seconds=sum(sums[stage.value].values()) / count if count else None,
            p90_seconds=percentile(buckets[stage.value], 0.9, sums[stage.value]),
        )
    return times


def daily(db: Session, actor: Principal, query: StatsQuery, now: datetime) -> Daily:
    scope = resolve_scope(db, actor, query, now)
    rows = db.exec(
        select(StatsCount.day, StatsCount.metric, func.sum(StatsCount.n)).where(*_cells(StatsCount, scope))
        .group_by(col(StatsCount.day), col(StatsCount.metric))
    ).all()
    per_day: dict[date, dict[str, int]] = defaultdict(dict)
    for day, metric, n in rows:
        per_day[day][metric] = int(n or 0)
    days = []
    for offset in range((scope.date_to - scope.date_from).days + 1):
        day = scope.date_from + timedelta(days=offset)
        counts = rate_counts(per_day.get(day, {}))
        days.append(Day(date=day, submitted=counts.submitted, closed=counts.closed,
                        claimed_in_time=counts.claimed_in_time, ratings=counts.ratings,
                        ratings_good=counts.ratings_good))
    return Daily(town_id=scope.town_id, date_from=scope.date_from, date_to=scope.date_to, days=days,
                 as_of=counted_as_of(db))


def grid_ranking(db: Session, actor: Principal, query: StatsQuery, now: datetime) -> GridRanking:
    scope = resolve_scope(db, actor, query, now)
    rows = db.exec(
        select(StatsCount.grid_id, StatsCount.metric, func.sum(StatsCount.n))
        .where(*_cells(StatsCount, scope, by_grid=True))
        .group_by(col(StatsCount.grid_id), col(StatsCount.metric))
    ).all()
    per_grid: dict[int, dict[str, int]] = defaultdict(dict)
    for grid_id, metric, n in rows:
        per_grid[grid_id][metric] = int(n or 0)
    grids = db.exec(
        select(Grid, Branch.name).join(Branch, col(Branch.id) == Grid.branch_id)
        .where(Grid.town_id == scope.town_id, *([Grid.branch_id == scope.branch_id] if scope.branch_id else []))
    ).all()
    ranked = []
    for grid, branch_name in grids:
        counts = rate_counts(per_grid.get(grid.id, {}))
        ranked.append(GridRank(grid=Ref(id=grid.id, name=grid.name), branch=Ref(id=grid.branch_id, name=branch_name),
                               submitted=counts.submitted, rates=_rates(counts)))

    def key(item: GridRank):
        r = item.rates
        rates = (r.resolution, r.satisfaction, r.response)
        return tuple(-(v if v is not None else -1) for v in rates) + (item.grid.id,)

    return GridRanking(items=sorted(ranked, key=key), as_of=counted_as_of(db))


def leaderboard(db: Session, actor: Principal, query: StatsQuery, now: datetime, limit: int = 50) -> Leaderboard:
    """晒分: members by the sum of their passbook entries of the period (town days), best first."""
    scope = resolve_scope(db, actor, query, now)
    where = [PointEntry.town_id == scope.town_id, col(PointEntry.day) >= scope.date_from,
             col(PointEntry.day) <= scope.date_to]
    if scope.branch_id is not None:
        where.append(PointEntry.branch_id == scope.branch_id)
    points = func.sum(PointEntry.points)
    rows = db.exec(
        select(PointEntry.member_id, Staff.name, Staff.branch_id, Branch.name, points,
               count_where(col(PointEntry.rule).in_(sorted(CLOSE_RULES))),
               count_where(PointEntry.rule == PointRule.FIVE_STAR.value),
               count_where(PointEntry.rule == PointRule.OVERDUE_COMPLETION.value))
        .join(Staff, col(Staff.id) == PointEntry.member_id)
        .outerjoin(Branch, col(Branch.id) == Staff.branch_id)
        .where(*where)
        .group_by(col(PointEntry.member_id), col(Staff.name), col(Staff.branch_id), col(Branch.name))
        .order_by(points.desc(), col(PointEntry.member_id)).limit(limit)
    ).all()
    return Leaderboard(items=[
        Leader(member=Ref(id=m, name=name), branch=Ref(id=b, name=branch) if b is not None else None,
               points=int(p), completed=int(c or 0), five_star=int(f or 0), overdue=int(o or 0))
        for m, name, b, branch, p, c, f, o in rows
    ], as_of=now)


def overdue_orders(db: Session, actor: Principal, query: StatsQuery, now: datetime, limit: int = 20) -> OverdueList:
    """The most overdue open orders, without anything about the resident."""
    scope = resolve_scope(db, actor, query, now)
    rows = db.exec(
        select(Order.id, Order.state, Order.stage_deadline, Order.category_id, Category.name, Order.grid_id, Grid.name)
        .join(Category, col(Category.id) == Order.category_id).join(Grid, col(Grid.id) == Order.grid_id)
        .where(Order.town_id == scope.town_id, col(Order.stage_deadline) < now, *_order_filters(scope))
        .order_by(col(Order.stage_deadline)).limit(limit)
    ).all()
    return OverdueList(items=[
        OverdueOrder(order_id=i, category=Ref(id=c, name=category), grid=Ref(id=g, name=grid),
                     stage=STAGE_OF_STATE[OrderState(s)].value, state_label=OrderState(s).label,
                     overdue_seconds=int((now - d).total_seconds()))
        for i, s, d, c, category, g, grid in rows
    ])
