"""Whole loops per second over HTTP against a running wudan server, and the limit, in one run.

A loop is the README's walk-through: the resident places an order (POST /orders), the grid
worker of the resident's grid claims it, the branch's secretary dispatches it to a member
of the branch, the member accepts it, uploads a photo (POST /photos) and completes it, and
the resident rates it: 7 requests. Client i lives in demo grid i mod 8 (its own resident,
signed in with POST /auth/dev/resident and PUT /me/profile), so the right grid worker,
secretary and member act; sign-ins happen once, before the clock starts.

The server: `uvicorn --factory common:make_wudan_app` (api.main's app in a pure ASGI
wrapper that adds a Server-Timing header) on a loopback port, --workers N, no access log,
SCHEDULER_ENABLED=false, on a fresh data dir or a fresh PostgreSQL database seeded with
`wudan seed-demo`.

With --limit (the default), each round also measures, at the same concurrencies,
  (1) the same statements straight to the database from threads (limit_db.py), and
  (2) a bare FastAPI /ping under the same uvicorn setup and driver (bare_fastapi.py) ÷ 7,
and reports loops/s ÷ min((1), (2)).

    .venv/bin/python bench/loop_http.py --db sqlite --clients 1,16,64 --seconds 10 --runs 3
    .venv/bin/python bench/loop_http.py --db postgres --workers 2
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict

import common  # noqa: F401  (puts the repository on sys.path)
from common import REQUESTS_PER_LOOP, STEPS, Part, plan_cast
from town import ADMIN_PHONE, read_town, resident_token, staff_token


def sign_in_cast(base: str, clients: int, tag: str = "bench") -> tuple[list[Part], dict, list[int]]:
    """Tokens for the people of every client's loop, and one resident per client in its grid."""
    import httpx

    with httpx.Client(base_url=base, timeout=60) as c:
        town = read_town(c, staff_token(c, ADMIN_PHONE))
        parts = plan_cast(town.grids, town.staff, clients)
        phone = {s["id"]: s["phone"] for s in town.staff}
        tokens: dict = {}
        for part in parts:
            for sid in (part.worker_id, part.secretary_id, part.member_id):
                if ("staff", sid) not in tokens:
                    tokens["staff", sid] = staff_token(c, phone[sid])
        for i, part in enumerate(parts):
            tokens["resident", i] = resident_token(c, f"{tag}{i}", f"居民{i}", part.grid_id)
    return parts, tokens, town.category_ids


def loop_unit(client, i: int, part: Part, tokens: dict, categories: list[int]):
    """One whole loop of client i, each request timed as its step."""
    from infra.images import solid_png

    auth = lambda t: {"Authorization": f"Bearer {t}"}  # noqa: E731
    resident = auth(tokens["resident", i])
    worker = auth(tokens["staff", part.worker_id])
    secretary = auth(tokens["staff", part.secretary_id])
    member = auth(tokens["staff", part.member_id])
    png = solid_png()
    n = 0

    async def unit(rec) -> None:
        nonlocal n
        n += 1
        t = time.perf_counter()
        r = await client.post("/orders", headers=resident, json={
            "category_id": categories[(i + n) % len(categories)],
            "description": f"压测工单 {i}-{n}:村委会门口的路灯坏了", "address": "村委会门口"})
        rec.request("place", t, r)
        oid = r.json()["id"]
        t = time.perf_counter()
        rec.request("claim", t, await client.post(f"/orders/{oid}/claim", headers=worker))
        t = time.perf_counter()
        rec.request("dispatch", t, await client.post(f"/orders/{oid}/dispatch", headers=secretary,
                                                     json={"member_id": part.member_id, "note": "请尽快处理"}))
        t = time.perf_counter()
        rec.request("accept", t, await client.post(f"/orders/{oid}/accept", headers=member))
        t = time.perf_counter()
        r = await client.post("/photos", headers=member, files={"file": ("p.png", png, "image/png")})
        rec.request("upload", t, r)
        pid = r.json()["id"]
        t = time.perf_counter()
        rec.request("complete", t, await client.post(f"/orders/{oid}/complete", headers=member,
                                                     json={"note": "已处理完毕,请查看照片", "photo_ids": [pid]}))
        t = time.perf_counter()
        rec.request("rate", t, await client.post(f"/orders/{oid}/rate", headers=resident,
                                                 json={"stars": 5 if n % 4 else 4, "comment": "很及时,谢谢"}))

    return unit


