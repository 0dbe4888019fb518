"""Dashboard reads at 10k and 1M orders: a stats request (200) and a poll that gets 304.

For each size: a fresh database with the demo town, N orders generated with bulk SQL
(generate.generate_orders: a year of days, the 8 grids, the 7 categories, mostly closed, a
few thousand open, a few hundred overdue) and the dashboards' aggregates filled from them
with INSERT … SELECT … GROUP BY, so /stats/* answer with the same numbers the moves would
have left. Then a wudan server (same setup as loop_http.py) and one client, sequentially:

  GET /stats/{overview,daily,grids,leaderboard,overdue} (and /stats/summary) with a
  dashboard token (POST /admin/dashboard-tokens as 13800000000), for the default period
  (the last 30 days) and for a year; then the same with If-None-Match → 304.

Reported: client-side and server-side (Server-Timing: request in → response headers out)
medians and p99, the same functions called in-process (no HTTP), and each SQL statement of
the request timed alone (and EXPLAIN ANALYZE on PostgreSQL) to show which one dominates.

    .venv/bin/python bench/stats_poll.py --db sqlite --orders 10000,1000000 --requests 200
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime, timedelta

import common  # noqa: F401  (puts the repository on sys.path)
from town import ADMIN_PHONE, dashboard_token, staff_token

ENDPOINTS = ["overview", "daily", "grids", "leaderboard", "overdue", "summary"]


def open_counts(n: int) -> tuple[int, int]:
    """Open and overdue orders for a database of n: 3 % and 0.5 % when small, 3000 and 300 at scale."""
    if n >= 100_000:
        return 3000, 300
    return max(10, n * 3 // 100), max(2, n // 200)


def capture_statements(engine, fn) -> list[tuple[str, object]]:
    """The SQL statements (with parameters) `fn` issues."""
    from sqlalchemy import event

    seen = []

    def before(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", before)
    try:
        fn()
    finally:
        event.remove(engine, "before_cursor_execute", before)
    return seen


def time_statements(engine, statements, repeat: int = 15) -> list[dict]:
    """Each statement alone, on a raw connection: median ms, and its plan."""
    from common import median

    out = []
    pg = engine.dialect.name == "postgresql"
    with engine.connect() as conn:
        for sql, params in statements:
            if sql.strip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")) or "pg_catalog" in sql:
                continue
            times = []
            for _ in range(repeat):
                t = time.perf_counter()
                conn.exec_driver_sql(sql, params).fetchall()
                times.append((time.perf_counter() - t) * 1000)
            prefix = "EXPLAIN (ANALYZE, BUFFERS) " if pg else "EXPLAIN QUERY PLAN "
            plan = conn.exec_driver_sql(prefix + sql, params).fetchall()
            plan_text = "\n".join(str(r[0]) if pg else f"{r[1]}|{r[3]}" for r in plan)
            out.append({"sql": " ".join(sql.split())[:400], "median_ms": median(times), "plan": plan_text})
        conn.rollback()
    return out


def measure_size(kind: str, n: int, requests: int, analyze_sqlite: bool, keep: bool, budget: float = 15) -> dict:
    import httpx

    from common import Server, fresh_database, log, median, pct, seed_demo, server_ms
    from generate import generate_orders
    from domain.roles import Role
    from storage.engine import NO_TIMEOUTS, Database, create_db_engine
    from workflows import queries, stats
    from workflows.principal import Principal

    result: dict = {"db": kind, "orders": n}
    with fresh_database(kind, f"stats{n}", keep=keep) as fresh:
        seed_demo(fresh)
        engine = create_db_engine(fresh.url, timeouts=NO_TIMEOUTS)  # generating 1M rows takes a while
        n_open, n_overdue = open_counts(n)
        log(f"generating {n:,} orders ({n_open:,} open, ~{n_overdue:,} overdue) in {kind} …")
        now_epoch = int(time.time())
        gen = generate_orders(engine, n, now_epoch=now_epoch, n_open=n_open, n_overdue=n_overdue)
        log(f"generated {n:,} orders with aggregates in {gen.seconds:.1f} s: {gen.counts}")
        result["generate_seconds"] = gen.seconds
        result["state_counts"] = gen.counts
        if kind == "postgres" or analyze_sqlite:
            with engine.connect() as c:
                c.exec_driver_sql("ANALYZE")
                c.commit()
            log("ANALYZE done")
        with engine.connect() as c:
            result["table_rows"] = {t: c.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar()
                              for t in ("orders", "stats_counts", "stats_stage_times", "point_entries")}
        log(f"rows: {result['table_rows']}")
        engine.dispose()

        today = (datetime.now(UTC) + timedelta(hours=8)).date()  # the town's day (Asia/Shanghai)
        periods = {"30 days": {}, "365 days": {"date_from": str(today - timedelta(days=365)), "date_to": str(today)}}
        rows = []
        with Server("common:make_wudan_app", env=fresh.env, cwd=fresh.data_dir) as server, \
                httpx.Client(base_url=server.base, timeout=60) as client:
            dash = {"Authorization": f"Bearer {dashboard_token(client, staff_token(client, ADMIN_PHONE))}"}
            for period, params in periods.items():
                for ep in ENDPOINTS:
                    if ep == "summary" and params:
                        continue  # /stats/summary has no period
                    path = f"/stats/{ep}"
                    for _ in range(5):  # warm-up
                        r = client.get(path, params=params, headers=dash)
                        r.raise_for_status()
                    full_c, full_s = [], []
                    began = time.perf_counter()
                    for i in range(requests):
                        if i >= 20 and time.perf_counter() - began > budget:
                            break  # a slow endpoint: enough for a median
                        t = time.perf_counter()
                        r = client.get(path, params=params, headers=dash)
                        full_c.append((time.perf_counter() - t) * 1000)
                        full_s.append(server_ms(r))
                        r.raise_for_status()
                    size = len(r.content)
                    etag = r.headers.get("etag")
                    nm_c, nm_s = [], []
                    if etag:
                        misses = 0
                        while len(nm_c) < requests and misses < 10:
                            t = time.perf_counter()
                            r = client.get(path, params=params, headers={**dash, "If-None-Match": etag})
                            ms = (time.perf_counter() - t) * 1000
                            if r.status_code == 304:
                                nm_c.append(ms)
                                nm_s.append(server_ms(r))
                            else:  # the minute turned: a new ETag
                                r.raise_for_status()
                                etag, misses = r.headers["etag"], misses + 1
                    row = {"period": period, "endpoint": ep, "bytes": size, "n": len(full_c),
                           "p50_ms": pct(full_c, 0.5), "p99_ms": pct(full_c, 0.99),
                           "server_p50_ms": pct([s for s in full_s if s is not None], 0.5),
                           "server_p99_ms": pct([s for s in full_s if s is not None], 0.99),
                           "304_p50_ms": pct(nm_c, 0.5), "304_p99_ms": pct(nm_c, 0.99),
                           "304_server_p50_ms": pct([s for s in nm_s if s is not None], 0.5), "304_n": len(nm_c)}
                    rows.append(row)
                    log(f"{kind} {n:,} {period} {path}: 200 p50 {row['p50_ms']:.2f} ms (server {row['server_p50_ms']:.2f}), "
                        f"304 p50 {fmt0(row['304_p50_ms'])} ms (server {fmt0(row['304_server_p50_ms'])})")

        # In-process: the same functions without HTTP, and each statement alone.
        database = Database(create_db_engine(fresh.url))
        who = Principal("dashboard", 1, Role.DASHBOARD, "dashboard", 1)
        calls = {
            "overview": lambda db, q, now: stats.overview(db, who, q, now),
            "daily": lambda db, q, now: stats.daily(db, who, q, now),
            "grids": lambda db, q, now: stats.grid_ranking(db, who, q, now),
            "leaderboard": lambda db, q, now: stats.leaderboard(db, who, q, now),
            "overdue": lambda db, q, now: stats.overdue_orders(db, who, q, now, 20),
            "summary": lambda db, q, now: queries.state_counts(db, who, now),
            "etag (data_version)": lambda db, q, now: stats.data_version(db),
        }
        statements = {}
        rows += [{"period": p, "endpoint": "etag (data_version)"} for p in periods]
        for row in rows:
            q = stats.StatsQuery(**{k: datetime.strptime(v, "%Y-%m-%d").date()
                                    for k, v in periods[row["period"]].items()})
            fn = calls[row["endpoint"]]
            times = []
            began = time.perf_counter()
            for i in range(max(20, requests // 4)):
                if i >= 10 and time.perf_counter() - began > budget:
                    break
                with database.session() as db:
                    now = datetime.now(UTC)
                    t = time.perf_counter()
                    fn(db, q, now)
                    times.append((time.perf_counter() - t) * 1000)
            row["inprocess_p50_ms"] = median(times)
            if row["endpoint"] != "etag (data_version)" or row["period"] == "30 days":
                with database.session() as db:
                    now = datetime.now(UTC)
                    seen = capture_statements(database.engine, lambda: fn(db, q, now))
                statements[f"{row['period']} {row['endpoint']}"] = time_statements(database.engine, seen)
        database.dispose()
        result["requests"] = requests
        result["endpoints"] = rows
        result["statements"] = statements
    return result


def fmt0(v) -> str:
    return "–" if v is None else f"{v:.2f}"


def main(argv: list[str] | None = None) -> int:
    from common import bound_run_time, fmt, log, machine, table, write_json

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="sqlite", choices=["sqlite", "postgres"], help="database (default sqlite)")
    parser.add_argument("--orders", default="10000,1000000", help="sizes, comma separated (default 10000,1000000)")
    parser.add_argument("--requests", type=int, default=200, help="requests per endpoint and kind (default 200)")
    parser.add_argument("--budget", type=float, default=15,
                        help="seconds per endpoint and period at most (after 20 requests; default 15)")
    parser.add_argument("--analyze-sqlite", action="store_true",
                        help="run ANALYZE on SQLite too (the service never does; PostgreSQL's autovacuum does)")
    parser.add_argument("--keep", action="store_true", help="keep the databases (and print where they are)")
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--max-seconds", type=float, default=1500, help="stop after this long (default 1500)")
    args = parser.parse_args(argv)
    bound_run_time(args.max_seconds)
    results = {"machine": machine(), "args": vars(args), "sizes": []}
    for n in [int(x) for x in args.orders.split(",")]:
        results["sizes"].append(measure_size(args.db, n, args.requests, args.analyze_sqlite, args.keep, args.budget))

    for size in results["sizes"]:
        print(f"\n{args.db}, {size['orders']:,} orders ({size['state_counts']}); medians of up to {args.requests} "
              f"sequential requests (n), ms\n")
        print(table(["period", "endpoint", "n", "bytes", "200 client p50", "p99", "200 server p50", "in-process p50",
                     "304 client p50", "p99", "304 server p50"],
                    [[r["period"], r["endpoint"], r.get("n", "–"), r.get("bytes", "–"), fmt(r.get("p50_ms"), 2), fmt(r.get("p99_ms"), 2),
                      fmt(r.get("server_p50_ms"), 2), fmt(r.get("inprocess_p50_ms"), 2), fmt(r.get("304_p50_ms"), 2),
                      fmt(r.get("304_p99_ms"), 2), fmt(r.get("304_server_p50_ms"), 2)] for r in size["endpoints"]]))
        print("\nslowest statements (each alone, median ms):\n")
        flat = [(s["median_ms"], k, s["sql"]) for k, ss in size["statements"].items() for s in ss]
        for ms, k, sql in sorted(flat, reverse=True)[:8]:
            print(f"  {ms:8.2f} ms  {k}: {sql[:200]}")
    write_json(args.json, results)
    log("done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
