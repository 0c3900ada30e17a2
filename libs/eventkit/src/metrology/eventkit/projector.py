"""Projections: fold events into a read model and record what was applied in the same transaction.

Each event is applied at most once per projection (tracked by event id, which survives the relay re-sending a
batch and the broker redelivering after a crash), and the consumer offset is committed only after the read
model and its tracking rows are.

What goes wrong, and what happens then:
- a record that cannot be read (bad envelope, attributes of the wrong kind, data that does not fit its model)
  goes to the dead-letter topic with the reason, and the projection goes on;
- a record of a known type in a version newer than this reader knows is *held*: nothing of its partition from
  it onwards is applied, the runner reports the partition as held (the consumer pauses it and stops being
  ready), and an upgraded reader resumes exactly there;
- an error while applying (a bug, a broken invariant) is retried with backoff a bounded number of times, then
  the batch is applied event by event and each event that still fails is dead-lettered with the reason, so the
  partition moves on; `redrive` puts dead letters back after a fix;
- the database or a concurrent append failing (connection lost, a younger append to a stream the projection
  writes) is retried with backoff, then raised so the consumer redelivers the batch: such errors are never a
  reason to dead-letter an event.
"""

from __future__ import annotations

import asyncio
import logging
import operator
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any, NamedTuple, Protocol

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from metrology.eventkit.database import DatabaseSession, SessionFactory
from metrology.eventkit.envelope import Envelope
from metrology.eventkit.events import (
    DomainEvent,
    EventParseError,
    EventRegistry,
    NewerVersionError,
    data_does_not_fit,
)
from metrology.eventkit.store import ConcurrencyError, driver_connection, metadata
from metrology.eventkit.tracing import span_continuing, tracing_enabled

log = logging.getLogger(__name__)

processed_events = sa.Table(
    "processed_events",
    metadata,
    sa.Column("consumer", sa.String(100), primary_key=True),
    sa.Column("event_id", sa.String(36), primary_key=True),
)


