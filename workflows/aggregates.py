"""Keep the dashboards' aggregates with every move, in the move's own transaction.

A move's additions are merged per cell and written sorted (`Increments`), so concurrent
moves lock shared cells in one order and cannot deadlock on them.

Three cubes share `stats_counts` and `stats_stage_times`: the place cube (member 0) by
day placed, branch, grid and category; the member cube (grid 0, category 0) by day
placed and the member holding the order; the branch cube (grid, category and member 0)
by day placed and branch, which the town-wide numbers read. Counters of states move
with the order, so a dashboard sums a few hundred cells instead of scanning orders.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from domain.deadlines import STAGE_OF_STATE
from domain.rating import SATISFIED_MIN_STARS
from domain.states import OrderState
from domain.stats import STAGE_DONE_BY, PointRules, bucket_of
from domain.transitions import Action
from storage.models import MemberPoints, Order, StatsCount, StatsStageTime, Town
from storage.models.aggregates import CELL
from storage.upsert import Increments


@dataclass(frozen=True)
class Snapshot:
    """What a move needs to remember of the order as it was."""

    state: OrderState | None
    branch_id: int
    grid_id: int
    assignee_id: int | None
    stage_entered_at: datetime | None
    stage_deadline: datetime | None

    @classmethod
    def of(cls, order: Order) -> Snapshot:
        return cls(OrderState(order.state), order.branch_id, order.grid_id, order.assignee_id,
                   order.stage_entered_at, order.stage_deadline)


def local_day(moment: datetime, town: Town | None) -> date:
    return moment.astimezone(ZoneInfo(town.timezone if town else "Asia/Shanghai")).date()


def record_move(
    db: Session, order: Order, before: Snapshot | None, action: Action, now: datetime,
    *, stars: int | None = None,
) -> None:
    town = db.get(Town, order.town_id)
    counters = Increments()
    day = local_day(order.created_at, town)
    rules = PointRules(town.points_completed, town.points_five_star, town.points_overdue)
    after = Snapshot.of(order)

    def cells(snap: Snapshot | None) -> list[dict]:
        """The place, branch and (while someone holds the order) member cells of the order as it was."""
        if snap is None:
            return []
        cube = {"town_id": order.town_id, "day": day, "branch_id": snap.branch_id}
        found = [{**cube, "grid_id": snap.grid_id, "category_id": order.category_id, "member_id": 0},
                 {**cube, "grid_id": 0, "category_id": 0, "member_id": 0}]
        if snap.assignee_id:
            found.append({**cube, "grid_id": 0, "category_id": 0, "member_id": snap.assignee_id})
        return found

    def count(snap: Snapshot | None, metric: str, n: int = 1) -> None:
        for cell in cells(snap):
            counters.add(StatsCount, {**cell, "metric": metric}, {"n": n}, unique=(*CELL, "metric"))

    if before is not None:
        count(before, f"state:{before.state.value}", -1)
    count(after, f"state:{after.state.value}")

    late = before is not None and before.stage_deadline is not None and now > before.stage_deadline
    if action == Action.CLAIM and not late:
        count(after, "claimed_in_time")
    if action in (Action.RATE, Action.REOPEN) and stars is not None:
        count(before, "ratings")
        if stars >= SATISFIED_MIN_STARS:
            count(before, "ratings_good")
    if action == Action.AUTO_CLOSE:
        count(before, "ratings_default")

    if before is not None and before.stage_entered_at is not None:
        stage = STAGE_OF_STATE.get(before.state)
        if stage is not None and action in STAGE_DONE_BY[stage]:
            seconds = int((now - before.stage_entered_at).total_seconds())
            for cell in cells(before):
                counters.add(StatsStageTime, {**cell, "stage": stage.value, "bucket": bucket_of(seconds)},
                             {"n": 1, "seconds_sum": seconds}, unique=(*CELL, "stage", "bucket"))

    if action == Action.COMPLETE and order.assignee_id:
        _points(counters, order, local_day(now, town), rules.for_completion(late), completed=1, overdue=int(late))
    if action == Action.RATE and stars == 5 and order.assignee_id:
        _points(counters, order, local_day(now, town), rules.for_rating(stars), five_star=1)
    counters.write(db)


def _points(counters: Increments, order: Order, day: date, points: int, **counts: int) -> None:
    counters.add(MemberPoints, {
        "town_id": order.town_id, "branch_id": order.branch_id, "member_id": order.assignee_id,
        "day": day,
    }, {"points": points, "completed": 0, "five_star": 0, "overdue": 0, **counts}, unique=("member_id", "day"))
