"""How far the branch reaches into the households: the counts the town office reports.

Per grid of the caller's scope (the town; a secretary's branch; one grid): households
recorded (and the count the grid declares), buildings, households paired with a member
(党员联户) and the 联户覆盖率, 党员中心户, the members who pair, and households per flag.
Read straight from the rows, as they are now.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy import bindparam, func, text
from sqlmodel import Session, col, select

from domain.households import pairing_coverage
from storage.models import Branch, Building, Grid, Household
from workflows.principal import Principal
from workflows.refs import Ref
from workflows.stats import StatsQuery, resolve_scope


class HouseholdCounts(BaseModel):
    households: int = Field(description="Households recorded.")
    declared: int | None = Field(description="Households the grids declare (the grid's `households`), where set.")
    buildings: int
    paired: int = Field(description="Households paired with a party member (党员联户).")
    coverage: float | None = Field(description="联户覆盖率: paired ÷ households recorded.")
    central: int = Field(description="党员中心户: members' own households.")
    pairing_members: int = Field(description="Members paired with at least one household.")
    flagged: dict[str, int] = Field(description="Households carrying each flag.")


class GridHouseholds(HouseholdCounts):
    grid: Ref
    branch: Ref


class HouseholdStats(BaseModel):
    town_id: int
    scope: dict[str, int | None]
    total: HouseholdCounts
    grids: list[GridHouseholds]
    as_of: datetime = Field(description="When these were read: they are counted from the rows as they are.")


_FLAGS = {
    "sqlite": "SELECT h.grid_id, f.value, count(*) FROM households h, json_each(h.flags) f"
              " WHERE h.grid_id IN :grids GROUP BY h.grid_id, f.value",
    "postgresql": "SELECT h.grid_id, f.value, count(*) FROM households h"
                  " CROSS JOIN LATERAL jsonb_array_elements_text(h.flags::jsonb) AS f(value)"
                  " WHERE h.grid_id IN :grids GROUP BY h.grid_id, f.value",
}


def household_stats(db: Session, actor: Principal, *, branch_id: int | None, grid_id: int | None,
                    now: datetime) -> HouseholdStats:
    scope = resolve_scope(db, actor, StatsQuery(branch_id=branch_id, grid_id=grid_id), now)
    grid_ids = [scope.grid_id] if scope.grid_id is not None else list(scope.grid_ids)
    grids = db.exec(
        select(Grid, Branch.name).join(Branch, col(Branch.id) == Grid.branch_id)
        .where(col(Grid.id).in_(grid_ids)).order_by(col(Grid.id))
    ).all() if grid_ids else []
    per_grid: dict[int, dict] = defaultdict(lambda: {"flagged": {}})
    members_total = 0
    if grid_ids:
        in_scope = col(Household.grid_id).in_(grid_ids)
        for g, n, paired, central, members in db.exec(
            select(Household.grid_id, func.count(), func.count(Household.paired_member_id),
                   func.count(Household.central_member_id), func.count(func.distinct(Household.paired_member_id)))
            .where(in_scope).group_by(col(Household.grid_id))
        ).all():
            per_grid[g].update(households=n, paired=paired, central=central, pairing_members=members)
        for g, n in db.exec(select(Building.grid_id, func.count()).where(col(Building.grid_id).in_(grid_ids))
                            .group_by(col(Building.grid_id))).all():
            per_grid[g]["buildings"] = n
        flags = text(_FLAGS[db.get_bind().dialect.name]).bindparams(bindparam("grids", expanding=True))
        for g, flag, n in db.execute(flags, {"grids": grid_ids}).all():
            per_grid[g]["flagged"][flag] = n
        # A member may pair across the grids of the branch: counted once in the total.
        members_total = db.exec(select(func.count(func.distinct(Household.paired_member_id))).where(in_scope)).one()

    rows = [GridHouseholds(grid=Ref(id=grid.id, name=grid.name), branch=Ref(id=grid.branch_id, name=branch_name),
                           **_counts(per_grid[grid.id], grid.households))
            for grid, branch_name in grids]
    declared = [grid.households for grid, _ in grids if grid.households is not None]
    total = HouseholdCounts(**_counts({
        "households": sum(r.households for r in rows), "paired": sum(r.paired for r in rows),
        "central": sum(r.central for r in rows), "buildings": sum(r.buildings for r in rows),
        "pairing_members": members_total,
        "flagged": dict(sum((Counter(r.flagged) for r in rows), Counter())),
    }, sum(declared) if declared else None))
    return HouseholdStats(town_id=scope.town_id, scope={"branch_id": scope.branch_id, "grid_id": scope.grid_id},
                          total=total, grids=rows, as_of=now)


def _counts(found: dict, declared: int | None) -> dict:
    households, paired = found.get("households", 0), found.get("paired", 0)
    return {"households": households, "declared": declared, "buildings": found.get("buildings", 0),
            "paired": paired, "coverage": pairing_coverage(paired, households), "central": found.get("central", 0),
            "pairing_members": found.get("pairing_members", 0),
            "flagged": dict(sorted(found.get("flagged", {}).items(), key=lambda kv: (-kv[1], kv[0])))}

