"""The true limit, and how close wudan comes to it, in one run.

At each client count (default 1, 16, 64), for each store (SQLite, PostgreSQL), this
measures three things and compares them:

  wudan     the five-order loop over HTTP: each simulated client repeats the 7 requests of
            loop_http.py -- place (POST /orders), claim, dispatch, accept, upload a photo
            (POST /photos, multipart), complete, rate -- with its own resident and its
            grid's worker, secretary and member (town.py, common.plan_cast), against
            `uvicorn --factory common:make_wudan_app` on a fresh, seeded database.
  bare GET  the framework's ceiling: GET /ping-sync (a sync `def` endpoint of a bare FastAPI
            app, bare_app.py, through the thread pool like wudan's routes) on the same
            uvicorn settings (common.Server, same --workers, no access log). Its
            requests/s ÷ 7 is its "loops/s". Measured once per client count and round
            (it has no store).
  raw SQL   the database's ceiling: threads, one connection each, with the plain driver
            (sqlite3: WAL, busy_timeout, synchronous=NORMAL, foreign_keys, BEGIN IMMEDIATE
            as wudan's engine sets them; psycopg 3 on PostgreSQL) on a second fresh
            database made by wudan's migrations and demo seed (so wudan's schema and
            indexes). Per transition exactly one transaction: a conditional
            `UPDATE orders SET state=?, version=version+1, <stage stamps and the move's
            own columns> WHERE id=? AND state=?` (rowcount checked), one INSERT into
            order_events and one into outbox; the place step is INSERT orders + event +
            outbox. The upload step writes the photo's bytes to a file (as wudan does:
            a .part file renamed into place) and then, in one transaction, INSERTs the
            photos row, already carrying the order's id (so the complete step stays one
            UPDATE + two INSERTs). Not wudan's workflows, not SQLAlchemy: the minimal SQL
            a step needs, what the machine can do.

  stack floor  (not part of the limit; --no-floor leaves it out) POST /move/{id} of
            stack_app.py on each store: FastAPI, pydantic, PyJWT and SQLAlchemy Core with a
            read, a compare-and-set UPDATE and two INSERTs in one transaction, nothing of
            wudan's. Its req/s ÷ 7 beside wudan's loops/s tells how much of a request is the
            libraries wudan is built on and how much is wudan.

  limit = min(bare GET req/s ÷ 7, raw SQL loops/s), and ratio = wudan loops/s ÷ limit,
  both taken within each round and then the median (min–max) over the rounds.

Loops/s everywhere = steps (requests, transactions) finished inside the measured window
÷ 7 ÷ seconds: the steady-state loop rate, whatever phase each client's loop is in.

The rounds are interleaved: each round runs every configuration once, round-robin
(per client count: wudan on each store, bare GET, raw SQL on each store, the floor on each store), so drift on
the machine hits them all alike. All servers stay up for the whole run.

The HTTP client is cheap on purpose, so the server gets the cores: raw keep-alive
HTTP/1.1 on asyncio streams (asyncio.open_connection, hand-written request bytes, status
line + headers + a Content-Length (or chunked) body), one connection per simulated
client, on uvloop, in this process; the multipart bodies are built by hand. Before the
rounds it is checked against the servers (one whole loop, a 404 and a GET on the same
connection, the order read back with httpx and compared, 200 pings on one connection);
a failed check stops the run.

Errors are counted per configuration: 5xx, other non-2xx, transport errors (a
connection reset, closed or unparsable answer) and requests still unfinished 30 s after
the window; raw SQL exceptions. Any of them shows in the table's last column, and the
exit status is then 1.

Output: progress on stderr; on stdout the Markdown tables (the comparison; per store at
16 clients (or the nearest count) the p50/p99 of each step, wudan's and raw SQL's);
with --json FILE every run's numbers. Everything it made (4 databases, data dirs,
photos, servers) is dropped on exit, also on Ctrl-C, SIGTERM and --max-seconds.

    .venv/bin/python bench/true_limit.py                          # 1,16,64 clients, 3 rounds, both stores
    .venv/bin/python bench/true_limit.py --clients 1,16 --seconds 3 --rounds 1   # a quick check
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import secrets
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import common  # noqa: F401  (puts the repository on sys.path)
from common import HOST, REQUESTS_PER_LOOP, STEPS, Part, log, pct, plan_cast

GRACE = 30.0  # seconds in-flight work gets after the window before it is abandoned (and counted)
ERROR_PAUSE = 0.05  # a client pauses this long after a failed step, then starts a new loop
perf = time.perf_counter


class Stop(Exception):
    """The measured window is over: the client starts no new step."""


# =========================================================================== the HTTP client


class TransportError(Exception):
    """No (parsable) answer: the connection was refused, reset or closed, or the answer was garbage."""


class HttpStatus(Exception):
    def __init__(self, step: str, status: int, body: bytes) -> None:
        super().__init__(f"{step}: HTTP {status} {body[:200].decode(errors='replace')}")
        self.step, self.status = step, status


class Connection:
    """One keep-alive HTTP/1.1 connection on asyncio streams; reopened after the server closes it."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.host_line = f"Host: {host}:{port}\r\n".encode()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.connects = 0  # how many times it had to (re)connect
        self.requests = 0
        self.sockname = None

    async def open(self) -> None:
        try:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        except OSError as exc:
            raise TransportError(f"connect: {exc}") from exc
        self.connects += 1
        self.sockname = self.writer.get_extra_info("sockname")

    def close(self) -> None:
        if self.writer is not None:
            with contextlib.suppress(Exception):
                self.writer.close()
        self.reader = self.writer = None

    def build(self, method: bytes, path: str, headers: bytes = b"", body: bytes | None = None) -> bytes:
        """The request's bytes. `headers`: complete header lines (each ending in CRLF)."""
        if body is None:  # GET
            return b"%s %s HTTP/1.1\r\n%s%s\r\n" % (method, path.encode(), self.host_line, headers)
        return b"%s %s HTTP/1.1\r\n%s%sContent-Length: %d\r\n\r\n%s" % (
            method, path.encode(), self.host_line, headers, len(body), body)

    async def request(self, data: bytes) -> tuple[int, bytes, float | None]:
        """Send one request; (status, body, server-side ms from Server-Timing or None)."""
        if self.writer is None:
            await self.open()
        reader, writer = self.reader, self.writer
        try:
            writer.write(data)
            if len(data) > 65536:
                await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head[:-4].split(b"\r\n")
            status_line = lines[0]
            if not status_line.startswith(b"HTTP/1.") or len(status_line) < 12:
                raise TransportError(f"bad status line {status_line[:80]!r}")
            status = int(status_line[9:12])
            close = status_line.startswith(b"HTTP/1.0")
            length = None
            chunked = False
            server_ms = None
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"transfer-encoding":
                    chunked = b"chunked" in value.lower()
                elif name == b"connection":
                    v = value.strip().lower()
                    close = v == b"close" or (close and v != b"keep-alive")
                elif name == b"server-timing" and b"dur=" in value:
                    server_ms = float(value.split(b"dur=", 1)[1].split(b";", 1)[0])
            if chunked:
                body = await self._chunked(reader)
            elif length is not None:
                body = await reader.readexactly(length)
            elif status < 200 or status in (204, 304):
                body = b""
            else:  # no length: the body runs to the end of the connection
                body = await reader.read()
                close = True
        except TransportError:
            self.close()
            raise
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, OSError, ValueError) as exc:
            self.close()
            raise TransportError(f"{type(exc).__name__}: {exc}"[:200]) from exc
        if close:
            self.close()
        self.requests += 1
        return status, body, server_ms

    @staticmethod
    async def _chunked(reader: asyncio.StreamReader) -> bytes:
        parts = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0].strip(), 16)
            if size == 0:
                while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers
                    pass
                return b"".join(parts)
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)


