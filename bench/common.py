"""Shared pieces of the benchmarks: fresh databases, a uvicorn server as a child process,
the asyncio + httpx load driver, percentiles, the machine, and a run-time bound.

Imported both by the scripts and, as `common:make_wudan_app` / `common:make_ping_app`,
by the uvicorn server processes the scripts start, so nothing here has side effects at
import time and the heavy imports are inside functions.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
PYTHON = str(REPO / ".venv" / "bin" / "python") if (REPO / ".venv" / "bin" / "python").exists() else sys.executable
WUDAN = str(REPO / ".venv" / "bin" / "wudan")
POSTGRES_ADMIN_URL = os.environ.get("WUDAN_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
HOST = "127.0.0.1"  # loopback only

for p in (str(REPO), str(BENCH)):
    if p not in sys.path:
        sys.path.insert(0, p)

_T0 = time.monotonic()


def log(msg: str) -> None:
    """Progress, on stderr, with the seconds since the script started."""
    print(f"[{time.monotonic() - _T0:7.1f}s] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- run-time bound


class OutOfTime(BaseException):
    """Raised by the watchdog; a BaseException so that no `except Exception` swallows it."""


def bound_run_time(seconds: float) -> None:
    """Stop the script (running its `finally` clean-ups) after `seconds`, and on SIGTERM."""

    def alarm(_sig, _frame):
        raise OutOfTime(f"run time bound of {seconds:.0f} s reached (raise it with --max-seconds)")

    def term(_sig, _frame):
        raise OutOfTime("terminated")

    signal.signal(signal.SIGALRM, alarm)
    signal.signal(signal.SIGTERM, term)
    signal.alarm(max(1, int(seconds)))


# --------------------------------------------------------------------------- the machine


def machine() -> dict:
    cpu = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    import sqlite3

    pg = "?"
    with contextlib.suppress(Exception):
        from sqlalchemy import create_engine, text

        engine = create_engine(POSTGRES_ADMIN_URL)
        with engine.connect() as c:
            pg = c.execute(text("SHOW server_version")).scalar()
        engine.dispose()
    with contextlib.suppress(OSError):
        load = Path("/proc/loadavg").read_text().split()[:3]
    git = "?"
    with contextlib.suppress(Exception):
        head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        git = head + (" + uncommitted changes" if dirty else "")
    return {
        "git": git,
        "nproc": os.cpu_count(), "memory": mem, "cpu": cpu, "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version, "postgresql": pg, "loadavg_at_start": " ".join(load),
        "date_utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


# --------------------------------------------------------------------------- databases


@dataclass
class Fresh:
    """A fresh, empty database and data directory (photos, the SQLite file)."""

    kind: str  # sqlite | postgres
    url: str
    data_dir: Path
    pg_name: str | None = None

    @property
    def env(self) -> dict[str, str]:
        return {"DATABASE_URL": self.url, "DATA_DIR": str(self.data_dir)}


@contextlib.contextmanager
def fresh_database(kind: str, tag: str, *, keep: bool = False) -> Iterator[Fresh]:
    """A throwaway database (`wudan_bench_<tag>_<random>` on PostgreSQL) dropped afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    data_dir = Path(tempfile.mkdtemp(prefix=f"wudan-bench-{tag}-"))
    admin = None
    name = None
    try:
        if kind == "sqlite":
            url = f"sqlite:///{data_dir / 'wudan.db'}"
        elif kind == "postgres":
            name = f"wudan_bench_{tag}_{uuid.uuid4().hex[:8]}"
            admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as c:
                c.execute(text(f'CREATE DATABASE "{name}"'))
            url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
            log(f"created PostgreSQL database {name}")
        else:
            raise ValueError(f"unknown database kind {kind!r}")
        yield Fresh(kind, url, data_dir, name)
    finally:
        if keep:
            log(f"kept {data_dir} {name or ''}")
        else:
            if admin is not None and name is not None:
                with contextlib.suppress(Exception):
                    with admin.connect() as c:
                        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                    log(f"dropped PostgreSQL database {name}")
            shutil.rmtree(data_dir, ignore_errors=True)
        if admin is not None:
            admin.dispose()


def seed_demo(fresh: Fresh) -> None:
    """`wudan seed-demo` into the fresh database (migrates first)."""
    log(f"wudan seed-demo into {fresh.kind} …")
    env = {**os.environ, **fresh.env, "SCHEDULER_ENABLED": "false"}
    subprocess.run([WUDAN, "seed-demo"], env=env, cwd=fresh.data_dir, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300)


# --------------------------------------------------------------------------- the served apps


