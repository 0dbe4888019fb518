"""INSERT … ON CONFLICT on both databases: the guard of "exactly once" rows, and counters.

The statements are built once per table, columns and dialect and then executed with
bound values: building an `ON CONFLICT` statement (and its `excluded` alias) costs
more CPU than running it, and a move runs dozens of them.
"""

from __future__ import annotations

import functools
from collections import defaultdict
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


@functools.cache
def _increment_returning_statement(dialect: str, model, amounts: tuple[str, ...], unique: tuple[str, ...]):
    return _increment_statement(dialect, model, amounts, unique).returning(
        *(model.__table__.c[name] for name in amounts))


def increment_and_read(
    db: Session, model, key: dict[str, Any], amounts: dict[str, int], unique: tuple[str, ...],
) -> tuple[int, ...]:
    """Add `amounts` to the row with `key`, creating it at zero first if it is missing, and
    read the row's amounts after it: one statement (RETURNING) on both databases, in which
    concurrent writers queue on the row and none is lost."""
    statement = _increment_returning_statement(db.get_bind().dialect.name, model, tuple(amounts), unique)
    return tuple(db.execute(statement, {**key, **amounts}).one())


class Increments:
    """The counter additions of one transaction, merged per row and written in one global order.

    Two PostgreSQL transactions that lock the same counter rows in different orders
    deadlock (each waits for the other's row). Written sorted by table and key, every
    transaction takes its counter rows in the same order, so none waits in a cycle; rows
    whose additions cancel out (a state left and entered in one move) are not touched.
    """

    def __init__(self) -> None:
        self._shapes: dict[str, tuple] = {}  # table name -> (model, unique, amount names)
        self._rows: dict[str, dict[tuple, tuple[dict[str, Any], list[int]]]] = defaultdict(dict)

    def add(self, model, key: dict[str, Any], amounts: dict[str, int], unique: tuple[str, ...]) -> None:
        """Add `amounts` to the row whose `unique` columns are those of `key` (which may hold more columns)."""
        table = model.__tablename__
        shape = (model, unique, tuple(amounts))
        if self._shapes.setdefault(table, shape) != shape:
            raise ValueError(f"{table}: one shape of key and amounts per transaction")
        _, totals = self._rows[table].setdefault(
            tuple(key[name] for name in unique), (key, [0] * len(amounts)))
        for i, n in enumerate(amounts.values()):
            totals[i] += n

    def write(self, db: Session) -> None:
        """Run the additions: one statement per table, tables by name, rows in key order."""
        dialect = db.get_bind().dialect.name
        for table in sorted(self._rows):
            model, unique, amount_names = self._shapes[table]
            rows = [
                {**key, **dict(zip(amount_names, totals, strict=True))}
                for _, (key, totals) in sorted(self._rows[table].items(), key=lambda item: item[0])
                if any(totals)
            ]
            if rows:
                db.execute(_increment_statement(dialect, model, amount_names, unique), rows)
        self._rows.clear()
        self._shapes.clear()