projection_progress = sa.Table(
    "projection_progress",
    metadata,
    sa.Column("consumer", sa.String(100), primary_key=True),
    sa.Column("events_applied", sa.BigInteger, nullable=False),
    sa.Column("last_event_id", sa.String(36), nullable=False),
    sa.Column("last_event_recorded_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)


class Projection(Protocol):
    """A read model (or a saga) fed by events. `apply` and `after_batch` run inside the projector's transaction.

    `apply` may only note what an event does (on `session.info`) and leave the writing to `after_batch`, which
    runs once per batch after every `apply`: a projection that writes in `apply` has an empty `after_batch`.
    """

    name: str
    registry: EventRegistry

    async def apply(self, session: AsyncSession, envelope: Envelope, event: DomainEvent) -> None: ...

    async def after_batch(self, session: AsyncSession) -> None: ...

    async def reset(self, session: AsyncSession) -> None: ...


class DerivesAfterReplay(Protocol):
    """A projection that keeps derived rows (aggregates of its facts) and, when replaying the log from the start,
    derives them once from every fact at the end instead of batch by batch: its `after_batch` asks
    `replaying(session)` and leaves them alone. After the last batch, the derivations it names
    (`derivations_after_replay`, each independent of the others) run side by side, each in a transaction of its
    own (one after another on SQLite), then `after_replay` runs in one transaction."""

    def derivations_after_replay(self) -> Sequence[Callable[[AsyncSession], Awaitable[None]]]: ...

    async def after_replay(self, session: AsyncSession) -> None: ...


REPLAYING = "metrology.eventkit.replaying"  # on `session.info` for the batches of a replay


def replaying(session: DatabaseSession) -> bool:
    """Whether this batch is part of a replay from the start (see `DerivesAfterReplay`)."""
    return bool(session.info.get(REPLAYING))


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


@dataclass(frozen=True, slots=True)
class Held:
    """A partition stopped at `offset`: the record there is newer than this reader knows."""

    topic: str
    partition: int
    offset: int
    reason: str


@dataclass(slots=True)
class BatchResult:
    applied: int = 0
    duplicates: int = 0
    ignored: int = 0
    retries: int = 0
    dead_letters: list[DeadLetter] = field(default_factory=list)
    held: list[Held] = field(default_factory=list)

    def merged(self, other: BatchResult) -> BatchResult:
        """What two batches came to together: every count added, every list joined (each field, by its kind)."""
        return BatchResult(**{name: getattr(self, name) + getattr(other, name) for name in _BATCH_RESULT_FIELDS})


_BATCH_RESULT_FIELDS = tuple(each.name for each in fields(BatchResult))


@dataclass(slots=True)
class ProjectorStats:
    """What the runner has done since it started: read by health probes and metrics."""

    records: int = 0  # every record handed to the runner, duplicates and unknown types included
    applied: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    retries: int = 0
    last_applied_recorded_at: float | None = None  # when the newest applied event was recorded (epoch seconds)
    last_batch_at: float | None = None  # when the runner last finished a batch (epoch seconds)
    busy_since: float | None = None  # while a batch runs: when it started (monotonic seconds; liveness)
    held: dict[tuple[str, int], Held] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently a failing batch is tried again."""

    attempts: int = 4
    first_delay: float = 0.1
    max_delay: float = 2.0

    def delays(self) -> list[float]:
        return [min(self.first_delay * 2**n, self.max_delay) for n in range(self.attempts - 1)]


READ_SLICE = 200  # records decoded between two turns of the event loop while a batch is in the database

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (ConcurrencyError, OSError, TimeoutError)


def is_transient(error: BaseException) -> bool:
    """Errors of the infrastructure or of concurrency, that say nothing about the event being applied."""
    if isinstance(error, TRANSIENT_ERRORS):
        return True
    return isinstance(error, DBAPIError) and not isinstance(error, IntegrityError)


class _Readable(NamedTuple):  # one per record read: a named tuple is the cheapest immutable record to build
    record: Record
    envelope: Envelope
    event: DomainEvent


# made directly: a named tuple's own `__new__` is a Python function, a tenth of a record's reading again
_NEW_READABLE = tuple.__new__

_RECORDED_AT = operator.attrgetter("envelope.time")  # a batch's newest event, found in C


@dataclass(frozen=True, slots=True)
class ReadBatch:
    """A batch decoded by `ProjectorRunner.read`, with what reading it found (dead letters, holds, ignored)."""

    readable: list[_Readable]
    result: BatchResult

    def joined(self, later: ReadBatch) -> ReadBatch:
        """This batch and one read after it, applied as one."""
        return ReadBatch([*self.readable, *later.readable], self.result.merged(later.result))


class ProjectorRunner:
    def __init__(
        self,
        sessions: SessionFactory,
        projection: Projection,
        dead_letters: DeadLetterSink,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.sessions = sessions
        self.projection = projection
        self.dead_letters = dead_letters
        self.retry = retry or RetryPolicy()
        self.stats = ProjectorStats()
        self.replaying = False  # set by a replay from the start: its batches say so to the projection
        self._sleep = sleep

    async def handle(self, records: Sequence[Record]) -> BatchResult:
        """Apply a batch in one transaction; dead-letter what cannot be read or applied; hold what is too new."""
        return await self.apply(self.read(records))

    def read(self, records: Sequence[Record]) -> ReadBatch:
        """Decode a batch (no database work): what `apply` then applies."""
        self.stats.records += len(records)
        result = BatchResult()
        return ReadBatch(self._read(records, result, set()), result)

    async def read_in_slices(self, records: Sequence[Record], size: int) -> ReadBatch:
        """`read`, giving the event loop a turn after every `size` records: a replay decodes the next batch while
        the batch before takes its database answers."""
        self.stats.records += len(records)
        result, held, readable = BatchResult(), set[tuple[str, int]](), []
        for start in range(0, len(records), size):
            readable += self._read(records[start : start + size], result, held)
            await asyncio.sleep(0)
        return ReadBatch(readable, result)

    async def apply(self, batch: ReadBatch) -> BatchResult:
        """Apply a decoded batch in one transaction; dead-letter what cannot be applied."""
        self.stats.busy_since = time.monotonic()
        try:
            result = batch.result
            try:
                await self._apply_with_retries(batch.readable, result)
            except Exception as error:
                if is_transient(error):
                    raise
                log.error("projection %s: batch failed after retries (%s); applying one by one", self.name, error)
                await self._apply_one_by_one(batch.readable, result)
            if result.dead_letters:
                await self.dead_letters.send(result.dead_letters)
            self._note(result)
            return result
        finally:
            self.stats.busy_since = None

    @property
    def name(self) -> str:
        return self.projection.name

    async def reset(self) -> None:
        """Empty the read model and forget what was applied, ready for a replay from the start."""
        async with self.sessions.begin() as session:
            await self.projection.reset(session)
            await self._forget_applied(session)
            await session.execute(
                sa.delete(projection_progress).where(projection_progress.c.consumer == self.projection.name)
            )

    async def _forget_applied(self, session: AsyncSession) -> None:
        """Delete this projection's tracking rows; on PostgreSQL, when the table holds no other consumer's, empty it
        (TRUNCATE) instead: deleted rows stay in the index until a vacuum, and the replay that follows inserts the
        same ids again, each then checked against its dead twin (`heap_index_delete_tuples` in a profile of such a
        replay), while autovacuum works through the deleted rows beside it."""
        mine = processed_events.c.consumer == self.projection.name
        if session.get_bind().dialect.name == "postgresql":
            await session.execute(sa.text("LOCK TABLE processed_events IN ACCESS EXCLUSIVE MODE"))
            others = sa.select(processed_events.c.consumer).where(~mine).limit(1)
            if (await session.execute(others)).first() is None:
                await session.execute(sa.text("TRUNCATE processed_events"))
                return
        await session.execute(sa.delete(processed_events).where(mine))

    async def finish_replay(self) -> None:
        """End a replay: a projection that derives rows once at the end of a replay (`DerivesAfterReplay`) does it
        now: its derivations side by side on PostgreSQL, then `after_replay`."""
        self.replaying = False
        derivations = getattr(self.projection, "derivations_after_replay", None)
        if derivations is not None:
            await self._derive(derivations())
        after_replay = getattr(self.projection, "after_replay", None)
        if after_replay is not None:
            async with self.sessions.begin() as session:
                await after_replay(session)

    async def _derive(self, derivations: Sequence[Callable[[AsyncSession], Awaitable[None]]]) -> None:
        async with self.sessions() as session:
            postgres = session.get_bind().dialect.name == "postgresql"
        if not postgres:  # one writer at a time
            for derive in derivations:
                await self._in_transaction(derive)
            return
        async with asyncio.TaskGroup() as group:  # one failing cancels the others
            for derive in derivations:
                group.create_task(self._derive_with_retries(derive))

    async def _derive_with_retries(self, derive: Callable[[AsyncSession], Awaitable[None]]) -> None:
        """A derivation in its own transaction, run again after an error of the database or of concurrency (a
        deadlock with a reader of the tables it rewrites, say): it rewrites its rows whole, so a second run is as
        good as the first."""
        for delay in [*self.retry.delays(), None]:
            try:
                await self._in_transaction(derive)
                return
            except Exception as error:
                if delay is None or not is_transient(error):
                    raise
                log.warning("projection %s: %s failed (%s); retrying in %.1fs", self.name, _name(derive), error, delay)
                await self._sleep(delay)

    async def _in_transaction(self, work: Callable[[AsyncSession], Awaitable[None]]) -> None:
        async with self.sessions.begin() as session:
            await work(session)

    async def _apply_with_retries(self, items: list[_Readable], result: BatchResult) -> None:
        for delay in [*self.retry.delays(), None]:
            try:
                await self._apply_tracking_first(items, result)
                return
            except Exception as error:
                if delay is None:
                    raise
                result.retries += 1
                log.warning("projection %s: batch failed (%s); retrying in %.1fs", self.name, error, delay)
                await self._sleep(delay)

    async def _apply_one_by_one(self, items: list[_Readable], result: BatchResult) -> None:
        for item in items:
            try:
                await self._apply_with_retries([item], result)
            except Exception as error:
                if is_transient(error):
                    raise
                reason = f"apply failed after {self.retry.attempts} attempts: {type(error).__name__}: {error}"
                log.error("dead-lettering %s: %s", _where(item.record), reason)
                result.dead_letters.append(DeadLetter(item.record, reason))

    async def _apply_tracking_first(self, items: list[_Readable], result: BatchResult) -> None:
        """`_apply` on PostgreSQL tracks the batch before anything else and looks nothing up: the tracking rows'
        unique index refuses an event applied before, and only then is the batch applied again, looking up what
        was applied (redeliveries are rare; a lookup per batch cost a round trip and an index probe per event)."""
        try:
            await self._apply(items, result)
        except Exception as error:
            if not _applied_before(error):
                raise
            log.info("projection %s: the batch holds events applied before; applying the others", self.name)
            await self._apply(items, result, look_up_first=True)

    async def _apply(self, items: list[_Readable], result: BatchResult, *, look_up_first: bool = False) -> None:
        async with self.sessions.begin() as session:
            postgres = session.get_bind().dialect.name == "postgresql"
            if self.replaying:
                session.info[REPLAYING] = True
                if postgres:
                    await session.execute(_REPLAY_COMMITS)
            if postgres:
                fresh = await self._unseen_pg(session, items) if look_up_first else _first_of_each(items)
                await self._track_pg(session, fresh)
            else:
                fresh = await self._unseen(session, items)
            with span_continuing(f"project {len(fresh)} events", None, consumer=self.projection.name):
                await self._fold(session, fresh)
                if fresh:
                    if not postgres:
                        rows = [{"consumer": self.projection.name, "event_id": item.envelope.id} for item in fresh]
                        await session.execute(sa.insert(processed_events), rows)
                    await self.projection.after_batch(session)
                    newest = max(fresh, key=_RECORDED_AT).envelope
                    await self._record_progress(session, newest, len(fresh), postgres)
        result.duplicates += len(items) - len(fresh)
        result.applied += len(fresh)
        if fresh:
            self.stats.last_applied_recorded_at = newest.time.timestamp()

    async def _fold(self, session: AsyncSession, fresh: list[_Readable]) -> None:
        """Apply each event; with tracing on, an event that carries a trace gets its span in that trace."""
        apply, consumer = self.projection.apply, self.projection.name
        traced = tracing_enabled()
        for item in fresh:
            envelope = item.envelope
            if traced and envelope.traceparent:
                with span_continuing(f"project {envelope.type}", envelope.traceparent, consumer=consumer):
                    await apply(session, envelope, item.event)
            else:
                await apply(session, envelope, item.event)

    async def _unseen_pg(self, session: AsyncSession, items: list[_Readable]) -> list[_Readable]:
        """The events of the batch not applied before: one prepared statement over the batch's ids."""
        if not items:
            return []
        driver = await driver_connection(session)
        ids = [item.envelope.id for item in items]
        seen = {row[0] for row in await driver.fetch(_PG_SEEN, self.projection.name, ids)}
        return [item for item in _first_of_each(items) if item.envelope.id not in seen]

    async def _track_pg(self, session: AsyncSession, fresh: list[_Readable]) -> None:
        """The batch's tracking rows, in one `COPY`: it fails on an event this projection applied before (or that
        a concurrent batch is applying: it waits for that one's commit first)."""
        if not fresh:
            return
        driver = await driver_connection(session)
        name = self.projection.name
        records = [(name, item.envelope.id) for item in fresh]
        await driver.copy_records_to_table("processed_events", records=records, columns=("consumer", "event_id"))

    async def _record_progress(
        self, session: AsyncSession, newest: Envelope, applied: int, postgres: bool = False
    ) -> None:
        """How far the read model is, in its own transaction: what read answers report as their freshness (the
        batch's newest event by recording time, and how many it applied)."""
        now = datetime.now(UTC)
        if postgres:
            driver = await driver_connection(session)
            await driver.execute(_PG_PROGRESS, self.projection.name, applied, newest.id, newest.time, now)
            return
        values = {
            "last_event_id": newest.id,
            "last_event_recorded_at": newest.time,
            "updated_at": now,
        }
        mine = projection_progress.c.consumer == self.projection.name
        updated = await session.execute(
            sa.update(projection_progress)
            .where(mine, projection_progress.c.last_event_recorded_at <= newest.time)
            .values(events_applied=projection_progress.c.events_applied + applied, **values)
        )
        if updated.rowcount == 0:  # type: ignore[attr-defined]
            exists = (await session.execute(sa.select(projection_progress.c.consumer).where(mine))).first()
            if exists:
                count = projection_progress.c.events_applied + applied
                await session.execute(
                    sa.update(projection_progress)
                    .where(mine)
                    .values(events_applied=count, updated_at=values["updated_at"])
                )
            else:
                row = {"consumer": self.projection.name, "events_applied": applied} | values
                await session.execute(sa.insert(projection_progress).values(**row))

    def _note(self, result: BatchResult) -> None:
        stats = self.stats
        stats.applied += result.applied
        stats.duplicates += result.duplicates
        stats.dead_lettered += len(result.dead_letters)
        stats.retries += result.retries
        stats.last_batch_at = time.time()
        for held in result.held:
            stats.held[(held.topic, held.partition)] = held

    def _read(self, records: Sequence[Record], result: BatchResult, held: set[tuple[str, int]]) -> list[_Readable]:
        readable = []
        for record in records:
            if held and (record.topic, record.partition) in held:
                continue  # nothing after a held record of its partition is applied
            try:
                item = self._read_one(record)
            except NewerVersionError as error:
                log.error("holding %s: %s; upgrade this consumer to go on", _where(record), error)
                held.add((record.topic, record.partition))
                result.held.append(Held(record.topic, record.partition, record.offset, str(error)))
                continue
            except (EventParseError, ValueError, KeyError, TypeError) as error:
                log.warning("dead-lettering %s: %s", _where(record), error)
                result.dead_letters.append(DeadLetter(record, f"{type(error).__name__}: {error}"))
                continue
            if item is None:
                result.ignored += 1
            else:
                readable.append(item)
        return readable

    def _read_one(self, record: Record) -> _Readable | None:
        envelope = Envelope.from_kafka(record.headers, record.value)
        load = self.projection.registry.loader(envelope.type)
        if load is None:
            return None
        try:
            event = load(envelope.data)
        except ValidationError as error:
            raise data_does_not_fit(envelope.type, error) from error
        return _NEW_READABLE(_Readable, (record, envelope, event))

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
        return [item for item in _first_of_each(items) if item.envelope.id not in seen]


# A join, not `event_id = ANY($2)`: under a generic plan that becomes a scan comparing every row with every id.
_PG_SEEN = """
    SELECT p.event_id FROM unnest($2::varchar[]) AS batch(event_id)
    JOIN processed_events p ON p.consumer = $1 AND p.event_id = batch.event_id
"""

# A replay's batches do not wait for their commit to reach the disk: a server crash can lose the last of them
# (with their tracking rows, atomically), and a replay that stops before its end is run again anyway.
_REPLAY_COMMITS = sa.text("SET LOCAL synchronous_commit = off")

# One statement for the progress row: counts add up; the newest event moves only forward in recording time.
_PG_PROGRESS = """
    INSERT INTO projection_progress AS p (consumer, events_applied, last_event_id, last_event_recorded_at, updated_at)
    VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (consumer) DO UPDATE SET
        events_applied = p.events_applied + excluded.events_applied,
        last_event_id = CASE WHEN p.last_event_recorded_at <= excluded.last_event_recorded_at
                             THEN excluded.last_event_id ELSE p.last_event_id END,
        last_event_recorded_at = greatest(p.last_event_recorded_at, excluded.last_event_recorded_at),
        updated_at = excluded.updated_at
"""


def _name(work: Callable[..., Any]) -> str:
    return getattr(work, "__name__", repr(work))


def _first_of_each(items: list[_Readable]) -> list[_Readable]:
    """The batch without repeats of an event id (the first of each kept, in order)."""
    seen: set[str] = set()
    first = []
    for item in items:
        if item.envelope.id not in seen:
            seen.add(item.envelope.id)
            first.append(item)
    return first


def _applied_before(error: BaseException) -> bool:
    """Whether `error` is the tracking rows' unique index refusing an event id (the driver's unique violation)."""
    return getattr(error, "sqlstate", None) == "23505" and getattr(error, "table_name", None) == "processed_events"


def _where(record: Record) -> str:
    return f"{record.topic}[{record.partition}]@{record.offset}"


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
