"""The dashboards' aggregates, counted from the event log by the worker, not by the moves.

A move writes its event (with the facts `workflows.aggregates.count_event` needs) and no
counter rows, so requests never queue on the counters every move of a town shares. The
worker reads the events after the `stats` cursor in batches; each batch's counts and the
cursor's advance commit together, so a pass that dies counts nothing and the next one
counts it once.

Ids are taken when an event is inserted, not when it commits: on PostgreSQL event 105
may still be uncommitted (invisible) when 106 is read. A pass therefore remembers the
ids it found missing below the cursor as gaps, and looks for them again on every pass
until they turn up or are older than GAP_SECONDS (a transaction rolled back: a retried
move, a refused completion). The events are counted alone, so counting one late changes
nothing of the sums.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, update
from sqlmodel import Session, col, select

from storage.engine import Database
from storage.models import Order, OrderEvent, ProjectionCursor, Town
from storage.upsert import Increments
from workflows.aggregates import CountedEvent, TownRules, count_event
from workflows.unit import use_case

log = logging.getLogger("wudan.projection")

STATS = "stats"
BATCH = 2000
# A pass that finds nothing still moves `as_of` this often, so a dashboard can tell a
# quiet town from a projection that stopped.
IDLE_REFRESH = timedelta(seconds=60)
# Far longer than any use case's transaction may last (statement and idle timeouts), so
# an id still missing after this long belongs to a transaction that rolled back.
GAP_SECONDS = 600

Gap = list  # [first id, last id, seen at (epoch seconds)]


@dataclass
class ProjectionReport:
    events: int = 0
    batches: int = 0
    busy: bool = False  # another projector held the cursor
    seconds: float = 0.0


@dataclass(frozen=True)
class Counted:
    events: int
    busy: bool = False


def project(
    database: Database, *, now: datetime, batch: int = BATCH,
    before_commit: Callable[[int], None] | None = None,
) -> ProjectionReport:
    """Count every event there is to count, a batch per transaction.

    `before_commit(events)` runs in each batch's transaction after its writes: raising
    from it is a projector killed mid-batch, which keeps nothing of that batch.
    """
    started = time.perf_counter()
    report = ProjectionReport()
    while True:
        with database.session(write=True) as db:
            counted = project_batch(db, now=now, batch=batch, before_commit=before_commit)
        report.busy = counted.busy
        if counted.busy:
            break
        report.batches += 1
        report.events += counted.events
        if counted.events < batch:
            break
    report.seconds = time.perf_counter() - started
    return report


@use_case
def project_batch(
    db: Session, *, now: datetime, batch: int, before_commit: Callable[[int], None] | None = None,
) -> Counted:
    cursor_query = select(ProjectionCursor).where(ProjectionCursor.name == STATS)
    if db.get_bind().dialect.name == "postgresql":  # one projector at a time; the others skip the pass
        cursor_query = cursor_query.with_for_update(skip_locked=True)
    cursor = db.exec(cursor_query).first()
    if cursor is None:
        if db.get(ProjectionCursor, STATS) is not None:
            return Counted(0, busy=True)
        cursor = ProjectionCursor(name=STATS, as_of=now)  # a database that never had one: count it all
        db.add(cursor)
        db.flush()

    late = db.execute(_events(in_gaps(cursor.gaps))).all() if cursor.gaps else []
    new = db.execute(_events(col(OrderEvent.id) > cursor.event_id).order_by(col(OrderEvent.id)).limit(batch)).all()
    counters = Increments()
    towns: dict[int, TownRules] = {}
    for row in (*late, *new):
        town = towns.get(row.town_id) or towns.setdefault(row.town_id, _town_rules(db, row.town_id))
        count_event(counters, _counted(row), town)
    counters.write(db)

    seen = int(now.timestamp())
    gaps = without(cursor.gaps, [row.id for row in late]) + holes(cursor.event_id, [row.id for row in new], seen)
    gaps, given_up = expire(gaps, seen - GAP_SECONDS)
    if given_up:
        log.info("projection: %d event ids never committed; no longer looked for", given_up)
    values: dict = {}
    if late or new or gaps != cursor.gaps:
        values = {"event_id": new[-1].id if new else cursor.event_id, "gaps": gaps, "as_of": now}
    elif now - cursor.as_of >= IDLE_REFRESH:
        values = {"as_of": now}
    if values:
        db.execute(update(ProjectionCursor).where(col(ProjectionCursor.name) == STATS).values(**values))
    if before_commit is not None:
        before_commit(len(late) + len(new))
    return Counted(len(new))


def holes(after: int, ids: list[int], seen: int) -> list[Gap]:
    """The ranges of ids missing between `after` and the ascending `ids`."""
    found, expected = [], after + 1
    for event_id in ids:
        if event_id > expected:
            found.append([expected, event_id - 1, seen])
        expected = event_id + 1
    return found


def without(gaps: list[Gap], ids: list[int]) -> list[Gap]:
    """`gaps` less the ids that turned up."""
    left = []
    for first, last, seen in gaps:
        start = first
        for event_id in sorted(i for i in ids if first <= i <= last):
            if event_id > start:
                left.append([start, event_id - 1, seen])
            start = event_id + 1
        if start <= last:
            left.append([start, last, seen])
    return left


def expire(gaps: list[Gap], seen_before: int) -> tuple[list[Gap], int]:
    """The gaps seen since `seen_before`, and how many ids the older ones held."""
    kept = [g for g in gaps if g[2] >= seen_before]
    return kept, sum(last - first + 1 for first, last, seen in gaps if seen < seen_before)


def in_gaps(gaps: list[Gap]):
    return or_(*(col(OrderEvent.id).between(first, last) for first, last, _ in gaps))


def _events(where):
    e, o = OrderEvent, Order
    return (
        select(
            e.id, e.action, e.from_state, e.to_state, e.created_at, e.data,
            e.branch_id, e.grid_id, e.assignee_id, e.prev_branch_id, e.prev_grid_id, e.prev_assignee_id,
            e.stage_started_at, e.stage_deadline,
            o.town_id, o.category_id, col(o.created_at).label("placed_at"),
        )
        .join(o, col(o.id) == col(e.order_id))
        .where(where)
    )


def not_yet_counted(db: Session) -> int:
    """Events the projection has still to count: after its cursor, or in its gaps."""
    cursor = counted_up_to(db) or ProjectionCursor(name=STATS, gaps=[])
    where = col(OrderEvent.id) > cursor.event_id
    if cursor.gaps:
        where = or_(where, in_gaps(cursor.gaps))
    return db.exec(select(func.count()).select_from(OrderEvent).where(where)).one()


def _counted(row) -> CountedEvent:
    return CountedEvent(
        action=row.action, from_state=row.from_state, to_state=row.to_state, created_at=row.created_at,
        stars=(row.data or {}).get("stars"),
        branch_id=row.branch_id, grid_id=row.grid_id, assignee_id=row.assignee_id,
        prev_branch_id=row.prev_branch_id, prev_grid_id=row.prev_grid_id, prev_assignee_id=row.prev_assignee_id,
        stage_started_at=row.stage_started_at, stage_deadline=row.stage_deadline,
        town_id=row.town_id, category_id=row.category_id, placed_at=row.placed_at,
        duplicate=bool((row.data or {}).get("duplicate_of_id")),
    )


def _town_rules(db: Session, town_id: int) -> TownRules:
    town = db.get(Town, town_id)
    return TownRules(town.timezone)


def counted_up_to(db: Session) -> ProjectionCursor | None:
    """The stats cursor: the last event counted and `as_of`, what a stats answer rests on."""
    return db.get(ProjectionCursor, STATS)
