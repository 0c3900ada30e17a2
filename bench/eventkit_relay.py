"""Outbox relay throughput into Kafka, side by side with Kafka's own ProducerPerformance at the same record size.

    .venv/bin/python bench/eventkit_relay.py [--quick] [--profile]

A fresh PostgreSQL database is filled with N committed events (~530-byte CloudEvents records, 1,000 streams,
1,000 events per transaction), then `OutboxRelay.publish_pending()` is timed into a fresh 3-partition topic with
the kit's `KafkaEventPublisher` (librdkafka; acks=all, idempotent, linger 5 ms). Two partial runs show where
the time goes:
reading the store alone (`read_all` in the relay's batches) and publishing already-read batches alone.

Two peers run in the same run: Kafka's `ProducerPerformance` (values of the same size, but no keys and no headers:
its records fill one partition's batch at a time), and Kafka's Java producer sending exactly the relay's records,
keys and headers included (`bench/peers/RecordsProducer.java`, run from source by `java`). The process settles
Python's collector as `metrology-<service> relay` does once wired.
`--profile` adds a cProfile of the relay over a fresh topic and prints the
functions that take the most time.
"""

from __future__ import annotations

import asyncio
import cProfile
import io
import pstats
import re
import struct
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    EVENT_TYPE,
    SOURCE,
    Stopwatch,
    arguments,
    ensure_kafka,
    ensure_postgres,
    envelope_records,
    machine,
    measured,
    print_table,
    run_kafka_tool,
    scratch_database,
    scratch_topic,
    topic_size,
    write_results,
)

from metrology.eventkit import event_loop
from metrology.eventkit import store as event_store
from metrology.eventkit.database import create_engine, create_schema
from metrology.eventkit.kafka import KafkaConnection
from metrology.eventkit.relay import KafkaEventPublisher, OutboxRelay
from metrology.eventkit.store import EventStore, Position, RecordedEvent
from metrology.servicekit.collector import settle_garbage_collector
from metrology.servicekit.settings import ServiceSettings

GOAL = 30_000
PER_TRANSACTION = 1000


async def fill(url: str, count: int) -> int:
    """Commit `count` events, PER_TRANSACTION per transaction (COPY); returns the average payload size."""
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    columns = ["event_id", "stream_id", "stream_version", "type", "recorded_at", "payload"]
    now, total, chunk = datetime.now(UTC), 0, []
    try:
        for event_id, stream_id, version, payload in envelope_records(count):
            chunk.append((event_id, stream_id, version, EVENT_TYPE, now, payload))
            total += len(payload)
            if len(chunk) == PER_TRANSACTION:
                await connection.copy_records_to_table("events", records=chunk, columns=columns)
                chunk = []
        if chunk:
            await connection.copy_records_to_table("events", records=chunk, columns=columns)
    finally:
        await connection.close()
    return round(total / count)


async def wait_until_readable(engine: Any, count: int, seconds: float = 120) -> float:
    """Seconds spent until every event is older than all transactions in flight on the server.

    Readers only take rows below the server-wide xmin, so a transaction held open elsewhere on a shared server
    (another database included) holds the relay back; this shows up here rather than in the timed run.
    """
    query = sa.text("SELECT count(*) FROM events WHERE txid < pg_snapshot_xmin(pg_current_snapshot())")
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        async with engine.connect() as connection:
            if (await connection.execute(query)).scalar_one() >= count:
                return time.monotonic() - started
        await asyncio.sleep(0.2)
    raise TimeoutError("events stayed behind a transaction held open elsewhere on the server")


def _wire_bytes(recorded: RecordedEvent) -> int:
    """What a record carries on the wire: its key, value and headers (names and values)."""
    key, value, headers = recorded.kafka_record()
    return len(key) + len(value) + sum(len(name) + len(raw) for name, raw in headers)


async def read_everything(engine: Any, store: EventStore, batch_size: int) -> list[list[RecordedEvent]]:
    batches, after = [], Position()
    while True:
        async with engine.connect() as connection:
            batch = await store.read_all(connection, after, batch_size)
        if not batch:
            return batches
        batches.append(batch)
        after = batch[-1].position


async def relay_once(
    engine: Any, kafka: KafkaConnection, topic: str, name: str, store: EventStore | None = None, **options: Any
) -> tuple[int, Stopwatch]:
    publisher = KafkaEventPublisher(kafka)
    await publisher.start()
    try:
        relay = OutboxRelay(engine, store or EventStore(SOURCE), publisher, topic, name=name, **options)
        with Stopwatch() as clock:
            sent = await relay.publish_pending()
    finally:
        await publisher.stop()
    return sent, clock