def auth_line(token: str) -> bytes:
    return b"Authorization: Bearer %s\r\n" % token.encode()


JSON_TYPE = b"Content-Type: application/json\r\n"


def multipart(field_name: str, filename: str, content_type: str, content: bytes) -> tuple[bytes, bytes]:
    """(Content-Type header line, body) of a multipart/form-data upload of one file."""
    boundary = "wudanbench" + secrets.token_hex(12)
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field_name}\"; filename=\"{filename}\"\r\n"
            f"Content-Type: {content_type}\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return f"Content-Type: multipart/form-data; boundary={boundary}\r\n".encode(), body


# =========================================================================== HTTP load


@dataclass
class HttpRun:
    """One measurement over HTTP: the window, latencies of steps finished inside it, and errors."""

    warmup: float
    seconds: float
    steps: list[str]
    start: float = 0.0
    end: float = 0.0
    client: dict = field(default_factory=dict)
    server: dict = field(default_factory=dict)
    loops: int = 0  # whole loops whose last step finished inside the window
    statuses: Counter = field(default_factory=Counter)  # "step status" -> count, over the whole run
    transport: int = 0
    examples: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.start = perf() + self.warmup
        self.end = self.start + self.seconds
        self.client = {s: [] for s in self.steps}
        self.server = {s: [] for s in self.steps}

    def stop_if_over(self) -> None:
        if perf() >= self.end:
            raise Stop

    def note(self, step: str, started: float, answer: tuple[int, bytes, float | None]) -> bytes:
        status, body, server_ms = answer
        done = perf()
        if not 200 <= status < 300:
            raise HttpStatus(step, status, body)
        if self.start <= done < self.end:
            self.client[step].append((done - started) * 1000)
            if server_ms is not None:
                self.server[step].append(server_ms)
        return body

    def loop_done(self) -> None:
        if self.start <= perf() < self.end:
            self.loops += 1

    def example(self, text: str) -> None:
        if len(self.examples) < 10:
            self.examples.append(text[:300])


class WudanLoop:
    """One client's loop of 7 requests on its own connection (loop_http.loop_unit's requests)."""

    def __init__(self, conn: Connection, i: int, part: Part, tokens: dict, categories: list[int], png: bytes) -> None:
        self.conn, self.i, self.part, self.categories = conn, i, part, categories
        self.resident = auth_line(tokens["resident", i])
        self.worker = auth_line(tokens["staff", part.worker_id])
        self.secretary = auth_line(tokens["staff", part.secretary_id])
        self.member = auth_line(tokens["staff", part.member_id])
        self.dispatch_body = json.dumps({"member_id": part.member_id, "note": "请尽快处理"}).encode()
        upload_type, self.upload_body = multipart("file", "p.png", "image/png", png)
        self.upload_headers = self.member + upload_type
        self.n = 0
        self.last_order: int | None = None

    async def __call__(self, run: HttpRun) -> None:
        c, n = self.conn, self.n + 1
        self.n = n
        run.stop_if_over()
        body = json.dumps({"category_id": self.categories[(self.i + n) % len(self.categories)],
                           "description": f"压测工单 {self.i}-{n}:村委会门口的路灯坏了", "address": "村委会门口"}).encode()
        t = perf()
        answer = await c.request(c.build(b"POST", "/orders", self.resident + JSON_TYPE, body))
        oid = json.loads(run.note("place", t, answer))["id"]
        self.last_order = oid
        o = f"/orders/{oid}"
        run.stop_if_over()
        t = perf()
        run.note("claim", t, await c.request(c.build(b"POST", o + "/claim", self.worker, b"")))
        run.stop_if_over()
        t = perf()
        run.note("dispatch", t, await c.request(c.build(b"POST", o + "/dispatch", self.secretary + JSON_TYPE,
                                                        self.dispatch_body)))
        run.stop_if_over()
        t = perf()
        run.note("accept", t, await c.request(c.build(b"POST", o + "/accept", self.member, b"")))
        run.stop_if_over()
        t = perf()
        pid = json.loads(run.note("upload", t, await c.request(c.build(b"POST", "/photos", self.upload_headers,
                                                                       self.upload_body))))["id"]
        # No stop between upload and complete: an upload left unattached would count
        # against the member's limit of unattached photos in later runs.
        body = json.dumps({"note": "已处理完毕,请查看照片", "photo_ids": [pid]}).encode()
        t = perf()
        run.note("complete", t, await c.request(c.build(b"POST", o + "/complete", self.member + JSON_TYPE, body)))
        run.stop_if_over()
        body = json.dumps({"stars": 5 if n % 4 else 4, "comment": "很及时,谢谢"}).encode()
        t = perf()
        run.note("rate", t, await c.request(c.build(b"POST", o + "/rate", self.resident + JSON_TYPE, body)))
        run.loop_done()


class PingLoop:
    """One GET /ping-sync."""

    def __init__(self, conn: Connection, path: str = "/ping-sync") -> None:
        self.conn = conn
        self.data = conn.build(b"GET", path)

    async def __call__(self, run: HttpRun) -> None:
        run.stop_if_over()
        t = perf()
        run.note("ping", t, await self.conn.request(self.data))
        run.loop_done()


class StackMove:
    """One POST /move/{id} of the stack's floor (stack_app.py): client i moves order i + 1, signed in as i + 1."""

    def __init__(self, conn: Connection, i: int) -> None:
        import jwt
        from stack_app import SECRET

        token = jwt.encode({"sub": str(i + 1), "exp": int(time.time()) + 86400}, SECRET, algorithm="HS256")
        body = json.dumps({"note": "已处理完毕,请查看照片"}, ensure_ascii=False).encode()
        self.conn = conn
        self.data = conn.build(b"POST", f"/move/{i + 1}", auth_line(token) + JSON_TYPE, body)

    async def __call__(self, run: HttpRun) -> None:
        run.stop_if_over()
        t = perf()
        run.note("move", t, await self.conn.request(self.data))
        run.loop_done()


