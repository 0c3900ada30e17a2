"""A unit of work: one transaction in which a command reads streams, appends events and updates its views."""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from metrology.eventkit.database import DatabaseSession
from metrology.eventkit.envelope import Envelope, EventContext
from metrology.eventkit.events import DomainEvent, EventRegistry
from metrology.eventkit.relay import CommitSignal
from metrology.eventkit.store import EventStore


class UnitOfWork:
    """Commits state, outgoing events and tracking together; wakes the relay after commit.

    Keep the first write of the transaction an event append (read first, then `append`, then other writes):
    the store's gap-safe reading on PostgreSQL relies on it.

    Its `session` is a pooled `AsyncConnection` in a transaction: commands run Core statements only, and a
    connection begins and commits in half the time an `AsyncSession` takes (`bench/eventkit_appends.py`).
    """

    def __init__(
        self,
        engine: AsyncEngine | None,
        store: EventStore,
        registry: EventRegistry,
        context: EventContext,
        signal: CommitSignal | None = None,
    ) -> None:
        self._engine = engine
        self.store = store
        self.registry = registry
        self.context = context
        self._signal = signal
        self._session: DatabaseSession | None = None
        self.appended: list[Envelope] = []

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
        if self._engine is None:
            raise RuntimeError("a unit of work joining another transaction is committed by its owner")
        connection = await self._engine.connect()
        try:
            await connection.begin()
        except BaseException:
            await connection.close()
            raise
        self._session = connection
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        session, self._session = self.session, None
        assert isinstance(session, AsyncConnection)
        try:
            if exc_type is None:
                await session.commit()
                if self.appended and self._signal:
                    self._signal.notify()
            else:
                await session.rollback()
        finally:
            await session.close()

    async def history(self, stream_id: str) -> list[DomainEvent]:
        """The stream's events, upcast to their current versions; another tenant's stream reads as empty, so a
        command never loads (or learns of) a record of another province by its id."""
        envelopes = await self.store.read_stream(self.session, stream_id)
        if envelopes and envelopes[0].tenant != self.context.tenant:
            return []
        return [envelope.event(self.registry) for envelope in envelopes]

    async def append(self, stream_id: str, expected_version: int | None, events: Sequence[DomainEvent]) -> None:
        self.appended += await self.store.append(self.session, stream_id, expected_version, events, self.context)
