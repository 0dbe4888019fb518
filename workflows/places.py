"""Grid outlines (kept by the town admin) and routing an order to the grid it is in.

The geometry is `domain.places`; this module reads the candidates. A point's candidates
are the town's grids whose bounding boxes, widened by the town's routing distance, hold
it: an index range (`ix_grids_town_box`), then a handful of outlines for shapely.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy import Float, and_, bindparam
from sqlmodel import Session, col, select

from domain.errors import RuleViolation
from domain.places import (
    Boundary, BoundaryInvalid, GridOutline, Route, RoutedBy, metres_per_degree, parse_boundary, route,
)
from storage.models import Branch, Grid, Town
from workflows.audit import audit
from workflows.hierarchy import get_in_town, require_admin
from workflows.principal import Principal
from workflows.unit import use_case


class BoundaryProblem(BaseModel):
    feature: int = Field(description="Index of the feature in the collection, from 0.")
    message: str


class BoundaryImport(BaseModel):
    dry_run: bool
    grids: int = Field(description="Grids whose outline was (or, on a dry run, would be) set.")
    problems: list[BoundaryProblem]


@dataclass(frozen=True)
class Routed:
    grid_id: int
    grid_name: str
    route: Route


def feature(grid: Grid) -> dict:
    """The grid as a GeoJSON Feature: its outline (null without one) and its names."""
    return {"type": "Feature", "id": grid.id,
            "geometry": json.loads(grid.boundary) if grid.boundary else None,
            "properties": {"grid_id": grid.id, "name": grid.name, "branch_id": grid.branch_id}}


def set_outline(grid: Grid, boundary: Boundary | None) -> None:
    """Put the checked outline (or none) and its box on the grid; the caller saves it."""
    grid.boundary = boundary.geojson if boundary else None
    box = boundary.bounds if boundary else None
    grid.min_lng, grid.min_lat = (box.min_lng, box.min_lat) if box else (None, None)
    grid.max_lng, grid.max_lat = (box.max_lng, box.max_lat) if box else (None, None)


@use_case
def set_grid_boundary(db: Session, actor: Principal, grid_id: int, geometry: dict | None, *,
                      now: datetime) -> Grid:
    """Set (or, with None, clear) one grid's outline."""
    grid = get_in_town(db, Grid, grid_id, require_admin(actor))
    boundary = parse_boundary(geometry) if geometry is not None else None
    set_outline(grid, boundary)
    db.add(grid)
    db.flush()
    audit(db, actor, "update" if boundary else "clear", "grid_boundary", grid.id,
          {"bounds": vars(boundary.bounds)} if boundary else {}, now=now)
    return grid


@use_case
def import_boundaries(db: Session, actor: Principal, collection: dict, *, dry_run: bool,
                      now: datetime) -> BoundaryImport:
    """Outlines for many grids from one GeoJSON FeatureCollection, all or none.

    A feature names its grid by `properties.grid_id`, or by `properties.grid` (the grid's
    name) with `properties.branch` (its branch's name) where two branches have a grid of
    that name. Every feature that cannot be used is reported, and then nothing is set.
    """
    town_id = require_admin(actor)
    if not isinstance(collection, dict) or collection.get("type") != "FeatureCollection" \
            or not isinstance(collection.get("features"), list):
        raise BoundaryInvalid(key="boundary.not-collection")
    grids = db.exec(select(Grid, Branch.name).join(Branch, col(Branch.id) == col(Grid.branch_id))
                    .where(Grid.town_id == town_id)).all()
    by_id = {g.id: g for g, _ in grids}
    by_name: dict[str, list[tuple[Grid, str]]] = {}
    for grid, branch_name in grids:
        by_name.setdefault(grid.name, []).append((grid, branch_name))

    problems: list[BoundaryProblem] = []
    chosen: dict[int, Boundary] = {}
    for index, item in enumerate(collection["features"]):
        item = item if isinstance(item, dict) else {}
        properties = item.get("properties") if isinstance(item.get("properties"), dict) else {}
        try:
            grid = _named_grid(properties, by_id, by_name)
            if grid.id in chosen:
                raise RuleViolation(key="boundary.grid-twice", grid=grid.name)
            chosen[grid.id] = parse_boundary(item.get("geometry"))
        except RuleViolation as refused:
            problems.append(BoundaryProblem(feature=index, message=refused.detail))
    if not problems and not dry_run:
        for grid_id, boundary in chosen.items():
            set_outline(by_id[grid_id], boundary)
            db.add(by_id[grid_id])
        db.flush()
        audit(db, actor, "import", "grid_boundary", None, {"grids": sorted(chosen)}, now=now)
    return BoundaryImport(dry_run=dry_run, grids=0 if problems else len(chosen), problems=problems)