PEER = Path(__file__).resolve().parent / "peers" / "RecordsProducer.java"


def write_records(batches: list[list[RecordedEvent]], path: Path) -> None:
    """The relay's records (key, value, headers), length-prefixed big-endian, as `RecordsProducer.java` reads them."""
    with path.open("wb") as out:
        for batch in batches:
            for recorded in batch:
                key, value, headers = recorded.kafka_record()
                parts = [struct.pack(">i", len(key)), key, struct.pack(">i", len(value)), value]
                parts.append(struct.pack(">i", len(headers)))
                for name, raw in headers:
                    encoded = name.encode()
                    parts += [struct.pack(">i", len(encoded)), encoded, struct.pack(">i", len(raw)), raw]
                out.write(b"".join(parts))


def java_producer(bootstrap: str, topic: str, records: Path) -> dict[str, Any]:
    """Kafka's Java producer sending the relay's own records: same keys, values and headers, same settings."""
    out = run_kafka_tool(str(PEER), [bootstrap, topic, str(records)])
    final = [line for line in out.splitlines() if "records sent" in line][-1]
    match = re.search(r"(\d+) records sent, ([\d.]+) records/sec", final)
    if not match:
        raise RuntimeError(f"unexpected RecordsProducer output: {final}")
    return {"events": int(match.group(1)), "events_per_s": round(float(match.group(2))), "line": final}


def producer_performance(bootstrap: str, topic: str, count: int, size: int) -> dict[str, Any]:
    out = run_kafka_tool(
        "org.apache.kafka.tools.ProducerPerformance",
        [
            "--topic",
            topic,
            "--num-records",
            str(count),
            "--record-size",
            str(size),
            "--throughput",
            "-1",
            "--producer-props",
            f"bootstrap.servers={bootstrap}",
            "acks=all",
            "enable.idempotence=true",
            "linger.ms=5",
        ],
    )
    final = [line for line in out.splitlines() if "records sent" in line][-1]
    match = re.search(r"([\d.]+) records/sec .*?([\d.]+) ms avg latency", final)
    if not match:
        raise RuntimeError(f"unexpected ProducerPerformance output: {final}")
    return {"events_per_s": round(float(match.group(1))), "avg_latency_ms": float(match.group(2)), "line": final}


