"""The database's half of the limit: whole loops per second with the same statements the HTTP
requests issue, but called straight from threads in this process (no HTTP, no ASGI, no
FastAPI): the workflow functions themselves on a fresh, seeded database.

One loop is the seven requests of loop_http.py; each "request" here does what its route does:
  who-is-asking (principal_for in its own read session, as api/deps.py does), then, in one
  write session (BEGIN IMMEDIATE on SQLite, as api/deps.py's get_db for a POST), the use case
  (place_order, claim_order, dispatch_order, accept_order, store_photo, complete_order,
  rate_order) and the response's reads (order_detail).
With --moves-only the who-is-asking and the response reads are left out: the use cases alone.

    .venv/bin/python bench/limit_db.py --db sqlite --clients 1,16,64 --seconds 10 --runs 3
    .venv/bin/python bench/limit_db.py --db postgres --procs 2     # two processes, like --workers 2
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections import defaultdict
from datetime import timedelta
from dataclasses import dataclass
from pathlib import Path

import common  # noqa: F401  (puts the repository on sys.path)
from common import STEPS, Part, plan_cast


@dataclass
class Setup:
    """Everything a thread (or a process of threads) needs; picklable."""

    url: str
    photo_dir: str
    town_id: int
    categories: list[int]
    parts: list[Part]
    residents: list[int]


def prepare(url: str, photo_dir: Path, clients: int, tag: str = "limit") -> Setup:
    """The cast of a seeded demo town, and one resident per client living in the client's grid."""
    from sqlmodel import select

    from domain.roles import Role
    from storage.engine import Database, create_db_engine
    from storage.models import Category, Grid, GridWorkerGrid, Staff, Town
    from workflows.identity import ProfileUpdate, sign_in_for_development, update_profile
    from workflows.principal import Principal
    from infra.clock import utc_now

    database = Database(create_db_engine(url))
    try:
        with database.session() as db:
            town = db.exec(select(Town).order_by(Town.id)).first()
            grids = [{"id": g.id, "branch_id": g.branch_id} for g in db.exec(select(Grid).where(Grid.town_id == town.id))]
            links = db.exec(select(GridWorkerGrid)).all()
            staff = [{"id": s.id, "role": s.role, "branch_id": s.branch_id, "active": s.active,
                      "grid_ids": [l.grid_id for l in links if l.staff_id == s.id]}
                     for s in db.exec(select(Staff).where(Staff.town_id == town.id))]
            categories = [c.id for c in db.exec(select(Category).where(Category.town_id == town.id,
                                                                     Category.active).order_by(Category.id))]
            town_id = town.id
        parts = plan_cast(grids, staff, clients)
        residents = []
        for i, part in enumerate(parts):
            with database.session(write=True) as db:
                resident = sign_in_for_development(db, f"{tag}{i}", now=utc_now())
            with database.session(write=True) as db:
                who = Principal("resident", resident.id, Role.RESIDENT, None)
                update_profile(db, who, ProfileUpdate(name=f"居民{i}", grid_id=part.grid_id), None, now=utc_now())
            residents.append(resident.id)
    finally:
        database.dispose()
    return Setup(url, str(photo_dir), town_id, categories, parts, residents)


