"""Projector scale-out: N consumer processes of one group (N = 1, 2, 3) fold one 3-partition topic.

    .venv/bin/python bench/scale_out.py [--quick] [--events N]

N events (~530-byte CloudEvents records keyed by stream, 1,000 streams, binary mode as the relay publishes) go to a
fresh 3-partition topic once. For each N, a fresh database and a fresh consumer group: N processes each run the
kit's `subscribe_projection` (FastStream, static membership with its own group instance id, as
`KAFKA_GROUP_INSTANCE_ID` gives each service process) feeding a `ProjectorRunner` with the set-based counter read
model of `eventkit_projector.py`, tracking in the same transaction. The time is taken from the start of the
processes until the read model holds every event; "fold" is from the first folded event to the last (group
joins and process start-up excluded). Kafka's ConsumerPerformance on the same topic (the fastest of three runs) is
the reference.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    arguments,
    ensure_kafka,
    ensure_postgres,
    machine,
    print_table,
    rate,
    scratch_database,
    scratch_topic,
    write_results,
)
from eventkit_projector import (
    PEER_RUNS,
    CountPerStreamInBulk,
    NoDeadLetters,
    best_consumer_performance,
    counters,
    produce,
    read_model,
)

from metrology.eventkit import event_loop
from metrology.eventkit import store as event_store
from metrology.eventkit.consumers import new_broker, subscribe_projection
from metrology.eventkit.database import create_engine, create_schema, session_factory
from metrology.eventkit.kafka import KafkaConnection
from metrology.eventkit.projector import ProjectorRunner


async def worker(url: str, bootstrap: str, topic: str, group: str, instance: str) -> None:
    """One consumer process: fold until terminated."""
    engine = create_engine(url)
    broker = new_broker(KafkaConnection(bootstrap_servers=bootstrap), client_id=f"bench-{instance}")
    runner = ProjectorRunner(session_factory(engine), CountPerStreamInBulk(), NoDeadLetters())
    subscribe_projection(broker, runner, [topic], group, group_instance_id=instance)
    await broker.start()
    try:
        await asyncio.Event().wait()
    finally:
        await broker.stop()
        await engine.dispose()


async def run_group(url: str, bootstrap: str, topic: str, count: int, consumers: int) -> dict[str, Any]:
    engine = create_engine(url)
    await create_schema(engine, event_store.metadata, read_model)
    group = f"bench-scale-{uuid.uuid4().hex[:8]}"
    command = [sys.executable, __file__, "--worker", url, bootstrap, topic, group]
    started = time.perf_counter()
    processes = [
        await asyncio.create_subprocess_exec(*command, f"{group}-{i}", env=os.environ | {"PYTHONUNBUFFERED": "1"})
        for i in range(consumers)
    ]
    first_at = last_at = None
    folded = 0
    try:
        deadline = started + 900
        while folded < count and time.perf_counter() < deadline:
            await asyncio.sleep(0.05)
            async with engine.connect() as connection:
                total = sa.select(sa.func.coalesce(sa.func.sum(counters.c.events), 0))
                folded = int((await connection.execute(total)).scalar_one())
            if folded and first_at is None:
                first_at = time.perf_counter()
        last_at = time.perf_counter()
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            await asyncio.wait_for(process.wait(), timeout=30)
        await engine.dispose()
    fold_seconds = last_at - (first_at or started)
    return {
        "consumers": consumers,
        "events": folded,
        "seconds": round(last_at - started, 2),
        "events_per_s": round(rate(folded, last_at - started)),
        "fold_events_per_s": round(rate(folded, fold_seconds)),
    }


async def main() -> None:
    args = arguments(__doc__.splitlines()[0], lambda p: p.add_argument("--events", type=int))
    count = args.events or (20_000 if args.quick else 200_000)
    ensure_postgres(args.pg_url)
    ensure_kafka(args.kafka)
    facts = await machine(args.pg_url, kafka=True)
    kafka = KafkaConnection(bootstrap_servers=args.kafka)
    rows: list[dict[str, Any]] = []
    with scratch_topic(args.kafka, "scale") as topic:
        size = await produce(kafka, topic, count)
        print(f"produced {count:,} events of {size} bytes to {topic}")
        perf = await best_consumer_performance(args.kafka, topic, count, PEER_RUNS)
        for consumers in (1, 2, 3):
            async with scratch_database(args.pg_url, "scale") as url:
                row = await run_group(url, args.kafka, topic, count, consumers)
            row["ratio_to_consumer_performance"] = round(row["fold_events_per_s"] / perf["events_per_s"], 3)
            rows.append(row)
            print(f"  {consumers} consumer(s): {row['fold_events_per_s']:,} events/s folding")
    print_table(
        f"Projector scale-out (ConsumerPerformance {perf['events_per_s']:,} events/s)",
        rows,
        ["consumers", "events", "seconds", "events_per_s", "fold_events_per_s", "ratio_to_consumer_performance"],
    )
    write_results("scale_out", {"machine": facts, "events": count, "consumer_performance": perf, "results": rows})


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        event_loop.run(worker(*sys.argv[2:7]))
    else:
        event_loop.run(main())
