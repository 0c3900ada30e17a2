"""An append-only event store on SQLAlchemy 2 (async), for PostgreSQL and SQLite.

Every event gets a global position. On PostgreSQL, sequence values are not handed out in commit order, so a
reader that follows `position > last` would skip a transaction that commits late. Writers here run free and
readers wait instead: each row carries the id of the transaction that wrote it (`txid`, xid8), and a reader
takes only rows of transactions older than every transaction still in flight
(`txid < pg_snapshot_xmin(pg_current_snapshot())`), in `(txid, position)` order.

That order is per-stream version order only if a later append to a stream always carries a higher txid. An
append takes its transaction id when it reads the stream's current version (one statement), and refuses with a
`ConcurrencyError` when a younger transaction has already appended to that stream: that happens only to a
transaction that wrote elsewhere first (a saga touching several streams, a projector writing its read model
first); it rolls back and retries, and its retry is younger than every committed append. Single-stream commands
never see it. On SQLite writers are serialised by the database lock, so position order is commit order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any, NamedTuple

import asyncpg
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from metrology.eventkit.database import DatabaseSession, connection_of, dialect_of
from metrology.eventkit.envelope import Envelope, EventContext, Headers, binary_record
from metrology.eventkit.errors import DomainError
from metrology.eventkit.events import DomainEvent

NOTIFY_CHANNEL = "metrology_events"

metadata = sa.MetaData()


class XID8(sa.types.UserDefinedType[int]):
    """PostgreSQL's 64-bit transaction id; read and compared as text in the queries below."""

    cache_ok = True

    def get_col_spec(self, **_: object) -> str:
        return "xid8"