class ServerTiming:
    """Pure ASGI wrapper: adds `server-timing: app;dur=<ms>` (request in → response headers out)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()

        async def timed_send(message):
            if message["type"] == "http.response.start":
                ms = (time.perf_counter() - started) * 1000
                message = {**message, "headers": [*message.get("headers", []),
                                                  (b"server-timing", f"app;dur={ms:.3f}".encode())]}
            await send(message)

        return await self.app(scope, receive, timed_send)


def make_wudan_app():
    """uvicorn --factory common:make_wudan_app: api.main's app (settings from the environment)."""
    from api.app import create_app

    return ServerTiming(create_app())


def make_ping_app():
    """uvicorn --factory common:make_ping_app: a bare FastAPI app with /ping."""
    from bare_fastapi import app

    return ServerTiming(app)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Server:
    """uvicorn in its own process group on a loopback port; stopped (group SIGTERM, then SIGKILL) on exit."""

    def __init__(self, factory: str, *, workers: int = 1, env: dict | None = None, health: str = "/healthz",
                 cwd: Path | None = None, access_log: bool = False) -> None:
        self.factory, self.workers, self.health = factory, workers, health
        self.env = {**os.environ, "PYTHONPATH": f"{REPO}:{BENCH}", "SCHEDULER_ENABLED": "false",
                    # The bench signs in ~100 people from 127.0.0.1 before the clock starts, and
                    # a member uploads far more photos an hour than a person does.
                    "SIGNIN_PER_ADDRESS": "100000", "SIGNIN_PER_PHONE": "100000",
                    "PHOTO_UPLOADS_PER_HOUR": "1000000", **(env or {})}
        self.cwd = cwd or REPO
        self.access_log = access_log
        self.port = free_port()
        self.base = f"http://{HOST}:{self.port}"
        self.proc: subprocess.Popen | None = None
        self._log = None
        self.errors: list[str] = []

    def __enter__(self) -> Server:
        cmd = [PYTHON, "-m", "uvicorn", "--factory", self.factory, "--host", HOST, "--port", str(self.port),
               "--workers", str(self.workers), "--log-level", "warning", "--timeout-graceful-shutdown", "5"]
        if not self.access_log:
            cmd.append("--no-access-log")
        self._log = tempfile.NamedTemporaryFile(prefix="wudan-bench-server-", suffix=".log", delete=False)
        log(f"starting {' '.join(cmd[2:])}")
        self.proc = subprocess.Popen(cmd, env=self.env, cwd=self.cwd, stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        import httpx

        deadline = time.monotonic() + 90
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.output()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.base + self.health, timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                self.__exit__(None, None, None)
                raise RuntimeError(f"server did not answer {self.health} in 90 s:\n{self.output()}")
            time.sleep(0.2)
        log(f"server up at {self.base} (pid {self.proc.pid}, {self.workers} worker(s))")
        return self

    def output(self) -> str:
        with contextlib.suppress(OSError):
            return Path(self._log.name).read_text(errors="replace")[-4000:]
        return ""

    def pids(self) -> list[int]:
        """The server process and its children (uvicorn's workers), for profilers."""
        if self.proc is None:
            return []
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(self.proc.pid)], capture_output=True, text=True).stdout
        return [self.proc.pid, *(int(p) for p in out.split())]

    def __exit__(self, *exc) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)  # the group this script started
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
            log(f"server {self.proc.pid} stopped")
        if self._log is not None:
            self._log.close()
            text = self.output_all()
            errors = [l for l in text.splitlines() if "Error" in l and not l.startswith(" ")]
            if errors:
                log(f"server log had {len(errors)} error lines, e.g.: {errors[-1][:300]}")
                self.errors = errors
            with contextlib.suppress(OSError):
                os.unlink(self._log.name)

    def output_all(self) -> str:
        with contextlib.suppress(OSError):
            return Path(self._log.name).read_text(errors="replace")
        return ""


# --------------------------------------------------------------------------- the load driver


def server_ms(response) -> float | None:
    value = response.headers.get("server-timing")
    if not value or "dur=" not in value:
        return None
    return float(value.split("dur=", 1)[1].split(";", 1)[0])


@dataclass
class Window:
    """The measured window of one run: [start, end) in time.perf_counter() seconds."""

    start: float
    end: float

    def __contains__(self, t: float) -> bool:
        return self.start <= t < self.end


@dataclass
class Recorder:
    window: Window
    units: int = 0  # whole units (loops, pings) finished inside the window
    errors: list[str] = field(default_factory=list)
    client: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    server: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    failed: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # "step status" -> count in window

    def request(self, step: str, started: float, response) -> None:
        """Note one request's latency (ms) if it finished inside the window; fail on a bad status."""
        done = time.perf_counter()
        if response.status_code >= 400:
            if done >= self.window.start:  # failures after the window too (a 30 s time-out ends late)
                self.failed[f"{step} {response.status_code}"] += 1
            raise RuntimeError(f"{step}: HTTP {response.status_code} {response.text[:300]}")
        if done in self.window:
            self.client[step].append((done - started) * 1000)
            s = server_ms(response)
            if s is not None:
                self.server[step].append(s)

    def unit_done(self) -> None:
        if time.perf_counter() in self.window:
            self.units += 1


