"""What one event adds to the dashboards' aggregates: a pure count from the event's own facts.

Three cubes share `stats_counts` and `stats_stage_times`: the place cube (member 0) by
day placed, branch, grid and category; the member cube (grid 0, category 0) by day
placed and the member holding the order; the branch cube (grid, category and member 0)
by day placed and branch, which the town-wide numbers read. Counters of states move
with the order, so a dashboard sums a few hundred cells instead of scanning orders.

An event carries where the order was and who held it before and after the move, and
the start and limit of the stage the move ended, so it is counted alone: the sums do
not depend on the order in which events are counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from domain.deadlines import STAGE_OF_STATE
from domain.rating import SATISFIED_MIN_STARS
from domain.states import OrderState
from domain.stats import STAGE_DONE_BY, bucket_of
from domain.transitions import Action
from storage.models import StatsCount, StatsStageTime
from storage.models.aggregates import CELL
from storage.upsert import Increments


@dataclass(frozen=True)
class TownRules:
    """What of a town its numbers depend on: its days."""

    timezone: str

    def day(self, moment: datetime) -> date:
        return moment.astimezone(ZoneInfo(self.timezone)).date()


@dataclass(frozen=True)
class CountedEvent:
    """An event as the projection reads it: the event's columns and its order's fixed ones."""

    action: str
    from_state: str | None
    to_state: str
    created_at: datetime
    stars: int | None
    branch_id: int
    grid_id: int
    assignee_id: int | None
    prev_branch_id: int | None
    prev_grid_id: int | None
    prev_assignee_id: int | None
    stage_started_at: datetime | None
    stage_deadline: datetime | None
    town_id: int
    category_id: int
    placed_at: datetime
    duplicate: bool = False  # a rejection as the duplicate of another order


def count_event(counters: Increments, event: CountedEvent, town: TownRules) -> None:
    """Add what `event` changes to `counters`."""
    action = Action(event.action)
    day = town.day(event.placed_at)
    before = None if event.from_state is None else (event.prev_branch_id, event.prev_grid_id, event.prev_assignee_id)
    after = (event.branch_id, event.grid_id, event.assignee_id)

    def cells(where: tuple | None) -> list[dict]:
        """The place, branch and (while someone holds the order) member cells of the order there."""
        if where is None:
            return []
        branch_id, grid_id, assignee_id = where
        cube = {"town_id": event.town_id, "day": day, "branch_id": branch_id}
        found = [{**cube, "grid_id": grid_id, "category_id": event.category_id, "member_id": 0},
                 {**cube, "grid_id": 0, "category_id": 0, "member_id": 0}]
        if assignee_id:
            found.append({**cube, "grid_id": 0, "category_id": 0, "member_id": assignee_id})
        return found

    def count(where: tuple | None, metric: str, n: int = 1) -> None:
        for cell in cells(where):
            counters.add(StatsCount, {**cell, "metric": metric}, {"n": n}, unique=(*CELL, "metric"))

    if before is not None:
        count(before, f"state:{event.from_state}", -1)
    count(after, f"state:{event.to_state}")

    late = event.stage_deadline is not None and event.created_at > event.stage_deadline
    if action == Action.CLAIM and not late:
        count(after, "claimed_in_time")
    if action in (Action.RATE, Action.REOPEN) and event.stars is not None:
        count(before, "ratings")
        if event.stars >= SATISFIED_MIN_STARS:
            count(before, "ratings_good")
    if action == Action.AUTO_CLOSE:
        count(before, "ratings_default")
    if action == Action.REJECT and event.duplicate:
        # Counted where it was placed: the rates leave it out there, as the order it repeats counts.
        count(before, "duplicates")

    if before is not None and event.stage_started_at is not None:
        stage = STAGE_OF_STATE.get(OrderState(event.from_state))
        if stage is not None and action in STAGE_DONE_BY[stage]:
            seconds = int((event.created_at - event.stage_started_at).total_seconds())
            for cell in cells(before):
                counters.add(StatsStageTime, {**cell, "stage": stage.value, "bucket": bucket_of(seconds)},
                             {"n": 1, "seconds_sum": seconds}, unique=(*CELL, "stage", "bucket"))
