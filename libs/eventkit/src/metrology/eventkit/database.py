"""Engines and sessions for the embedded default (SQLite) and production (PostgreSQL)."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import sqlalchemy.ext.asyncio as sa_asyncio
from sqlalchemy import MetaData, event, exc, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

log = logging.getLogger(__name__)

SessionFactory = async_sessionmaker[AsyncSession]
UNAVAILABLE_SQLSTATE_CLASSES = ("08", "53", "57")  # connection exception, insufficient resources, operator intervention

DatabaseSession = AsyncConnection | AsyncSession
"""Where a transaction's Core statements run: a command's unit of work holds an `AsyncConnection` (half the
per-transaction cost of a session, and commands use no ORM), a consumer's batch an `AsyncSession`. Both execute
the same statements; `dialect_of` and `connection_of` cover what they spell differently."""


def dialect_of(session: DatabaseSession) -> str:
    """The database's dialect name ("postgresql", "sqlite")."""
    if isinstance(session, AsyncConnection):
        return session.dialect.name
    return session.get_bind().dialect.name


async def connection_of(session: DatabaseSession) -> AsyncConnection:
    """The connection the transaction runs on."""
    if isinstance(session, AsyncConnection):
        return session
    return await session.connection()


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine for `url`; plain `postgresql://` and `sqlite://` URLs get their async drivers. A pool's
    `pool_size` and `max_overflow` apply to PostgreSQL; SQLite keeps the pool SQLAlchemy gives its files."""
    url = async_url(url)
    if url.startswith("sqlite"):
        kwargs.pop("pool_size", None)
        kwargs.pop("max_overflow", None)
        engine = sa_asyncio.create_async_engine(url, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin_immediate)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    ping_idle = "pool_pre_ping" not in kwargs
    # Looked up on the module at call time, so that tracing instrumentation that wraps it applies.
    engine = sa_asyncio.create_async_engine(url, **kwargs)
    if ping_idle:
        event.listen(engine.sync_engine.pool, "checkin", _note_checkin)
        event.listen(engine.sync_engine.pool, "checkout", _ping_if_idle)
    return engine


def plan_each_execution(engine: AsyncEngine) -> None:
    """Have PostgreSQL plan each execution of the engine's statements for its parameters' values.

    The driver prepares every statement, and after five executions PostgreSQL may switch to a generic plan, made
    without the values. For a read over a date range that plan guesses a few rows: an index scan that fetches
    every row of a million-event read model one by one (470 ms where the plan for the values takes 90 ms). A
    service whose statements are such reads (reporting) plans them each time: a millisecond at most."""
    if engine.dialect.name == "postgresql":
        event.listen(engine.sync_engine, "connect", _force_custom_plans)


def _force_custom_plans(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.run_async(lambda connection: connection.execute("SET plan_cache_mode = force_custom_plan"))


PING_AFTER_IDLE_SECONDS = 2.0


def _note_checkin(_dbapi_connection: Any, record: Any) -> None:
    record.info["checked_in_at"] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """A pre-ping only for a connection that sat idle (where a restarted or lost server shows): a busy pool
    reuses its connections without the extra round trips of a ping per checkout. A lost connection found
    in use is invalidated by SQLAlchemy with the whole pool, and the request fails once (503, Retry-After)."""
    idle_since = record.info.get("checked_in_at")
    if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
        return
    try:
        dbapi_connection.ping()
    except Exception as error:
        raise exc.DisconnectionError(f"connection lost while idle: {error}") from error


def async_url(url: str) -> str:
    parsed = make_url(url)
    drivers = {"postgresql": "postgresql+asyncpg", "postgres": "postgresql+asyncpg", "sqlite": "sqlite+aiosqlite"}
    if parsed.drivername in drivers:
        parsed = parsed.set(drivername=drivers[parsed.drivername])
    return parsed.render_as_string(hide_password=False)


def is_unavailable(error: BaseException) -> bool:
    """The server is not reachable, starting, restarting or shutting down: trying again later may succeed. The
    driver's errors come wrapped by SQLAlchemy or, while a connection is being opened, as they are."""
    if isinstance(error, OSError):
        return True
    cause = error.orig if isinstance(error, exc.DBAPIError) else error
    if str(getattr(cause, "sqlstate", None) or "")[:2] in UNAVAILABLE_SQLSTATE_CLASSES:
        return True
    if not isinstance(error, exc.DBAPIError):
        return False
    return error.connection_invalidated or isinstance(cause, OSError) or isinstance(error.__cause__, OSError)


class DatabaseUnavailableError(ConnectionError):
    """The database did not answer within the wait (what it last said is the cause)."""


class DatabaseRefusedError(Exception):
    """The database answered, and refused the connection: no such database, wrong credentials, a file that cannot be
    opened. Waiting does not help."""


async def wait_for_database(engine: AsyncEngine, seconds: float) -> None:
    """Return once the database answers, trying again for up to `seconds` while it is unavailable (a server
    restarting as the service starts); DatabaseRefusedError at once for any other error, DatabaseUnavailableError
    when the wait runs out."""
    deadline, delay = time.monotonic() + seconds, 0.1
    while True:
        try:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
            return
        except Exception as error:
            remaining = deadline - time.monotonic()
            reason = f"{type(error).__name__}: {error}".splitlines()[0]
            if not is_unavailable(error):
                raise DatabaseRefusedError(f"the database refused the connection ({reason})") from error
            if remaining <= 0:
                raise DatabaseUnavailableError(
                    f"the database did not answer within {seconds:g} s ({reason})"
                ) from error
            log.warning("the database is not available yet (%s); trying again in %.1f s", error, delay)
        await asyncio.sleep(min(delay, remaining))
        delay = min(delay * 2, 2.0)


async def statements_alone(connection: AsyncConnection) -> AsyncConnection:
    """Have a fresh connection run each statement on its own (autocommit) on PostgreSQL, for reads that need no
    transaction around them: such a read is one round trip, with no BEGIN before it and no ROLLBACK when the
    connection goes back to the pool (its isolation level is restored then, with no round trip). SQLite's
    connections are left as they are: their transactions are opened by the begin listener above."""
    if connection.dialect.name == "postgresql":
        await connection.execution_options(isolation_level="AUTOCOMMIT")
    return connection


def is_postgres(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "postgresql"


def session_factory(engine: AsyncEngine) -> SessionFactory:
    return async_sessionmaker(engine, expire_on_commit=False)


SCHEMA_LOCK = 7_406_001  # pg advisory lock key: one schema change at a time per database


async def create_schema(engine: AsyncEngine, *metadatas: MetaData) -> None:
    """Create missing tables from the models; safe when several processes start at once (a lock on PostgreSQL).

    For tests and benchmarks that need tables fast. Services build their schema with migrations instead
    (`metrology.servicekit.schema_migrations`, under the same lock), which also bring older databases up to date.
    """
    async with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK})
        for metadata in metadatas:
            await connection.run_sync(metadata.create_all)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the driver, open transactions, so that they can be opened IMMEDIATE below.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin_immediate(connection: Any) -> None:
    # A deferred transaction that reads and then writes fails at once with SQLITE_BUSY when another
    # writer got in between; taking the write lock up front makes writers queue on busy_timeout instead.
    connection.exec_driver_sql("BEGIN IMMEDIATE")