def _thread(database, setup: Setup, index: int, full: bool, window: tuple[float, float], out: dict) -> None:
    """Loops of client `index` until the window closes; whole loops and step latencies inside it."""
    from domain.roles import Role
    from workflows import moves
    from workflows.identity import principal_for
    from workflows.inputs import CompleteRequest, DispatchRequest, OrderDraft, RatingRequest
    from workflows.photos import store_photo
    from workflows.placing import place_order
    from workflows.views import order_detail
    from infra.clock import utc_now
    from infra.images import solid_png
    from infra.tokens import TokenClaims

    part = setup.parts[index]
    claims = {
        "resident": TokenClaims("resident", setup.residents[index], Role.RESIDENT.value, setup.town_id),
        "worker": TokenClaims("staff", part.worker_id, Role.GRID_WORKER.value, setup.town_id),
        "secretary": TokenClaims("staff", part.secretary_id, Role.SECRETARY.value, setup.town_id),
        "member": TokenClaims("staff", part.member_id, Role.MEMBER.value, setup.town_id),
    }
    with database.session() as db:
        fixed = {name: principal_for(db, c) for name, c in claims.items()}
    png = solid_png()
    photo_dir = Path(setup.photo_dir)
    start, end = window
    lat: dict[str, list[float]] = defaultdict(list)
    loops = 0
    errors: list[str] = []
    n = 0

    def request(step: str, actor: str, fn):
        t = time.perf_counter()
        if full:
            with database.session() as rdb:  # api/deps.py get_principal: its own read session
                who = principal_for(rdb, claims[actor])
        else:
            who = fixed[actor]
        with database.session(write=True) as db:  # api/deps.py get_db for a POST
            result = fn(db, who)
        done = time.perf_counter()
        if start <= done < end:
            lat[step].append((done - t) * 1000)
        return result

    def detail(db, order, who):
        if full:
            order_detail(db, order, who, utc_now())
        return order

    while time.perf_counter() < end:
        try:
            n += 1
            category = setup.categories[(index + n) % len(setup.categories)]
            draft = OrderDraft(category_id=category, description=f"压测工单 {index}-{n}:路灯不亮", address="村委会门口")
            order = request("place", "resident", lambda db, who: detail(db, place_order(
                db, who, draft, idempotency_key=None, photos_per_order=9, now=utc_now()).order, who))
            oid = order.id
            request("claim", "worker", lambda db, who: detail(db, moves.claim_order(db, who, oid, now=utc_now()), who))
            request("dispatch", "secretary", lambda db, who: detail(db, moves.dispatch_order(
                db, who, oid, DispatchRequest(member_id=part.member_id, note="请尽快处理"), now=utc_now()), who))
            request("accept", "member", lambda db, who: detail(db, moves.accept_order(db, who, oid, now=utc_now()), who))
            photo = request("upload", "member", lambda db, who: store_photo(
                db, who, png, photo_dir=photo_dir, max_bytes=5 * 1024 * 1024, now=utc_now(),
                # counted and checked as the route does, with the bench server's limits
                unattached_max=30, per_hour=1_000_000, orphan_age=timedelta(hours=24)))
            pid = photo.id
            request("complete", "member", lambda db, who: detail(db, moves.complete_order(
                db, who, oid, CompleteRequest(note="已处理完毕", photo_ids=[pid]), photos_per_order=9,
                now=utc_now()), who))
            request("rate", "resident", lambda db, who: detail(db, moves.rate_order(
                db, who, oid, RatingRequest(stars=5 if n % 4 else 4, comment="很及时"), now=utc_now()), who))
            if start <= time.perf_counter() < end:
                loops += 1
        except Exception as exc:  # noqa: BLE001
            errors.append(f"{type(exc).__name__}: {exc}"[:300])
            if len(errors) > 20:
                break
    out[index] = (loops, dict(lat), errors)


def run_threads(setup: Setup, indexes: list[int], full: bool, window: tuple[float, float]) -> tuple:
    """Threads for `indexes` in this process, on one engine configured as the app's."""
    from storage.engine import Database, create_db_engine

    database = Database(create_db_engine(setup.url))
    out: dict = {}
    try:
        threads = [threading.Thread(target=_thread, args=(database, setup, i, full, window, out), daemon=True)
                   for i in indexes]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=max(1.0, window[1] - time.perf_counter()) + 60)
    finally:
        database.dispose()
    loops = sum(v[0] for v in out.values())
    lat: dict[str, list[float]] = defaultdict(list)
    errors: list[str] = []
    for _, l, e in out.values():
        for step, values in l.items():
            lat[step].extend(values)
        errors.extend(e)
    return loops, dict(lat), errors


