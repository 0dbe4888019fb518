"""By building group (楼栋党小组): what each building's households asked for and how it went.

For the buildings of the caller's scope (the town, a secretary's branch, a grid): the
building's group leader, households recorded and paired with a member (党员联户), and of
the orders placed in the period (town days) for its households: placed, cancelled,
closed, the 办结率 (closed ÷ placed less cancelled) and the satisfaction of the closed ones
that were rated (4–5 stars ÷ rated, default ratings apart). Counted from the rows as they are.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field
from sqlalchemy import func
from sqlmodel import Session, col, select

from domain.rating import SATISFIED_MIN_STARS, RatingSource
from domain.states import OrderState
from domain.stats import share
from storage.models import Building, Grid, Household, Order, Staff
from workflows.ledger import period_bounds
from workflows.principal import Principal
from workflows.refs import Ref, names, optional_ref, ref
from workflows.stats import StatsQuery, count_where, resolve_scope


class BuildingRow(BaseModel):
    building: Ref
    grid: Ref
    group_leader: Ref | None
    households: int
    paired: int
    placed: int
    cancelled: int
    closed: int
    resolution_rate: float | None = Field(description="办结率: closed ÷ (placed − cancelled).")
    rated: int
    satisfied: int
    satisfaction_rate: float | None


class BuildingStats(BaseModel):
    town_id: int
    scope: dict[str, int | None]
    date_from: date
    date_to: date
    buildings: list[BuildingRow]
    as_of: datetime


def building_stats(db: Session, actor: Principal, query: StatsQuery, now: datetime) -> BuildingStats:
    scope = resolve_scope(db, actor, StatsQuery(query.date_from, query.date_to, query.branch_id, query.grid_id), now)
    start, end = period_bounds(scope.date_from, scope.date_to, ZoneInfo(scope.timezone))
    grids = [scope.grid_id] if scope.grid_id is not None else list(scope.grid_ids)
    buildings = db.exec(select(Building).where(col(Building.grid_id).in_(grids))
                        .order_by(col(Building.grid_id), col(Building.id))).all()
    ids = [b.id for b in buildings]
    homes = {row[0]: row[1:] for row in db.exec(
        select(Household.building_id, func.count(), count_where(col(Household.paired_member_id).is_not(None)))
        .where(col(Household.building_id).in_(ids)).group_by(col(Household.building_id))).all()} if ids else {}
    closed = Order.state == OrderState.CLOSED.value
    rated = closed & col(Order.rating_stars).is_not(None) & (Order.rating_source != RatingSource.DEFAULT.value)
    orders = {row[0]: tuple(int(n or 0) for n in row[1:]) for row in db.exec(
        select(Household.building_id, func.count(), count_where(Order.state == OrderState.CANCELLED.value), count_where(closed),
               count_where(rated), count_where(rated & (col(Order.rating_stars) >= SATISFIED_MIN_STARS)))
        .join(Household, col(Household.id) == Order.household_id)
        .where(col(Household.building_id).in_(ids), col(Order.created_at) >= start, col(Order.created_at) < end,
               col(Order.duplicate_of_id).is_(None))  # a duplicate counts as the order it repeats
        .group_by(col(Household.building_id))).all()} if ids else {}
    grid_names = names(db, Grid, [b.grid_id for b in buildings])
    leaders = names(db, Staff, [b.group_leader_id for b in buildings])
    rows = []
    for b in buildings:
        households, paired = (int(n or 0) for n in homes.get(b.id, (0, 0)))
        placed, cancelled, done, n_rated, satisfied = orders.get(b.id, (0, 0, 0, 0, 0))
        rows.append(BuildingRow(
            building=Ref(id=b.id, name=b.name), grid=ref(b.grid_id, grid_names),
            group_leader=optional_ref(b.group_leader_id, leaders), households=households, paired=paired,
            placed=placed, cancelled=cancelled, closed=done, resolution_rate=share(done, placed - cancelled),
            rated=n_rated, satisfied=satisfied, satisfaction_rate=share(satisfied, n_rated)))
    return BuildingStats(town_id=scope.town_id, scope={"branch_id": scope.branch_id, "grid_id": scope.grid_id},
                         date_from=scope.date_from, date_to=scope.date_to, buildings=rows, as_of=now)
