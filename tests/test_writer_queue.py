"""SQLite writers of one process take turns in arrival order (storage/writer_queue.py)."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest
from sqlalchemy import text

from storage.engine import Database, create_db_engine
from storage.writer_queue import QueuedWriterConnection, WriterQueue, queue_for


def _wait_until(predicate, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.001)


def test_turns_go_in_arrival_order():
    queue = WriterQueue()
    assert queue.acquire(1)
    order: list[int] = []
    threads = []
    for i in range(6):
        t = threading.Thread(target=lambda i=i: (queue.acquire(5), order.append(i), queue.release()))
        t.start()
        threads.append(t)
        _wait_until(lambda: len(queue._waiters) == i + 1)  # queued before the next one arrives
    queue.release()
    for t in threads:
        t.join(5)
    assert order == list(range(6))
    assert queue.acquire(0.01), "free again after the last one"


def test_a_wait_that_runs_out_leaves_the_queue_as_it_was():
    queue = WriterQueue()
    assert queue.acquire(1)
    assert not queue.acquire(0.02)
    assert not queue._waiters
    got = []
    t = threading.Thread(target=lambda: got.append(queue.acquire(5)))
    t.start()
    _wait_until(lambda: len(queue._waiters) == 1)
    queue.release()
    t.join(5)
    assert got == [True]


def _connection(path: str) -> QueuedWriterConnection:
    conn = sqlite3.connect(path, factory=QueuedWriterConnection, isolation_level=None, check_same_thread=False)
    conn.queue, conn.wait_seconds = queue_for(path), 5
    return conn


@pytest.mark.parametrize("ending", ["commit", "rollback", "close"])
def test_a_connection_gives_its_turn_back_when_its_transaction_ends(tmp_path, ending):
    path = str(tmp_path / "q.db")
    first, second = _connection(path), _connection(path)
    first.execute("CREATE TABLE t (x INTEGER)")
    first.begin_immediate()
    first.execute("INSERT INTO t VALUES (1)")
    done = threading.Event()

    def write_second():
        second.begin_immediate()
        second.execute("INSERT INTO t VALUES (2)")
        second.commit()
        done.set()

    t = threading.Thread(target=write_second)
    t.start()
    _wait_until(lambda: len(queue_for(path)._waiters) == 1)
    assert not done.is_set(), "the second writer waits for its turn, not for SQLite's busy handler"
    getattr(first, ending)()
    t.join(5)
    assert done.is_set()
    rows = sorted(x for (x,) in second.execute("SELECT x FROM t"))
    assert rows == ([1, 2] if ending == "commit" else [2])
    second.close()


def test_a_begin_that_fails_gives_the_turn_back(tmp_path):
    path = str(tmp_path / "q.db")
    conn = _connection(path)
    conn.begin_immediate()
    with pytest.raises(sqlite3.OperationalError):
        conn.begin_immediate()  # a transaction is already open: BEGIN fails
    assert not conn._has_turn and queue_for(path).acquire(0.01)
    queue_for(path).release()
    conn.close()


def test_concurrent_use_cases_on_one_file_all_commit(tmp_path):
    """Threads writing through the service's engine: none meets 'database is locked', all rows land."""
    database = Database(create_db_engine(f"sqlite:///{tmp_path / 'w.db'}"))
    with database.engine.begin() as conn:
        conn.execute(text("CREATE TABLE hits (n INTEGER)"))
    errors: list[BaseException] = []

    def writer(i: int) -> None:
        try:
            for j in range(20):
                with database.session(write=True) as db:
                    db.execute(text("INSERT INTO hits VALUES (:n)"), {"n": i * 100 + j})
                    db.execute(text("SELECT count(*) FROM hits")).one()
                    db.commit()
        except BaseException as exc:  # noqa: BLE001 -- reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    with database.reader() as db:
        assert db.execute(text("SELECT count(*) FROM hits")).scalar_one() == 160
    assert not queue_for(str(tmp_path / "w.db"))._held, "every turn was given back"
    database.dispose()