def measure(setup: Setup, clients: int, warmup: float, seconds: float, *, procs: int = 1, full: bool = True) -> dict:
    """Loops per second at `clients` threads (spread over `procs` processes)."""
    from common import pct

    assert clients <= len(setup.parts), "prepare() for at least as many clients"
    # perf_counter is CLOCK_MONOTONIC on Linux: one clock for every process of the machine.
    procs = min(procs, clients)
    if procs == 1:
        start = time.perf_counter() + warmup
        loops, lat, errors = run_threads(setup, list(range(clients)), full, (start, start + seconds))
    else:
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")
        with ctx.Pool(procs) as pool:
            start = time.perf_counter() + warmup + 3  # time for the children to start
            slices = [list(range(p, clients, procs)) for p in range(procs)]
            results = pool.starmap(run_threads, [(setup, s, full, (start, start + seconds)) for s in slices])
        loops = sum(r[0] for r in results)
        lat = defaultdict(list)
        errors = []
        for _, l, e in results:
            for step, values in l.items():
                lat[step].extend(values)
            errors.extend(e)
    if errors:
        common.log(f"  {len(errors)} errors, e.g. {errors[0]}")
    return {"clients": clients, "procs": procs, "full": full, "loops": loops, "loops_per_s": loops / seconds,
            "request_loops_per_s": sum(len(v) for v in lat.values()) / len(STEPS) / seconds,
            "errors": len(errors),
            "steps": {s: {"p50_ms": pct(lat.get(s, []), 0.5), "p99_ms": pct(lat.get(s, []), 0.99)} for s in STEPS}}


def main(argv: list[str] | None = None) -> int:
    from common import bound_run_time, fmt, fresh_database, log, machine, median, seed_demo, table, write_json

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="sqlite", choices=["sqlite", "postgres"], help="database (default sqlite)")
    parser.add_argument("--clients", default="1,16,64", help="concurrent threads, comma separated (default 1,16,64)")
    parser.add_argument("--seconds", type=float, default=10, help="measured seconds per run (default 10)")
    parser.add_argument("--warmup", type=float, default=3, help="unmeasured seconds before each run (default 3)")
    parser.add_argument("--runs", type=int, default=3, help="runs per point; the median is reported (default 3)")
    parser.add_argument("--procs", type=int, default=1, help="processes the threads are spread over (default 1)")
    parser.add_argument("--moves-only", action="store_true", help="leave out who-is-asking and the response reads")
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--max-seconds", type=float, default=900, help="stop after this long (default 900)")
    args = parser.parse_args(argv)
    bound_run_time(args.max_seconds)
    clients = [int(c) for c in args.clients.split(",")]
    results = {"machine": machine(), "args": vars(args), "points": []}
    with fresh_database(args.db, "limit") as fresh:
        seed_demo(fresh)
        setup = prepare(fresh.url, fresh.data_dir / "photos", max(clients))
        runs: dict[int, list[dict]] = defaultdict(list)
        for r in range(args.runs):
            for c in clients:
                m = measure(setup, c, args.warmup, args.seconds, procs=args.procs, full=not args.moves_only)
                runs[c].append(m)
                log(f"{args.db} run {r + 1}/{args.runs} threads={c} procs={m['procs']}: "
                    f"{m['request_loops_per_s']:.1f} loops/s ({m['loops_per_s']:.1f} whole)")
    rows = []
    for c, ms in runs.items():
        point = {"clients": c, "runs": ms, "loops_per_s": median([m["request_loops_per_s"] for m in ms]),
                 "whole_loops_per_s": median([m["loops_per_s"] for m in ms]),
                 "steps": {s: {k: median([m["steps"][s][k] for m in ms]) for k in ("p50_ms", "p99_ms")} for s in STEPS}}
        results["points"].append(point)
        rows.append([c, fmt(point["loops_per_s"]), fmt(point["whole_loops_per_s"]), *(f"{fmt(point['steps'][s]['p50_ms'], 1)} / {fmt(point['steps'][s]['p99_ms'], 0)}"
                                                     for s in STEPS)])
    what = "use cases only" if args.moves_only else "who-is-asking + use case + response reads"
    print(f"\nstraight to {args.db} ({what}), {args.procs} process(es), median of {args.runs} runs of {args.seconds:g} s\n")
    print(table(["threads", "loops/s", "(whole loops)", *(f"{s} p50/p99 ms" for s in STEPS)], rows))
    write_json(args.json, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
