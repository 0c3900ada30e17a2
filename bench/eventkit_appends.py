"""Append throughput of the kit's EventStore (SQLite, PostgreSQL), side by side with pyeventsourcing's
PostgreSQL recorder on the same server, and a gap-safety check by a catch-up reader during the PostgreSQL run.

    .venv/bin/python bench/eventkit_appends.py [--quick]

Single events: 8 writers (asyncio tasks for the kit, threads for eventsourcing), each on its own stream, one
event per transaction, for a fixed time. Batches: 1,000 events per append (one new stream each), one writer.
Each store gets a fresh database; sizes of the stored records are reported and kept alike.
"""

from __future__ import annotations

import asyncio
import functools
import json
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    CONTEXT,
    EVENT_TYPE,
    SOURCE,
    Stopwatch,
    arguments,
    ensure_postgres,
    envelope_bytes,
    machine,
    measured,
    print_table,
    reading,
    registry,
    scratch_database,
    write_results,
)

from metrology.eventkit import store as event_store
from metrology.eventkit.database import create_engine, create_schema, session_factory
from metrology.eventkit.envelope import Envelope
from metrology.eventkit.relay import CommitSignal, PostgresCommitNotifier
from metrology.eventkit.store import EventStore, Position, driver_connection
from metrology.eventkit.unit_of_work import KeptConnections, UnitOfWork

BATCH = 1000


@dataclass
class Sizes:
    writers: int
    seconds: float  # for the single-event runs
    batches: int  # appends of BATCH events


FULL = Sizes(writers=8, seconds=10.0, batches=40)
QUICK = Sizes(writers=8, seconds=1.5, batches=3)


# --- the kit ------------------------------------------------------------------------------------------------------


class CatchUpReader:
    """Follows the store with `read_all` while writers run; also follows `position > last` for contrast."""

    def __init__(self, engine: Any, store: EventStore) -> None:
        self.engine = engine
        self.store = store
        self.after = Position()
        self.seen: set[int] = set()
        self.reads = 0
        self.naive_last = 0
        self.naive_seen: set[int] = set()
        self.max_lag_events = 0

    async def run(self, writers_done: asyncio.Event, expected: callable, drain_seconds: float = 60) -> None:
        deadline: float | None = None
        while True:
            got = await self._step()
            if writers_done.is_set():
                deadline = deadline or time.monotonic() + drain_seconds
                if (not got and len(self.seen) >= expected()) or time.monotonic() > deadline:
                    return
            if not got:
                await asyncio.sleep(0.005)

    async def _step(self) -> int:
        async with self.engine.connect() as connection:
            batch = await self.store.read_all(connection, self.after, 1000)
            naive = (
                (
                    await connection.execute(
                        sa.text("SELECT position FROM events WHERE position > :p ORDER BY position LIMIT 1000"),
                        {"p": self.naive_last},
                    )
                )
                .scalars()
                .all()
            )
        if naive:
            self.naive_seen.update(naive)
            self.naive_last = naive[-1]
        if batch:
            self.reads += len(batch)
            self.seen.update(r.position.position for r in batch)
            self.after = batch[-1].position
        return len(batch)


def as_services_wire_it(engine: Any) -> tuple[KeptConnections, EventStore, CommitSignal]:
    """The connections, store and commit signal as `servicekit.runtime.new_runtime` builds them: units of work
    keep their connections between them; on PostgreSQL, other processes' relays are told of commits by a NOTIFY
    after each commit, not from within the transaction."""
    postgres = engine.dialect.name == "postgresql"
    notifier = PostgresCommitNotifier(engine) if postgres else None
    return KeptConnections(engine), EventStore(SOURCE, notify=not postgres), CommitSignal(notifier)


