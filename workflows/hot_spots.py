"""Hot spots: where a period's orders were placed, by grid and by map cell, with the grids' outlines.

Counted from the orders as they are (by when they were placed, in town days), not from
the projection: a cell is a place, and the projection counts by grid. Duplicates rejected
as such are left out, as the rates leave them out. The cells are squares of `cell_m`
metres near the town's middle, numbered in SQL so that only the counts leave the database.
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field
from sqlalchemy import func, literal
from sqlmodel import Session, col, select

from domain.places import DEFAULT_CELL_M, cell_size_degrees
from storage.models import Grid, Order
from storage.types import cell_index
from workflows.ledger import period_bounds
from workflows.places import feature
from workflows.principal import Principal
from workflows.stats import StatsQuery, resolve_scope

# A town's middle when it has no outline and no located order: any latitude does for no cells.
FALLBACK_LATITUDE = 30.0
MAX_CELLS = 5000


class HotCell(BaseModel):
    min_lng: float
    min_lat: float
    max_lng: float
    max_lat: float
    orders: int


class HotSpots(BaseModel):
    town_id: int
    date_from: date
    date_to: date
    scope: dict[str, int | None]
    cell_m: int
    orders: int = Field(description="Orders placed in the period and scope (duplicates left out).")
    located: int = Field(description="Of them, those with a location: what the cells count.")
    grids: dict = Field(description="GeoJSON FeatureCollection: each grid, its outline (null without one)"
                                    " and `properties.orders`.")
    cells: list[HotCell] = Field(description="Cells with at least one order, busiest first.")
    bounds: list[float] | None = Field(description="[min_lng, min_lat, max_lng, max_lat] of the outlines and"
                                                   " cells: what a map shows.")


def hot_spots(db: Session, actor: Principal, query: StatsQuery, now, cell_m: int = DEFAULT_CELL_M) -> HotSpots:
    scope = resolve_scope(db, actor, StatsQuery(query.date_from, query.date_to, query.branch_id, query.grid_id,
                                                query.category_id), now)
    start, end = period_bounds(scope.date_from, scope.date_to, ZoneInfo(scope.timezone))
    grid_ids = [scope.grid_id] if scope.grid_id is not None else list(scope.grid_ids)
    where = [Order.town_id == scope.town_id, col(Order.created_at) >= start, col(Order.created_at) < end,
             col(Order.duplicate_of_id).is_(None), col(Order.grid_id).in_(grid_ids)]
    if scope.category_id is not None:
        where.append(Order.category_id == scope.category_id)

    counts = db.exec(select(Order.grid_id, func.count(), func.count(Order.latitude))
                     .where(*where).group_by(col(Order.grid_id))).all()
    per_grid = {grid_id: n for grid_id, n, _ in counts}
    grids = db.exec(select(Grid).where(col(Grid.id).in_(grid_ids)).order_by(col(Grid.id))).all()
    outlined = [g for g in grids if g.boundary]
    middle = _middle_latitude(db, outlined, where)
    d_lng, d_lat = cell_size_degrees(cell_m, middle)
    # Shifted to be positive, so that truncation is floor on SQLite too.
    lng_cell = cell_index(col(Order.longitude) + 180.0, literal(d_lng))
    lat_cell = cell_index(col(Order.latitude) + 90.0, literal(d_lat))
    counted = db.exec(
        select(lng_cell, lat_cell, func.count()).where(*where, col(Order.latitude).is_not(None))
        .group_by(lng_cell, lat_cell).order_by(func.count().desc(), lng_cell, lat_cell).limit(MAX_CELLS)
    ).all()
    cells = [HotCell(min_lng=x * d_lng - 180.0, min_lat=y * d_lat - 90.0,
                     max_lng=(x + 1) * d_lng - 180.0, max_lat=(y + 1) * d_lat - 90.0, orders=n)
             for x, y, n in counted]
    features = [feature(g) for g in grids]
    for f in features:
        f["properties"]["orders"] = per_grid.get(f["id"], 0)
    return HotSpots(
        town_id=scope.town_id, date_from=scope.date_from, date_to=scope.date_to,
        scope={"branch_id": scope.branch_id, "grid_id": scope.grid_id, "category_id": scope.category_id},
        cell_m=cell_m, orders=sum(per_grid.values()), located=sum(located for _, _, located in counts),
        grids={"type": "FeatureCollection", "features": features}, cells=cells,
        bounds=_bounds(outlined, cells),
    )


def _middle_latitude(db: Session, outlined: list[Grid], where: list) -> float:
    if outlined:
        return (min(g.min_lat for g in outlined) + max(g.max_lat for g in outlined)) / 2
    found = db.exec(select(func.avg(Order.latitude)).where(*where, col(Order.latitude).is_not(None))).one()
    return float(found) if found is not None else FALLBACK_LATITUDE


def _bounds(outlined: list[Grid], cells: list[HotCell]) -> list[float] | None:
    boxes = [(g.min_lng, g.min_lat, g.max_lng, g.max_lat) for g in outlined]
    boxes += [(c.min_lng, c.min_lat, c.max_lng, c.max_lat) for c in cells]
    if not boxes:
        return None
    return [min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes)]
