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