async def ours_single(url: str, database: str, sizes: Sizes, *, with_reader: bool) -> dict[str, Any]:
    engine = create_engine(url)
    try:
        await create_schema(engine, event_store.metadata)
        events = registry()
        connections, store, signal = as_services_wire_it(engine)
        counts = [0] * sizes.writers
        streams = [f"bench-{uuid.uuid4().hex[:8]}" for _ in range(sizes.writers)]

        async def append(w: int) -> None:
            async with UnitOfWork(connections, store, events, CONTEXT, signal) as uow:
                await uow.append(streams[w], counts[w], [reading(counts[w])])
            counts[w] += 1

        await asyncio.gather(*(append(w) for w in range(sizes.writers)))  # warm the pool
        warm = sum(counts)
        reader = CatchUpReader(engine, store) if with_reader else None
        done = asyncio.Event()
        deadline = time.perf_counter() + sizes.seconds

        async def writer(w: int) -> None:
            while time.perf_counter() < deadline:
                await append(w)

        reading_task = asyncio.create_task(reader.run(done, lambda: sum(counts))) if reader else None
        with Stopwatch() as clock:
            await asyncio.gather(*(writer(w) for w in range(sizes.writers)))
        done.set()
        name = "metrology.eventkit + catch-up reader" if with_reader else "metrology.eventkit"
        row = _row(name, database, "single", sizes.writers, sum(counts) - warm, clock)
        row["payload_bytes"] = await _avg_payload(engine, "events", "payload")
        if reading_task and reader:
            await reading_task
            row.update(await _gap_check(engine, reader))
        await connections.close()
        return row
    finally:
        await engine.dispose()


async def ours_batch(url: str, database: str, sizes: Sizes) -> dict[str, Any]:
    engine = create_engine(url)
    try:
        await create_schema(engine, event_store.metadata)
        events = registry()
        connections, store, signal = as_services_wire_it(engine)
        batch = [reading(i) for i in range(BATCH)]

        async def append() -> None:
            async with UnitOfWork(connections, store, events, CONTEXT, signal) as uow:
                await uow.append(f"bench-{uuid.uuid4().hex[:8]}", 0, batch)

        await append()
        with Stopwatch() as clock:
            for _ in range(sizes.batches):
                await append()
        row = _row("metrology.eventkit", database, f"batch {BATCH:,}", 1, sizes.batches * BATCH, clock)
        row["payload_bytes"] = await _avg_payload(engine, "events", "payload")
        await connections.close()
        return row
    finally:
        await engine.dispose()


async def _avg_payload(engine: Any, table: str, column: str) -> int:
    async with engine.connect() as connection:
        function = "length" if engine.dialect.name == "sqlite" else "octet_length"
        value = (await connection.execute(sa.text(f"SELECT avg({function}({column})) FROM {table}"))).scalar()
    return round(float(value or 0))


async def _gap_check(engine: Any, reader: CatchUpReader) -> dict[str, Any]:
    async with engine.connect() as connection:
        stored = set((await connection.execute(sa.text("SELECT position FROM events"))).scalars())
    return {
        "reader_events": reader.reads,
        "skipped": len(stored - reader.seen),
        "duplicates": reader.reads - len(reader.seen),
        "naive_reader_skipped": len(stored - reader.naive_seen),
    }


def encode_alone(count: int) -> list[dict[str, Any]]:
    """CPU per event of what every append does before it reaches the database, and of plain `json.dumps`."""
    events = [reading(i) for i in range(count)]
    with Stopwatch() as clock:
        for i, event in enumerate(events):
            Envelope.wrap(event, source=SOURCE, stream_id="bench-0", stream_version=i + 1, context=CONTEXT).to_json()
    kit = _row("Envelope.wrap + to_json alone (CPU)", "-", "encode", 1, count, clock)
    fields = json.loads(envelope_bytes())
    with Stopwatch() as clock:
        for event in events:
            json.dumps(fields | {"id": str(uuid.uuid4()), "data": event.model_dump(mode="json")}).encode()
    plain = _row("what-if: model_dump + json.dumps alone (CPU)", "-", "encode", 1, count, clock)
    return [kit, plain]


# --- what-ifs: where a single append's time goes, layer by layer ------------------------------------------------


