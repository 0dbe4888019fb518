"""Routing by location and the nearby search, with 500 grid outlines and 1M located orders.

A fresh database with the demo town; `--grids` more grids in a square tiling (each about
400 m a side, outlined as 12-vertex polygons so that shapely has real work), and `--orders`
orders (bench/generate.py's history: a year of a town, mostly closed, the newest open)
given locations spread over the tiling, a thousand per cell of a regular lattice and some
jitter. Then, in this process and for `--points` random points each run:

- **route**: `workflows.places.route_order` (what placing an order with a location and no
  grid does): the town's settings, the candidates by bounding box, shapely's test;
- **nearby**: `workflows.following.nearby_orders` (`GET /orders/nearby` without HTTP);

and beside each, its **limit**: the minimal SQL the step needs, written here — the grids
whose boxes hold the point (one indexed range), and the open orders of a category in a
box of the radius placed lately (one indexed range) — with nothing else. Medians of
`--runs` runs; per call p50 and p99 in milliseconds. On PostgreSQL the plans are printed.

    .venv/bin/python bench/places.py --db sqlite --grids 500 --orders 1000000 --runs 5
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from datetime import UTC, datetime, timedelta

import common  # noqa: F401  (puts the repository on sys.path)

WEST, SOUTH = 114.20, 30.50  # the tiling's south-west corner
SIDE_M = 400.0


def main(argv: list[str] | None = None) -> int:
    from sqlalchemy import text

    from common import bound_run_time, fmt, fresh_database, log, machine, median, pct, seed_demo, table, write_json
    from domain.places import around, metres_per_degree, parse_boundary
    from generate import generate_orders
    from storage.engine import NO_TIMEOUTS, Database, create_db_engine
    from workflows.following import nearby_orders
    from workflows.places import route_order
    from workflows.principal import Principal
    from domain.roles import Role

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="sqlite", choices=["sqlite", "postgres"], help="database (default sqlite)")
    parser.add_argument("--grids", type=int, default=500, help="grid outlines (default 500)")
    parser.add_argument("--orders", type=int, default=1_000_000, help="located orders (default 1000000)")
    parser.add_argument("--points", type=int, default=2000, help="points per run and step (default 2000)")
    parser.add_argument("--runs", type=int, default=5, help="runs; medians are reported (default 5)")
    parser.add_argument("--keep", action="store_true", help="keep the database (and print where it is)")
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--max-seconds", type=float, default=2400, help="stop after this long (default 2400)")
    args = parser.parse_args(argv)
    bound_run_time(args.max_seconds)
    results: dict = {"machine": machine(), "args": vars(args)}

    columns = math.ceil(math.sqrt(args.grids))
    rows_of_grids = math.ceil(args.grids / columns)
    per_lng, per_lat = metres_per_degree(SOUTH + rows_of_grids * SIDE_M / 110_574 / 2)
    d_lng, d_lat = SIDE_M / per_lng, SIDE_M / per_lat
    span_lng, span_lat = columns * d_lng, rows_of_grids * d_lat

    with fresh_database(args.db, "places", keep=args.keep) as fresh:
        seed_demo(fresh)
        engine = create_db_engine(fresh.url, timeouts=NO_TIMEOUTS)
        now_epoch = int(time.time())
        log(f"generating {args.orders:,} orders in {args.db} …")
        gen = generate_orders(engine, args.orders, now_epoch=now_epoch, n_open=args.orders // 50,
                              aggregates=False)
        log(f"generated in {gen.seconds:.1f} s: {gen.counts}")
        with engine.begin() as c:
            town_id, branch_id = c.execute(text("SELECT town_id, id FROM branches ORDER BY id LIMIT 1")).one()
            now = datetime.now(UTC)
            outlines = []
            for i in range(args.grids):
                x0, y0 = WEST + (i % columns) * d_lng, SOUTH + (i // columns) * d_lat
                # 12 vertices: the square's corners and two points along each side, a little bent.
                ring = []
                for side in range(4):
                    for k in range(3):
                        t = k / 3
                        bend = 0.02 * math.sin(math.pi * t) * (d_lng if side % 2 else d_lat)
                        ring.append([(x0 + t * d_lng, y0 - bend), (x0 + d_lng + bend, y0 + t * d_lat),
                                     (x0 + d_lng - t * d_lng, y0 + d_lat + bend), (x0 - bend, y0 + d_lat - t * d_lat)][side])
                ring.append(ring[0])
                b = parse_boundary({"type": "Polygon", "coordinates": [[list(p) for p in ring]]})
                outlines.append({"t": town_id, "b": branch_id, "n": f"bench-{i:04d}", "g": b.geojson,
                                 "x0": b.bounds.min_lng, "y0": b.bounds.min_lat, "x1": b.bounds.max_lng,
                                 "y1": b.bounds.max_lat, "c": now})
            c.execute(text("INSERT INTO grids (town_id, branch_id, name, boundary, min_lng, min_lat, max_lng, max_lat,"
                           " created_at) VALUES (:t, :b, :n, :g, :x0, :y0, :x1, :y1, :c)"), outlines)
        log(f"{args.grids} outlines in a {columns}×{rows_of_grids} tiling of {SIDE_M:.0f} m squares")

        started = time.monotonic()
        with engine.begin() as c:
            # Spread over the tiling: a lattice point per id, with jitter; the same on both stores.
            c.execute(text(
                "UPDATE orders SET longitude = :w + ((CAST(id AS BIGINT) * 7919) % 100003) * :sx / 100003.0,"
                " latitude = :s + ((CAST(id AS BIGINT) * 104729) % 99991) * :sy / 99991.0 WHERE id >= :first"),
                {"w": WEST, "s": SOUTH, "sx": span_lng, "sy": span_lat, "first": gen.first_id})
            if args.db == "postgres":
                c.execute(text("ANALYZE orders"))
                c.execute(text("ANALYZE grids"))
            else:
                c.execute(text("ANALYZE"))
        log(f"located in {time.monotonic() - started:.1f} s")
        results["generate_seconds"] = gen.seconds

        database = Database(engine)
        with engine.connect() as c:
            category_id = c.execute(text("SELECT category_id FROM orders WHERE id >= :f AND state = 'submitted' "
                                         "GROUP BY category_id ORDER BY count(*) DESC LIMIT 1"),
                                    {"f": gen.first_id}).scalar()
            radius, days = c.execute(text("SELECT nearby_radius_m, nearby_days FROM towns WHERE id = :t"),
                                     {"t": town_id}).one()
            route_distance = c.execute(text("SELECT route_distance_m FROM towns WHERE id = :t"), {"t": town_id}).scalar()
        resident = Principal(kind="resident", id=1, role=Role.RESIDENT, town_id=town_id)
        open_states = ("submitted", "claimed", "dispatched", "whistled", "in_progress", "completed")
        placeholders = ", ".join(f"'{s}'" for s in open_states)
        minimal_route = text(
            "SELECT id, boundary FROM grids WHERE town_id = :t AND boundary IS NOT NULL"
            " AND min_lat <= :y1 AND max_lat >= :y0 AND min_lng <= :x1 AND max_lng >= :x0")
        minimal_nearby = text(
            "SELECT id, latitude, longitude FROM orders WHERE category_id = :c AND latitude BETWEEN :y0 AND :y1"
            f" AND longitude BETWEEN :x0 AND :x1 AND state IN ({placeholders}) AND created_at >= :since")

        def points(seed: int) -> list[tuple[float, float]]:
            rng = random.Random(seed)
            return [(WEST + rng.random() * span_lng, SOUTH + rng.random() * span_lat) for _ in range(args.points)]

        def timed(call, pts) -> list[float]:
            spent = []
            for lng, lat in pts:
                t = time.perf_counter()
                call(lng, lat)
                spent.append((time.perf_counter() - t) * 1000)
            return spent

        steps = {"route": {}, "nearby": {}}
        since = now - timedelta(days=days)
        for run in range(args.runs):
            pts = points(run)
            with database.reader() as db:
                steps["route"].setdefault("wudan", []).append(timed(lambda x, y: route_order(db, town_id, x, y), pts))
                steps["nearby"].setdefault("wudan", []).append(timed(
                    lambda x, y: nearby_orders(db, resident, category_id, y, x, now=now), pts))
            with engine.connect() as c:
                def bare_route(x, y):
                    box = around(x, y, route_distance)
                    c.execute(minimal_route, {"t": town_id, "x0": box.min_lng, "y0": box.min_lat,
                                              "x1": box.max_lng, "y1": box.max_lat}).all()

                def bare_nearby(x, y):
                    box = around(x, y, radius)
                    c.execute(minimal_nearby, {"c": category_id, "x0": box.min_lng, "y0": box.min_lat,
                                               "x1": box.max_lng, "y1": box.max_lat, "since": since}).all()

                steps["route"].setdefault("limit", []).append(timed(bare_route, pts))
                steps["nearby"].setdefault("limit", []).append(timed(bare_nearby, pts))
            log(f"run {run + 1}/{args.runs}: route {median(steps['route']['wudan'][-1]):.3f} ms,"
                f" nearby {median(steps['nearby']['wudan'][-1]):.3f} ms (p50)")

        with engine.connect() as c:
            found = c.execute(minimal_nearby, {"c": category_id, "x0": WEST, "y0": SOUTH, "x1": WEST + span_lng,
                                                "y1": SOUTH + span_lat, "since": since}).all()
            results["open_recent_in_category"] = len(found)
            if args.db == "postgres":
                box = around(WEST + span_lng / 2, SOUTH + span_lat / 2, radius)
                for name, statement, params in (
                        ("route", minimal_route, {"t": town_id}), ("nearby", minimal_nearby,
                                                                   {"c": category_id, "since": since})):
                    bounds = {"x0": box.min_lng, "y0": box.min_lat, "x1": box.max_lng, "y1": box.max_lat}
                    plan = c.execute(text("EXPLAIN ANALYZE " + statement.text), {**params, **bounds}).scalars().all()
                    results[f"plan_{name}"] = plan
                    log(f"plan of {name}:\n  " + "\n  ".join(plan))

        rows = []
        for name, sides in steps.items():
            p50 = {k: median([pct(r, 0.5) for r in v]) for k, v in sides.items()}
            p99 = {k: median([pct(r, 0.99) for r in v]) for k, v in sides.items()}
            per_s = {k: median([1000 * len(r) / sum(r) for r in v]) for k, v in sides.items()}
            results[name] = {"p50_ms": p50, "p99_ms": p99, "per_second": per_s}
            rows.append([name, fmt(p50["wudan"], 3), fmt(p99["wudan"], 3), fmt(per_s["wudan"], 0),
                         fmt(p50["limit"], 3), fmt(p99["limit"], 3), fmt(per_s["limit"], 0),
                         fmt(per_s["wudan"] / per_s["limit"], 2)])
        print(table(["step", "wudan p50 ms", "wudan p99 ms", "wudan /s", "limit p50 ms", "limit p99 ms",
                     "limit /s", "wudan ÷ limit"], rows))
        write_json(args.json, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