async def drive(clients: int, warmup: float, seconds: float,
                make_unit: Callable[[int], Callable[[Recorder], Awaitable[None]]],
                *, grace: float = 40.0, max_errors: int = 2000) -> Recorder:
    """Run `clients` workers, each repeating its unit until the window closes; count whole units
    finished inside [warmup, warmup + seconds). In-flight units get `grace` seconds, then are cancelled.
    A failed request (status >= 400) abandons its unit, is counted, and the worker starts
    another; the run stops only after `max_errors` failures."""
    t0 = time.perf_counter()
    rec = Recorder(Window(t0 + warmup, t0 + warmup + seconds))
    stop_at = rec.window.end

    async def worker(i: int) -> None:
        unit = make_unit(i)
        while time.perf_counter() < stop_at:
            try:
                await unit(rec)
                rec.unit_done()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 — counted, and the run fails when there are many
                rec.errors.append(f"{type(exc).__name__}: {exc}"[:400])
                if len(rec.errors) >= max_errors:
                    raise
                await asyncio.sleep(0.05)

    tasks = [asyncio.create_task(worker(i)) for i in range(clients)]
    done, pending = await asyncio.wait(tasks, timeout=warmup + seconds + grace)
    for t in pending:
        t.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    failed = [t.exception() for t in done if not t.cancelled() and t.exception() is not None]
    if failed:
        raise RuntimeError(f"too many errors ({len(rec.errors)}), e.g. {rec.errors[:2]}") from failed[0]
    return rec


@contextlib.asynccontextmanager
async def http_clients(clients: int, base: str):
    """One httpx.AsyncClient (one keep-alive connection) per worker, as each user has its own.

    One shared AsyncClient with a pool of N connections collapses at high concurrency on the
    client side (on this machine, /ping: ~500 req/s at 16 clients and ~110 at 64, against
    ~1,000 and ~1,250 with a client per worker) while the server idles.
    """
    import httpx

    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    pool = [httpx.AsyncClient(base_url=base, limits=limits, timeout=httpx.Timeout(60.0)) for _ in range(clients)]
    try:
        yield pool
    finally:
        for c in pool:
            await c.aclose()


def run_async(coro):
    """asyncio.run on uvloop when it is installed (it is, with uvicorn[standard])."""
    try:
        import uvloop

        return uvloop.run(coro)
    except ImportError:
        return asyncio.run(coro)


# --------------------------------------------------------------------------- who acts in a loop

REQUESTS_PER_LOOP = 7  # place, claim, dispatch, accept, upload photo, complete, rate
STEPS = ["place", "claim", "dispatch", "accept", "upload", "complete", "rate"]


@dataclass(frozen=True)
class Part:
    """Who acts in the loops of one client: its resident's grid and that grid's people."""

    grid_id: int
    worker_id: int
    secretary_id: int
    member_id: int


def plan_cast(grids: list[dict], staff: list[dict], clients: int) -> list[Part]:
    """Spread clients over the grids (client i → grid i mod 8), each with the grid's worker,
    the branch's secretary, and members of the branch taken in turn.

    `grids`: dicts with id, branch_id; `staff`: dicts with id, role, branch_id, grid_ids, active.
    """
    grids = sorted(grids, key=lambda g: g["id"])
    parts = []
    for i in range(clients):
        grid = grids[i % len(grids)]
        worker = next(s for s in staff if s["role"] == "grid_worker" and grid["id"] in s["grid_ids"] and s["active"])
        secretary = next(s for s in staff if s["role"] == "secretary" and s["branch_id"] == grid["branch_id"])
        members = sorted((s for s in staff if s["role"] == "member" and s["branch_id"] == grid["branch_id"]
                          and s["active"]), key=lambda s: s["id"])
        member = members[(i // len(grids)) % len(members)]
        parts.append(Part(grid["id"], worker["id"], secretary["id"], member["id"]))
    return parts


# --------------------------------------------------------------------------- numbers


def pct(values: list[float], q: float) -> float | None:
    """The q-quantile (0..1), linear interpolation; None for no values."""
    if not values:
        return None
    s = sorted(values)
    if len(s) == 1:
        return s[0]
    k = (len(s) - 1) * q
    f = int(k)
    c = min(f + 1, len(s) - 1)
    return s[f] + (s[c] - s[f]) * (k - f)


def median(values: list[float]) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(v, digits: int = 1) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:,.{digits}f}"
    return f"{v:,}"


def table(headers: list[str], rows: list[list]) -> str:
    """A Markdown table."""
    cells = [[str(c) for c in r] for r in rows]
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---:" if i else "---" for i in range(len(headers))) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in cells]
    return "\n".join(out)


def write_json(path: str | None, data: dict) -> None:
    if path:
        Path(path).write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str))
        log(f"results written to {path}")