async def _check_stack(port: int) -> dict:
    conn = Connection(HOST, port)
    problems = []
    unit = StackMove(conn, 0)
    versions = []
    for _ in range(20):
        st, body, _ = await conn.request(unit.data)
        if st != 200:
            problems.append(f"POST /move/1 answers {st} {body[:200]!r}")
            break
        versions.append(json.loads(body)["version"])
    if versions and versions != list(range(versions[0], versions[0] + len(versions))):
        problems.append(f"versions {versions} do not count up by one")
    conn.close()
    return {"ok": not problems, "problems": problems, "requests": conn.requests, "connects": conn.connects}


async def drive_http(port: int, clients: int, warmup: float, seconds: float, steps: list[str], make_unit) -> tuple:
    run = HttpRun(warmup, seconds, steps)
    conns = [Connection(HOST, port) for _ in range(clients)]

    async def client(i: int) -> None:
        unit = make_unit(i, conns[i])
        while perf() < run.end:
            try:
                await unit(run)
            except Stop:
                break
            except HttpStatus as exc:
                run.statuses[f"{exc.step} {exc.status}"] += 1
                run.example(str(exc))
                await asyncio.sleep(ERROR_PAUSE)
            except TransportError as exc:
                run.transport += 1
                run.example(f"transport: {exc}")
                await asyncio.sleep(ERROR_PAUSE)
            except (KeyError, TypeError, ValueError) as exc:  # a 2xx answer without the id the next step needs
                run.statuses["bad-answer"] += 1
                run.example(f"bad answer: {type(exc).__name__}: {exc}")
                await asyncio.sleep(ERROR_PAUSE)

    tasks = [asyncio.create_task(client(i)) for i in range(clients)]
    done, pending = await asyncio.wait(tasks, timeout=warmup + seconds + GRACE)
    for t in pending:
        t.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    for t in done:
        if t.exception() is not None:
            raise t.exception()
    for c in conns:
        c.close()
    return run, conns, len(pending)


def step_summary(values: list[float]) -> dict:
    return {"n": len(values), "p50_ms": pct(values, 0.5), "p90_ms": pct(values, 0.9), "p99_ms": pct(values, 0.99),
            "max_ms": max(values) if values else None,
            "mean_ms": sum(values) / len(values) if values else None}


def measure_http(port: int, clients: int, warmup: float, seconds: float, steps: list[str], make_unit) -> dict:
    run, conns, unfinished = common.run_async(drive_http(port, clients, warmup, seconds, steps, make_unit))
    finished = sum(len(v) for v in run.client.values())
    per_loop = len(steps) if len(steps) > 1 else 1
    five = sum(n for k, n in run.statuses.items() if k.rsplit(" ", 1)[-1].startswith("5"))
    return {
        "clients": clients, "seconds": seconds, "warmup": warmup,
        "requests": finished, "requests_per_s": finished / seconds,
        # steps finished in the window ÷ 7 (÷ 1 for the ping, whose ÷ 7 is taken later)
        "loops_per_s": finished / per_loop / seconds, "whole_loops_per_s": run.loops / seconds,
        "errors": {"5xx": five, "other_status": sum(run.statuses.values()) - five, "transport": run.transport,
                   "unfinished": unfinished, "by_step_status": dict(run.statuses), "examples": run.examples},
        "connects": sum(c.connects for c in conns), "requests_sent": sum(c.requests for c in conns),
        "steps": {s: {**step_summary(run.client[s]),
                      "server_p50_ms": pct(run.server[s], 0.5), "server_p99_ms": pct(run.server[s], 0.99)}
                  for s in steps},
    }


# =========================================================================== the client, checked


async def _check_wudan(port: int, base: str, part: Part, tokens: dict, categories: list[int], png: bytes) -> dict:
    import httpx

    problems: list[str] = []
    conn = Connection(HOST, port)
    loop = WudanLoop(conn, 0, part, tokens, categories, png)
    run = HttpRun(0, 3600, STEPS)
    try:
        await loop(run)
    except (HttpStatus, TransportError, KeyError, ValueError) as exc:
        return {"ok": False, "problems": [f"a whole loop failed: {exc}"]}
    if run.loops != 1 or any(len(run.client[s]) != 1 for s in STEPS):
        problems.append(f"loop not counted right: loops={run.loops} {[len(run.client[s]) for s in STEPS]}")
    if not all(run.server[s] for s in STEPS):
        problems.append("Server-Timing not parsed on every step")
    sockname = conn.sockname
    oid = loop.last_order
    resident = loop.resident
    st, body, _ = await conn.request(conn.build(b"GET", f"/orders/{oid}", resident))
    mine = json.loads(body) if st == 200 else None
    if st != 200 or mine.get("state") != "closed":
        problems.append(f"GET /orders/{oid} after the loop: {st} state={mine and mine.get('state')}")
    st404, body404, _ = await conn.request(conn.build(b"GET", "/orders/999999999", resident))
    if st404 != 404:
        problems.append(f"GET /orders/999999999: {st404}, expected 404")
    st_h, _, _ = await conn.request(conn.build(b"GET", "/healthz"))
    if st_h != 200:
        problems.append(f"GET /healthz after a 404 on the same connection: {st_h}")
    if conn.connects != 1 or conn.sockname != sockname:
        problems.append(f"the connection was not kept alive: {conn.connects} connects for {conn.requests} requests")
    with httpx.Client(base_url=base, timeout=30) as h:
        theirs = h.get(f"/orders/{oid}", headers={"Authorization": resident.decode().split(": ", 1)[1].strip()})
        their404 = h.get("/orders/999999999", headers={"Authorization": resident.decode().split(": ", 1)[1].strip()})
    if theirs.status_code != st or mine is None or {k: theirs.json().get(k) for k in ("id", "state", "version")} != \
            {k: mine.get(k) for k in ("id", "state", "version")}:
        problems.append(f"httpx read the order differently: {theirs.status_code} {theirs.text[:200]}")
    if their404.status_code != st404 or their404.content != body404:
        problems.append("httpx read the 404 differently")
    conn.close()
    return {"ok": not problems, "problems": problems, "order": oid, "requests": conn.requests,
            "connects": conn.connects, "same_as_httpx": mine == theirs.json() if mine else False,
            "steps_ms": {s: run.client[s][0] for s in STEPS if run.client[s]}}


async def _check_ping(port: int) -> dict:
    conn = Connection(HOST, port)
    problems = []
    bodies = Counter()
    for _ in range(200):
        st, body, _ = await conn.request(conn.build(b"GET", "/ping-sync"))
        bodies[(st, body)] += 1
    if list(bodies) != [(200, b'{"ok":true}')]:
        problems.append(f"GET /ping-sync answers: {dict(bodies)}")
    if conn.connects != 1:
        problems.append(f"{conn.connects} connects for 200 pings")
    conn.close()
    return {"ok": not problems, "problems": problems, "requests": conn.requests, "connects": conn.connects}


