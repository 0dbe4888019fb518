"""One SQLite writer at a time inside the process, in arrival order.

SQLite lets one connection write at a time. Left to itself, a connection that finds the
file's write lock taken sleeps in the busy handler (1, 2, 5, 10 … 100 ms, re-trying
between naps), so under a dozen concurrent writers some wait for seconds while the lock
sits free between their naps. Here the writers of one process queue for a turn instead:
a write transaction (`BEGIN IMMEDIATE`) first takes its turn, first come first served, and
hands it to the next waiter the moment it commits or rolls back. Writers in other
processes (`wudan worker`, more server workers) still meet at the file's lock and its
busy handler, as before.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections import deque


class WriterQueue:
    """A first-come-first-served lock: `acquire` waits its turn, `release` hands it on."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._held = False
        self._waiters: deque[threading.Lock] = deque()

    def acquire(self, timeout: float) -> bool:
        with self._mutex:
            if not self._held:
                self._held = True
                return True
            turn = threading.Lock()
            turn.acquire()
            self._waiters.append(turn)
        if turn.acquire(timeout=timeout):
            return True
        with self._mutex:
            try:
                self._waiters.remove(turn)
            except ValueError:
                return True  # handed over just as the wait ran out: the turn is ours
        return False

    def release(self) -> None:
        with self._mutex:
            if self._waiters:
                self._waiters.popleft().release()  # still held, now by the next in line
            else:
                self._held = False


_queues: dict[str, WriterQueue] = {}
_queues_lock = threading.Lock()


def queue_for(path: str) -> WriterQueue:
    """The queue of one database file, shared by every engine of this process on it."""
    key = os.path.realpath(path)
    with _queues_lock:
        return _queues.setdefault(key, WriterQueue())


class QueuedWriterConnection(sqlite3.Connection):
    """A sqlite3 connection whose write transactions wait their turn in the file's `WriterQueue`.

    `begin_immediate` takes the turn and then the write lock; `commit`, `rollback` and
    `close` end the transaction and give the turn back. Transactions that only read
    (deferred `BEGIN`, autocommit statements) never queue.
    """

    queue: WriterQueue | None = None
    wait_seconds: float = 30.0
    _has_turn: bool = False

    def begin_immediate(self) -> None:
        if self.queue is not None and not self._has_turn:
            if not self.queue.acquire(self.wait_seconds):
                raise sqlite3.OperationalError("database is locked (waited for the writer queue)")
            self._has_turn = True
        try:
            self.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._give_back()
            raise

    def commit(self) -> None:
        self._end(super().commit)

    def rollback(self) -> None:
        self._end(super().rollback)

    def _end(self, finish) -> None:
        try:
            finish()
        finally:
            if not self.in_transaction:
                self._give_back()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._give_back()

    def _give_back(self) -> None:
        if self._has_turn:
            self._has_turn = False
            self.queue.release()