# --------------------------------------------------------------------------- bulk orders (SQL only)

# Large multipliers for a cheap integer hash of the row number, the same on both databases:
# u_k(i) = (i * A_k + k) mod 1000003, roughly uniform on [0, 1000003).
_MULTIPLIERS = (2654435761, 2246822519, 3266489917, 2870177450, 1597334677, 3812015801,
                2028178513, 1220703125, 3735928559, 2166136261, 1442695040, 3037000493)
_PRIME = 1000003


def _series(dialect: str, n: int) -> str:
    if dialect == "postgresql":
        return f"SELECT s.i::bigint AS i FROM generate_series(1, {n}) AS s(i)"
    return f"WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n}) SELECT i FROM s"


def _ts(dialect: str, e: str) -> str:
    """An epoch-seconds expression as the column type stores it (timestamptz; SQLite text, naive UTC)."""
    if dialect == "postgresql":
        return f"to_timestamp({e})"
    return f"(strftime('%Y-%m-%d %H:%M:%S', {e}, 'unixepoch') || '.000000')"


def _local_day(dialect: str, e: str) -> str:
    """The Asia/Shanghai (UTC+8, no DST) date of an epoch-seconds expression."""
    if dialect == "postgresql":
        return f"(timestamp '1970-01-01' + ({e} + 28800) * interval '1 second')::date"
    return f"date({e} + 28800, 'unixepoch')"


def _bucket(expr: str) -> str:
    """domain.stats.bucket_of as SQL: the first bound >= seconds, else the overflow bucket."""
    from domain.stats import BUCKET_BOUNDS

    whens = " ".join(f"WHEN {expr} <= {b} THEN {i}" for i, b in enumerate(BUCKET_BOUNDS))
    return f"(CASE {whens} ELSE {len(BUCKET_BOUNDS)} END)"


@dataclass
class Generated:
    n: int
    first_id: int
    last_id: int
    now_epoch: int
    seconds: float
    counts: dict = field(default_factory=dict)


