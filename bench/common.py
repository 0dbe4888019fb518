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


def make_stack_app():
    """uvicorn --factory common:make_stack_app: the stack's floor (stack_app.py) on DATABASE_URL."""
    from stack_app import app

    return ServerTiming(app)


def make_ping_app():
    """uvicorn --factory common:make_ping_app: a bare FastAPI app with /ping."""
    from bare_app import app

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
                    # a member uploads far more photos an hour than a person does; residents place
                    # far more orders an hour, all from that one address.
                    "SIGNIN_PER_ADDRESS": "100000", "SIGNIN_PER_PHONE": "100000",
                    "PHOTO_UPLOADS_PER_HOUR": "1000000", "ORDERS_PER_HOUR_PER_RESIDENT": "1000000",
                    "ORDERS_PER_HOUR_PER_STAFF": "1000000", "ORDERS_PER_HOUR_PER_ADDRESS": "1000000",
                    **(env or {})}
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