async def layers_single(url: str, sizes: Sizes, layer: str) -> dict[str, Any]:
    """What-if rows, not the kit: the same pre-encoded INSERT + commit, 8 asyncio writers, sent (a) with asyncpg
    alone, (b) on connections from SQLAlchemy's pool, (c) inside an AsyncSession transaction as the unit of work
    opens it. Between them and the kit's row lies what each layer costs per append."""
    engine = create_engine(url)
    await create_schema(engine, event_store.metadata)
    sessions = session_factory(engine)
    connections = [await asyncpg.connect(url) for _ in range(sizes.writers)] if layer == "asyncpg" else []
    payload, counts = envelope_bytes(), [0] * sizes.writers

    async def insert(driver: Any) -> None:
        await driver.execute(_RAW_INSERT, str(uuid.uuid4()), str(uuid.uuid4()), 1, EVENT_TYPE, NOW, None, payload)

    async def append(w: int) -> None:
        if layer == "asyncpg":
            async with connections[w].transaction():
                await insert(connections[w])
        elif layer == "connection":
            async with engine.begin() as connection:
                await insert(await driver_connection(connection))
        elif layer == "pool":
            async with engine.connect() as connection:
                driver = (await connection.get_raw_connection()).driver_connection
                async with driver.transaction():
                    await insert(driver)
        else:
            async with sessions() as session:
                await session.begin()
                await insert(await driver_connection(session))
                await session.commit()
        counts[w] += 1

    try:
        await asyncio.gather(*(append(w) for w in range(sizes.writers)))
        warm, deadline = sum(counts), time.perf_counter() + sizes.seconds

        async def writer(w: int) -> None:
            while time.perf_counter() < deadline:
                await append(w)

        with Stopwatch() as clock:
            await asyncio.gather(*(writer(w) for w in range(sizes.writers)))
        what = {
            "asyncpg": "what-if: asyncpg INSERT + commit",
            "pool": "what-if: same on SQLAlchemy's pool",
            "connection": "what-if: same in an AsyncConnection",
            "session": "what-if: same in an AsyncSession",
        }[layer]
        return _row(what, "postgresql", "single", sizes.writers, sum(counts) - warm, clock)
    finally:
        for connection in connections:
            await connection.close()
        await engine.dispose()


_RAW_INSERT = (
    "INSERT INTO events (event_id, stream_id, stream_version, type, recorded_at, traceparent, payload) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7)"
)


# --- the database's own limit: plain psycopg, no event store -----------------------------------------------------


def raw_psycopg_single(url: str, sizes: Sizes) -> dict[str, Any]:
    """The limit for one event per transaction: INSERT + commit of a pre-encoded row of the same size into the
    same `events` table (same indexes), 8 threads with a connection each, psycopg as eventsourcing uses it."""
    import psycopg

    payload = envelope_bytes()
    connections = [psycopg.connect(url) for _ in range(sizes.writers)]
    counts = [0] * sizes.writers
    start = threading.Barrier(sizes.writers + 1)
    deadline = [0.0]

    def insert(w: int) -> None:
        stream = f"raw-{w}-{uuid.uuid4().hex[:8]}"
        with connections[w].cursor() as cursor:
            cursor.execute(_PSYCOPG_INSERT, (str(uuid.uuid4()), stream, counts[w] + 1, EVENT_TYPE, NOW, None, payload))
        connections[w].commit()
        counts[w] += 1

    def writer(w: int) -> None:
        insert(w)
        start.wait()
        while time.perf_counter() < deadline[0]:
            insert(w)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(sizes.writers)]
    for t in threads:
        t.start()
    deadline[0] = time.perf_counter() + sizes.seconds
    with Stopwatch() as clock:
        start.wait()
        for t in threads:
            t.join()
    for connection in connections:
        connection.close()
    return _row(
        "limit: psycopg INSERT + commit", "postgresql", "single", sizes.writers, sum(counts) - sizes.writers, clock
    )


def raw_psycopg_batch(url: str, sizes: Sizes, *, copy: bool) -> dict[str, Any]:
    """The limit for 1,000 events per transaction: pre-encoded rows by `executemany` or by `COPY`, then commit."""
    import psycopg

    payload = envelope_bytes()

    def rows() -> list[tuple[Any, ...]]:
        stream = f"raw-{uuid.uuid4().hex[:12]}"
        return [(str(uuid.uuid4()), stream, v, EVENT_TYPE, NOW, None, payload) for v in range(1, BATCH + 1)]

    with psycopg.connect(url) as connection:

        def append() -> None:
            batch = rows()
            with connection.cursor() as cursor:
                if copy:
                    with cursor.copy(_PSYCOPG_COPY) as writer:
                        for row in batch:
                            writer.write_row(row)
                else:
                    cursor.executemany(_PSYCOPG_INSERT, batch)
            connection.commit()

        append()
        with Stopwatch() as clock:
            for _ in range(sizes.batches):
                append()
    what = "limit: psycopg COPY + commit" if copy else "limit: psycopg executemany + commit"
    return _row(what, "postgresql", f"batch {BATCH:,}", 1, sizes.batches * BATCH, clock)


