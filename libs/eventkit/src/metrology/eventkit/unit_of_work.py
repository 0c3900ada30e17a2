"""A unit of work: one transaction in which a command reads streams, appends events and updates its views."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.pool import QueuePool

from metrology.eventkit import database
from metrology.eventkit.database import DatabaseSession
from metrology.eventkit.envelope import Envelope, EventContext
from metrology.eventkit.events import DomainEvent, EventRegistry
from metrology.eventkit.histories import KnownStream, StreamHistories, known_stream
from metrology.eventkit.relay import CommitSignal
from metrology.eventkit.store import EventStore, ViewWrites, forget_transaction, remember_driver, transaction_begun

DEFAULT_KEPT_CONNECTIONS = 8


def kept_within(pool_size: int) -> int:
    """How many connections units of work keep between them out of a pool of `pool_size`: at most half of it, so
    that the relay, the consumers and the reads find one while idle units' connections wait here (they go back only
    when the next unit comes)."""
    return min(DEFAULT_KEPT_CONNECTIONS, pool_size // 2)


@dataclass(slots=True)
class KeptConnection:
    """A connection checked out of the engine's pool for units of work, with its driver-level handles."""

    connection: AsyncConnection
    adapter: Any  # SQLAlchemy's asyncpg adapter (None on SQLite): begins, commits and rolls back the transaction
    driver: Any  # the asyncpg connection (None on SQLite)
    idle_since: float = 0.0


class KeptConnections:
    """The connections of units of work, kept checked out of the engine's pool between one unit and the next.

    A checkout from SQLAlchemy's pool and its return cost a command ~90 µs of CPU under load (greenlet switches,
    the pool's queue, its events and reset): more than the append itself (`bench/eventkit_appends.py`). Here a
    unit of work takes the most recently used idle connection, and gives it back clean (committed or rolled back).

    What the pool would have done stays done: at most `keep` connections wait here; one idle for longer than the
    pool's ping threshold goes back to the pool, whose next checkout pings it (a server restarted meanwhile is
    found there, not by a command); one whose transaction could not end cleanly goes back to the pool to be reset
    or replaced, and the others waiting here go with it (they may have lost their server too). `keep=0` keeps
    none: every unit of work checks out of the pool and returns to it.
    """

    def __init__(self, engine: AsyncEngine, keep: int = DEFAULT_KEPT_CONNECTIONS) -> None:
        self.engine = engine
        self.keep = keep
        self._idle: list[KeptConnection] = []  # most recently given back last

    @property
    def idle(self) -> int:
        return len(self._idle)

    async def take(self) -> KeptConnection:
        await self._release_long_idle()
        if self._idle:
            return self._idle.pop()
        connection = await self.engine.connect()
        try:
            if connection.dialect.name != "postgresql":
                return KeptConnection(connection, None, None)
            raw = await connection.get_raw_connection()
            return KeptConnection(connection, raw.dbapi_connection, raw.driver_connection)
        except BaseException:
            await connection.close()
            raise

    async def give_back(self, kept: KeptConnection) -> None:
        """Keep a connection whose transaction ended cleanly, or return it to the pool when enough wait here, or
        when the pool has none left for anyone else: requests, the relay and reads waiting in the pool's queue
        would otherwise wait there (30 s, then fail) while this one sat idle."""
        if len(self._idle) >= self.keep or not _clean(kept) or not _pool_has_spare(self.engine):
            await _return_to_pool(kept)
            return
        kept.idle_since = time.monotonic()
        self._idle.append(kept)

    async def discard(self, kept: KeptConnection) -> None:
        """A connection whose transaction did not end cleanly: the pool resets or replaces it, and the idle ones."""
        try:
            await _return_to_pool(kept)
        finally:
            await self.close()

    async def close(self) -> None:
        """Return every idle connection to the pool (before the engine is disposed)."""
        idle, self._idle = self._idle, []
        for kept in idle:
            await _return_to_pool(kept)

    async def _release_long_idle(self) -> None:
        threshold = time.monotonic() - database.PING_AFTER_IDLE_SECONDS
        while self._idle and self._idle[0].idle_since <= threshold:
            await _return_to_pool(self._idle.pop(0))


async def _return_to_pool(kept: KeptConnection) -> None:
    """Check the connection in; one whose server went away is invalidated first, so the pool opens a new one."""
    if kept.driver is not None and kept.driver.is_closed():
        await kept.connection.invalidate()
    await kept.connection.close()


def _pool_has_spare(engine: AsyncEngine) -> bool:
    """Whether the pool could hand out a connection now: one checked in, or room to open one."""
    pool = engine.sync_engine.pool
    if not isinstance(pool, QueuePool):
        return True
    room = pool._max_overflow < 0 or pool.overflow() < pool._max_overflow
    return pool.checkedin() > 0 or room


def _clean(kept: KeptConnection) -> bool:
    connection = kept.connection
    if connection.closed or connection.invalidated or connection.in_transaction():
        return False
    return kept.adapter is None or not (kept.adapter._started or kept.driver.is_closed())


