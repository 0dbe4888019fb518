"""Counter additions of one transaction: merged per row, zero sums dropped, written in key order."""

from __future__ import annotations

from datetime import date

from sqlmodel import select

from storage.models import StatsCount
from storage.models.aggregates import CELL
from storage.upsert import Increments

UNIQUE = (*CELL, "metric")


def cell(grid: int, metric: str) -> dict:
    return {"town_id": 1, "day": date(2026, 11, 20), "branch_id": 1, "grid_id": grid, "category_id": 1,
            "member_id": 0, "metric": metric}


def test_merged_sorted_and_zero_sums_left_alone(database, world):
    counters = Increments()
    counters.add(StatsCount, cell(9, "state:claimed"), {"n": 1}, UNIQUE)
    counters.add(StatsCount, cell(2, "state:submitted"), {"n": -1}, UNIQUE)
    counters.add(StatsCount, cell(5, "ratings"), {"n": 1}, UNIQUE)
    counters.add(StatsCount, cell(2, "state:submitted"), {"n": 1}, UNIQUE)  # left and entered: no change
    counters.add(StatsCount, cell(5, "ratings"), {"n": 2}, UNIQUE)
    written: list = []
    with database.session(write=True) as db:
        real_execute = db.execute

        def execute(statement, rows=None, *args, **kwargs):
            written.extend(rows)
            return real_execute(statement, rows, *args, **kwargs)

        db.execute = execute
        counters.write(db)
        db.commit()
    assert [(row["grid_id"], row["metric"], row["n"]) for row in written] == [(5, "ratings", 3), (9, "state:claimed", 1)]
    with database.session() as db:
        stored = {(c.grid_id, c.metric): c.n for c in db.exec(select(StatsCount)).all()}
    assert stored == {(5, "ratings"): 3, (9, "state:claimed"): 1}