# =========================================================================== raw SQL


class SqliteStore:
    kind = "sqlite"

    def __init__(self, path: str) -> None:
        self.path = path

    def connect(self):
        import sqlite3

        # As storage.engine sets it: no driver-made BEGIN, WAL, busy_timeout, NORMAL, foreign keys.
        c = sqlite3.connect(self.path, isolation_level=None, timeout=30, check_same_thread=False)
        for pragma in ("journal_mode=WAL", "busy_timeout=30000", "synchronous=NORMAL", "foreign_keys=ON"):
            c.execute(f"PRAGMA {pragma}")
        return c

    def sql(self, text: str) -> str:
        return text

    def begin(self, c) -> None:
        c.execute("BEGIN IMMEDIATE")  # writers take the write lock up front, as wudan's do

    def commit(self, c) -> None:
        c.execute("COMMIT")

    def rollback(self, c) -> None:
        if c.in_transaction:
            c.execute("ROLLBACK")

    def run(self, c, sql: str, params) -> int:
        return c.execute(sql, params).rowcount

    def insert(self, c, sql: str, params) -> int:
        return c.execute(sql, params).lastrowid

    def rows(self, c, sql: str, params=()) -> list:
        return c.execute(sql, params).fetchall()

    @staticmethod
    def ts(dt: datetime | None):
        # naive UTC text, as wudan's UTCDateTime stores it on SQLite
        return None if dt is None else dt.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")

    def close(self, c) -> None:
        c.close()


class PostgresStore:
    kind = "postgres"

    def __init__(self, conninfo: str) -> None:
        self.conninfo = conninfo

    def connect(self):
        import psycopg

        try:  # the service's session timeouts, if they are still where they were
            from storage.engine import Timeouts

            options = Timeouts().options()
        except Exception:  # noqa: BLE001
            options = ""
        c = psycopg.connect(self.conninfo, autocommit=False, options=options, connect_timeout=10)
        c.cursor_ = c.cursor()
        return c

    def sql(self, text: str) -> str:
        return text.replace("?", "%s")

    def begin(self, c) -> None:
        pass  # psycopg opens the transaction with the first statement

    def commit(self, c) -> None:
        c.commit()

    def rollback(self, c) -> None:
        with contextlib.suppress(Exception):
            c.rollback()

    def run(self, c, sql: str, params) -> int:
        cur = c.cursor_
        cur.execute(sql, params)
        return cur.rowcount

    def insert(self, c, sql: str, params) -> int:
        cur = c.cursor_
        cur.execute(sql + " RETURNING id", params)
        return cur.fetchone()[0]

    def rows(self, c, sql: str, params=()) -> list:
        cur = c.cursor_
        cur.execute(sql, params)
        return cur.fetchall()

    @staticmethod
    def ts(dt: datetime | None):
        return dt

    def close(self, c) -> None:
        c.close()


# The five moves: (from state, to state, action, the move's own columns, actor role, told whom).
MOVES = {
    "claim": ("submitted", "claimed", "claim", ("claimed_by_id",), "grid_worker", "resident"),
    "dispatch": ("claimed", "dispatched", "dispatch", ("assignee_id",), "secretary", "assignee"),
    "accept": ("dispatched", "in_progress", "accept", (), "member", "resident"),
    "complete": ("in_progress", "completed", "complete", ("completion_note",), "member", "resident"),
    "rate": ("completed", "closed", "rate", ("rating_stars", "rating_comment", "rating_source", "closed_at"),
             "resident", "assignee"),
}
STAGE_MINUTES = {"submitted": "claim_minutes", "claimed": "dispatch_minutes", "dispatched": "accept_minutes",
                 "in_progress": "complete_minutes", "completed": "rate_minutes"}

SQL_PLACE = ("INSERT INTO orders (town_id, branch_id, grid_id, category_id, urgency, state, version, description, "
             "address, resident_id, channel, reopen_count, created_at, updated_at, stage_entered_at, stage_deadline, "
             "next_alert_at) VALUES (?, ?, ?, ?, 'normal', 'submitted', 1, ?, ?, ?, 'mini_program', 0, ?, ?, ?, ?, ?)")
