"""What a database error means for the caller: a conflict worth retrying, a timeout, or neither.

PostgreSQL names its errors by SQLSTATE; psycopg raises deadlocks and serialization
failures as `OperationalError`s, the same class as a lost connection, so the state is
what tells them apart.
"""

from __future__ import annotations

# Transient: nothing of the transaction was kept, and running it again may well succeed.
CONFLICTS = {"40P01": "deadlock", "40001": "serialization"}
# The service's own limits on waiting (`lock_timeout`, `statement_timeout`).
TIMEOUTS = {"55P03": "lock_timeout", "57014": "statement_timeout"}


def sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of a driver error wrapped by SQLAlchemy, if it has one."""
    return getattr(getattr(exc, "orig", None), "sqlstate", None)


def conflict_kind(exc: BaseException) -> str | None:
    """`deadlock` or `serialization` for a transaction the database aborted to break a conflict."""
    return CONFLICTS.get(sqlstate(exc) or "")


def timeout_kind(exc: BaseException) -> str | None:
    """`lock_timeout` or `statement_timeout` for a statement stopped for waiting or running too long."""
    return TIMEOUTS.get(sqlstate(exc) or "")
