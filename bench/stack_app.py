"""The stack's floor: one move of an order through FastAPI, pydantic, PyJWT and SQLAlchemy Core, and nothing else.

This is what wudan's own libraries cost for a move when everything of wudan is taken
away: no middleware, no dependencies but the token check, no ORM session, no rules. It
is measured beside wudan (bench/true_limit.py) to tell the framework's share of a
request from wudan's own.

POST /move/{order_id} with `Authorization: Bearer <HS256 JWT>` and a JSON body
{"note": "..."} runs, in one transaction:

  SELECT the order (the authorisation read: its state, version and grid)
  UPDATE orders SET state, version = version + 1 WHERE id AND version   (compare and set)
  INSERT the event, RETURNING its id
  INSERT the outbox row of the notice

and answers the order's new state as a pydantic model. The tables are its own (made by
`prepare` before the server starts, one order per client), with an index on each foreign key
as wudan has; the SQL is the minimal SQL a step needs, not wudan's statements.

On SQLite (WAL, synchronous=NORMAL, busy_timeout, BEGIN IMMEDIATE) the writers of the
process take turns on a lock, as wudan's do, so that none spins on SQLITE_BUSY.

With STACK_ASYNC=1 the same move runs as an `async def` endpoint on SQLAlchemy's asyncio
extension (asyncpg on PostgreSQL, aiosqlite on SQLite; `pip install -e '.[bench]'`), on
the event loop with no thread hand-off: the async path, measured beside the sync one.

    stack_app.prepare(url, clients); uvicorn --factory common:make_stack_app   (DATABASE_URL from the environment)
"""

from __future__ import annotations

import contextlib
import os
import threading
from datetime import UTC, datetime
from typing import Annotated

import jwt
from fastapi import Depends, FastAPI, Header, HTTPException
from pydantic import BaseModel, Field
from sqlalchemy import (
    Column, DateTime, ForeignKey, Integer, MetaData, String, Table, bindparam, create_engine, event, insert, select,
    update,
)

SECRET = "stack-floor-secret-0123456789abcdef"  # the bench signs its own tokens with it
STATES = ("submitted", "claimed", "dispatched", "accepted", "completed", "closed")

