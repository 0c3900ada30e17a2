"""Projections: fold events into a read model and record what was applied in the same transaction.

Each event is applied at most once per projection (tracked by event id, which survives the relay re-sending a
batch and the broker redelivering after a crash), and the consumer offset is committed only after the read
model and its tracking rows are. Records that cannot be read (bad envelope, unknown version, data that does
not fit its model) go to a dead-letter topic with the reason, and the projection goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from metrology.eventkit.database import SessionFactory
from metrology.eventkit.envelope import Envelope
from metrology.eventkit.events import DomainEvent, EventParseError, EventRegistry
from metrology.eventkit.store import metadata
from metrology.eventkit.tracing import span_continuing

log = logging.getLogger(__name__)

processed_events = sa.Table(
    "processed_events",
    metadata,
    sa.Column("consumer", sa.String(100), primary_key=True),
    sa.Column("event_id", sa.String(36), primary_key=True),
)


class Projection(Protocol):
    """A read model (or a saga) fed by events. `apply` runs inside the projector's transaction."""

    name: str
    registry: EventRegistry

    async def apply(self, session: AsyncSession, envelope: Envelope, event: DomainEvent) -> None: ...

    async def reset(self, session: AsyncSession) -> None: ...


class Record(Protocol):
    """What the runner needs of a Kafka record (aiokafka's ConsumerRecord has it all)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes]]


@dataclass(frozen=True, slots=True)
class DeadLetter:
    record: Record
    reason: str


class DeadLetterSink(Protocol):
    async def send(self, letters: Sequence[DeadLetter]) -> None: ...


@dataclass(slots=True)
class BatchResult:
    applied: int = 0
    duplicates: int = 0
    ignored: int = 0
    dead_letters: list[DeadLetter] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Readable:
    envelope: Envelope
    event: DomainEvent


class ProjectorRunner:
    def __init__(self, sessions: SessionFactory, projection: Projection, dead_letters: DeadLetterSink) -> None:
        self.sessions = sessions
        self.projection = projection
        self.dead_letters = dead_letters

    async def handle(self, records: Sequence[Record]) -> BatchResult:
        """Apply a batch in one transaction; send what cannot be read to the dead-letter topic."""
        result = BatchResult()
        readable = self._read(records, result)
        async with self.sessions.begin() as session:
            fresh = await self._unseen(session, readable)
            result.duplicates = len(readable) - len(fresh)
            for item in fresh:
                with span_continuing(
                    f"project {item.envelope.type}", item.envelope.traceparent, consumer=self.projection.name
                ):
                    await self.projection.apply(session, item.envelope, item.event)
            if fresh:
                rows = [{"consumer": self.projection.name, "event_id": item.envelope.id} for item in fresh]
                await session.execute(sa.insert(processed_events), rows)
                after_batch = getattr(self.projection, "after_batch", None)
                if after_batch is not None:  # optional: a step after each batch, in the same transaction
                    await after_batch(session)
            result.applied = len(fresh)
        if result.dead_letters:
            await self.dead_letters.send(result.dead_letters)
        return result

    async def reset(self) -> None:
        """Empty the read model and forget what was applied, ready for a replay from the start."""
        async with self.sessions.begin() as session:
            await self.projection.reset(session)
            await session.execute(
                sa.delete(processed_events).where(processed_events.c.consumer == self.projection.name)
            )

    def _read(self, records: Sequence[Record], result: BatchResult) -> list[_Readable]:
        readable = []
        for record in records:
            try:
                item = self._read_one(record)
            except (EventParseError, ValueError, KeyError, TypeError) as error:
                log.warning("dead-lettering %s[%s]@%s: %s", record.topic, record.partition, record.offset, error)
                result.dead_letters.append(DeadLetter(record, f"{type(error).__name__}: {error}"))
                continue
            if item is None:
                result.ignored += 1
            else:
                readable.append(item)
        return readable

    def _read_one(self, record: Record) -> _Readable | None:
        if not record.value:
            raise ValueError("empty record")
        envelope = Envelope.from_json(record.value)
        if not self.projection.registry.knows(envelope.type):
            return None
        return _Readable(envelope, envelope.event(self.projection.registry))

    async def _unseen(self, session: AsyncSession, items: list[_Readable]) -> list[_Readable]:
        if not items:
            return []
        ids = list({item.envelope.id for item in items})
        seen: set[str] = set()
        for chunk in _chunks(ids, 1000):
            query = sa.select(processed_events.c.event_id).where(
                processed_events.c.consumer == self.projection.name, processed_events.c.event_id.in_(chunk)
            )
            seen.update((await session.execute(query)).scalars())
        fresh = []
        for item in items:
            if item.envelope.id not in seen:
                seen.add(item.envelope.id)
                fresh.append(item)
        return fresh


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