NOW = datetime.now(UTC)
_PSYCOPG_INSERT = (
    "INSERT INTO events (event_id, stream_id, stream_version, type, recorded_at, traceparent, payload) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s)"
)
_PSYCOPG_COPY = "COPY events (event_id, stream_id, stream_version, type, recorded_at, traceparent, payload) FROM STDIN"


async def with_events_table(url: str) -> None:
    engine = create_engine(url)
    try:
        await create_schema(engine, event_store.metadata)
    finally:
        await engine.dispose()


# --- pyeventsourcing ----------------------------------------------------------------------------------------------


def _eventsourcing_env(url: str, name: str, pool: int) -> dict[str, str]:
    parts = urlsplit(url)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": parts.path.lstrip("/"),
        "POSTGRES_HOST": parts.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(parts.port or 5432),
        "POSTGRES_USER": parts.username or "",
        "POSTGRES_PASSWORD": parts.password or "",
        "POSTGRES_POOL_SIZE": str(pool),
        "POSTGRES_MAX_OVERFLOW": "2",
        "CREATE_TABLE": "y",
    }


@functools.cache
def _eventsourcing_classes() -> tuple[type, type]:
    """Defined once (eventsourcing registers each aggregate class by its topic), and only when needed."""
    from eventsourcing.application import Application
    from eventsourcing.domain import Aggregate, event

    class Instrument(Aggregate):
        @event("Registered")
        def __init__(self, name: str) -> None:
            self.name = name
            self.readings = 0

        @event("ReadingTaken")
        def take_reading(self, instrument: str, value: int, note: str) -> None:
            self.readings += 1

    class Bench(Application):
        pass

    return Bench, Instrument


def _padding_for(app: Any, instrument_cls: type, target: int) -> str:
    """A `note` that brings eventsourcing's stored state to the size of the kit's stored record."""
    probe = instrument_cls("probe")
    probe.take_reading("inst-00001", 1, "")
    stored = app.mapper.to_stored_event(probe.collect_events()[-1])
    return "x" * max(0, target - len(stored.state))


def theirs_single(url: str, sizes: Sizes, level: str, record_bytes: int) -> dict[str, Any]:
    from eventsourcing.persistence import StoredEvent

    bench_cls, instrument_cls = _eventsourcing_classes()
    app = bench_cls(env=_eventsourcing_env(url, "bench", sizes.writers))
    try:
        recorder = app.recorder
        state = envelope_bytes()[:record_bytes].ljust(record_bytes, b" ")
        note = _padding_for(app, instrument_cls, record_bytes)
        counts = [0] * sizes.writers
        start = threading.Barrier(sizes.writers + 1)
        deadline = [0.0]

        def writer(w: int) -> None:
            originator = uuid.uuid4()
            aggregate = instrument_cls(f"inst-{w}") if level == "application" else None
            if aggregate is not None:
                app.save(aggregate)
            start.wait()
            while time.perf_counter() < deadline[0]:
                if aggregate is not None:
                    aggregate.take_reading("inst-00001", counts[w], note)
                    app.save(aggregate)
                else:
                    recorder.insert_events([StoredEvent(originator, counts[w] + 1, "bench:ReadingTaken", state)])
                counts[w] += 1

        threads = [threading.Thread(target=writer, args=(w,)) for w in range(sizes.writers)]
        for t in threads:
            t.start()
        deadline[0] = time.perf_counter() + sizes.seconds
        with Stopwatch() as clock:
            start.wait()
            for t in threads:
                t.join()
        row = _row(f"eventsourcing ({level})", "postgresql", "single", sizes.writers, sum(counts), clock)
        row["payload_bytes"] = _their_payload(app)
        return row
    finally:
        app.close()


def theirs_batch(url: str, sizes: Sizes, level: str, record_bytes: int) -> dict[str, Any]:
    from eventsourcing.persistence import StoredEvent

    bench_cls, instrument_cls = _eventsourcing_classes()
    app = bench_cls(env=_eventsourcing_env(url, "bench", 2))
    try:
        state = envelope_bytes()[:record_bytes].ljust(record_bytes, b" ")
        note = _padding_for(app, instrument_cls, record_bytes)

        def append() -> None:
            if level == "application":
                aggregate = instrument_cls("inst")
                for i in range(BATCH - 1):
                    aggregate.take_reading("inst-00001", i, note)
                app.save(aggregate)
            else:
                originator = uuid.uuid4()
                app.recorder.insert_events(
                    [StoredEvent(originator, v, "bench:ReadingTaken", state) for v in range(1, BATCH + 1)]
                )

        append()
        with Stopwatch() as clock:
            for _ in range(sizes.batches):
                append()
        row = _row(f"eventsourcing ({level})", "postgresql", f"batch {BATCH:,}", 1, sizes.batches * BATCH, clock)
        row["payload_bytes"] = _their_payload(app)
        return row
    finally:
        app.close()


