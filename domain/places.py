"""Places: grid boundaries, routing an order to the grid it is in, nearby orders, map cells.

Coordinates are longitude/latitude in degrees, in the datum the mini-program sends
(`wx.chooseLocation` gives GCJ-02 in mainland China); a town's boundaries must be drawn
in the same one. Distances are metres on a local flat projection around the point: at a
town's scale (a few km) the error is far below a GPS fix's.

Shapely does the geometry. Nothing here reads the database: the workflows prefilter the
candidates by bounding box there, and pass them in.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

import shapely
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from domain.errors import RuleViolation

# Metres per degree of latitude, and of longitude at the equator (WGS-84 mean values).
METRES_PER_DEGREE_LAT = 110_574.0
METRES_PER_DEGREE_LNG = 111_320.0

# A town's grid has at most this many vertices: a hand-drawn outline has tens to hundreds.
MAX_VERTICES = 5_000

DEFAULT_ROUTE_DISTANCE_M = 200
DEFAULT_NEARBY_RADIUS_M = 50
DEFAULT_NEARBY_DAYS = 14
DEFAULT_CELL_M = 250


class BoundaryInvalid(RuleViolation):
    """An outline that cannot be used: a 422 saying why."""


class RoutedBy(StrEnum):
    """How an order's location chose its grid (an order that named its grid, or had no location, was not routed)."""

    CONTAINS = "contains"  # the grid whose boundary contains the point
    NEAREST = "nearest"  # no boundary contains it; the nearest within the town's distance
    INTAKE = "intake"  # none near enough: the town's intake grid, for a grid worker to assign

    @property
    def label(self) -> str:
        return ROUTED_BY_LABELS[self]


ROUTED_BY_LABELS = {
    RoutedBy.CONTAINS: "位置所在网格",
    RoutedBy.NEAREST: "最近网格",
    RoutedBy.INTAKE: "镇受理网格（待分派）",
}


@dataclass(frozen=True)
class Bounds:
    min_lng: float
    min_lat: float
    max_lng: float
    max_lat: float


@dataclass(frozen=True)
class Boundary:
    """A grid's outline, checked: its GeoJSON text (as stored) and its bounding box."""

    geojson: str
    bounds: Bounds


def parse_boundary(geometry: dict) -> Boundary:
    """A GeoJSON Polygon or MultiPolygon (or a Feature holding one), checked and normalised.

    Refused: other types, coordinates out of range, too many vertices, and outlines that
    cross themselves (shapely's reason is in the message, with where it is).
    """
    if isinstance(geometry, dict) and geometry.get("type") == "Feature":
        geometry = geometry.get("geometry")
    if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        raise BoundaryInvalid(key="boundary.not-polygon")
    try:
        shaped = shape(geometry)
    except (ValueError, TypeError, AttributeError, IndexError, KeyError, OverflowError,
            shapely.errors.GEOSException):
        raise BoundaryInvalid(key="boundary.unreadable") from None
    if shaped.is_empty:
        raise BoundaryInvalid(key="boundary.unreadable")
    if shapely.get_num_coordinates(shaped) > MAX_VERTICES:
        raise BoundaryInvalid(key="boundary.too-many-vertices", limit=MAX_VERTICES)
    min_lng, min_lat, max_lng, max_lat = shaped.bounds
    if not (-180 <= min_lng <= max_lng <= 180 and -90 <= min_lat <= max_lat <= 90):
        raise BoundaryInvalid(key="boundary.out-of-range")
    if not shaped.is_valid:
        raise BoundaryInvalid(key="boundary.not-valid", reason=explain_validity(shaped))
    text = json.dumps(shapely.geometry.mapping(shaped), separators=(",", ":"))
    return Boundary(geojson=text, bounds=Bounds(min_lng, min_lat, max_lng, max_lat))


@lru_cache(maxsize=4096)
def _prepared(geojson: str) -> BaseGeometry:
    """The outline as a prepared geometry, once per distinct text: contains() is then fast."""
    geometry = shape(json.loads(geojson))
    shapely.prepare(geometry)
    return geometry


def metres_per_degree(latitude: float) -> tuple[float, float]:
    """(metres per degree of longitude, of latitude) near `latitude`."""
    return METRES_PER_DEGREE_LNG * math.cos(math.radians(latitude)), METRES_PER_DEGREE_LAT


def around(lng: float, lat: float, metres: float) -> Bounds:
    """The box of degrees holding every point within `metres` of (lng, lat)."""
    per_lng, per_lat = metres_per_degree(lat)
    d_lng, d_lat = metres / max(per_lng, 1.0), metres / per_lat
    return Bounds(lng - d_lng, lat - d_lat, lng + d_lng, lat + d_lat)


def distance_m(lng: float, lat: float, other_lng: float, other_lat: float) -> float:
    per_lng, per_lat = metres_per_degree(lat)
    return math.hypot((other_lng - lng) * per_lng, (other_lat - lat) * per_lat)


def distance_to_boundary_m(lng: float, lat: float, geojson: str) -> float:
    """Metres from the point to the outline (0 inside it)."""
    geometry = _prepared(geojson)
    if geometry.contains(Point(lng, lat)):
        return 0.0
    per_lng, per_lat = metres_per_degree(lat)
    # Scaled so that one unit is a metre both ways around the point; then a plain distance.
    flat = shapely.transform(geometry, lambda xy: (xy - (lng, lat)) * (per_lng, per_lat))
    return float(flat.distance(Point(0.0, 0.0)))


@dataclass(frozen=True)
class GridOutline:
    """A candidate grid for routing: its id and its stored outline."""

    grid_id: int
    geojson: str


@dataclass(frozen=True)
class Route:
    grid_id: int | None  # None: to the intake grid (the caller knows which)
    by: RoutedBy
    distance_m: float | None = None

    def note(self) -> dict:
        """What the submit event keeps of the routing, for the timeline."""
        found = {"by": self.by.value, "label": self.by.label}
        if self.distance_m is not None:
            found["distance_m"] = round(self.distance_m, 1)
        return found


def route(lng: float, lat: float, candidates: Iterable[GridOutline], max_distance_m: float) -> Route:
    """The grid an order at (lng, lat) belongs to, among grids whose boxes are near it.

    Inside an outline wins (the lowest id where outlines overlap, so the answer is
    stable); else the nearest outline within `max_distance_m`; else the intake grid.
    """
    point = Point(lng, lat)
    outlines = sorted(candidates, key=lambda c: c.grid_id)
    for candidate in outlines:
        if _prepared(candidate.geojson).contains(point):
            return Route(candidate.grid_id, RoutedBy.CONTAINS, 0.0)
    best: tuple[float, int] | None = None
    for candidate in outlines:
        metres = distance_to_boundary_m(lng, lat, candidate.geojson)
        if metres <= max_distance_m and (best is None or metres < best[0]):
            best = (metres, candidate.grid_id)
    if best is not None:
        return Route(best[1], RoutedBy.NEAREST, best[0])
    return Route(None, RoutedBy.INTAKE)


def cell_size_degrees(cell_m: float, latitude: float) -> tuple[float, float]:
    """A map cell of `cell_m` metres near `latitude`, in degrees (longitude, latitude)."""
    per_lng, per_lat = metres_per_degree(latitude)
    return cell_m / max(per_lng, 1.0), cell_m / per_lat