def measure_loops(base: str, clients: int, warmup: float, seconds: float, parts, tokens, categories) -> dict:
    from common import drive, http_clients, pct, run_async

    async def go():
        async with http_clients(clients, base) as pool:
            return await drive(clients, warmup, seconds,
                               lambda i: loop_unit(pool[i], i, parts[i], tokens, categories))

    rec = run_async(go())
    if rec.errors:
        common.log(f"  {len(rec.errors)} loops failed ({dict(rec.failed)} in the window), e.g. {rec.errors[0][:200]}")
    return {
        "clients": clients, "loops": rec.units, "loops_per_s": rec.units / seconds, "errors": len(rec.errors),
        # Requests finished in the window ÷ 7: the steady-state loop rate, whatever the loops' phase.
        "request_loops_per_s": sum(len(rec.client[s]) for s in STEPS) / REQUESTS_PER_LOOP / seconds,
        "failed": dict(rec.failed), "requests": sum(len(rec.client[s]) for s in STEPS),
        "steps": {s: {"p50_ms": pct(rec.client[s], 0.5), "p99_ms": pct(rec.client[s], 0.99),
                      "server_p50_ms": pct(rec.server[s], 0.5), "server_p99_ms": pct(rec.server[s], 0.99),
                      "n": len(rec.client[s])} for s in STEPS},
    }