SQL_EVENT = ("INSERT INTO order_events (order_id, action, from_state, to_state, actor_role, actor_id, note, data, "
             "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
SQL_OUTBOX = ("INSERT INTO outbox (order_id, event_id, kind, audience, audience_id, payload, status, attempts, "
              "next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?)")
SQL_PHOTO = ("INSERT INTO photos (id, order_id, purpose, uploader_role, uploader_id, content_type, size, sha256, "
             "created_at) VALUES (?, ?, 'evidence', 'member', ?, 'image/png', ?, ?, ?)")


def sql_move(step: str) -> str:
    extra = "".join(f", {col} = ?" for col in MOVES[step][3])
    return (f"UPDATE orders SET state = ?, version = version + 1, updated_at = ?, stage_entered_at = ?, "
            f"stage_deadline = ?, next_alert_at = ?{extra} WHERE id = ? AND state = ?")


@dataclass
class RawSetup:
    store: object
    photo_dir: Path
    town_id: int
    parts: list[Part]
    residents: list[int]
    categories: list[dict]  # id, name and the stage minutes
    branch_of: dict[int, int]  # grid id -> branch id
    sql: dict = field(default_factory=dict)


def raw_prepare(store, photo_dir: Path, clients: int) -> RawSetup:
    """The seeded town's cast read with plain SQL, and one resident per client in its grid."""
    c = store.connect()
    try:
        q = store.sql
        town_id = store.rows(c, "SELECT id FROM towns ORDER BY id")[0][0]
        grids = [{"id": g, "branch_id": b}
                 for g, b in store.rows(c, q("SELECT id, branch_id FROM grids WHERE town_id = ?"), (town_id,))]
        links = store.rows(c, "SELECT staff_id, grid_id FROM grid_worker_grids")
        staff = [{"id": s, "role": r, "branch_id": b, "active": bool(a),
                  "grid_ids": [g for sid, g in links if sid == s]}
                 for s, r, b, a in store.rows(c, q("SELECT id, role, branch_id, active FROM staff WHERE town_id = ?"),
                                              (town_id,))]
        cols = ["id", "name", *STAGE_MINUTES.values()]
        categories = [dict(zip(cols, row)) for row in store.rows(
            c, q(f"SELECT {', '.join(cols)} FROM categories WHERE town_id = ? AND active ORDER BY id"), (town_id,))]
        parts = plan_cast(grids, staff, clients)
        now = datetime.now(UTC)
        residents = []
        store.begin(c)
        for i, part in enumerate(parts):
            residents.append(store.insert(c, q(
                "INSERT INTO residents (openid, name, phone_verified, town_id, grid_id, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)"), (f"raw{i}", f"居民{i}", False, town_id, part.grid_id, store.ts(now))))
        store.commit(c)
    finally:
        store.close(c)
    sql = {"place": q(SQL_PLACE), "event": q(SQL_EVENT), "outbox": q(SQL_OUTBOX), "photo": q(SQL_PHOTO),
           **{step: q(sql_move(step)) for step in MOVES}}
    return RawSetup(store, photo_dir, town_id, parts, residents, categories,
                    {g["id"]: g["branch_id"] for g in grids}, sql)


def _stamps(category: dict, state: str, now: datetime) -> tuple:
    """Stage deadline from the category's minutes, and a first alert at 3/4 of it."""
    column = STAGE_MINUTES.get(state)
    if column is None:
        return None, None
    minutes = category[column]
    return now + timedelta(minutes=minutes), now + timedelta(minutes=minutes * 0.75)


def _raw_client(setup: RawSetup, i: int, start: float, end: float, out: list) -> None:
    """Loops of raw client i on its own connection until the window closes."""
    from infra.images import solid_png

    store, sql, part = setup.store, setup.sql, setup.parts[i]
    ts = store.ts
    resident = setup.residents[i]
    png = solid_png()
    lat: dict[str, list[float]] = {s: [] for s in STEPS}
    errors: list[str] = []
    loops = 0
    try:
        c = store.connect()
    except Exception as exc:  # noqa: BLE001
        out[i] = (lat, 0, [f"connect: {type(exc).__name__}: {exc}"[:300]])
        return

    def timed(step: str, t: float) -> None:
        done = perf()
        if start <= done < end:
            lat[step].append((done - t) * 1000)

    def event_and_outbox(oid, action, from_state, to_state, role, actor, note, data, audience, audience_id, summary,
                         now, category) -> None:
        event = store.insert(c, sql["event"], (oid, action, from_state, to_state, role, actor, note, data, ts(now)))
        payload = json.dumps({"order_id": oid, "state": to_state, "category": category["name"], "summary": summary,
                              "grid_id": part.grid_id, "action": action, "note": note}, ensure_ascii=False)
        store.run(c, sql["outbox"], (oid, event, f"order.{action}", audience, audience_id, payload, ts(now), ts(now)))

    def move(step: str, oid: int, category: dict, summary: str, own: tuple, actor: int, audience_id: int,
             note: str | None = None, data: str = "{}") -> None:
        from_state, to_state, action, _cols, role, audience = MOVES[step]
        t = perf()
        now = datetime.now(UTC)
        deadline, alert = _stamps(category, to_state, now)
        store.begin(c)
        try:
            n = store.run(c, sql[step], (to_state, ts(now), ts(now), ts(deadline), ts(alert), *own, oid, from_state))
            if n != 1:
                raise RuntimeError(f"{step}: conditional UPDATE changed {n} rows")
            event_and_outbox(oid, action, from_state, to_state, role, actor, note, data, audience, audience_id,
                             summary, now, category)
            store.commit(c)
        except BaseException:
            store.rollback(c)
            raise
        timed(step, t)

    n = 0
    try:
        while perf() < end:
            try:
                n += 1
                if perf() >= end:
                    raise Stop
                category = setup.categories[(i + n) % len(setup.categories)]
                description = f"压测工单 {i}-{n}:村委会门口的路灯坏了"
                summary = description[:40]
                # place: INSERT orders + event + outbox, one transaction
                t = perf()
                now = datetime.now(UTC)
                deadline, alert = _stamps(category, "submitted", now)
                store.begin(c)
                try:
                    oid = store.insert(c, sql["place"], (setup.town_id, setup.branch_of[part.grid_id], part.grid_id,
                                                         category["id"], description, "村委会门口", resident, ts(now),
                                                         ts(now), ts(now), ts(deadline), ts(alert)))
                    event_and_outbox(oid, "submit", None, "submitted", "resident", resident, None,
                                     '{"channel": "mini_program"}', "grid_workers", part.grid_id, summary, now,
                                     category)
                    store.commit(c)
                except BaseException:
                    store.rollback(c)
                    raise
                timed("place", t)
                if perf() >= end:
                    raise Stop
                move("claim", oid, category, summary, (part.worker_id,), part.worker_id, resident)
                if perf() >= end:
                    raise Stop
                move("dispatch", oid, category, summary, (part.member_id,), part.secretary_id, part.member_id,
                     "请尽快处理", json.dumps({"member_id": part.member_id}))
                if perf() >= end:
                    raise Stop
                move("accept", oid, category, summary, (), part.member_id, resident)
                if perf() >= end:
                    raise Stop
                # upload: the file written (.part, renamed), then INSERT photos in one transaction
                t = perf()
                photo_id = secrets.token_urlsafe(24)
                path = setup.photo_dir / photo_id[:2] / photo_id
                path.parent.mkdir(parents=True, exist_ok=True)
                partial = path.with_suffix(".part")
                partial.write_bytes(png)
                os.replace(partial, path)
                now = datetime.now(UTC)
                store.begin(c)
                try:
                    store.run(c, sql["photo"], (photo_id, oid, part.member_id, len(png),
                                                hashlib.sha256(png).hexdigest(), ts(now)))
                    store.commit(c)
                except BaseException:
                    store.rollback(c)
                    path.unlink(missing_ok=True)
                    raise
                timed("upload", t)
                move("complete", oid, category, summary, ("已处理完毕,请查看照片",), part.member_id, resident,
                     "已处理完毕,请查看照片", json.dumps({"photo_ids": [photo_id]}))
                if perf() >= end:
                    raise Stop
                stars = 5 if n % 4 else 4
                move("rate", oid, category, summary, (stars, "很及时,谢谢", "resident", ts(datetime.now(UTC))),
                     resident, part.member_id, "很及时,谢谢", json.dumps({"stars": stars}))
                if start <= perf() < end:
                    loops += 1
            except Stop:
                break
            except Exception as exc:  # noqa: BLE001 — counted and reported
                errors.append(f"{type(exc).__name__}: {exc}"[:300])
                if len(errors) > 1000:
                    break
                time.sleep(ERROR_PAUSE)
    finally:
        with contextlib.suppress(Exception):
            store.close(c)
        out[i] = (lat, loops, errors)


def measure_raw(setup: RawSetup, clients: int, warmup: float, seconds: float) -> dict:
    assert clients <= len(setup.parts)
    start = perf() + warmup
    end = start + seconds
    out: list = [None] * clients
    threads = [threading.Thread(target=_raw_client, args=(setup, i, start, end, out), daemon=True,
                                name=f"raw-{setup.store.kind}-{i}") for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=max(0.0, end - perf()) + GRACE)
    unfinished = sum(t.is_alive() for t in threads)
    lat: dict[str, list[float]] = {s: [] for s in STEPS}
    loops = 0
    errors: list[str] = []
    for o in out:
        if o is None:
            continue
        for s in STEPS:
            lat[s].extend(o[0][s])
        loops += o[1]
        errors.extend(o[2])
    finished = sum(len(v) for v in lat.values())
    return {"clients": clients, "seconds": seconds, "warmup": warmup, "transitions": finished,
            "loops_per_s": finished / REQUESTS_PER_LOOP / seconds, "whole_loops_per_s": loops / seconds,
            "errors": {"count": len(errors), "unfinished": unfinished,
                       "kinds": dict(Counter(e.split(":", 1)[0] for e in errors)), "examples": errors[:10]},
            "steps": {s: step_summary(lat[s]) for s in STEPS}}


# =========================================================================== the report


def http_error_count(m: dict) -> int:
    e = m["errors"]
    return e["5xx"] + e["other_status"] + e["transport"] + e["unfinished"]


def raw_error_count(m: dict) -> int:
    return m["errors"]["count"] + m["errors"]["unfinished"]


def spread(values: list, digits: int = 1) -> str:
    """median (min–max), or the value alone for one round."""
    from common import fmt, median

    values = [v for v in values if v is not None]
    if not values:
        return "–"
    if len(values) == 1:
        return fmt(float(values[0]), digits)
    return f"{fmt(float(median(values)), digits)} ({fmt(float(min(values)), digits)}–{fmt(float(max(values)), digits)})"


def summarize(runs: list[dict], stores: list[str], clients: list[int], rounds: int) -> list[dict]:
    from common import median

    def pick(kind, store, c):
        return sorted((m for m in runs if m["kind"] == kind and m["store"] == store and m["clients"] == c),
                      key=lambda m: m["round"])

    points = []
    for store in stores:
        for c in clients:
            w, b, r = pick("wudan", store, c), pick("bare", None, c), pick("raw", store, c)
            f = pick("stack", store, c)
            fa = pick("stack", f"{store}-async", c)
            limits, ratios = [], []
            for wm, bm, rm in zip(w, b, r):  # within each round
                limit = min(bm["requests_per_s"] / REQUESTS_PER_LOOP, rm["loops_per_s"])
                limits.append(limit)
                ratios.append(wm["loops_per_s"] / limit if limit else None)
            points.append({
                "store": store, "clients": c,
                "wudan_loops_per_s": [m["loops_per_s"] for m in w],
                "wudan_whole_loops_per_s": [m["whole_loops_per_s"] for m in w],
                "bare_get_per_s": [m["requests_per_s"] for m in b],
                "bare_get_div_7": [m["requests_per_s"] / REQUESTS_PER_LOOP for m in b],
                "raw_sql_loops_per_s": [m["loops_per_s"] for m in r],
                "limit": limits, "ratio": ratios,
                "stack_per_s": [m["requests_per_s"] for m in f],
                "stack_div_7": [m["requests_per_s"] / REQUESTS_PER_LOOP for m in f],
                "stack_ratio": [fm["requests_per_s"] / REQUESTS_PER_LOOP / lim if lim else None
                                for fm, lim in zip(f, limits)],
                "stack_async_div_7": [m["requests_per_s"] / REQUESTS_PER_LOOP for m in fa],
                "stack_async_move": {k: median([m["steps"]["move"][k] for m in fa]) if fa else None
                                     for k in ("p50_ms", "p99_ms", "server_p50_ms")},
                "stack_move": {k: median([m["steps"]["move"][k] for m in f]) if f else None
                               for k in ("p50_ms", "p99_ms", "server_p50_ms")},
                "limited_by": ["bare GET" if bm["requests_per_s"] / REQUESTS_PER_LOOP <= rm["loops_per_s"]
                               else "raw SQL" for bm, rm in zip(b, r)],
                "errors": {"wudan": sum(http_error_count(m) for m in w), "bare": sum(http_error_count(m) for m in b),
                           "raw": sum(raw_error_count(m) for m in r),
                           "stack": sum(http_error_count(m) for m in f + fa),
                           "wudan_5xx": sum(m["errors"]["5xx"] for m in w),
                           "wudan_transport": sum(m["errors"]["transport"] for m in w)},
                "wudan_steps": {s: {k: median([m["steps"][s][k] for m in w]) for k in
                                    ("p50_ms", "p99_ms", "server_p50_ms", "server_p99_ms")} for s in STEPS},
                "raw_steps": {s: {k: median([m["steps"][s][k] for m in r]) for k in ("p50_ms", "p99_ms")}
                              for s in STEPS},
            })
    return points


def error_text(point: dict, runs: list[dict]) -> str:
    """What went wrong in this row's runs, or 'none'."""
    bits = []
    for kind, store in (("wudan", point["store"]), ("bare", None), ("raw", point["store"]),
                        ("stack", point["store"]), ("stack", f"{point['store']}-async")):
        for m in runs:
            if m["kind"] != kind or m["store"] != store or m["clients"] != point["clients"]:
                continue
            e = m["errors"]
            if kind == "raw":
                if e["count"] or e["unfinished"]:
                    stuck = f", {e['unfinished']} stuck" if e["unfinished"] else ""
                    bits.append(f"raw r{m['round'] + 1}: {e['count']} errors{stuck}")
                continue
            parts = [f"{e[k]} {label}" for k, label in (("5xx", "5xx"), ("other_status", "non-2xx"),
                                                         ("transport", "transport"), ("unfinished", "unfinished"))
                     if e[k]]
            if parts:
                bits.append(f"{kind} r{m['round'] + 1}: {', '.join(parts)}")
    return "**" + "; ".join(bits) + "**" if bits else "none"


def report(points: list[dict], runs: list[dict], args, clients: list[int]) -> str:
    from common import fmt, table

    out = []
    what = f"median (min–max) of {args.rounds} interleaved rounds" if args.rounds > 1 else "one round"
    out.append(f"\nwudan against the true limit; uvicorn --workers {args.workers}; {what} "
               f"of {args.seconds:g} s per configuration (after {args.warmup:g} s warm-up)\n")
    rows = []
    any_async = any(p["stack_async_div_7"] for p in points)
    for p in points:
        rows.append([p["store"], p["clients"], spread(p["wudan_loops_per_s"]), spread(p["bare_get_div_7"]),
                     spread(p["raw_sql_loops_per_s"]), spread(p["limit"]), spread(p["ratio"], 3),
                     spread(p["stack_div_7"]) if p["stack_div_7"] else "–",
                     spread(p["stack_ratio"], 3) if p["stack_ratio"] else "–",
                     *([spread(p["stack_async_div_7"])] if any_async else []), error_text(p, runs)])
    out.append(table(["store", "clients", "wudan loops/s", "bare GET ÷ 7", "raw SQL loops/s", "limit",
                      "wudan ÷ limit", "stack floor ÷ 7", "floor ÷ limit", *(["async floor ÷ 7"] if any_async else []),
                      "errors"], rows))
    limited = Counter(x for p in points for x in p["limited_by"])
    out.append(f"\nloops/s = steps (requests, transactions) finished in the window ÷ 7 ÷ seconds. "
               f"limit = min(bare GET ÷ 7, raw SQL) within each round (set by: "
               + ", ".join(f"{k} {v}×" for k, v in limited.items()) + "). "
               "bare GET = GET /ping-sync (sync def) req/s, the same for both stores. "
               "stack floor = POST /move of stack_app.py (FastAPI + pydantic + PyJWT + SQLAlchemy Core, "
               "a read, a compare-and-set UPDATE and two INSERTs in one transaction) req/s: what the "
               "libraries cost for a move with nothing of wudan's; not part of the limit.")
    total = sum(p["errors"]["wudan"] + p["errors"]["bare"] + p["errors"]["raw"] + p["errors"]["stack"]
                for p in points)
    out.append("\n**This run had errors (see the last column and the JSON); its numbers are suspect.**" if total
               else "\nNo 5xx, non-2xx, transport or raw SQL errors in any run.")
    at = min(clients, key=lambda c: (abs(c - 16), -c))
    for store in dict.fromkeys(p["store"] for p in points):
        p = next(x for x in points if x["store"] == store and x["clients"] == at)
        out.append(f"\n{store}, {at} clients: latency of each step, ms, p50 / p99 (median over rounds); "
                   f"wudan client side (server side p50 in brackets), raw SQL per transaction\n")
        rows = []
        for s in STEPS:
            w, r = p["wudan_steps"][s], p["raw_steps"][s]
            rows.append([s, f"{fmt(w['p50_ms'])} / {fmt(w['p99_ms'])} ({fmt(w['server_p50_ms'])})",
                         f"{fmt(r['p50_ms'], 2)} / {fmt(r['p99_ms'], 2)}"])
        out.append(table(["step", "wudan p50 / p99 (server p50)", "raw SQL p50 / p99"], rows))
        f = p["stack_move"]
        if f["p50_ms"] is not None:
            out.append(f"\nstack floor, POST /move: {fmt(f['p50_ms'])} / {fmt(f['p99_ms'])} ms "
                       f"(server p50 {fmt(f['server_p50_ms'])})")
        f = p["stack_async_move"]
        if f["p50_ms"] is not None:
            out.append(f"\nasync stack floor, POST /move: {fmt(f['p50_ms'])} / {fmt(f['p99_ms'])} ms "
                       f"(server p50 {fmt(f['server_p50_ms'])})")
    return "\n".join(out)


# =========================================================================== main


def postgres_headroom(clients: int, workers: int, floors: int) -> dict:
    """Warn when the raw SQL threads and wudan's pools may not all get a PostgreSQL connection."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(common.POSTGRES_ADMIN_URL).set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        with psycopg.connect(url, connect_timeout=10) as c:
            limit = int(c.execute("SHOW max_connections").fetchone()[0])
            reserved = int(c.execute("SHOW superuser_reserved_connections").fetchone()[0])
            used = int(c.execute("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'")
                       .fetchone()[0])
    except Exception as exc:  # noqa: BLE001 — the run itself will say what is wrong
        log(f"could not ask PostgreSQL about its connections: {exc}")
        return {}
    # raw SQL: one per thread; wudan and each floor server: a pool of 10 (+ 10 overflow) per
    # worker, of which 10 stay open between measurements; ours: a few
    need = clients + 10 * workers * (1 + floors) + 4
    free = limit - reserved - used
    if need > free:
        log(f"warning: PostgreSQL allows {limit} connections ({reserved} reserved), {used} are in use by others; "
            f"this run may need {need}: expect 'too many clients' errors at {clients} clients")
    return {"max_connections": limit, "reserved": reserved, "in_use_at_start": used, "may_need": need}


def start_profile(server, out: Path, seconds: float) -> subprocess.Popen:
    """py-spy sampling the server's processes (with its worker processes) for `seconds`, collapsed stacks to `out`."""
    out.parent.mkdir(parents=True, exist_ok=True)
    spy = Path(sys.executable).with_name("py-spy")
    cmd = [str(spy), "record", "--pid", str(server.pids()[0]), "--subprocesses", "--rate", "250",
           "--duration", str(int(seconds + 0.999)), "--format", "raw", "--nonblocking", "-o", str(out)]
    log(f"profiling: {' '.join(cmd[1:])}")
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main(argv: list[str] | None = None) -> int:
    from common import Server, bound_run_time, fresh_database, machine, seed_demo, write_json
    from loop_http import sign_in_cast
    from sqlalchemy.engine import make_url

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", default="1,16,64", help="simulated clients / threads, comma separated "
                                                              "(default 1,16,64)")
    parser.add_argument("--seconds", type=float, default=10, help="measured seconds of each configuration in each "
                                                                  "round (default 10)")
    parser.add_argument("--warmup", type=float, default=2, help="unmeasured seconds before each measurement "
                                                                "(default 2)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, each running every configuration once, "
                                                              "round-robin; medians over them (default 3)")
    parser.add_argument("--stores", default="sqlite,postgres", help="sqlite, postgres or both (default both)")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes of the wudan and bare "
                                                               "servers (default 1); raw SQL stays threads in one "
                                                               "process")
    parser.add_argument("--json", help="write every run's numbers here")
    parser.add_argument("--profile", metavar="DIR", help="in the first round, sample each wudan server with py-spy "
                                                       "during its measurements and write the stacks (collapsed, "
                                                       "one file per store and client count) to DIR; read them "
                                                       "with bench/spy_top.py")
    parser.add_argument("--no-floor", dest="floor", action="store_false",
                        help="leave out the stack's floor (stack_app.py), measured by default")
    parser.add_argument("--floor-async", action="store_true",
                        help="also measure the floor's async variant (STACK_ASYNC=1: SQLAlchemy asyncio on "
                             "asyncpg / aiosqlite, `pip install -e '.[bench]'`), shown as the store + '-async'")
    parser.add_argument("--max-seconds", type=float, default=1800, help="stop (cleaning up) after this long "
                                                                        "(default 1800)")
    args = parser.parse_args(argv)
    clients = [int(c) for c in args.clients.split(",")]
    stores = [s.strip() for s in args.stores.split(",") if s.strip()]
    if not clients or min(clients) < 1 or set(stores) - {"sqlite", "postgres"} or not stores or args.rounds < 1:
        parser.error("--clients are positive integers, --stores sqlite and/or postgres, --rounds ≥ 1")
    bound_run_time(args.max_seconds)
    per_config = args.warmup + args.seconds + 0.5
    configs = (2 + args.floor + args.floor_async) * len(stores) + 1
    estimate = args.rounds * len(clients) * configs * per_config + 30 * len(stores) + 20
    log(f"{args.rounds} round(s) × {len(clients)} client counts × {configs} configurations × "
        f"~{per_config:.1f} s + set-up: about {estimate / 60:.1f} min")
    if estimate > args.max_seconds:
        log(f"warning: that is more than --max-seconds {args.max_seconds:g}")
    results: dict = {"machine": machine(), "args": vars(args), "runs": []}
    log(f"machine: {results['machine']}")
    if "postgres" in stores:
        results["postgres_connections"] = postgres_headroom(max(clients), args.workers, args.floor + args.floor_async)
    from infra.images import solid_png

    png = solid_png()
    runs: list[dict] = results["runs"]
    servers: dict[str, Server] = {}
    with contextlib.ExitStack() as stack:
        wudan: dict[str, tuple] = {}
        raw: dict[str, RawSetup] = {}
        floor: dict[str, Server] = {}
        for store in stores:
            fresh = stack.enter_context(fresh_database(store, "truewudan"))
            seed_demo(fresh)
            server = stack.enter_context(Server(
                "common:make_wudan_app", workers=args.workers, cwd=fresh.data_dir,
                env={**fresh.env, "PHOTO_UNATTACHED_MAX": "1000000"}))
            servers[f"wudan-{store}"] = server
            parts, tokens, categories = sign_in_cast(server.base, max(clients))
            log(f"{store}: signed in {len(tokens)} people for {max(clients)} clients")
            wudan[store] = (server, parts, tokens, categories)
            fresh_raw = stack.enter_context(fresh_database(store, "trueraw"))
            seed_demo(fresh_raw)
            url = make_url(fresh_raw.url)
            backend = (SqliteStore(url.database) if store == "sqlite" else
                       PostgresStore(url.set(drivername="postgresql").render_as_string(hide_password=False)))
            setup = raw_prepare(backend, fresh_raw.data_dir / "raw-photos", max(clients))
            raw[store] = setup
            if args.floor:
                import stack_app

                fresh_stack = stack.enter_context(fresh_database(store, "truestack"))
                stack_app.prepare(fresh_stack.url, max(clients))
                floor[store] = stack.enter_context(Server(
                    "common:make_stack_app", workers=args.workers, cwd=fresh_stack.data_dir, env=fresh_stack.env,
                    health="/ping"))
                servers[f"stack-{store}"] = floor[store]
            if args.floor_async:
                import stack_app

                fresh_stack = stack.enter_context(fresh_database(store, "truestackasync"))
                stack_app.prepare(fresh_stack.url, max(clients))
                floor[f"{store}-async"] = stack.enter_context(Server(
                    "common:make_stack_app", workers=args.workers, cwd=fresh_stack.data_dir,
                    env={**fresh_stack.env, "STACK_ASYNC": "1"}, health="/ping"))
                servers[f"stack-{store}-async"] = floor[f"{store}-async"]
        bare = stack.enter_context(Server("common:make_ping_app", workers=args.workers, health="/ping"))
        servers["bare"] = bare

        checks = {}
        for store, (server, parts, tokens, categories) in wudan.items():
            checks[f"wudan-{store}"] = common.run_async(
                _check_wudan(server.port, server.base, parts[0], tokens, categories, png))
        checks["bare"] = common.run_async(_check_ping(bare.port))
        for store, server in floor.items():
            checks[f"stack-{store}"] = common.run_async(_check_stack(server.port))
        results["client_check"] = checks
        for name, ch in checks.items():
            log(f"client check on {name}: {'ok' if ch['ok'] else 'FAILED'} "
                f"({ch['requests']} requests on {ch['connects']} connection(s)) {'; '.join(ch['problems'])}")
        if not all(ch["ok"] for ch in checks.values()):
            write_json(args.json, results)
            log("the HTTP client does not read these servers right; not measuring")
            return 2

        for r in range(args.rounds):
            for c in clients:
                for store in stores:
                    server, parts, tokens, categories = wudan[store]
                    spy = (start_profile(server, Path(args.profile) / f"wudan-{store}-{c}.txt",
                                         args.warmup + args.seconds) if args.profile and r == 0 else None)
                    m = measure_http(server.port, c, args.warmup, args.seconds, STEPS,
                                     lambda i, conn: WudanLoop(conn, i, parts[i], tokens, categories, png))
                    runs.append({"kind": "wudan", "store": store, "round": r, **m})
                    if spy is not None:
                        spy.wait(timeout=60)
                    log(f"round {r + 1}/{args.rounds} clients={c} wudan {store}: {m['loops_per_s']:.1f} loops/s "
                        f"({m['whole_loops_per_s']:.1f} whole), {m['connects']} connects, errors "
                        f"{http_error_count(m)}")
                m = measure_http(bare.port, c, args.warmup, args.seconds, ["ping"], lambda i, conn: PingLoop(conn))
                runs.append({"kind": "bare", "store": None, "round": r, **m})
                log(f"round {r + 1}/{args.rounds} clients={c} bare GET /ping-sync: {m['requests_per_s']:,.0f} req/s "
                    f"(÷7 = {m['requests_per_s'] / REQUESTS_PER_LOOP:.1f}), {m['connects']} connects, errors "
                    f"{http_error_count(m)}")
                for store in stores:
                    m = measure_raw(raw[store], c, args.warmup, args.seconds)
                    runs.append({"kind": "raw", "store": store, "round": r, **m})
                    log(f"round {r + 1}/{args.rounds} clients={c} raw SQL {store}: {m['loops_per_s']:.1f} loops/s "
                        f"({m['whole_loops_per_s']:.1f} whole), errors {raw_error_count(m)}"
                        + (f" e.g. {m['errors']['examples'][0]}" if m['errors']['examples'] else ""))
                for store, server in floor.items():
                    m = measure_http(server.port, c, args.warmup, args.seconds, ["move"],
                                     lambda i, conn: StackMove(conn, i))
                    runs.append({"kind": "stack", "store": store, "round": r, **m})
                    log(f"round {r + 1}/{args.rounds} clients={c} stack floor {store}: "
                        f"{m['requests_per_s']:,.0f} req/s (÷7 = {m['requests_per_s'] / REQUESTS_PER_LOOP:.1f}), "
                        f"errors {http_error_count(m)}")
    results["server_log_errors"] = {name: s.errors[-20:] for name, s in servers.items()}
    points = summarize(runs, stores, clients, args.rounds)
    results["points"] = points
    print(report(points, runs, args, clients))
    server_errors = {name: len(s.errors) for name, s in servers.items() if s.errors}
    if server_errors:
        print(f"\n**Server logs had error lines: {server_errors}** (in the JSON).")
    write_json(args.json, results)
    bad = sum(p["errors"]["wudan"] + p["errors"]["bare"] + p["errors"]["raw"] + p["errors"]["stack"]
              for p in points)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
