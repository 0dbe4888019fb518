"""INSERT … ON CONFLICT on both databases: the guard of "exactly once" rows, and counters.

The statements are built once per table, columns and dialect and then executed with
bound values: building an `ON CONFLICT` statement (and its `excluded` alias) costs
more CPU than running it, and a move runs dozens of them.
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session


def _insert(dialect: str):
    return pg_insert if dialect == "postgresql" else sqlite_insert


@functools.cache
def _insert_once_statement(dialect: str, model, unique: tuple[str, ...]):
    return _insert(dialect)(model).on_conflict_do_nothing(index_elements=list(unique)).returning(model.id)


@functools.cache
def _increment_statement(dialect: str, model, amounts: tuple[str, ...], unique: tuple[str, ...]):
    statement = _insert(dialect)(model)
    columns = model.__table__.c
    return statement.on_conflict_do_update(
        index_elements=list(unique),
        set_={name: columns[name] + statement.excluded[name] for name in amounts},
    )


def insert_once(db: Session, model, values: dict[str, Any], unique: tuple[str, ...]) -> int | None:
    """Insert a row unless one with the same `unique` columns exists; the new id, or None.

    Concurrent callers on PostgreSQL wait for each other on the unique index, so exactly
    one of them gets an id; SQLite writers are serialised by BEGIN IMMEDIATE.
    """
    statement = _insert_once_statement(db.get_bind().dialect.name, model, unique)
    return db.execute(statement, values).scalar_one_or_none()


def increment(db: Session, model, key: dict[str, Any], amounts: dict[str, int], unique: tuple[str, ...]) -> None:
    """Add `amounts` to the row with `key`, creating it at zero first if it is missing.

    One statement on both databases; concurrent writers queue on the row, none is lost.
    """
    statement = _increment_statement(db.get_bind().dialect.name, model, tuple(amounts), unique)
    db.execute(statement, {**key, **amounts})