def generate_orders(engine, n: int, *, now_epoch: int, n_open: int, n_overdue: int = 0, due: int = 0,
                    days: int = 365, aggregates: bool = True) -> Generated:
    """Insert `n` orders of the demo town with INSERT … SELECT over a generated series.

    History mode (n_open < n): orders spread over `days` days (placed 08:00–20:00 town time),
    96 % closed (5 % of those by the default rating at the deadline), 2 % rejected, 2 %
    cancelled; the newest `n_open` are open, spread over the five open states, about
    `n_overdue` of them past their stage deadline. Stage durations follow each category's
    limits (most in time, some late); ratings mostly 4–5 stars.

    Sweep mode (`due` > 0, n_open == n): every order open, its next alert in the future,
    except exactly `due` orders (evenly spread ids) whose first reminder fell due a few
    minutes ago.

    With `aggregates`, stats_counts, stats_stage_times and member_points get what the moves
    would have written for these orders (workflows/aggregates.py), added to the demo's.
    """
    from sqlalchemy import text

    started = time.monotonic()
    d = engine.dialect.name
    pg = d == "postgresql"

    def x(sql: str) -> None:
        # The DB-API cursor with no parameters: psycopg then leaves the SQL's % (modulo) alone.
        cursor = conn.connection.cursor()
        try:
            cursor.execute(sql)
        finally:
            cursor.close()

    with engine.begin() as conn:
        town_id = conn.execute(text("SELECT min(id) FROM towns")).scalar()
        base = conn.execute(text("SELECT coalesce(max(id), 0) FROM orders")).scalar()
        grids = conn.execute(text("SELECT id, branch_id FROM grids WHERE town_id = :t ORDER BY id"), {"t": town_id}).all()
        cats = conn.execute(text("SELECT id, claim_minutes, dispatch_minutes, accept_minutes, complete_minutes, "
                                 "complete_urgent_minutes, rate_minutes, default_urgency FROM categories "
                                 "WHERE town_id = :t ORDER BY id"), {"t": town_id}).all()
        workers = dict(conn.execute(text("SELECT g.grid_id, min(g.staff_id) FROM grid_worker_grids g GROUP BY g.grid_id")).all())
        members = conn.execute(text("SELECT id, branch_id FROM staff WHERE town_id = :t AND role = 'member' AND active "
                                    "ORDER BY id"), {"t": town_id}).all()
        for t in ("bench_grid", "bench_cat", "bench_member", "bench_p0", "bench_plan"):
            x(f"DROP TABLE IF EXISTS {t}")
        # One resident per grid, who places the grid's mini-program orders.
        x(f"DELETE FROM residents WHERE openid LIKE 'bench-gen:%'")
        residents = {}
        for gid, _ in grids:
            residents[gid] = conn.execute(text(
                "INSERT INTO residents (openid, name, phone, phone_verified, town_id, grid_id, created_at) "
                "VALUES (:o, :n, :p, false, :t, :g, :c) RETURNING id"),
                {"o": f"bench-gen:{gid}", "n": f"居民{gid}", "p": f"1390000{gid:04d}", "t": town_id, "g": gid,
                 "c": "2026-01-01 00:00:00.000000" if not pg else "2026-01-01T00:00:00Z"}).scalar()
        by_branch: dict[int, list[int]] = defaultdict(list)
        for mid, bid in members:
            by_branch[bid].append(mid)
        x("CREATE TABLE bench_grid (idx integer, grid_id integer, branch_id integer, worker_id integer, "
          "resident_id integer, n_members integer)")
        for idx, (gid, bid) in enumerate(grids):
            x(f"INSERT INTO bench_grid VALUES ({idx}, {gid}, {bid}, {workers[gid]}, {residents[gid]}, {len(by_branch[bid])})")
        x("CREATE TABLE bench_member (branch_id integer, idx integer, member_id integer)")
        for bid, ids in by_branch.items():
            for idx, mid in enumerate(ids):
                x(f"INSERT INTO bench_member VALUES ({bid}, {idx}, {mid})")
        # Categories weighted like a town's year: repairs and errands most, suggestions least.
        weights = [25, 10, 15, 25, 15, 5, 5][: len(cats)]
        x("CREATE TABLE bench_cat (idx integer, lo integer, hi integer, category_id integer, urgency varchar(10), "
          "l1 integer, l2 integer, l3 integer, l4 integer, l5 integer)")
        lo = 0
        for idx, c in enumerate(cats):
            hi = lo + (weights[idx] if idx < len(weights) else 5)
            l4 = c[5] if c[7] == "urgent" else c[4]
            x(f"INSERT INTO bench_cat VALUES ({idx}, {lo}, {hi}, {c[0]}, '{c[7]}', {c[1]}, {c[2]}, {c[3]}, {l4}, {c[6]})")
            lo = hi
        cat_total = lo
        us = ", ".join(f"(i * {a} + {k}) % {_PRIME} AS u{k + 1}" for k, a in enumerate(_MULTIPLIERS))
        open_from = n - n_open  # rows i > open_from are open
        step = max(1, n // due) if due else 0
        overdue_every = max(1, n_open // n_overdue) if n_overdue else 0
        # 1. row number, hashes, state.
        if due:
            state = ("CASE (u4 % 5) WHEN 0 THEN 'submitted' WHEN 1 THEN 'claimed' WHEN 2 THEN 'dispatched' "
                     "WHEN 3 THEN 'in_progress' ELSE 'completed' END")
            due_state = ("CASE (u4 % 4) WHEN 0 THEN 'submitted' WHEN 1 THEN 'claimed' WHEN 2 THEN 'dispatched' "
                         "ELSE 'in_progress' END")
            state = f"CASE WHEN i % {step} = 0 AND i / {step} <= {due} THEN {due_state} ELSE {state} END"
            late = f"(CASE WHEN i % {step} = 0 AND i / {step} <= {due} THEN 1 ELSE 0 END)"
        else:
            open_state = ("CASE WHEN u4 % 100 < 20 THEN 'submitted' WHEN u4 % 100 < 35 THEN 'claimed' "
                          "WHEN u4 % 100 < 50 THEN 'dispatched' WHEN u4 % 100 < 80 THEN 'in_progress' ELSE 'completed' END")
            overdue_state = ("CASE (u4 % 4) WHEN 0 THEN 'submitted' WHEN 1 THEN 'claimed' WHEN 2 THEN 'dispatched' "
                             "ELSE 'in_progress' END")
            is_late = f"(i > {open_from} AND {overdue_every} > 0 AND (i - {open_from}) % {max(overdue_every, 1)} = 0)"
            state = (f"CASE WHEN {is_late} THEN {overdue_state} WHEN i > {open_from} THEN {open_state} "
                     "WHEN u4 % 100 < 2 THEN 'rejected' WHEN u4 % 100 < 4 THEN 'cancelled' ELSE 'closed' END")
            late = f"(CASE WHEN {is_late} THEN 1 ELSE 0 END)"
        x(f"CREATE TABLE bench_p0 AS SELECT h.*, {state} AS state, {late} AS late "
          f"FROM (SELECT i, {us} FROM ({_series(d, n)}) s) h")
        log(f"  plan: {n:,} rows hashed")
        first_day_epoch = (now_epoch + 28800) // 86400 * 86400 - 28800 - (days - 1) * 86400  # local midnight
        k = ("CASE p.state WHEN 'submitted' THEN 0 WHEN 'claimed' THEN 1 WHEN 'dispatched' THEN 2 "
             "WHEN 'in_progress' THEN 3 WHEN 'completed' THEN 4 WHEN 'closed' THEN 5 ELSE 0 END")
        # Stage durations in seconds: most inside the category's limit, a few late.
        dur = {
            1: "CASE WHEN p.u6 % 100 < 92 THEN 60 + p.u6 % (c.l1 * 54) ELSE c.l1 * 60 + 1 + p.u6 % (c.l1 * 120) END",
            2: "CASE WHEN p.u7 % 100 < 95 THEN 300 + p.u7 % (c.l2 * 50) ELSE c.l2 * 60 + 1 + p.u7 % (c.l2 * 60) END",
            3: "CASE WHEN p.u8 % 100 < 95 THEN 120 + p.u8 % (c.l3 * 50) ELSE c.l3 * 60 + 1 + p.u8 % (c.l3 * 60) END",
            4: "CASE WHEN p.u9 % 100 < 93 THEN 1800 + p.u9 % (c.l4 * 50) ELSE c.l4 * 60 + 1 + p.u9 % (c.l4 * 60) END",
            5: "CASE WHEN p.u11 % 100 < 5 THEN c.l5 * 60 ELSE 600 + p.u10 % (c.l5 * 30) END",
        }
        lim = ("CASE {k} WHEN 0 THEN c.l1 WHEN 1 THEN c.l2 WHEN 2 THEN c.l3 WHEN 3 THEN c.l4 ELSE c.l5 END")
        # Seconds from entering the current stage to its first alert: the limit, half of it to rate.
        first_alert = "CASE WHEN r.k = 4 THEN r.lim * 30 ELSE r.lim * 60 END"
        hist = f"{first_day_epoch} + ((p.i - 1) * {days} / {n}) * 86400 + 28800 + p.u1 % 43200"
        x(f"""CREATE TABLE bench_plan AS
SELECT q.*,
  CASE WHEN q.open = 1 THEN q.entered - (q.s1 + q.s2 + q.s3 + q.s4) ELSE q.hist END AS created
FROM (
  SELECT r.*,
    CASE WHEN r.k >= 1 THEN r.d1 ELSE 0 END AS s1, CASE WHEN r.k >= 2 THEN r.d2 ELSE 0 END AS s2,
    CASE WHEN r.k >= 3 THEN r.d3 ELSE 0 END AS s3, CASE WHEN r.k >= 4 THEN r.d4 ELSE 0 END AS s4,
    CASE WHEN r.k >= 5 THEN r.d5 ELSE 0 END AS s5,
    CASE WHEN r.open = 0 THEN NULL
         WHEN r.late = 1 AND {1 if due else 0} = 1 THEN {now_epoch} - r.lim * 60 - 60 - r.u12 % 600
         WHEN r.late = 1 THEN {now_epoch} - r.lim * 60 - 60 - r.u12 % (r.lim * 60)
         ELSE {now_epoch} - 60 - r.u12 % ({first_alert} * 9 / 10) END AS entered
  FROM (
    SELECT p.i, {base} + p.i AS id, p.state, p.late, p.u1, p.u2, p.u5, p.u11, p.u12,
      g.grid_id, g.branch_id, g.worker_id, g.resident_id, m.member_id, c.category_id, c.urgency, c.l1, c.l4,
      CASE WHEN p.state IN ('submitted', 'claimed', 'dispatched', 'in_progress', 'completed') THEN 1 ELSE 0 END AS open,
      {k} AS k, {lim.format(k=k)} AS lim,
      {dur[1]} AS d1, {dur[2]} AS d2, {dur[3]} AS d3, {dur[4]} AS d4, {dur[5]} AS d5,
      CASE WHEN p.u11 % 100 < 5 THEN NULL WHEN p.u11 % 100 < 75 THEN 5 WHEN p.u11 % 100 < 92 THEN 4 ELSE 3 END AS stars,
      {hist} AS hist
    FROM bench_p0 p
    JOIN bench_grid g ON g.idx = p.u3 % {len(grids)}
    JOIN bench_cat c ON p.u2 % {cat_total} >= c.lo AND p.u2 % {cat_total} < c.hi
    JOIN bench_member m ON m.branch_id = g.branch_id AND m.idx = p.u5 % g.n_members
  ) r
) q""")
        x("DROP TABLE bench_p0")
        log(f"  plan: {n:,} orders planned")
        # Closed orders end (rating) no later than a minute ago.
        end = f"(CASE WHEN p.created + p.s1 + p.s2 + p.s3 + p.s4 + p.s5 > {now_epoch - 60} THEN {now_epoch - 60} ELSE p.created + p.s1 + p.s2 + p.s3 + p.s4 + p.s5 END)"
        entered = (f"CASE WHEN p.open = 1 THEN p.entered WHEN p.state = 'closed' THEN {end} "
                   "ELSE p.created + 600 END")
        deadline = "CASE WHEN p.open = 1 THEN p.entered + p.lim * 60 ELSE NULL END"
        next_alert = ("CASE WHEN p.open = 0 THEN NULL "
                      f"WHEN p.late = 1 AND {1 if due else 0} = 1 THEN p.entered + p.lim * 60 "
                      f"WHEN p.late = 1 THEN {now_epoch} + 3600 "
                      "WHEN p.k = 4 THEN p.entered + p.lim * 30 ELSE p.entered + p.lim * 60 END")
        visit = "p.u1 % 10 < 3"
        descriptions = ["村口路灯不亮,晚上走路看不清", "屋顶漏雨,墙体有裂缝", "冬天缺厚衣服和棉被",
                        "请帮忙代缴医保费用", "垃圾堆放三天没人清运", "邻里漏水纠纷请调解"]
        desc = "CASE p.u2 % 6 " + " ".join(f"WHEN {j} THEN '{t}'" for j, t in enumerate(descriptions)) + " END"
        fal = "false" if pg else "0"
        x(f"""INSERT INTO orders (id, town_id, branch_id, grid_id, category_id, urgency, state, version, description,
  address, resident_id, contact_name, contact_phone, placed_by_staff_id, channel, claimed_by_id, assignee_id,
  reopen_count, completion_note, rating_stars, rating_comment, rating_source, request_hash, created_at, updated_at,
  stage_entered_at, stage_deadline, next_alert_at, closed_at)
SELECT p.id, {town_id}, p.branch_id, p.grid_id, p.category_id, p.urgency, p.state, p.k + 1, {desc},
  '网格' || p.grid_id || '号楼', CASE WHEN {visit} THEN NULL ELSE p.resident_id END, '居民' || p.grid_id,
  '1390000' || p.grid_id, CASE WHEN {visit} THEN p.worker_id ELSE NULL END,
  CASE WHEN {visit} THEN 'visit' ELSE 'mini_program' END,
  CASE WHEN p.k >= 1 THEN p.worker_id ELSE NULL END, CASE WHEN p.k >= 2 THEN p.member_id ELSE NULL END,
  0, CASE WHEN p.k >= 4 THEN '已处理完毕' ELSE NULL END,
  CASE WHEN p.state = 'closed' THEN p.stars ELSE NULL END, NULL,
  CASE WHEN p.state <> 'closed' THEN NULL WHEN p.stars IS NULL THEN 'default' WHEN {visit} THEN 'callback' ELSE 'resident' END,
  'bench', {_ts(d, 'p.created')}, {_ts(d, entered)}, {_ts(d, entered)},
  {_ts(d, deadline)}, {_ts(d, next_alert)}, CASE WHEN p.state = 'closed' THEN {_ts(d, end)} ELSE NULL END
FROM bench_plan p""")
        log(f"  orders: {n:,} inserted")
        if pg:
            x("SELECT setval(pg_get_serial_sequence('orders', 'id'), (SELECT max(id) FROM orders))")
        if aggregates:
            _aggregates(x, d, town_id, end)
        counts = dict(conn.execute(text("SELECT state, count(*) FROM bench_plan GROUP BY state")).all())
        for t in ("bench_grid", "bench_cat", "bench_member", "bench_plan"):
            x(f"DROP TABLE IF EXISTS {t}")
    return Generated(n, base + 1, base + n, now_epoch, time.monotonic() - started, counts)


def _aggregates(x, d: str, town_id: int, end: str) -> None:
    """stats_counts, stats_stage_times and member_points for bench_plan, as record_move adds them."""
    day = _local_day(d, "p.created")
    cell = "town_id, day, branch_id, grid_id, category_id, member_id"
    rated = "p.state = 'closed' AND p.stars IS NOT NULL"
    # (grid, category, member, metric, condition) per row kind; the place cube is rolled up
    # into the branch cube (grid, category and member 0) as record_move also writes it.
    place = "p.grid_id, p.category_id, 0"
    kinds = [("'state:' || p.state", "true", True), ("'claimed_in_time'", "p.k >= 1 AND p.d1 <= p.l1 * 60", False),
             ("'ratings'", rated, True), ("'ratings_good'", f"{rated} AND p.stars >= 4", True),
             ("'ratings_default'", "p.state = 'closed' AND p.stars IS NULL", True)]
    selects = []
    for metric, where, by_member in kinds:
        selects.append(f"SELECT {day} AS day, p.branch_id, {place}, {metric} AS metric FROM bench_plan p WHERE {where}")
        selects.append(f"SELECT {day} AS day, p.branch_id, 0, 0, 0, {metric} AS metric FROM bench_plan p WHERE {where}")
        if by_member:
            selects.append(f"SELECT {day} AS day, p.branch_id, 0, 0, p.member_id, {metric} AS metric FROM bench_plan p "
                           f"WHERE p.k >= 2 AND {where}")
    counts = "\n      UNION ALL ".join(selects)
    counts = counts.replace("SELECT " + day + " AS day, p.branch_id, " + place + ",",
                            "SELECT " + day + " AS day, p.branch_id, p.grid_id AS grid_id, p.category_id AS category_id, 0 AS member_id,", 1)
    x(f"""INSERT INTO stats_counts ({cell}, metric, n)
SELECT {town_id}, day, branch_id, grid_id, category_id, member_id, metric, count(*) FROM ({counts}) a WHERE true
GROUP BY day, branch_id, grid_id, category_id, member_id, metric
ON CONFLICT ({cell}, metric) DO UPDATE SET n = stats_counts.n + excluded.n""")
    log("  aggregates: stats_counts filled")
    stages = []
    for s, (name, kmin, member) in enumerate([("claim", 1, False), ("dispatch", 2, False), ("accept", 3, True),
                                              ("complete", 4, True), ("rate", 5, True)], start=1):
        stages.append(f"SELECT {day} AS day, p.branch_id, p.grid_id, p.category_id, 0 AS member_id, '{name}' AS stage, "
                      f"p.d{s} AS secs FROM bench_plan p WHERE p.k >= {kmin}")
        stages.append(f"SELECT {day}, p.branch_id, 0, 0, 0, '{name}', p.d{s} FROM bench_plan p WHERE p.k >= {kmin}")
        if member:
            stages.append(f"SELECT {day}, p.branch_id, 0, 0, p.member_id, '{name}', p.d{s} FROM bench_plan p WHERE p.k >= {kmin}")
    x(f"""INSERT INTO stats_stage_times ({cell}, stage, bucket, n, seconds_sum)
SELECT {town_id}, day, branch_id, grid_id, category_id, member_id, stage, bucket, count(*), sum(secs) FROM (
  SELECT t.*, {_bucket('t.secs')} AS bucket FROM ({' UNION ALL '.join(stages)}) t) b WHERE true
GROUP BY day, branch_id, grid_id, category_id, member_id, stage, bucket
ON CONFLICT ({cell}, stage, bucket) DO UPDATE SET n = stats_stage_times.n + excluded.n,
  seconds_sum = stats_stage_times.seconds_sum + excluded.seconds_sum""")
    log("  aggregates: stats_stage_times filled")
    completed_at = "p.created + p.s1 + p.s2 + p.s3 + p.s4"
    completed_at = f"(CASE WHEN {completed_at} > {end.replace('p.s5', '0')} THEN {end.replace('p.s5', '0')} ELSE {completed_at} END)"
    x(f"""INSERT INTO member_points (town_id, branch_id, member_id, day, points, completed, five_star, overdue)
SELECT {town_id}, branch_id, member_id, day, sum(points), sum(completed), sum(five_star), sum(overdue) FROM (
  SELECT p.branch_id, p.member_id, {_local_day(d, completed_at)} AS day,
    CASE WHEN p.d4 > p.l4 * 60 THEN 5 ELSE 10 END AS points, 1 AS completed, 0 AS five_star,
    CASE WHEN p.d4 > p.l4 * 60 THEN 1 ELSE 0 END AS overdue FROM bench_plan p WHERE p.k >= 4
  UNION ALL SELECT p.branch_id, p.member_id, {_local_day(d, end)}, 5, 0, 1, 0 FROM bench_plan p
    WHERE p.state = 'closed' AND p.stars = 5) m WHERE true
GROUP BY branch_id, member_id, day
ON CONFLICT (member_id, day) DO UPDATE SET points = member_points.points + excluded.points,
  completed = member_points.completed + excluded.completed, five_star = member_points.five_star + excluded.five_star,
  overdue = member_points.overdue + excluded.overdue""")
    log("  aggregates: member_points filled")
