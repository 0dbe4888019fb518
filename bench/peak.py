"""A town's peak hour against a running wudan server: throughput, p99 and errors per request.

Everyone of the demo town 青山镇 is busy at once, for a fixed time:

  residents   place an order, then every few seconds look at their orders and rate what
              has been completed (1–2 stars now and then, which sends it back round);
  grid workers  poll their to-do list and claim what was placed in their grids;
  secretaries   poll theirs and dispatch each claimed order to the branch's least busy member;
  members       poll theirs, accept, upload a photo and complete;
  dashboards    (10 by default) poll the five /stats endpoints with If-None-Match, as the
                wall dashboard does.

Each actor is a client of its own (one keep-alive connection) and waits a think time
between actions (jittered ±50 %); an actor with nothing to do polls again after its
think time. The server is `wudan`'s app under uvicorn, as `make run` starts it (the
sweep and delivery inside, SCHEDULER_ENABLED=true), on a fresh database seeded with the
demo town. Counted inside the measured window only: requests by kind with p50/p99
(client side) and server time, 2xx/304/4xx/5xx, transport errors, and the orders that
went round the whole loop. A 409 on a move is a lost race, reported but expected
(the loser's list was a poll old); any 5xx or transport error is a failure.

    .venv/bin/python bench/peak.py --db sqlite --seconds 60
    .venv/bin/python bench/peak.py --db postgres --residents 200 --dashboards 10 --seconds 120
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import common  # noqa: F401  (puts the repository on sys.path)
from town import ADMIN_PHONE, dashboard_token, read_town, resident_token, staff_token

STATS = ("overview", "daily", "grids", "leaderboard", "overdue")


@dataclass
class Tally:
    """What happened inside the measured window."""

    start: float
    end: float
    latency: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    server: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    status: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    transport: Counter = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)
    closed: int = 0
    placed: int = 0

    def inside(self, t: float) -> bool:
        return self.start <= t < self.end

    def note(self, kind: str, started: float, response) -> None:
        done = time.perf_counter()
        if not self.inside(done):
            return
        self.latency[kind].append((done - started) * 1000)
        self.status[kind][response.status_code] += 1
        ms = common.server_ms(response)
        if ms is not None:
            self.server[kind].append(ms)
        if response.status_code >= 500 and len(self.examples) < 5:
            self.examples.append(f"{kind}: {response.status_code} {response.text[:200]}")

    def failed_transport(self, kind: str, exc: Exception) -> None:
        if self.inside(time.perf_counter()):
            self.transport[kind] += 1
            if len(self.examples) < 5:
                self.examples.append(f"{kind}: {type(exc).__name__}: {exc}"[:300])


class Actor:
    def __init__(self, client, token: str, tally: Tally, think: float, rng: random.Random) -> None:
        self.client, self.tally, self.think, self.rng = client, tally, think, rng
        self.headers = {"Authorization": f"Bearer {token}"}

    async def call(self, kind: str, method: str, url: str, **kw):
        started = time.perf_counter()
        try:
            response = await self.client.request(method, url, headers={**self.headers, **kw.pop("headers", {})}, **kw)
        except Exception as exc:  # noqa: BLE001 — a transport failure is a result here
            self.tally.failed_transport(kind, exc)
            return None
        self.tally.note(kind, started, response)
        return response

    async def pause(self) -> None:
        await asyncio.sleep(self.think * self.rng.uniform(0.5, 1.5))

    async def todo(self) -> list[dict]:
        r = await self.call("todo", "GET", "/orders/todo", params={"limit": 20})
        return r.json()["items"] if r is not None and r.status_code == 200 else []


async def resident(a: Actor, categories: list[int], n: int) -> None:
    placed = 0
    while True:
        placed += 1
        r = await a.call("place", "POST", "/orders", json={
            "category_id": a.rng.choice(categories), "address": f"{n}号楼",
            "description": f"高峰压测 {n}-{placed}:楼道灯不亮,请帮忙看看"})
        if r is not None and r.status_code == 201 and a.tally.inside(time.perf_counter()):
            a.tally.placed += 1
        await a.pause()
        await a.call("my orders", "GET", "/orders", params={"limit": 20})
        for order in await a.todo():
            stars = 2 if a.rng.random() < 0.05 else a.rng.choice((4, 5, 5, 5))
            r = await a.call("rate", "POST", f"/orders/{order['id']}/rate", json={"stars": stars, "comment": "谢谢"})
            if r is not None and r.status_code == 200 and r.json()["state"] == "closed" \
                    and a.tally.inside(time.perf_counter()):
                a.tally.closed += 1
        await a.pause()


async def grid_worker(a: Actor) -> None:
    while True:
        for order in await a.todo():
            await a.call("claim", "POST", f"/orders/{order['id']}/claim")
        await a.pause()


async def secretary(a: Actor, members: list[int]) -> None:
    turn = 0
    while True:
        for order in await a.todo():
            turn += 1
            await a.call("dispatch", "POST", f"/orders/{order['id']}/dispatch",
                         json={"member_id": members[turn % len(members)], "note": "请尽快处理"})
        await a.pause()


async def member(a: Actor, png: bytes) -> None:
    while True:
        for order in await a.todo():
            oid = order["id"]
            if order["state"] == "dispatched":
                r = await a.call("accept", "POST", f"/orders/{oid}/accept")
                if r is None or r.status_code != 200:
                    continue
            r = await a.call("upload", "POST", "/photos", files={"file": ("p.png", png, "image/png")})
            if r is None or r.status_code != 201:
                continue
            await a.call("complete", "POST", f"/orders/{oid}/complete",
                         json={"note": "已处理完毕,请查看照片", "photo_ids": [r.json()["id"]]})
        await a.pause()


async def dashboard(a: Actor) -> None:
    etags: dict[str, str] = {}
    while True:
        for name in STATS:
            headers = {"If-None-Match": etags[name]} if name in etags else {}
            r = await a.call(f"stats/{name}", "GET", f"/stats/{name}", headers=headers)
            if r is not None and "etag" in r.headers:
                etags[name] = r.headers["etag"]
        await a.pause()


def sign_in(base: str, residents: int, dashboards: int) -> dict:
    """Tokens for the whole demo town's staff, `residents` residents spread over the grids, dashboards."""
    import httpx

    with httpx.Client(base_url=base, timeout=60) as c:
        admin_token = staff_token(c, ADMIN_PHONE)
        town = read_town(c, admin_token)
        people = {"worker": [], "secretary": [], "member": [], "resident": [], "dashboard": []}
        members_of: dict[int, list[int]] = defaultdict(list)
        for s in town.staff:
            if not s["active"]:
                continue
            role = {"grid_worker": "worker", "secretary": "secretary", "member": "member"}.get(s["role"])
            if role:
                people[role].append((staff_token(c, s["phone"]), s))
            if s["role"] == "member":
                members_of[s["branch_id"]].append(s["id"])
        for i in range(residents):
            grid_id = town.grids[i % len(town.grids)]["id"]
            people["resident"].append((resident_token(c, f"peak{i}", f"居民{i}", grid_id), None))
        for _ in range(dashboards):
            people["dashboard"].append((dashboard_token(c, admin_token), None))
    return {"people": people, "members_of": members_of, "categories": town.category_ids}