def main(argv: list[str] | None = None) -> int:
    from common import Server, bound_run_time, fmt, fresh_database, log, machine, median, seed_demo, table, write_json

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="sqlite", choices=["sqlite", "postgres"], help="database (default sqlite)")
    parser.add_argument("--clients", default="1,16,64", help="concurrent clients, comma separated (default 1,16,64)")
    parser.add_argument("--seconds", type=float, default=10, help="measured seconds per run (default 10)")
    parser.add_argument("--warmup", type=float, default=3, help="unmeasured seconds before each run (default 3)")
    parser.add_argument("--ping-seconds", type=float, default=4, help="measured seconds of each /ping run (default 4)")
    parser.add_argument("--runs", type=int, default=3, help="rounds; medians are reported (default 3)")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (default 1)")
    parser.add_argument("--no-limit", dest="limit", action="store_false",
                        help="skip the limit (straight-to-database and bare FastAPI) measurements")
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--max-seconds", type=float, default=900, help="stop after this long (default 900)")
    args = parser.parse_args(argv)
    bound_run_time(args.max_seconds)
    clients = [int(c) for c in args.clients.split(",")]
    results = {"machine": machine(), "args": vars(args)}
    log(f"machine: {results['machine']}")
    http_runs: dict[int, list] = defaultdict(list)
    db_runs: dict[int, list] = defaultdict(list)
    ping_runs: dict[int, list] = defaultdict(list)
    with fresh_database(args.db, "loop") as fresh:
        seed_demo(fresh)
        with Server("common:make_wudan_app", workers=args.workers, env=fresh.env, cwd=fresh.data_dir) as server:
            parts, tokens, categories = sign_in_cast(server.base, max(clients))
            log(f"signed in {len(tokens)} people for {max(clients)} clients")
            if not args.limit:
                for r in range(args.runs):
                    for c in clients:
                        m = measure_loops(server.base, c, args.warmup, args.seconds, parts, tokens, categories)
                        http_runs[c].append(m)
                        log(f"round {r + 1}/{args.runs} clients={c}: HTTP {m['request_loops_per_s']:.1f} loops/s "
                            f"({m['loops_per_s']:.1f} whole)")
            else:
                import limit_db
                from bare_fastapi import measure_ping

                with fresh_database(args.db, "limit") as fresh_limit:
                    seed_demo(fresh_limit)
                    setup = limit_db.prepare(fresh_limit.url, fresh_limit.data_dir / "photos", max(clients))
                    with Server("common:make_ping_app", workers=args.workers, health="/ping") as ping:
                        for r in range(args.runs):
                            for c in clients:
                                m = measure_loops(server.base, c, args.warmup, args.seconds, parts, tokens, categories)
                                http_runs[c].append(m)
                                d = limit_db.measure(setup, c, args.warmup, args.seconds, procs=args.workers)
                                db_runs[c].append(d)
                                p = measure_ping(ping.base, c, 1, args.ping_seconds)
                                ping_runs[c].append(p)
                                log(f"round {r + 1}/{args.runs} clients={c}: HTTP {m['request_loops_per_s']:.1f} loops/s "
                                    f"({m['loops_per_s']:.1f} whole), straight to db {d['request_loops_per_s']:.1f} "
                                    f"loops/s ({d['loops_per_s']:.1f} whole), ping {p['rps']:.0f} req/s "
                                    f"(÷{REQUESTS_PER_LOOP} = {p['rps'] / REQUESTS_PER_LOOP:.1f})")

    points = []
    for c in clients:
        hs = http_runs[c]
        point = {"clients": c, "http_runs": hs, "db_runs": db_runs.get(c, []), "ping_runs": ping_runs.get(c, []),
                 "http_whole_loops_per_s": median([m["loops_per_s"] for m in hs]),
                 "http_loops_per_s": median([m["request_loops_per_s"] for m in hs]),
                 "steps": {s: {k: median([m["steps"][s][k] for m in hs])
                               for k in ("p50_ms", "p99_ms", "server_p50_ms", "server_p99_ms")} for s in STEPS}}
        if args.limit:
            # Ratios within a round (same minute, same neighbours on the machine), then the median.
            ratios, limits = [], []
            for m, d, p in zip(hs, db_runs[c], ping_runs[c], strict=True):
                limit = min(d["request_loops_per_s"], p["rps"] / REQUESTS_PER_LOOP)
                limits.append(limit)
                ratios.append(m["request_loops_per_s"] / limit if limit else None)
            point.update(db_loops_per_s=median([d["request_loops_per_s"] for d in db_runs[c]]),
                         db_whole_loops_per_s=median([d["loops_per_s"] for d in db_runs[c]]),
                         ping_rps=median([p["rps"] for p in ping_runs[c]]), limit=median(limits),
                         ratio=median(ratios), ratios=ratios)
        points.append(point)
    results["points"] = points

    print(f"\nwudan over HTTP on {args.db}, uvicorn --workers {args.workers}; median of {args.runs} runs of "
          f"{args.seconds:g} s (after {args.warmup:g} s warm-up)\n")
    headers = ["clients", "HTTP loops/s", "(whole loops)", "failed requests"]
    if args.limit:
        headers += ["straight to db loops/s", "(whole loops)", "bare /ping req/s", "/ping ÷ 7", "limit", "HTTP ÷ limit"]
    rows = []
    for p in points:
        failed = [sum(m["failed"].values()) for m in p["http_runs"]]
        row = [p["clients"], fmt(p["http_loops_per_s"]), fmt(p["http_whole_loops_per_s"]),
               f"{sum(failed)} of {sum(m['requests'] for m in p['http_runs']) + sum(failed)}"]
        if args.limit:
            row += [fmt(p["db_loops_per_s"]), fmt(p["db_whole_loops_per_s"]), fmt(p["ping_rps"], 0),
                    fmt(p["ping_rps"] / REQUESTS_PER_LOOP), fmt(p["limit"]), fmt(p["ratio"], 2)]
        rows.append(row)
    print(table(headers, rows))
    print("\nloops/s = requests finished in the window ÷ 7 ÷ seconds (the steady-state loop rate); "
          "(whole loops) = loops whose rating finished in the window ÷ seconds.")
    print("\nlatency of each transition, client side p50 / p99 ms (server side p50 in brackets)\n")
    print(table(["clients", *STEPS], [[p["clients"], *(
        f"{fmt(p['steps'][s]['p50_ms'])} / {fmt(p['steps'][s]['p99_ms'], 0)} ({fmt(p['steps'][s]['server_p50_ms'])})"
        for s in STEPS)] for p in points]))
    write_json(args.json, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
