"""Engines and sessions for SQLite (embedded default) and PostgreSQL (production)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from storage.writer_queue import QueuedWriterConnection, queue_for

# Execution option read by the SQLite `begin` hook below.
SQLITE_BEGIN = "wudan_sqlite_begin"
# Session.info key marking a `Database.reader()` session.
READER_SESSION = "wudan.reader"
# How long a SQLite writer waits for its turn, and then for the file's lock (other processes).
BUSY_SECONDS = 30


@dataclass(frozen=True)
class Timeouts:
    """How long a PostgreSQL session of the service may wait, in milliseconds (0: no limit).

    A request must not queue for long behind a stuck transaction: `lock_ms` bounds a wait
    for a row or table lock, `statement_ms` any one statement, `idle_in_transaction_ms` a
    transaction left open by a stuck client, whose locks would hold everyone else up.
    """

    lock_ms: int = 3_000
    statement_ms: int = 30_000
    idle_in_transaction_ms: int = 60_000

    def options(self) -> str:
        return (f"-c lock_timeout={self.lock_ms} -c statement_timeout={self.statement_ms}"
                f" -c idle_in_transaction_session_timeout={self.idle_in_transaction_ms}")


NO_TIMEOUTS = Timeouts(0, 0, 0)


def create_db_engine(url: str, *, pool_size: int = 10, echo: bool = False, timeouts: Timeouts = Timeouts()) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, echo=echo)
    if parsed.drivername in ("postgresql", "postgres"):
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return create_engine(
        # No ping before each checkout (a round trip per request): connections are renewed
        # every half hour instead, and one found dead fails its request (503) and has the
        # pool's older connections replaced, so the next request gets a fresh one.
        url, echo=echo, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=False, pool_recycle=1800,
        # A database that is gone must fail a request fast (503), not hang it.
        pool_timeout=10, connect_args={"connect_timeout": 5, "options": timeouts.options()},
    )


def _sqlite_engine(url: str, *, echo: bool) -> Engine:
    database = make_url(url).database
    on_file = bool(database) and database != ":memory:" and not database.startswith("file:")
    if on_file:
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url, echo=echo,
        connect_args={"check_same_thread": False, "timeout": BUSY_SECONDS, "factory": QueuedWriterConnection},
    )
    # This process's writers take turns (storage/writer_queue.py) instead of napping in
    # SQLite's busy handler; only writers of other processes meet the handler.
    queue = queue_for(database) if on_file else None

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not the driver, emit BEGIN, so that writers can ask for IMMEDIATE.
        dbapi_connection.isolation_level = None
        dbapi_connection.queue, dbapi_connection.wait_seconds = queue, BUSY_SECONDS
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode=WAL",
            f"busy_timeout={BUSY_SECONDS * 1000}",
            "synchronous=NORMAL",
            "foreign_keys=ON",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        # A deferred BEGIN that reads and then writes fails at once with "database is
        # locked" under concurrency; writers take the write lock up front instead.
        options = connection.get_execution_options()
        if options.get("isolation_level") == "AUTOCOMMIT":
            return  # each statement its own transaction (Database.reader)
        if options.get(SQLITE_BEGIN) == "IMMEDIATE":
            connection.connection.dbapi_connection.begin_immediate()
        else:
            connection.exec_driver_sql("BEGIN")

    return engine


class Database:
    """The engine plus its session factories: for reads, for use cases that write, and a reader."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.is_sqlite = engine.dialect.name == "sqlite"
        self._read = sessionmaker(engine, class_=Session, expire_on_commit=False)
        writer = engine.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"}) if self.is_sqlite else engine
        self._write = sessionmaker(writer, class_=Session, expire_on_commit=False)
        self._reader = sessionmaker(engine.execution_options(isolation_level="AUTOCOMMIT"), class_=Session,
                                    expire_on_commit=False)

    def session(self, *, write: bool = False) -> Session:
        return (self._write if write else self._read)()

    def reader(self) -> Session:
        """A session for a read or two outside any transaction: no BEGIN, and no ROLLBACK to
        send when it closes (one round trip fewer on PostgreSQL). Never for writes."""
        session = self._reader()
        session.info[READER_SESSION] = True
        return session

    def dispose(self) -> None:
        self.engine.dispose()