events_table = sa.Table(
    "events",
    metadata,
    sa.Column("position", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("txid", sa.BigInteger().with_variant(XID8(), "postgresql"), nullable=True),
    sa.Column("event_id", sa.String(36), nullable=False, unique=True),
    sa.Column("stream_id", sa.String(200), nullable=False),
    sa.Column("stream_version", sa.Integer, nullable=False),
    sa.Column("type", sa.String(200), nullable=False),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("traceparent", sa.String(55), nullable=True),
    sa.Column("payload", sa.LargeBinary, nullable=False),
    sa.UniqueConstraint("stream_id", "stream_version", name="uq_events_stream_version"),
    sqlite_autoincrement=True,
)
sa.Index("ix_events_txid_position", events_table.c.txid, events_table.c.position)

sa.event.listen(
    events_table,
    "after_create",
    sa.DDL(
        "ALTER TABLE events ALTER COLUMN txid SET DEFAULT pg_current_xact_id(), ALTER COLUMN txid SET NOT NULL"
    ).execute_if(dialect="postgresql"),
)


class ConcurrencyError(Exception):
    """The stream moved on since it was read: another writer appended first."""


class EventTooLargeError(DomainError):
    """An event bigger than the broker takes: refused at append time so it can never block the relay."""

    status = 413
    title = "Event too large"


# Kafka's default `message.max.bytes` is 1,048,588 bytes per record batch; stay under it with room for the batch.
DEFAULT_MAX_EVENT_BYTES = 1_000_000


class Position(NamedTuple):
    """Where a reader of all events stands: (transaction id, position); txid is 0 on SQLite.

    Named tuples rather than frozen dataclasses, here and in `RecordedEvent`: as immutable and ordered, and built in
    a third of the time, which counts when the relay reads 5,000 of them per batch.
    """

    txid: int = 0
    position: int = 0


class RecordedEvent(NamedTuple):
    """A committed event as the relay reads it: where it stands and its stored CloudEvents bytes."""

    position: Position
    stream_id: str
    type: str
    traceparent: str | None
    payload: bytes

    def envelope(self) -> Envelope:
        return Envelope.from_json(self.payload)

    def kafka_record(self) -> tuple[bytes, bytes, Headers]:
        """The record the relay publishes: key (stream id), value (data) and headers, CloudEvents binary mode."""
        value, headers = binary_record(self.payload)
        return self.stream_id.encode(), value, headers


@dataclass(frozen=True, slots=True)
class StreamEvent:
    envelope: Envelope
    event: DomainEvent


class EventStore:
    """Appends to and reads from the `events` table within the caller's session (its unit of work)."""

    def __init__(self, source: str, max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES, *, notify: bool = True) -> None:
        """`notify`: on PostgreSQL, NOTIFY relays in other processes from within each appending transaction (once
        per transaction). That makes appenders commit one at a time (PostgreSQL's notification lock); a runtime
        that notifies after commit instead (`relay.PostgresCommitNotifier` behind its `CommitSignal`) turns it off.
        """
        self.source = source
        self.max_event_bytes = max_event_bytes
        self.notify = notify

    async def append(
        self,
        session: DatabaseSession,
        stream_id: str,
        expected_version: int | None,
        events: Sequence[DomainEvent],
        context: EventContext,
    ) -> list[Envelope]:
        """Append `events` after `expected_version` (None: whatever the stream holds; 0: a new stream).

        On PostgreSQL an append with an expected version is one statement: the unique (stream, version) index and
        the guards folded into the INSERT decide, with no version read first.
        """
        postgres = dialect_of(session) == "postgresql"
        if expected_version is None or not postgres:
            current = await self._version_for_append(session, stream_id)
            if expected_version is not None and current != expected_version:
                raise ConcurrencyError(
                    f"stream {stream_id} is at version {current}, not the expected {expected_version}"
                )
        else:
            current = expected_version
        envelopes = self._wrap(stream_id, current, events, context)
        await self.insert(session, envelopes)
        return envelopes

    async def append_with_views(
        self,
        session: DatabaseSession,
        stream_id: str,
        expected_version: int,
        events: Sequence[DomainEvent],
        context: EventContext,
        writes: ViewWrites,
        *,
        alone: bool,
    ) -> list[Envelope] | None:
        """PostgreSQL: `append` with the caller's view writes in one statement (`insert_with_views`). The
        envelopes written, or None when the caller's gate stayed empty (nothing written)."""
        envelopes = self._wrap(stream_id, expected_version, events, context)
        return envelopes if await self.insert_with_views(session, envelopes, writes, alone=alone) else None

    def _wrap(self, stream_id: str, after: int, events: Sequence[DomainEvent], context: EventContext) -> list[Envelope]:
        now = datetime.now(UTC)  # one recording time for the events of one append
        return [
            Envelope.wrap(
                event,
                source=self.source,
                stream_id=stream_id,
                stream_version=after + i,
                context=context,
                recorded_at=now,
            )
            for i, event in enumerate(events, start=1)
        ]

    async def insert(self, session: DatabaseSession, envelopes: Sequence[Envelope]) -> None:
        """Write already-wrapped envelopes of one stream, versions following on from what it holds.

        A taken (stream, version), a missing previous version, or (on PostgreSQL) a younger transaction that has
        already appended to the stream is a ConcurrencyError.
        """
        if not envelopes:
            return
        rows = [self._row(e) for e in envelopes]
        if dialect_of(session) == "postgresql":
            stream_id, after = envelopes[0].stream_id, envelopes[0].stream_version - 1
            await _pg_insert(session, stream_id, after, [tuple(row.values()) for row in rows], self.notify)
            return
        try:
            await session.execute(sa.insert(events_table), rows)
        except IntegrityError as error:
            raise ConcurrencyError(f"stream {envelopes[0].stream_id} was appended to concurrently") from error

    async def insert_with_views(
        self, session: DatabaseSession, envelopes: Sequence[Envelope], writes: ViewWrites, *, alone: bool
    ) -> bool:
        """PostgreSQL: append already-wrapped envelopes of one stream together with the caller's own view writes,
        in one statement. `alone`: outside any transaction, so that it commits by itself (one round trip, no BEGIN
        or COMMIT; the session's transaction must not have begun, see `driver_alone`); otherwise inside the
        session's transaction, which its owner commits.

        The statement is all or nothing. The envelopes go in only when the stream is where they follow on (as
        `insert` checks it) and the caller's gate returned a row (see `ViewWrites`); a stream moved on is a
        ConcurrencyError, an empty gate returns False, with nothing written either way.
        """
        rows = [tuple(self._row(e).values()) for e in envelopes]
        columns = [list(column) for column in zip(*rows, strict=True)]
        stream_id, after = envelopes[0].stream_id, envelopes[0].stream_version - 1
        transaction = None if alone else session.get_transaction()
        notify = self.notify and (alone or session.info.get(_NOTIFIED, _NOT_YET) is not transaction)
        driver = await (driver_alone(session) if alone else driver_connection(session))
        statement = _statement_with_views(writes.views, notify)
        try:
            outcome = await driver.fetchrow(statement, stream_id, after, *columns, *writes.values)
        except asyncpg.UniqueViolationError as error:
            if error.constraint_name != _STREAM_VERSION_UNIQUE:
                raise
            raise ConcurrencyError(f"stream {stream_id} was appended to concurrently") from error
        if not outcome["ok"]:
            raise ConcurrencyError(_moved_on(stream_id, after))
        if notify and not alone:
            session.info[_NOTIFIED] = transaction
        return bool(outcome["inserted"])

    def _row(self, envelope: Envelope) -> dict[str, object]:
        payload = envelope.to_json()
        if len(payload) > self.max_event_bytes:
            raise EventTooLargeError(
                f"the event {envelope.type} takes {len(payload)} bytes; the limit is {self.max_event_bytes} bytes",
                rule="event-size-limit",
            )
        return {
            "event_id": envelope.id,
            "stream_id": envelope.stream_id,
            "stream_version": envelope.stream_version,
            "type": envelope.type,
            "recorded_at": envelope.time,
            "traceparent": envelope.traceparent,
            "payload": payload,
        }

    async def _version_for_append(self, session: DatabaseSession, stream_id: str) -> int:
        """The stream's version; on PostgreSQL also takes this transaction's id and checks no younger one wrote."""
        if dialect_of(session) != "postgresql":
            return await self.stream_version(session, stream_id)
        driver = await driver_connection(session)
        row = await driver.fetchrow(_PG_VERSION_FOR_APPEND, stream_id)
        if row["younger"]:
            raise ConcurrencyError(
                f"stream {stream_id} was appended to by a younger transaction; retry so versions keep their order"
            )
        return int(row["version"])

    async def stream_version(self, session: DatabaseSession, stream_id: str) -> int:
        query = sa.select(sa.func.coalesce(sa.func.max(events_table.c.stream_version), 0)).where(
            events_table.c.stream_id == stream_id
        )
        return int((await session.execute(query)).scalar_one())

    async def read_stream(self, session: DatabaseSession, stream_id: str, from_version: int = 1) -> list[Envelope]:
        """The stream's events from `from_version` on (every one by default), in order. On PostgreSQL the read goes
        on the driver, prepared once per connection: a command's load is one of its few statements, and building and
        compiling it through SQLAlchemy cost more than the database's answer. A read before the session's
        transaction has begun stands alone (`driver_for_a_read`)."""
        if dialect_of(session) == "postgresql":
            driver = await driver_for_a_read(session)
            return [Envelope.from_json(row[0]) for row in await driver.fetch(_PG_READ_STREAM, stream_id, from_version)]
        query = (
            sa.select(events_table.c.payload)
            .where(events_table.c.stream_id == stream_id, events_table.c.stream_version >= from_version)
            .order_by(events_table.c.stream_version)
        )
        return [Envelope.from_json(payload) for payload in (await session.execute(query)).scalars()]

    async def read_all(self, connection: AsyncConnection, after: Position, limit: int) -> list[RecordedEvent]:
        """Committed events after `after`, in an order no later commit can fall behind."""
        if connection.dialect.name == "postgresql":
            driver = (await connection.get_raw_connection()).driver_connection
            assert driver is not None
            records = await driver.fetch(_PG_READ_ALL, str(after.txid), after.position, limit)
            return [
                RecordedEvent(Position(int(txid), position), stream_id, type_, traceparent, payload)
                for txid, position, stream_id, type_, traceparent, payload in records
            ]
        query = (
            sa.select(*_RECORDED_COLUMNS)
            .where(events_table.c.position > after.position)
            .order_by(events_table.c.position)
            .limit(limit)
        )
        rows = await connection.execute(query)
        return [_recorded(r, 0) for r in rows]

    async def held_back(self, connection: AsyncConnection, after: Position) -> bool:
        """Whether events are committed after `after`, the position a reader has read up to: after a read that came
        back short, those are events that waited behind a transaction still open on the server (any database), and
        `read_all` returns them as soon as it ends (or has just ended: the check does not ask which). Never on
        SQLite, where a read returns every committed event."""
        if connection.dialect.name != "postgresql":
            return False
        driver = (await connection.get_raw_connection()).driver_connection
        assert driver is not None
        return await driver.fetchval(_PG_HELD_BACK, str(after.txid), after.position) is not None

    async def count_up_to(self, connection: AsyncConnection, position: Position) -> int:
        """How many events stand at or before `position` in reading order (what a reader up to it has seen)."""
        if connection.dialect.name == "postgresql":
            params = {"txid": str(position.txid), "position": position.position}
            return int((await connection.execute(_PG_COUNT_UP_TO, params)).scalar_one())
        query = sa.select(sa.func.count()).where(events_table.c.position <= position.position)
        return int((await connection.execute(query)).scalar_one())

    async def count_after(self, connection: AsyncConnection, position: Position) -> int:
        """How many committed events stand after `position` in reading order (what a reader up to it has yet to
        read): a range of the (txid, position) index, so a short backlog is counted in a moment however many events
        the store holds."""
        if connection.dialect.name == "postgresql":
            params = {"txid": str(position.txid), "position": position.position}
            return int((await connection.execute(_PG_COUNT_AFTER, params)).scalar_one())
        query = sa.select(sa.func.count()).where(events_table.c.position > position.position)
        return int((await connection.execute(query)).scalar_one())


_RECORDED_COLUMNS = [
    events_table.c.position,
    events_table.c.stream_id,
    events_table.c.type,
    events_table.c.traceparent,
    events_table.c.payload,
]


def _recorded(row: sa.Row, txid: int) -> RecordedEvent:
    return RecordedEvent(Position(txid, row.position), row.stream_id, row.type, row.traceparent, bytes(row.payload))


async def driver_connection(session: DatabaseSession) -> Any:
    """The session's asyncpg connection, inside the session's transaction (its unit of work).

    SQLAlchemy's asyncpg adapter sends BEGIN lazily, with the first statement it runs; statements sent on the
    driver directly must not run ahead of it, so the adapter's transaction is started here when it is not yet.
    The driver's own statement cache then prepares each statement once per connection.
    """
    adapter, driver = await _handles(session)
    if not adapter._started:  # SQLAlchemy 2.0's AsyncAdapt_asyncpg_connection
        try:
            await adapter._start_transaction()
        except Exception as error:  # the driver's error, as the store's other statements raise theirs
            raise (error.__cause__ or error) from None
    return driver


async def driver_alone(session: DatabaseSession) -> Any:
    """The session's asyncpg connection for statements that each stand alone (autocommit): no transaction is begun.

    At READ COMMITTED a read alone sees what a read inside a transaction would (each statement takes its own
    snapshot), without the BEGIN and COMMIT round trips. Refused once the session's transaction has begun: a
    statement alone must not be mistaken for part of it.
    """
    adapter, driver = await _handles(session)
    if transaction_begun(adapter, session):
        raise RuntimeError("a statement alone was asked for inside an open transaction")
    return driver


async def driver_for_a_read(session: DatabaseSession) -> Any:
    """The driver for a read: alone while the session's transaction has not begun (a command's first reads send
    no BEGIN of their own, and writes that stand alone may follow them), inside the transaction once it has."""
    adapter, driver = await _handles(session)
    if transaction_begun(adapter, session):
        return await driver_connection(session)
    return driver


def transaction_begun(adapter: Any, session: DatabaseSession) -> bool:
    """Whether the session's transaction has begun: on the driver (SQLAlchemy's asyncpg adapter began it for a
    statement sent there) or in SQLAlchemy (a Core statement ran)."""
    return bool(adapter._started) or session.in_transaction()


async def _handles(session: DatabaseSession) -> tuple[Any, Any]:
    """SQLAlchemy's asyncpg adapter and the asyncpg connection under the session, remembered for its transaction."""
    cached = session.info.get(_DRIVER)
    if cached is not None and cached[0] is session.get_transaction():
        return cached[1], cached[2]
    connection = await connection_of(session)
    raw = await connection.get_raw_connection()
    remember_driver(session, raw.dbapi_connection, raw.driver_connection)
    return raw.dbapi_connection, raw.driver_connection


def remember_driver(session: DatabaseSession, adapter: Any, driver: Any) -> None:
    """Spare `driver_connection` asking SQLAlchemy for the driver again within the session's transaction."""
    session.info[_DRIVER] = (session.get_transaction(), adapter, driver)


def forget_transaction(session: DatabaseSession) -> None:
    """Forget what this module noted in the connection's `info` (it outlives the transaction, and the connection
    is used by the next one): its driver handles and whether the transaction has notified."""
    session.info.pop(_DRIVER, None)
    session.info.pop(_NOTIFIED, None)


COPY_FROM = 64  # from this many events on, an append goes in with COPY (after its guard statement)
_NOTIFIED = "metrology.eventkit.notified"
_NOT_YET = object()  # no transaction of this connection has notified (None is the transaction of a kept one)
_DRIVER = "metrology.eventkit.driver"
_COLUMNS = ("event_id", "stream_id", "stream_version", "type", "recorded_at", "traceparent", "payload")


async def _pg_insert(
    session: DatabaseSession, stream_id: str, after: int, rows: list[tuple[Any, ...]], notify: bool
) -> None:
    """One guarded statement (or, for a large batch, a guard then COPY); NOTIFY at most once per transaction."""
    transaction = session.get_transaction()
    notify = notify and session.info.get(_NOTIFIED, _NOT_YET) is not transaction
    driver = await driver_connection(session)
    try:
        if len(rows) == 1 and not notify:
            event_id, _, version, type_, recorded_at, traceparent, payload = rows[0]
            inserted = await driver.fetchval(
                _PG_GUARDED_INSERT_ONE, stream_id, after, event_id, version, type_, recorded_at, traceparent, payload
            )
            if inserted != 1:
                raise ConcurrencyError(_moved_on(stream_id, after))
        elif len(rows) < COPY_FROM:
            columns = [list(column) for column in zip(*rows, strict=True)]
            statement = _PG_GUARDED_INSERT_NOTIFY if notify else _PG_GUARDED_INSERT
            inserted = await driver.fetchval(statement, stream_id, after, *columns)
            if inserted != len(rows):
                raise ConcurrencyError(_moved_on(stream_id, after))
        else:
            guard = await driver.fetchrow(_PG_GUARD_NOTIFY if notify else _PG_GUARD, stream_id)
            if guard["younger"] or guard["version"] != after:
                raise ConcurrencyError(_moved_on(stream_id, after))
            await driver.copy_records_to_table("events", records=rows, columns=_COLUMNS)
    except asyncpg.UniqueViolationError as error:
        raise ConcurrencyError(f"stream {stream_id} was appended to concurrently") from error
    session.info[_NOTIFIED] = transaction


def _moved_on(stream_id: str, after: int) -> str:
    return (
        f"stream {stream_id} is not at version {after}, or a younger transaction has appended to it; "
        "retry so versions keep their order"
    )


# Versions of a stream are in txid order (the check below keeps them so), so the stream's newest row is the one to
# compare with: one index probe, however long the stream. pg_current_xact_id() assigns this transaction its id now,
# if it has none yet.
_PG_VERSION_FOR_APPEND = """
    WITH me AS MATERIALIZED (SELECT pg_current_xact_id() AS txid),
         newest AS (SELECT stream_version, txid FROM events WHERE stream_id = $1 ORDER BY stream_version DESC LIMIT 1)
    SELECT coalesce((SELECT stream_version FROM newest), 0) AS version,
           coalesce((SELECT newest.txid > me.txid FROM newest, me), false) AS younger,
           (SELECT txid FROM me)::text AS txid
"""
_PG_GUARD = _PG_VERSION_FOR_APPEND
_PG_GUARD_NOTIFY = _PG_VERSION_FOR_APPEND + f", pg_notify('{NOTIFY_CHANNEL}', '') AS notified"

# The append in one round trip: the rows go in only if the stream's newest version is the one they follow (0: an
# empty stream) and was not written by a younger transaction; a version taken meanwhile is refused by the unique
# index (a concurrent writer's uncommitted row makes this one wait for its outcome).
_PG_GUARD_CTES = """me AS MATERIALIZED (SELECT pg_current_xact_id() AS txid),
         newest AS (SELECT stream_version, txid FROM events WHERE stream_id = $1 ORDER BY stream_version DESC LIMIT 1),
         guard AS MATERIALIZED (
             SELECT coalesce((SELECT stream_version FROM newest), 0) = $2
                AND NOT coalesce((SELECT newest.txid > me.txid FROM newest, me), false) AS ok
         )"""
_PG_INSERT_GUARDED_ROWS = """
             INSERT INTO events (event_id, stream_id, stream_version, type, recorded_at, traceparent, payload)
             SELECT r.* FROM guard, unnest($3::varchar[], $4::varchar[], $5::int[], $6::varchar[],
                                           $7::timestamptz[], $8::varchar[], $9::bytea[]) AS r
             WHERE guard.ok"""
_PG_GUARDED_INSERT = f"""
    WITH {_PG_GUARD_CTES},
         inserted AS ({_PG_INSERT_GUARDED_ROWS} RETURNING 1)
    SELECT count(*) FROM inserted
"""
# The same for one event (most commands): its values as parameters rather than one-element arrays to unnest.
_PG_GUARDED_INSERT_ONE = _PG_GUARDED_INSERT.replace(
    """SELECT r.* FROM guard, unnest($3::varchar[], $4::varchar[], $5::int[], $6::varchar[],
                                           $7::timestamptz[], $8::varchar[], $9::bytea[]) AS r""",
    "SELECT $3::varchar, $1, $4::int, $5::varchar, $6::timestamptz, $7::varchar, $8::bytea FROM guard",
)
_PG_GUARDED_INSERT_NOTIFY = _PG_GUARDED_INSERT.replace(
    "SELECT count(*) FROM inserted", f"SELECT count(*), pg_notify('{NOTIFY_CHANNEL}', '') FROM inserted"
)


class Views(NamedTuple):
    """A caller's writes beside an append in one statement (`EventStore.insert_with_views`): `ctes` are its common
    table expressions, placed after the kit's one-row `guard` CTE (`guard.ok`: the stream is where the events
    follow on), with parameters numbered from $10 (`VIEW_PARAMETERS_FROM`). The CTE named `gate` must read
    `guard` and write only when `guard.ok`, and return a row when the caller's writes are to stand (an insert with
    `ON CONFLICT DO NOTHING ... RETURNING`, say); the caller's other CTEs read `gate`, so they write only when it
    returned a row. The events go in only then. Built once per kind of write (the statement is cached by it)."""

    ctes: str
    gate: str


class ViewWrites(NamedTuple):
    """`Views` with the values of their parameters, in order."""

    views: Views
    values: Sequence[Any]


VIEW_PARAMETERS_FROM = 10
_STREAM_VERSION_UNIQUE = "uq_events_stream_version"


@cache
def _statement_with_views(views: Views, notify: bool) -> str:
    notified = f", pg_notify('{NOTIFY_CHANNEL}', '') AS notified" if notify else ""
    return f"""
    WITH {_PG_GUARD_CTES},
         {views.ctes},
         inserted AS ({_PG_INSERT_GUARDED_ROWS} AND EXISTS (SELECT 1 FROM {views.gate}) RETURNING 1)
    SELECT (SELECT ok FROM guard) AS ok, (SELECT count(*) FROM inserted) AS inserted{notified}
"""


# The first event after a position, in reading order: the order and the limit keep the plan on the (txid, position)
# index whatever the position. As `EXISTS (...)` PostgreSQL's generic plan for it (taken after five executions of
# the prepared statement, being cheaper on paper) scanned the whole table for the one row: a relay that caught up
# read every event it had ever stored on each pass (56 ms at 300,000 events; see BENCHMARKS.md).
_PG_HELD_BACK = """
    SELECT e.position FROM events e
    WHERE (e.txid, e.position) > ($1::text::xid8, $2)
    ORDER BY e.txid, e.position
    LIMIT 1
"""

_PG_COUNT_UP_TO = sa.text(
    "SELECT count(*) FROM events e WHERE (e.txid, e.position) <= (CAST(:txid AS text)::xid8, :position)"
)
_PG_COUNT_AFTER = sa.text(
    "SELECT count(*) FROM events e WHERE (e.txid, e.position) > (CAST(:txid AS text)::xid8, :position)"
)

_PG_READ_STREAM = "SELECT payload FROM events WHERE stream_id = $1 AND stream_version >= $2 ORDER BY stream_version"
# Ordered by the xid8 column itself: its text form (selected for the driver) sorts '1000000' before '999999'.
_PG_READ_ALL = """
    SELECT e.txid::text AS txid_text, e.position, e.stream_id, e.type, e.traceparent, e.payload FROM events e
    WHERE (e.txid, e.position) > ($1::text::xid8, $2)
      AND e.txid < pg_snapshot_xmin(pg_current_snapshot())
    ORDER BY e.txid, e.position
    LIMIT $3
"""
