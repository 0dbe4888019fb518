"""Sign-in attempts counted per phone and per address, in fixed windows, in the database.

The database holds the counts so that every replica sees the same ones. Attempts are
counted whether they succeed or not, and in their own transaction, so a refused sign-in
still counts.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from domain.errors import DomainError
from storage.engine import Database
from storage.models import RateLimitHit
from storage.upsert import increment_and_read


class TooManyAttempts(DomainError):
    code = "too-many-attempts"

    def __init__(self, detail: str | None = None, retry_after: int = 30, *, key: str | None = None,
                 **params: object) -> None:
        super().__init__(detail, key=key, retry_after=retry_after, **params)
        self.retry_after = retry_after


def count_attempt(database: Database, limits: list[tuple[str, int]], *, now: datetime, window_seconds: int) -> None:
    """Count one attempt under each key; refuse if any key is over its limit in this window."""
    start = window_start(now, window_seconds)
    retry_after = max(1, int((start + timedelta(seconds=window_seconds) - now).total_seconds()))
    with database.session(write=True) as db:
        # Keys in one order for every sign-in, so two of them never wait on each other's rows.
        counts = {key: count_hit(db, key, start) for key, _ in sorted(limits)}
        db.commit()
    for key, limit in limits:
        if counts[key] > limit:
            what = key.split(":", 1)[0]
            raise TooManyAttempts(key=f"sign-in.too-many-for-{what}", retry_after=retry_after)


def window_start(now: datetime, window_seconds: int) -> datetime:
    """The start of the fixed window `now` falls in."""
    return datetime.fromtimestamp(int(now.timestamp()) // window_seconds * window_seconds, UTC)


def count_hit(db: Session, key: str, start: datetime) -> int:
    """Count one hit under `key` in the window from `start`, in the caller's transaction; the hits so far."""
    (count,) = increment_and_read(db, RateLimitHit, {"key": key, "window_start": start}, {"count": 1},
                                  unique=("key", "window_start"))
    return count


def forget_old_windows(database: Database, *, now: datetime) -> int:
    """Windows older than a day are no use to anyone."""
    from sqlalchemy import delete

    with database.session(write=True) as db:
        removed = db.execute(delete(RateLimitHit).where(RateLimitHit.window_start < now - timedelta(days=1))).rowcount
        db.commit()
    return removed