async def run_peak(base: str, cast: dict, args) -> Tally:
    import httpx

    from infra.images import solid_png

    t0 = time.perf_counter()
    tally = Tally(t0 + args.warmup, t0 + args.warmup + args.seconds)
    rng = random.Random(args.seed)
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    clients, tasks = [], []
    png = solid_png()

    def actor(token: str, think: float) -> Actor:
        client = httpx.AsyncClient(base_url=base, limits=limits, timeout=httpx.Timeout(30.0))
        clients.append(client)
        return Actor(client, token, tally, think, random.Random(rng.random()))

    people = cast["people"]
    for i, (token, _) in enumerate(people["resident"]):
        tasks.append(resident(actor(token, args.resident_think), cast["categories"], i))
    for token, _ in people["worker"]:
        tasks.append(grid_worker(actor(token, args.staff_think)))
    for token, s in people["secretary"]:
        tasks.append(secretary(actor(token, args.staff_think), cast["members_of"][s["branch_id"]]))
    for token, _ in people["member"]:
        tasks.append(member(actor(token, args.staff_think), png))
    for token, _ in people["dashboard"]:
        tasks.append(dashboard(actor(token, args.poll)))
    running = [asyncio.create_task(t) for t in tasks]
    elapsed = 0
    while elapsed < args.warmup + args.seconds:
        await asyncio.sleep(min(10, args.warmup + args.seconds - elapsed))
        elapsed = time.perf_counter() - t0
        common.log(f"  {elapsed:5.0f} s: {sum(len(v) for v in tally.latency.values()):,} requests counted, "
                   f"{tally.placed} placed, {tally.closed} closed")
    for t in running:
        t.cancel()
    await asyncio.gather(*running, return_exceptions=True)
    for c in clients:
        await c.aclose()
    return tally