def _named_grid(properties: dict, by_id: dict[int, Grid], by_name: dict[str, list[tuple[Grid, str]]]) -> Grid:
    grid_id = properties.get("grid_id")
    if grid_id is not None:
        grid = by_id.get(grid_id) if isinstance(grid_id, int) and not isinstance(grid_id, bool) else None
        if grid is None:
            raise RuleViolation(key="grid.absent", id=grid_id)
        return grid
    name, branch = properties.get("grid"), properties.get("branch")
    found = [g for g, b in by_name.get(name, []) if branch is None or b == branch] if isinstance(name, str) else []
    if not found:
        raise RuleViolation(key="boundary.grid-unknown", grid=str(name), branch=str(branch or ""))
    if len(found) > 1:
        raise RuleViolation(key="boundary.grid-ambiguous", grid=name)
    return found[0]


def town_outlines(db: Session, actor: Principal) -> dict:
    """Every grid of the admin's town as a FeatureCollection, those without an outline too."""
    town_id = require_admin(actor)
    grids = db.exec(select(Grid).where(Grid.town_id == town_id).order_by(col(Grid.id))).all()
    return {"type": "FeatureCollection", "features": [feature(g) for g in grids]}


def route_order(db: Session, town_id: int, longitude: float, latitude: float) -> Routed | None:
    """The grid a new order at the point goes to, and why; None when no grid is near and
    the town has no intake grid (the order then goes to the resident's own grid, or is refused).

    One statement, built once: the town's distance and intake grid, and beside them the
    grids whose boxes, widened by that distance, hold the point (none: one row of nulls).
    """
    per_lng, per_lat = metres_per_degree(latitude)
    rows = db.connection().execute(_CANDIDATES, {
        "town_id": town_id, "lng": longitude, "lat": latitude,
        "lng_per_m": 1 / max(per_lng, 1.0), "lat_per_m": 1 / per_lat}).all()
    if not rows:
        return None  # no such town
    distance_m, intake_grid_id = rows[0].route_distance_m, rows[0].intake_grid_id
    candidates = [GridOutline(r.id, r.boundary) for r in rows if r.id is not None]
    found = route(longitude, latitude, candidates, distance_m)
    if found.by != RoutedBy.INTAKE:
        return Routed(found.grid_id, next(r.name for r in rows if r.id == found.grid_id), found)
    if intake_grid_id is None:
        return None
    name = db.connection().execute(_GRID_NAME, {"id": intake_grid_id}).scalar()
    return Routed(intake_grid_id, name, found) if name is not None else None


def _candidates():
    towns, grids = Town.__table__.c, Grid.__table__.c
    # Typed: beside the integer distance, an untyped parameter would be taken for an integer.
    lat, lng = bindparam("lat", type_=Float), bindparam("lng", type_=Float)
    lat_per_m, lng_per_m = bindparam("lat_per_m", type_=Float), bindparam("lng_per_m", type_=Float)
    town = select(towns.route_distance_m, towns.intake_grid_id).where(towns.id == bindparam("town_id")).cte("town")
    near = and_(
        grids.town_id == bindparam("town_id"), grids.boundary.is_not(None),
        grids.min_lat <= lat + town.c.route_distance_m * lat_per_m,
        grids.max_lat >= lat - town.c.route_distance_m * lat_per_m,
        grids.min_lng <= lng + town.c.route_distance_m * lng_per_m,
        grids.max_lng >= lng - town.c.route_distance_m * lng_per_m,
    )
    return (select(town.c.route_distance_m, town.c.intake_grid_id, grids.id, grids.name, grids.boundary)
            .select_from(town.outerjoin(Grid.__table__, near)))


_CANDIDATES = _candidates()
_GRID_NAME = select(Grid.__table__.c.name).where(Grid.__table__.c.id == bindparam("id"))
