"""INSERT … ON CONFLICT DO NOTHING on both databases: the guard of "exactly once" rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session


def insert_once(db: Session, model, values: dict[str, Any], unique: tuple[str, ...]) -> int | None:
    """Insert a row unless one with the same `unique` columns exists; the new id, or None.

    Concurrent callers on PostgreSQL wait for each other on the unique index, so exactly
    one of them gets an id; SQLite writers are serialised by BEGIN IMMEDIATE.
    """
    dialect = db.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(model).values(**values).on_conflict_do_nothing(index_elements=list(unique)).returning(model.id)
    )
    return db.execute(statement).scalar_one_or_none()


def increment(db: Session, model, key: dict[str, Any], amounts: dict[str, int], unique: tuple[str, ...]) -> None:
    """Add `amounts` to the row with `key`, creating it at zero first if it is missing.

    One statement on both databases; concurrent writers queue on the row, none is lost.
    """
    dialect = db.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(model).values(**key, **amounts)
    statement = statement.on_conflict_do_update(
        index_elements=list(unique),
        set_={name: getattr(model.__table__.c, name) + getattr(statement.excluded, name) for name in amounts},
    )
    db.execute(statement)