metadata = MetaData()
orders = Table(
    "floor_orders", metadata,
    Column("id", Integer, primary_key=True),
    Column("grid_id", Integer, nullable=False, index=True),
    Column("state", String(20), nullable=False, index=True),
    Column("version", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
events = Table(
    "floor_events", metadata,
    Column("id", Integer, primary_key=True),
    Column("order_id", ForeignKey("floor_orders.id"), nullable=False, index=True),
    Column("action", String(20), nullable=False),
    Column("from_state", String(20), nullable=False),
    Column("to_state", String(20), nullable=False),
    Column("actor_id", Integer, nullable=False),
    Column("note", String(500), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)
outbox = Table(
    "floor_outbox", metadata,
    Column("id", Integer, primary_key=True),
    Column("event_id", ForeignKey("floor_events.id"), nullable=False, index=True),
    Column("audience_id", Integer, nullable=False),
    Column("summary", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=True, index=True),
)


def _engine(url: str):
    if url.startswith("sqlite"):
        engine = create_engine(url, pool_size=10, max_overflow=10, connect_args={"check_same_thread": False,
                                                                                  "isolation_level": None})

        @event.listens_for(engine, "connect")
        def pragmas(dbapi, _record):
            for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=5000", "foreign_keys=ON"):
                dbapi.execute(f"PRAGMA {pragma}")

        @event.listens_for(engine, "begin")
        def begin_immediate(conn):
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine, threading.Lock()
    # The pool is sized as wudan's (10 + 10) and recycles rather than pinging on every checkout.
    return create_engine(url, pool_size=10, max_overflow=10, pool_recycle=1800), contextlib.nullcontext()


# Made by the lifespan, in the server's process, from DATABASE_URL.
engine = None
writer_turn = contextlib.nullcontext()


class MoveRequest(BaseModel):
    note: str = Field(min_length=1, max_length=500)


class MovedOrder(BaseModel):
    id: int
    state: str
    version: int
    grid_id: int
    event_id: int
    updated_at: datetime


async def actor(authorization: Annotated[str, Header()]) -> int:
    """The caller, from the token: on the event loop (no I/O), not a thread hand-off of its own."""
    scheme, _, token = authorization.partition(" ")
    try:
        claims = jwt.decode(token, SECRET, algorithms=["HS256"], options={"require": ["exp", "sub"]})
    except jwt.PyJWTError:
        raise HTTPException(401, "bad token") from None
    if scheme != "Bearer":
        raise HTTPException(401, "bad token")
    return int(claims["sub"])


def prepare(url: str, count: int) -> None:
    """The tables and `count` orders, made once before the server starts (its workers only use them)."""
    made = create_engine(url)
    metadata.create_all(made)
    now = datetime.now(UTC)
    with made.begin() as c:
        c.execute(insert(orders), [{"id": i, "grid_id": i % 8 + 1, "state": STATES[0], "version": 0,
                                    "updated_at": now} for i in range(1, count + 1)])
    made.dispose()


ASYNC = os.environ.get("STACK_ASYNC") == "1"


def _async_engine(url: str):
    import asyncio

    from sqlalchemy.engine import make_url
    from sqlalchemy.ext.asyncio import create_async_engine

    url = make_url(url)
    if url.get_backend_name() == "sqlite":
        made = create_async_engine(url.set(drivername="sqlite+aiosqlite"), pool_size=10, max_overflow=10,
                                   connect_args={"isolation_level": None})

        @event.listens_for(made.sync_engine, "connect")
        def pragmas(dbapi, _record):
            cursor = dbapi.cursor()
            for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=5000", "foreign_keys=ON"):
                cursor.execute(f"PRAGMA {pragma}")
            cursor.close()

        @event.listens_for(made.sync_engine, "begin")
        def begin_immediate(conn):
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return made, asyncio.Lock()
    return (create_async_engine(url.set(drivername="postgresql+asyncpg"), pool_size=10, max_overflow=10,
                                pool_recycle=1800), contextlib.nullcontext())


@contextlib.asynccontextmanager
async def lifespan(_app):
    global engine, writer_turn
    if ASYNC:
        engine, writer_turn = _async_engine(os.environ["DATABASE_URL"])
        yield
        await engine.dispose()
    else:
        engine, writer_turn = _engine(os.environ["DATABASE_URL"])
        yield
        engine.dispose()


app = FastAPI(title="stack floor", lifespan=lifespan)


@app.get("/ping")
def ping() -> dict[str, bool]:
    return {"ok": True}


# Built once, with bound values: each request only binds and runs them (SQLAlchemy's
# compiled cache then skips compiling, but not the building of a statement per call).
READ = select(orders.c.state, orders.c.version, orders.c.grid_id).where(orders.c.id == bindparam("oid"))
MOVE = (update(orders).where(orders.c.id == bindparam("oid"), orders.c.version == bindparam("seen"))
        .values(state=bindparam("to"), version=bindparam("seen") + 1, updated_at=bindparam("now")))
EVENT = insert(events).values(
    order_id=bindparam("oid"), action="move", from_state=bindparam("from_"), to_state=bindparam("to"),
    actor_id=bindparam("actor"), note=bindparam("note"), at=bindparam("now")).returning(events.c.id)
NOTICE = insert(outbox).values(event_id=bindparam("event"), audience_id=bindparam("actor"),
                               summary=bindparam("summary"), created_at=bindparam("now"))


def _moved(order_id: int, row, actor_id: int, now: datetime) -> tuple[str, int, int, dict, dict]:
    if row is None:
        raise HTTPException(404, "no such order")
    state, version, grid_id = row
    to_state = STATES[(STATES.index(state) + 1) % len(STATES)]
    return to_state, version, grid_id, {"oid": order_id, "seen": version, "to": to_state, "now": now}, {
        "oid": order_id, "from_": state, "to": to_state, "actor": actor_id, "now": now}


def move(order_id: int, body: MoveRequest, actor_id: Annotated[int, Depends(actor)]) -> MovedOrder:
    now = datetime.now(UTC)
    with writer_turn, engine.begin() as c:
        to_state, version, grid_id, cas, event_row = _moved(
            order_id, c.execute(READ, {"oid": order_id}).one_or_none(), actor_id, now)
        if c.execute(MOVE, cas).rowcount != 1:
            raise HTTPException(409, "moved meanwhile")
        event_id = c.execute(EVENT, {**event_row, "note": body.note}).scalar_one()
        c.execute(NOTICE, {"event": event_id, "actor": actor_id, "summary": f"order {order_id} is {to_state}",
                           "now": now})
    return MovedOrder(id=order_id, state=to_state, version=version + 1, grid_id=grid_id, event_id=event_id,
                      updated_at=now)


async def move_async(order_id: int, body: MoveRequest, actor_id: Annotated[int, Depends(actor)]) -> MovedOrder:
    now = datetime.now(UTC)
    async with writer_turn, engine.begin() as c:
        to_state, version, grid_id, cas, event_row = _moved(
            order_id, (await c.execute(READ, {"oid": order_id})).one_or_none(), actor_id, now)
        if (await c.execute(MOVE, cas)).rowcount != 1:
            raise HTTPException(409, "moved meanwhile")
        event_id = (await c.execute(EVENT, {**event_row, "note": body.note})).scalar_one()
        await c.execute(NOTICE, {"event": event_id, "actor": actor_id,
                                 "summary": f"order {order_id} is {to_state}", "now": now})
    return MovedOrder(id=order_id, state=to_state, version=version + 1, grid_id=grid_id, event_id=event_id,
                      updated_at=now)


app.post("/move/{order_id}")(move_async if ASYNC else move)
