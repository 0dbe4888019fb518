"""Grid outlines for routing by location: the town admin sets them from GeoJSON."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body, Query, Response

from api.deps import Admin, Db, Now, PathId
from api.problems import problem_responses
from api.routing import api_router
from storage.models import Grid
from workflows import places
from workflows.hierarchy import get_in_town, require_admin
from workflows.places import BoundaryImport

router = api_router(prefix="/admin", tags=["admin"], responses=problem_responses(401, 403))

GeoJSON = Annotated[dict[str, Any], Body(
    description="A GeoJSON Polygon or MultiPolygon, or a Feature holding one; longitude first, in the"
                " datum the mini-program sends (GCJ-02 from wx.chooseLocation).",
    examples=[{"type": "Polygon", "coordinates": [[[114.30, 30.59], [114.31, 30.59], [114.31, 30.60],
                                                   [114.30, 30.60], [114.30, 30.59]]]}])]
Collection = Annotated[dict[str, Any], Body(
    description="A GeoJSON FeatureCollection; each feature names its grid by `properties.grid_id`, or by"
                " `properties.grid` (its name) and `properties.branch` (its branch's name).")]


@router.get("/boundaries")
def town_boundaries(user: Admin, db: Db) -> dict:
    """Every grid of the town as a GeoJSON FeatureCollection (geometry null where no outline is set)."""
    return places.town_outlines(db, user)


@router.post("/boundaries", responses=problem_responses(422, body=True))
def import_boundaries(
    collection: Collection, user: Admin, db: Db, now: Now,
    dry_run: Annotated[bool, Query(description="Check every feature and set nothing.")] = False,
) -> BoundaryImport:
    """Set many grids' outlines from one file, all or none: every feature that cannot be used is listed."""
    return places.import_boundaries(db, user, collection, dry_run=dry_run, now=now)


@router.get("/grids/{grid_id}/boundary", responses=problem_responses(404, 422))
def grid_boundary(grid_id: PathId, user: Admin, db: Db) -> dict:
    """The grid as a GeoJSON Feature; its geometry is null while no outline is set."""
    return places.feature(get_in_town(db, Grid, grid_id, require_admin(user)))


@router.put("/grids/{grid_id}/boundary", responses=problem_responses(404, 422, body=True))
def set_grid_boundary(grid_id: PathId, geometry: GeoJSON, user: Admin, db: Db, now: Now) -> dict:
    """Set the grid's outline: an outline that crosses itself is refused, with where."""
    return places.set_grid_boundary(db, user, grid_id, geometry, now=now, answer=places.feature)


@router.delete("/grids/{grid_id}/boundary", status_code=204, responses=problem_responses(404, 422))
def clear_grid_boundary(grid_id: PathId, user: Admin, db: Db, now: Now) -> Response:
    places.set_grid_boundary(db, user, grid_id, None, now=now)
    return Response(status_code=204)