def _their_payload(app: Any) -> int:
    datastore = app.recorder.datastore
    with datastore.get_connection() as connection, connection.cursor() as cursor:
        cursor.execute(f"SELECT avg(octet_length(state))::int AS n FROM {app.recorder.events_table_name}")
        return int(cursor.fetchone()["n"] or 0)


# --- report ---------------------------------------------------------------------------------------------------------


def _row(store: str, database: str, mode: str, writers: int, events: int, clock: Stopwatch) -> dict[str, Any]:
    return {"store": store, "database": database, "mode": mode, "writers": writers, **measured(events, clock)}


def _ratios(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for mode in ("single", f"batch {BATCH:,}"):
        ours = next(
            r
            for r in rows
            if r["store"] == "metrology.eventkit" and r["database"] == "postgresql" and r["mode"] == mode
        )
        for theirs in rows:
            if theirs["mode"] == mode and theirs["store"].startswith(("eventsourcing", "limit")):
                ratio = round(ours["events_per_s"] / theirs["events_per_s"], 2)
                out.append({"mode": mode, "versus": theirs["store"], "ours_per_theirs": ratio})
    return out


async def main() -> None:
    args = arguments(__doc__.splitlines()[0])
    sizes = QUICK if args.quick else FULL
    ensure_postgres(args.pg_url)
    facts = await machine(args.pg_url)
    rows: list[dict[str, Any]] = []

    def show(row: dict[str, Any]) -> None:
        rows.append(row)
        print(f"  {row['store']:<34} {row['database']:<10} {row['mode']:<12} {row['events_per_s']:>9,} events/s")

    print(f"appends: {sizes}")
    for row in encode_alone(2_000 if args.quick else 20_000):
        show(row)
    with tempfile.TemporaryDirectory(prefix="bench-sqlite-") as folder:
        show(await ours_single(f"sqlite:///{folder}/single.db", "sqlite", sizes, with_reader=False))
        show(await ours_batch(f"sqlite:///{folder}/batch.db", "sqlite", sizes))
    async with scratch_database(args.pg_url, "ours") as url:
        show(await ours_single(url, "postgresql", sizes, with_reader=False))
    async with scratch_database(args.pg_url, "ours") as url:
        show(await ours_single(url, "postgresql", sizes, with_reader=True))
    async with scratch_database(args.pg_url, "ours") as url:
        show(await ours_batch(url, "postgresql", sizes))
    for layer in ("asyncpg", "pool", "connection", "session"):
        async with scratch_database(args.pg_url, "whatif") as url:
            show(await layers_single(url, sizes, layer))
    async with scratch_database(args.pg_url, "limit") as url:
        await with_events_table(url)
        show(await asyncio.to_thread(raw_psycopg_single, url, sizes))
        show(await asyncio.to_thread(raw_psycopg_batch, url, sizes, copy=False))
        show(await asyncio.to_thread(raw_psycopg_batch, url, sizes, copy=True))
    ours = [r for r in rows if r["store"] == "metrology.eventkit" and r["database"] == "postgresql"]
    record = ours[0]["payload_bytes"]
    for level in ("recorder", "application"):
        async with scratch_database(args.pg_url, "theirs") as url:
            show(await asyncio.to_thread(theirs_single, url, sizes, level, record))
        async with scratch_database(args.pg_url, "theirs") as url:
            show(await asyncio.to_thread(theirs_batch, url, sizes, level, record))

    columns = [
        "store",
        "database",
        "mode",
        "writers",
        "events",
        "seconds",
        "events_per_s",
        "cpu_us_per_event",
        "payload_bytes",
        "reader_events",
        "skipped",
        "duplicates",
        "naive_reader_skipped",
    ]
    print_table("Event store appends", rows, columns)
    ratios = _ratios(rows)
    print_table("PostgreSQL, ours / eventsourcing", ratios, ["mode", "versus", "ours_per_theirs"])
    write_results(
        "appends", {"machine": facts, "sizes": sizes.__dict__, "batch": BATCH, "results": rows, "ratios": ratios}
    )


if __name__ == "__main__":
    asyncio.run(main())
