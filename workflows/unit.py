"""The transaction boundary of a use case, run again when a concurrent transaction got in the way."""

from __future__ import annotations

import functools
import logging
import random
import time
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from sqlmodel import Session

from domain.errors import StaleOrder
from storage.errors import conflict_kind
from workflows.errors import TransactionConflict
from infra.metrics import DB_CONFLICTS, DB_RETRIES, count_committed_moves

log = logging.getLogger("wudan.unit")

# Moves made in the session's open transaction; counted only once it commits.
MOVES_KEY = "wudan.moves"
# Tries of one transaction; between them a random pause of up to RETRY_PAUSE_SECONDS × 2^try.
ATTEMPTS = 4
RETRY_PAUSE_SECONDS = 0.01

P = ParamSpec("P")
R = TypeVar("R")


def retry_reason(exc: BaseException) -> str | None:
    """Why a failed try is worth running again, or None.

    The database broke a deadlock or a serialization failure by aborting this
    transaction; or the order changed between its read and its compare-and-set update.
    Either way nothing of the try was kept, and the next try reads what is there now:
    as if the request had arrived just after the one it raced.
    """
    if isinstance(exc, StaleOrder):
        return "order_changed"
    return conflict_kind(exc)


def retrying(db: Session, attempt: Callable[[], R]) -> R:
    """Run `attempt` (which commits) until it succeeds, fails for a reason of its own, or runs out of tries."""
    for n in range(1, ATTEMPTS + 1):
        try:
            return attempt()
        except BaseException as exc:
            db.rollback()
            db.info.pop(MOVES_KEY, None)
            reason = retry_reason(exc)
            if reason is None:
                raise
            if n == ATTEMPTS:
                DB_CONFLICTS.labels(reason).inc()
                log.warning("gave up after %d tries: %s", n, reason)
                if isinstance(exc, StaleOrder):
                    raise  # the order is still changing: its 409 names the state it is in
                raise TransactionConflict(
                    "other changes to the same records got in the way; try again", retry_after=1,
                ) from exc
            DB_RETRIES.labels(reason).inc()
            log.info("transaction retried (%s), try %d", reason, n + 1)
            time.sleep(random.uniform(0, RETRY_PAUSE_SECONDS * 2**n))
    raise AssertionError("unreachable")


def use_case(fn: Callable[P, R]) -> Callable[P, R]:
    """Commit when the use case returns, roll back when it raises: all or nothing.

    The session is the first argument. Use cases do not call each other, so there is
    exactly one commit per request or job; a try lost to a concurrent transaction is
    run again whole (`retrying`).

    `answer=`, if given, turns the result into what the caller returns, in the same
    transaction before it commits: the answer shows what was committed, and reading it
    takes no second transaction (on SQLite, no second turn at the write lock).
    """

    @functools.wraps(fn)
    def run(*args: P.args, answer: Callable[[R], Any] | None = None, **kwargs: P.kwargs) -> R:
        db: Session = args[0]  # type: ignore[assignment]

        def attempt() -> R:
            result = fn(*args, **kwargs)
            if answer is not None:
                result = answer(result)
            db.commit()
            return result

        result = retrying(db, attempt)
        count_committed_moves(db.info.pop(MOVES_KEY, []))
        return result

    return run