async def main() -> None:
    args = arguments(
        __doc__.splitlines()[0],
        lambda p: p.add_argument("--profile", action="store_true", help="also cProfile a relay run"),
    )
    count = 10_000 if args.quick else 200_000
    # as `metrology-<service> relay` runs once wired: Python's collector settled (docs/operations.md, "Memory")
    settle_garbage_collector(ServiceSettings.model_fields["gc_young_threshold"].default)
    ensure_postgres(args.pg_url)
    ensure_kafka(args.kafka)
    facts = await machine(args.pg_url, kafka=True)
    kafka = KafkaConnection(bootstrap_servers=args.kafka)
    rows: list[dict[str, Any]] = []
    result: dict[str, Any] = {"machine": facts, "events": count}

    def show(row: dict[str, Any]) -> None:
        rows.append(row)
        print(f"  {row['what']:<58} {row['events_per_s']:>9,} events/s")

    async with scratch_database(args.pg_url, "relay") as url:
        engine = create_engine(url)
        try:
            await create_schema(engine, event_store.metadata)
            with Stopwatch() as clock:
                size = await fill(url, count)
            print(f"filled {count:,} events of {size} bytes in {clock.seconds:.1f}s")
            result["payload_bytes"] = size
            result["waited_for_xmin_s"] = round(await wait_until_readable(engine, count), 2)
            store = EventStore(SOURCE)

            with Stopwatch() as clock:
                batches = await read_everything(engine, store, OutboxRelay.__init__.__kwdefaults__["batch_size"])
            read = sum(len(b) for b in batches)
            show({"what": "read_all alone (PostgreSQL → RecordedEvent, 5,000/batch)", **measured(read, clock)})
            wire = [_wire_bytes(r) for b in batches[:1] for r in b]
            size = round(sum(wire) / len(wire))
            result["record_bytes_key_value_headers"] = size
            records_file = Path(tempfile.mkdtemp(prefix="relay-records-")) / "records.bin"
            write_records(batches, records_file)
            with scratch_topic(args.kafka, "publish") as topic:
                publisher = KafkaEventPublisher(kafka)
                await publisher.start()
                try:
                    with Stopwatch() as clock:
                        for batch in batches:
                            await publisher.publish(topic, batch)
                finally:
                    await publisher.stop()
                show({"what": "KafkaEventPublisher.publish alone (batches in memory)", **measured(read, clock)})
            del batches

            with scratch_topic(args.kafka, "relay") as topic:
                sent, clock = await relay_once(engine, kafka, topic, "bench")
                landed = await asyncio.to_thread(topic_size, args.kafka, topic)
                show({"what": "OutboxRelay.publish_pending (read, publish, checkpoint)", **measured(sent, clock)})
                result["relay_sent"], result["relay_in_topic"] = sent, landed
                if landed != count or sent != count:
                    print(f"!! relay sent {sent:,}, topic holds {landed:,}, store holds {count:,}")

            with scratch_topic(args.kafka, "relay10k") as topic:
                sent, clock = await relay_once(engine, kafka, topic, "bench-10k", batch_size=10_000)
                show({"what": "OutboxRelay.publish_pending, batch_size=10,000", **measured(sent, clock)})

            with scratch_topic(args.kafka, "perf") as topic:
                perf = await asyncio.to_thread(producer_performance, args.kafka, topic, count, size)
                show(
                    {
                        "what": f"Kafka ProducerPerformance ({size}-byte records: key + value + headers)",
                        "events": count,
                        "seconds": round(count / perf["events_per_s"], 2),
                        "events_per_s": perf["events_per_s"],
                    }
                )
                result["producer_performance"] = perf

            with scratch_topic(args.kafka, "java") as topic:
                java = await asyncio.to_thread(java_producer, args.kafka, topic, records_file)
                landed = await asyncio.to_thread(topic_size, args.kafka, topic)
                if landed != count or java["events"] != count:
                    raise RuntimeError(f"the Java producer sent {java['events']:,}; the topic holds {landed:,}")
                show(
                    {
                        "what": "Kafka's Java producer, the relay's records (keys, headers)",
                        "events": count,
                        "seconds": round(count / java["events_per_s"], 2),
                        "events_per_s": java["events_per_s"],
                    }
                )
                result["java_producer_same_records"] = java
            records_file.unlink()
            records_file.parent.rmdir()

            if args.profile:
                with scratch_topic(args.kafka, "profile") as topic:
                    result["profile"] = await profile_relay(engine, kafka, topic, "profile", None)
        finally:
            await engine.dispose()

    ours = next(r for r in rows if r["what"].startswith("OutboxRelay.publish_pending ("))["events_per_s"]
    theirs = result["producer_performance"]["events_per_s"]
    same_records = result["java_producer_same_records"]["events_per_s"]
    result["ratio_relay_per_producer_performance"] = round(ours / theirs, 3)
    result["ratio_relay_per_java_producer_same_records"] = round(ours / same_records, 3)
    result["results"] = rows
    print_table("Outbox relay into Kafka", rows, ["what", "events", "seconds", "events_per_s", "cpu_us_per_event"])
    print(f"\nrelay / ProducerPerformance = {ours:,} / {theirs:,} = {ours / theirs:.2f}   (goal {GOAL:,} events/s)")
    print(f"relay / Java producer, same records = {ours:,} / {same_records:,} = {ours / same_records:.2f}")
    for label in ("profile",):
        if label in result:
            print(f"\n{label}:\n" + result[label]["text"])
    write_results("relay", result)


async def profile_relay(
    engine: Any, kafka: KafkaConnection, topic: str, name: str, store: EventStore | None
) -> dict[str, Any]:
    profiler = cProfile.Profile()
    profiler.enable()
    sent, clock = await relay_once(engine, kafka, topic, f"bench-{name}", store)
    profiler.disable()
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.sort_stats("tottime").print_stats(18)
    stats.sort_stats("cumulative").print_stats(r"eventkit|confluent_kafka|sqlalchemy/engine/base|asyncpg", 14)
    trimmed = "\n".join(line for line in text.getvalue().splitlines() if line.strip())
    return {"sent": sent, "seconds_under_profiler": round(clock.seconds, 2), "text": trimmed}


if __name__ == "__main__":
    event_loop.run(main())
