"""The stats projection: moves write no counters; the worker counts the event log once, whatever happens."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlmodel import func, select

from storage.models import OrderEvent, StatsCount, StatsStageTime
from tests.contention import check_stats_recount, events_not_counted
from tests.helpers import act, count_moves, place, to_state, upload
from workflows.projection import GAP_SECONDS, counted_up_to, expire, holes, project, without


def counters(database) -> dict:
    """Every aggregate row, as comparable values."""
    with database.session() as db:
        return {
            "counts": sorted((c.day, c.branch_id, c.grid_id, c.category_id, c.member_id, c.metric, c.n)
                             for c in db.exec(select(StatsCount)).all() if c.n),
            "stage_times": sorted((s.day, s.branch_id, s.grid_id, s.member_id, s.stage, s.bucket, s.n, s.seconds_sum)
                                  for s in db.exec(select(StatsStageTime)).all()),
        }


def some_moves(client, world, clock) -> None:
    """A little of everything: closed with 5 and with 2 then 4 stars, completed late, cancelled, waiting."""
    a, b, c, d = (place(client, world)["id"] for _ in range(4))
    to_state(client, world, a, "completed")
    act(client, world, "res1", a, "rate", {"stars": 5})
    clock.advance(hours=3)
    to_state(client, world, b, "completed", member="memberA2")
    act(client, world, "res1", b, "rate", {"stars": 2})
    to_state(client, world, b, "completed")
    act(client, world, "res1", b, "rate", {"stars": 4})
    act(client, world, "res1", c, "cancel", {})
    to_state(client, world, d, "in_progress")
    clock.advance(days=4)
    act(client, world, "memberA1", d, "complete", {"note": "晚了", "photo_ids": [upload(client, world, "memberA1")]})


def test_a_move_writes_no_counter_and_the_projection_counts_it(client, world, clock, database):
    some_moves(client, world, clock)
    assert counters(database) == {"counts": [], "stage_times": []}
    assert events_not_counted(database) > 0
    report = project(database, now=clock())
    assert report.events == events_count(database) and events_not_counted(database) == 0
    check_stats_recount(client, world, database)
    # The passbook is written with the moves, not by the projection: a's close (5 stars) and
    # b's second attempt (4 stars) for memberA1, b's first (2 stars) against memberA2; d is
    # completed late but not judged yet.
    board = client.get("/stats/leaderboard", headers=world.auth("dashboard")).json()
    assert {(m["member"]["name"], m["points"], m["completed"], m["five_star"], m["overdue"])
            for m in board["items"]} == {("memberA1", 25, 2, 1, 0), ("memberA2", -3, 0, 0, 0)}
    assert board["as_of"] == clock().isoformat().replace("+00:00", "Z")


def events_count(database) -> int:
    with database.session() as db:
        return db.exec(select(func.count()).select_from(OrderEvent)).one()


def test_counting_again_changes_nothing(client, world, clock, database):
    some_moves(client, world, clock)
    count_moves(client)
    once = counters(database)
    assert project(database, now=clock()).events == 0
    assert counters(database) == once


def test_a_projector_killed_mid_batch_keeps_nothing_and_the_next_counts_once(client, world, clock, database):
    some_moves(client, world, clock)

    def killed(events: int) -> None:
        raise KeyboardInterrupt("the worker is killed before its batch commits")

    with pytest.raises(KeyboardInterrupt):
        project(database, now=clock(), batch=7, before_commit=killed)
    assert counters(database)["counts"] == []
    # Killed after its first batch committed: that batch stands, the second is lost whole.
    batches = []

    def second_killed(events: int) -> None:
        batches.append(events)
        if len(batches) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        project(database, now=clock(), batch=7, before_commit=second_killed)
    assert 0 < events_not_counted(database) < events_count(database)
    project(database, now=clock(), batch=7)
    assert events_not_counted(database) == 0
    check_stats_recount(client, world, database)

    # The same moves counted in one go, on a database of their own, give the same cells.
    staged = counters(database)
    with database.engine.begin() as connection:
        for table in ("stats_counts", "stats_stage_times"):
            connection.execute(text(f"DELETE FROM {table}"))
        connection.execute(text("UPDATE projection_cursors SET event_id = 0, gaps = '[]'"))
    project(database, now=clock())
    assert counters(database) == staged


def test_projectors_at_once_count_each_event_once(client, world, clock, database):
    some_moves(client, world, clock)
    barrier = threading.Barrier(4)
    errors = []

    def run():
        barrier.wait()
        try:
            while project(database, now=clock(), batch=3).busy:
                pass
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert events_not_counted(database) == 0
    check_stats_recount(client, world, database)


def test_postgres_an_event_that_commits_after_a_later_one_is_counted_when_it_does(
    client, world, clock, database, test_database,
):
    """Event ids are taken at insert: a slow transaction's event can commit after a higher id."""
    if test_database.backend != "postgres":
        pytest.skip("SQLite commits its writers one after another")
    early = place(client, world)["id"]
    count_moves(client)
    with database.engine.connect() as slow:
        slow_event = slow.execute(text(
            "INSERT INTO order_events (order_id, action, from_state, to_state, actor_role, data, created_at,"
            " branch_id, grid_id, prev_branch_id, prev_grid_id, stage_started_at, stage_deadline)"
            " SELECT id, 'cancel', 'submitted', 'cancelled', 'resident', '{}', :now, branch_id, grid_id,"
            " branch_id, grid_id, stage_entered_at, stage_deadline FROM orders WHERE id = :id RETURNING id"),
            {"now": datetime.now(UTC), "id": early}).scalar_one()
        slow.execute(text("UPDATE orders SET state = 'cancelled', version = version + 1 WHERE id = :id"),
                     {"id": early})
        later = place(client, world)["id"]  # its event has the next id, and commits first
        assert project(database, now=clock()).events == 1
        with database.session() as db:
            cursor = counted_up_to(db)
        assert cursor.event_id > slow_event and [g[:2] for g in cursor.gaps] == [[slow_event, slow_event]]
        assert events_not_counted(database) == 0, "an uncommitted event is nobody's to count yet"
        slow.commit()
    assert events_not_counted(database) == 1
    project(database, now=clock())
    with database.session() as db:
        assert counted_up_to(db).gaps == []
    assert events_not_counted(database) == 0
    check_stats_recount(client, world, database)
    assert later > early


