"""How an answer names a town, branch, grid, category or staff member: `{id, name}`, everywhere.

Requests and the admin's own resources take and give bare ids (`grid_id`, `branch_id`);
everything that shows a reference to someone reading it gives the name along with the id.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pydantic import BaseModel
from sqlmodel import Session, col, select


class Ref(BaseModel):
    id: int
    name: str


def names(db: Session, model, ids: Iterable[int | None]) -> dict[int, str]:
    """The names of the rows of `model` with these ids, in one query."""
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    return {row.id: row.name for row in db.exec(select(model.id, model.name).where(col(model.id).in_(wanted)))}


def ref(row_id: int, known: Mapping[int, str]) -> Ref:
    return Ref(id=row_id, name=known.get(row_id, ""))


def optional_ref(row_id: int | None, known: Mapping[int, str]) -> Ref | None:
    return None if row_id is None else ref(row_id, known)