def report(tally: Tally, seconds: float) -> tuple[str, dict]:
    from common import fmt, pct, table

    rows, data = [], {}
    kinds = sorted(tally.latency, key=lambda k: (k.startswith("stats/"), k))
    total = Counter()
    for kind in kinds:
        st = tally.status[kind]
        total.update(st)
        ok = sum(n for code, n in st.items() if code < 400)
        conflicts = st.get(409, 0)
        other_4xx = sum(n for code, n in st.items() if 400 <= code < 500 and code != 409)
        server_errors = sum(n for code, n in st.items() if code >= 500)
        item = {"requests": sum(st.values()), "per_s": sum(st.values()) / seconds,
                "p50_ms": pct(tally.latency[kind], 0.5), "p99_ms": pct(tally.latency[kind], 0.99),
                "server_p50_ms": pct(tally.server[kind], 0.5), "server_p99_ms": pct(tally.server[kind], 0.99),
                "ok": ok, "not_modified": st.get(304, 0), "conflict": conflicts, "other_4xx": other_4xx,
                "5xx": server_errors, "transport_errors": tally.transport[kind], "statuses": dict(st)}
        data[kind] = item
        rows.append([kind, f"{item['requests']:,}", fmt(item["per_s"]), fmt(item["p50_ms"]), fmt(item["p99_ms"]),
                     fmt(item["server_p50_ms"]), fmt(item["server_p99_ms"]),
                     f"{ok:,}" + (f" ({item['not_modified']:,} × 304)" if item["not_modified"] else ""),
                     conflicts, other_4xx, server_errors, tally.transport[kind]])
    everything = [v for k in kinds for v in tally.latency[k]]
    n = sum(total.values())
    rows.append(["**all**", f"{n:,}", fmt(n / seconds), fmt(pct(everything, 0.5)), fmt(pct(everything, 0.99)),
                 "", "", f"{sum(c for code, c in total.items() if code < 400):,}",
                 total.get(409, 0), sum(c for code, c in total.items() if 400 <= code < 500 and code != 409),
                 sum(c for code, c in total.items() if code >= 500), sum(tally.transport.values())])
    text = table(["request", "n", "per s", "p50 ms", "p99 ms", "server p50", "server p99", "2xx/3xx", "409",
                  "other 4xx", "5xx", "transport errors"], rows)
    return text, data


def main(argv: list[str] | None = None) -> int:
    from common import Server, bound_run_time, fresh_database, log, machine, seed_demo, write_json

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="sqlite", choices=["sqlite", "postgres"], help="database (default sqlite)")
    parser.add_argument("--residents", type=int, default=100, help="residents acting at once (default 100)")
    parser.add_argument("--dashboards", type=int, default=10, help="dashboards polling (default 10)")
    parser.add_argument("--resident-think", type=float, default=10.0,
                        help="mean seconds between a resident's actions (default 10)")
    parser.add_argument("--staff-think", type=float, default=2.0,
                        help="mean seconds between polls of a staff member's to-do list (default 2)")
    parser.add_argument("--poll", type=float, default=5.0, help="seconds between a dashboard's polls (default 5)")
    parser.add_argument("--seconds", type=float, default=60, help="measured seconds (default 60)")
    parser.add_argument("--warmup", type=float, default=10, help="unmeasured seconds first (default 10)")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (default 1)")
    parser.add_argument("--no-scheduler", dest="scheduler", action="store_false",
                        help="run the API without the sweep and delivery inside (as replicas do)")
    parser.add_argument("--seed", type=int, default=1, help="random seed of think times and ratings (default 1)")
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--max-seconds", type=float, default=900, help="stop after this long (default 900)")
    args = parser.parse_args(argv)
    bound_run_time(args.max_seconds)
    results = {"machine": machine(), "args": vars(args)}
    with fresh_database(args.db, "peak") as fresh:
        seed_demo(fresh)
        env = {**fresh.env, "SCHEDULER_ENABLED": "true" if args.scheduler else "false"}
        with Server("common:make_wudan_app", workers=args.workers, env=env, cwd=fresh.data_dir) as server:
            cast = sign_in(server.base, args.residents, args.dashboards)
            counts = {k: len(v) for k, v in cast["people"].items()}
            log(f"signed in {counts}; {args.warmup:.0f} s warm-up, {args.seconds:.0f} s measured")
            tally = common.run_async(run_peak(server.base, cast, args))
        results["server_log_errors"] = server.errors[-5:]
    text, data = report(tally, args.seconds)
    results.update({"people": counts, "requests": data, "placed": tally.placed, "closed": tally.closed,
                    "examples": tally.examples})
    print(f"\n{args.db}, {counts}, {args.seconds:.0f} s measured: {tally.placed} orders placed, "
          f"{tally.closed} closed by a rating ({tally.placed / args.seconds:.2f} and "
          f"{tally.closed / args.seconds:.2f} per s)\n")
    print(text)
    if tally.examples:
        print("\nfailures, e.g.:\n  " + "\n  ".join(tally.examples))
    write_json(args.json, results)
    failures = sum(d["5xx"] + d["transport_errors"] for d in data.values())
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