def test_gaps_are_kept_until_their_ids_turn_up_or_grow_old():
    assert holes(10, [11, 14, 15, 19], seen=100) == [[12, 13, 100], [16, 18, 100]]
    assert holes(10, [], seen=100) == []
    assert without([[12, 13, 100], [16, 18, 100]], [12, 17]) == [[13, 13, 100], [16, 16, 100], [18, 18, 100]]
    assert without([[5, 5, 1]], [5]) == []
    assert expire([[1, 3, 50], [7, 7, 200]], seen_before=100) == ([[7, 7, 200]], 3)


def test_ids_that_never_commit_are_given_up_after_a_while(client, world, clock, database):
    order = place(client, world)["id"]
    with database.engine.begin() as connection:  # ids 2-6 taken by transactions that rolled back
        connection.execute(text(
            "INSERT INTO order_events (id, order_id, action, from_state, to_state, actor_role, data, created_at,"
            " branch_id, grid_id, prev_branch_id, prev_grid_id)"
            " SELECT 7, id, 'claim', 'submitted', 'claimed', 'grid_worker', '{}', created_at, branch_id, grid_id,"
            " branch_id, grid_id FROM orders WHERE id = :id"), {"id": order})
    assert project(database, now=clock()).events == 2
    with database.session() as db:
        assert [g[:2] for g in counted_up_to(db).gaps] == [[2, 6]]
    clock.advance(seconds=GAP_SECONDS + 1)
    project(database, now=clock())
    with database.session() as db:
        assert counted_up_to(db).gaps == []