class UnitOfWork:
    """Commits state, outgoing events and tracking together; wakes the relay after commit.

    Keep the first write of the transaction an event append (read first, then `append`, then other writes):
    the store's gap-safe reading on PostgreSQL relies on it.

    Its `session` is a kept `AsyncConnection` (see `KeptConnections`): commands run Core statements only. On
    PostgreSQL the transaction is the driver's, begun by the first write or Core statement (a stream's read before
    them runs alone) and committed on the driver when no Core statement ran; SQLAlchemy's own begin and commit
    cost a command as much again as its append. A command whose one write is its events with their view rows
    may have no transaction at all (`append_with_views`).
    """

    def __init__(
        self,
        connections: KeptConnections | AsyncEngine | None,
        store: EventStore,
        registry: EventRegistry,
        context: EventContext,
        signal: CommitSignal | None = None,
        histories: StreamHistories | None = None,
    ) -> None:
        if isinstance(connections, AsyncEngine):
            connections = KeptConnections(connections, keep=0)
        self._connections = connections
        self.store = store
        self.registry = registry
        self.context = context
        self._signal = signal
        self._histories = histories  # None in a unit joining another transaction: it may read its owner's writes
        self._session: DatabaseSession | None = None
        self._kept: KeptConnection | None = None
        self.appended: list[Envelope] = []
        # Set by a caller that writes after the command (an idempotency record): every write in one transaction.
        self.one_transaction = False
        self._stood_alone = False  # a write committed by itself: nothing may be appended after it

    @classmethod
    def joining(
        cls, session: DatabaseSession, store: EventStore, registry: EventRegistry, context: EventContext
    ) -> UnitOfWork:
        """A unit of work inside a transaction that its owner opens and commits (a projector's, for a saga)."""
        unit = cls(None, store, registry, context)
        unit._session = session
        return unit

    @property
    def session(self) -> DatabaseSession:
        if self._session is None:
            raise RuntimeError("the unit of work is not open")
        return self._session

    async def __aenter__(self) -> Self:
        if self._connections is None:
            raise RuntimeError("a unit of work joining another transaction is committed by its owner")
        kept = await self._connections.take()
        connection = kept.connection
        forget_transaction(connection)
        try:
            if kept.adapter is None:
                await connection.begin()  # SQLite: BEGIN IMMEDIATE (database.create_engine)
            else:
                remember_driver(connection, kept.adapter, kept.driver)
        except BaseException:
            await self._connections.discard(kept)
            raise
        self._kept, self._session = kept, connection
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        kept, self._kept, self._session = self._kept, None, None
        assert kept is not None and self._connections is not None
        try:
            await _end(kept, commit=exc_type is None)
        except BaseException:
            await self._connections.discard(kept)
            raise
        if kept.connection.invalidated:  # its server went away mid-command: its `info` would reconnect, blocking
            await self._connections.discard(kept)
            return
        forget_transaction(kept.connection)
        await self._connections.give_back(kept)
        if exc_type is None and self.appended and self._signal:
            self._signal.notify()

    async def history(self, stream_id: str) -> list[DomainEvent]:
        """The stream's events, upcast to their current versions; another tenant's stream reads as empty, so a
        command never loads (or learns of) a record of another province by its id. A stream read lately in this
        process is read from its last known event on (`StreamHistories`)."""
        known = await self._known_stream(stream_id)
        if known is None or known.tenant != self.context.tenant:
            return []
        return list(known.events)

    async def _known_stream(self, stream_id: str) -> KnownStream | None:
        histories = self._histories
        if histories is not None and (kept := histories.get(stream_id)) is not None:
            newer = await self.store.read_stream(self.session, stream_id, from_version=kept.version)
            known = kept.followed_by(newer, self.registry)
            if known is not None:
                histories.keep(stream_id, known)
                return known
            histories.forget(stream_id)
        envelopes = await self.store.read_stream(self.session, stream_id)
        if not envelopes:
            return None
        known = known_stream(envelopes, self.registry)
        if histories is not None:
            histories.keep(stream_id, known)
        return known

    async def append(self, stream_id: str, expected_version: int | None, events: Sequence[DomainEvent]) -> None:
        self._refuse_after_a_write_alone()
        self.appended += await self.store.append(self.session, stream_id, expected_version, events, self.context)

    async def append_with_views(
        self, stream_id: str, expected_version: int, events: Sequence[DomainEvent], writes: ViewWrites
    ) -> bool:
        """PostgreSQL: the events and the caller's view writes in one statement (`EventStore.insert_with_views`),
        as the unit of work's last write. While nothing of the unit has been written, and its writes need not share
        a transaction with a later one (`one_transaction`), the statement stands alone and commits by itself (no
        BEGIN, no COMMIT); otherwise it runs in the unit's transaction. False when the caller's gate stayed empty:
        nothing written."""
        self._refuse_after_a_write_alone()
        alone = self._may_stand_alone()
        envelopes = await self.store.append_with_views(
            self.session, stream_id, expected_version, events, self.context, writes, alone=alone
        )
        if envelopes is None:
            return False
        self.appended += envelopes
        self._stood_alone = alone
        return True

    def _refuse_after_a_write_alone(self) -> None:
        if self._stood_alone:
            raise RuntimeError("a write that stood alone is its unit of work's last: nothing is appended after it")

    def _may_stand_alone(self) -> bool:
        kept = self._kept
        if self.one_transaction or kept is None or kept.adapter is None:
            return False
        return not transaction_begun(kept.adapter, kept.connection)


async def _end(kept: KeptConnection, *, commit: bool) -> None:
    """Commit or roll back: through SQLAlchemy when a Core statement ran (the driver's transaction ends with it),
    on the driver when only statements sent on the driver ran."""
    connection, adapter = kept.connection, kept.adapter
    if connection.in_transaction():
        await (connection.commit() if commit else connection.rollback())
    elif adapter is not None and adapter._started:
        await (adapter._commit_and_discard() if commit else adapter._rollback_and_discard())
