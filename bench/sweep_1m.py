"""One overdue sweep over 1M open orders of which 1k are due.

A fresh database with the demo town and N open orders generated with bulk SQL
(generate.generate_orders in sweep mode): every order in one of the five open states with
its next alert (next_alert_at) in the future, except `--due` orders, evenly spread, whose
first reminder (催办) fell due a few minutes ago — one alert each. Then, in this process,
`workflows.sweep.sweep(database, now=…)` (what the worker's job calls) is timed; between
runs the due orders are reset (their stage_alerts and alert outbox rows deleted, their
next_alert_at put back). The sweep's selecting query is also timed alone and, on
PostgreSQL, shown with EXPLAIN ANALYZE; the per-order part is profiled by statement.

    .venv/bin/python bench/sweep_1m.py --db sqlite --orders 1000000 --due 1000 --runs 5
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from datetime import UTC, datetime

import common  # noqa: F401  (puts the repository on sys.path)


def main(argv: list[str] | None = None) -> int:
    from sqlalchemy import event, text

    from common import bound_run_time, fmt, fresh_database, log, machine, median, seed_demo, table, write_json
    from generate import generate_orders
    from storage.engine import NO_TIMEOUTS, Database, create_db_engine
    from workflows.sweep import sweep

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="sqlite", choices=["sqlite", "postgres"], help="database (default sqlite)")
    parser.add_argument("--orders", type=int, default=1_000_000, help="open orders (default 1000000)")
    parser.add_argument("--due", type=int, default=1000, help="of which due now (default 1000)")
    parser.add_argument("--runs", type=int, default=5, help="timed sweeps; the median is reported (default 5)")
    parser.add_argument("--keep", action="store_true", help="keep the database (and print where it is)")
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--max-seconds", type=float, default=1200, help="stop after this long (default 1200)")
    args = parser.parse_args(argv)
    bound_run_time(args.max_seconds)
    results: dict = {"machine": machine(), "args": vars(args)}

    with fresh_database(args.db, "sweep", keep=args.keep) as fresh:
        seed_demo(fresh)
        engine = create_db_engine(fresh.url, timeouts=NO_TIMEOUTS)  # generating 1M rows takes a while
        now_epoch = int(time.time())
        log(f"generating {args.orders:,} open orders, {args.due:,} due, in {args.db} …")
        gen = generate_orders(engine, args.orders, now_epoch=now_epoch, n_open=args.orders, due=args.due,
                              aggregates=False)
        log(f"generated in {gen.seconds:.1f} s: {gen.counts}")
        results["generate_seconds"] = gen.seconds
        pg = args.db == "postgres"
        with engine.begin() as c:
            # The demo's own orders are due too (it seeds overdue ones); leave only the generated ones.
            c.execute(text("UPDATE orders SET next_alert_at = NULL WHERE id < :first"), {"first": gen.first_id})
            c.exec_driver_sql("DROP TABLE IF EXISTS bench_due")
            now = datetime.fromtimestamp(now_epoch + 5, UTC)
            c.execute(text("CREATE TABLE bench_due AS SELECT id, next_alert_at FROM orders WHERE next_alert_at IS NOT NULL "
                           "AND next_alert_at <= :now"), {"now": now if pg else now.strftime("%Y-%m-%d %H:%M:%S.%f")})
            due = c.exec_driver_sql("SELECT count(*) FROM bench_due").scalar()
            states = dict(c.exec_driver_sql("SELECT o.state, count(*) FROM orders o JOIN bench_due d ON d.id = o.id "
                                            "GROUP BY o.state").all())
        log(f"{due} orders due now, by state {states}")
        if pg:
            with engine.connect() as c:
                c.exec_driver_sql("ANALYZE")
                c.commit()
        database = Database(engine)

        def reset() -> None:
            with engine.begin() as c:
                c.exec_driver_sql("DELETE FROM stage_alerts WHERE order_id IN (SELECT id FROM bench_due)")
                c.exec_driver_sql("DELETE FROM outbox WHERE order_id IN (SELECT id FROM bench_due) AND kind LIKE 'alert.%%'"
                                  if pg else
                                  "DELETE FROM outbox WHERE order_id IN (SELECT id FROM bench_due) AND kind LIKE 'alert.%'")
                c.exec_driver_sql("UPDATE orders SET next_alert_at = (SELECT d.next_alert_at FROM bench_due d "
                                  "WHERE d.id = orders.id) WHERE id IN (SELECT id FROM bench_due)")

        runs = []
        # One untimed sweep first (warms caches and the statement cache), then the timed ones.
        for r in range(args.runs + 1):
            reset()
            t = time.perf_counter()
            report = sweep(database, now=now)
            seconds = time.perf_counter() - t
            if report.examined != due or report.alerts != due or report.failed:
                raise RuntimeError(f"unexpected sweep: {report.examined} examined, {report.alerts} alerts, "
                                   f"{report.failed} failed (expected {due})")
            if r:
                runs.append(seconds)
            log(f"sweep {'warm-up' if not r else f'{r}/{args.runs}'}: {seconds * 1000:.0f} ms, "
                f"{report.examined} examined, {report.alerts} alerts")
        results["sweep_ms"] = [s * 1000 for s in runs]
        results["sweep_median_ms"] = median(results["sweep_ms"])

        # The selecting query alone, with its plan.
        select_sql = None
        seen: list = []

        def before(conn, cursor, statement, parameters, context, executemany):
            seen.append((statement, parameters))

        reset()
        event.listen(engine, "before_cursor_execute", before)
        try:
            sweep(database, now=now)
        finally:
            event.remove(engine, "before_cursor_execute", before)
        select_sql = seen[0 if not seen[0][0].startswith("BEGIN") else 1]
        kinds = Counter(" ".join(s.split()[:3]) if s.split()[0] in ("INSERT", "UPDATE", "DELETE") else
                        " ".join(s.split()[:1]) + " … FROM " + (s.split("FROM", 1)[1].split()[0] if "FROM" in s else "")
                        for s, _ in seen)
        results["statements_per_sweep"] = dict(kinds)
        results["statements_total"] = len(seen)
        reset()
        times = []
        with engine.connect() as c:
            for _ in range(20):
                t = time.perf_counter()
                c.exec_driver_sql(*select_sql).fetchall()
                times.append((time.perf_counter() - t) * 1000)
            plan = c.exec_driver_sql(("EXPLAIN (ANALYZE, BUFFERS) " if pg else "EXPLAIN QUERY PLAN ") + select_sql[0],
                                     select_sql[1]).fetchall()
            c.rollback()
        results["select_sql"] = " ".join(select_sql[0].split())
        results["select_median_ms"] = median(times)
        results["select_plan"] = "\n".join(str(r[0]) if pg else f"{r[1]}|{r[3]}" for r in plan)
        results["per_order_ms"] = (results["sweep_median_ms"] - results["select_median_ms"]) / due
        database.dispose()

    print(f"\nsweep over {args.orders:,} open orders, {due} due, {args.db}; median of {args.runs} runs\n")
    print(table(["sweep (ms)", "runs (ms)", "selecting query alone (ms)", "per due order (ms)", "statements per sweep"],
                [[fmt(results["sweep_median_ms"], 0), ", ".join(f"{s:.0f}" for s in results["sweep_ms"]),
                  fmt(results["select_median_ms"], 2), fmt(results["per_order_ms"], 2), results["statements_total"]]]))
    print("\nstatements of one sweep:", results["statements_per_sweep"])
    print("\nselecting query:", results["select_sql"])
    print(results["select_plan"])
    write_json(args.json, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
