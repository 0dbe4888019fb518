"""The framework's own ceiling: a bare FastAPI app with one trivial endpoint, served by the
same uvicorn setup as wudan (loopback, --workers N, no access log) and driven by the same
asyncio + httpx load driver. Its request rate divided by the requests one loop takes is
one half of the limit loop_http.py compares against.

    .venv/bin/python bench/bare_fastapi.py --clients 1,16,64 --seconds 5 --runs 3
"""

from __future__ import annotations

import argparse
import sys
import time


def ping_unit(client, path: str):
    async def unit(rec) -> None:
        started = time.perf_counter()
        r = await client.get(path)
        rec.request("ping", started, r)

    return unit


def measure_ping(base: str, clients: int, warmup: float, seconds: float, path: str = "/ping") -> dict:
    """Requests per second (and client/server latency) of GET `path` at `clients` concurrent clients."""
    from common import drive, http_clients, pct, run_async

    async def go():
        async with http_clients(clients, base) as pool:
            return await drive(clients, warmup, seconds, lambda i: ping_unit(pool[i], path))

    rec = run_async(go())
    lat = rec.client["ping"]
    return {"clients": clients, "path": path, "rps": rec.units / seconds, "requests": rec.units,
            "p50_ms": pct(lat, 0.5), "p99_ms": pct(lat, 0.99), "server_p50_ms": pct(rec.server["ping"], 0.5),
            "errors": len(rec.errors)}


def main(argv: list[str] | None = None) -> int:
    from common import Server, bound_run_time, fmt, log, machine, median, table, write_json

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", default="1,16,64", help="concurrent clients, comma separated (default 1,16,64)")
    parser.add_argument("--seconds", type=float, default=5, help="measured seconds per run (default 5)")
    parser.add_argument("--warmup", type=float, default=1, help="unmeasured seconds before each run (default 1)")
    parser.add_argument("--runs", type=int, default=3, help="runs per point; the median is reported (default 3)")
    parser.add_argument("--workers", default="1", help="uvicorn worker processes, comma separated (default 1)")
    parser.add_argument("--paths", default="/ping,/ping-sync", help="endpoints (default /ping,/ping-sync)")
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--max-seconds", type=float, default=600, help="stop after this long (default 600)")
    args = parser.parse_args(argv)
    bound_run_time(args.max_seconds)
    clients = [int(c) for c in args.clients.split(",")]
    paths = args.paths.split(",")
    results = {"machine": machine(), "args": vars(args), "points": []}
    rows = []
    for workers in [int(w) for w in args.workers.split(",")]:
        with Server("common:make_ping_app", workers=workers, health="/ping") as server:
            runs: dict[tuple, list[dict]] = {}
            for r in range(args.runs):
                for c in clients:
                    for path in paths:
                        m = measure_ping(server.base, c, args.warmup, args.seconds, path)
                        runs.setdefault((c, path), []).append(m)
                        log(f"workers={workers} run {r + 1}/{args.runs} {path} clients={c}: {m['rps']:,.0f} req/s "
                            f"p50 {m['p50_ms']:.2f} ms p99 {m['p99_ms']:.2f} ms")
            for (c, path), ms in runs.items():
                point = {"workers": workers, "clients": c, "path": path, "runs": ms,
                         "rps": median([m["rps"] for m in ms]), "p50_ms": median([m["p50_ms"] for m in ms]),
                         "p99_ms": median([m["p99_ms"] for m in ms]),
                         "server_p50_ms": median([m["server_p50_ms"] for m in ms])}
                results["points"].append(point)
                rows.append([workers, path, c, fmt(point["rps"], 0), fmt(point["rps"] / 7, 1), fmt(point["p50_ms"], 2),
                             fmt(point["p99_ms"], 2), fmt(point["server_p50_ms"], 3)])
    print(f"\nbare FastAPI, median of {args.runs} runs of {args.seconds:g} s\n")
    print(table(["uvicorn workers", "path", "clients", "req/s", "req/s ÷ 7", "p50 ms", "p99 ms", "server p50 ms"], rows))
    write_json(args.json, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
