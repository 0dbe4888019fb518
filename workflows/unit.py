"""The transaction boundary of a use case."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from sqlmodel import Session

from wudan.metrics import count_committed_moves

# Moves made in the session's open transaction; counted only once it commits.
MOVES_KEY = "wudan.moves"

P = ParamSpec("P")
R = TypeVar("R")


def use_case(fn: Callable[P, R]) -> Callable[P, R]:
    """Commit when the use case returns, roll back when it raises: all or nothing.

    The session is the first argument. Use cases do not call each other, so there is
    exactly one commit per request or job.
    """

    @functools.wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        db: Session = args[0]  # type: ignore[assignment]
        try:
            result = fn(*args, **kwargs)
            db.commit()
        except BaseException:
            db.rollback()
            db.info.pop(MOVES_KEY, None)
            raise
        count_committed_moves(db.info.pop(MOVES_KEY, []))
        return result

    return run
