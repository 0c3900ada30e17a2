"""`replay` and `rebuild` from the service's command line, on the real broker and PostgreSQL.

The registry's topic is filled with the small registry world in binary mode, in two batches a moment apart; the
commands run as the operator runs them (a process with the service's environment).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from metrology.eventkit.kafka import KafkaConnection
from metrology.eventkit.projector import ProjectorRunner, processed_events
from metrology.eventkit.topics import TopicSpec, ensure_topics
from metrology.servicekit.replaying import CountedDeadLetters
from metrology.testkit import infra
from metrology.verification.application.replica import REPLICA_TABLES, RegistryReplica
from metrology.verification.bootstrap import bootstrap
from metrology.verification.settings import VerificationSettings

from .world import envelopes, registry_events

pytestmark = [pytest.mark.integration]

COMMAND = str(Path(sys.executable).parent / "metrology-verification")


@dataclass
class Produced:
    prefix: str
    topic: str
    first: list[tuple[int, int, str]]  # (partition, offset, event id)
    second: list[tuple[int, int, str]]
    second_from: datetime


async def _send(producer: AIOKafkaProducer, topic: str, batch: list) -> list[tuple[int, int, str]]:
    sent = []
    for envelope in batch:
        key, value, headers = envelope.to_kafka()
        meta = await producer.send_and_wait(topic, value, key=key, headers=list(headers))
        sent.append((meta.partition, meta.offset, envelope.id))
    return sent


@pytest.fixture
async def produced(kafka: KafkaConnection) -> Produced:
    prefix = infra.topic_prefix("rr")
    topic = f"{prefix}metrology.registry.v1"
    ensure_topics(kafka, [TopicSpec(topic, 3, 1)])
    events = envelopes(registry_events())
    producer = AIOKafkaProducer(**kafka.aiokafka_options(), acks="all")
    await producer.start()
    try:
        first = await _send(producer, topic, events[:5])
        await asyncio.sleep(0.05)
        second_from = datetime.now(UTC)
        await asyncio.sleep(0.05)
        second = await _send(producer, topic, events[5:])
    finally:
        await producer.stop()
    return Produced(prefix, topic, first, second, second_from)


def command(
    kafka: KafkaConnection, prefix: str, *args: str, database_url: str | None = None
) -> subprocess.CompletedProcess:
    env = os.environ | {
        "ENVIRONMENT": "development",
        "KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
        "KAFKA_TOPIC_PREFIX": prefix,
        "COLUMNS": "240",
    }
    if database_url:
        env["VERIFICATION_DATABASE_URL"] = database_url
    return subprocess.run([COMMAND, *args], env=env, capture_output=True, text=True, timeout=120)


def run(kafka: KafkaConnection, prefix: str, *args: str, database_url: str | None = None) -> str:
    done = command(kafka, prefix, *args, database_url=database_url)
    assert done.returncode == 0, done.stderr
    return done.stdout


def lines(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


async def test_replay_from_an_offset_prints_each_partitions_records_from_there(kafka, produced: Produced):
    printed = lines(run(kafka, produced.prefix, "replay", "registry", "--from-offset", "1"))

    expected = {(p, o, i) for p, o, i in produced.first + produced.second if o >= 1}
    assert {(r["partition"], r["offset"], r["id"]) for r in printed} == expected
    assert all(r["type"].startswith("vn.metrology.registry.") and r["tenant"] == "83" for r in printed)
    assert all(r["key"] == r["streamid"] for r in printed)


async def test_replay_from_a_time_prints_only_what_was_written_since(kafka, produced: Produced):
    since = produced.second_from.isoformat()

    printed = lines(run(kafka, produced.prefix, "replay", produced.topic, "--from-time", since))

    assert sorted(r["id"] for r in printed) == sorted(i for _, _, i in produced.second)
    assert not {r["id"] for r in printed} & {i for _, _, i in produced.first}


async def test_replay_keeps_to_one_partition_and_a_limit_and_prints_a_table(kafka, produced: Produced):
    partition = produced.first[0][0]

    printed = lines(run(kafka, produced.prefix, "replay", "registry", "--partition", str(partition), "--limit", "1"))
    table = run(kafka, produced.prefix, "replay", "registry", "--format", "table")

    assert [(r["partition"], r["offset"]) for r in printed] == [(partition, 0)]
    assert "registry.provider-registered" in table
    assert f"{len(produced.first) + len(produced.second)} records" in table


async def _replica_rows(runtime) -> dict[str, list[tuple]]:
    async with runtime.engine.connect() as connection:
        return {
            table.name: sorted(tuple(map(str, row)) for row in await connection.execute(sa.select(table)))
            for table in REPLICA_TABLES
        }


async def _records(kafka: KafkaConnection, topic: str) -> list:
    consumer = AIOKafkaConsumer(topic, **kafka.aiokafka_options(), auto_offset_reset="earliest", group_id=None)
    await consumer.start()
    try:
        fetched = await consumer.getmany(timeout_ms=5000, max_records=100)
        return [record for records in fetched.values() for record in records]
    finally:
        await consumer.stop()


@pytest.mark.parametrize("workers", ["1", "2"])
async def test_rebuilding_the_registry_replica_gives_the_same_rows_and_moves_its_group_to_the_end(
    kafka, produced: Produced, postgres_url: str, workers: str
):
    settings = VerificationSettings.from_env(
        "verification",
        database_url=postgres_url,
        kafka_topic_prefix=produced.prefix,
        kafka_bootstrap_servers=kafka.bootstrap_servers,
    )
    runtime = bootstrap(settings)
    await runtime.migrate()
    runner = ProjectorRunner(runtime.sessions, RegistryReplica(), CountedDeadLetters())
    records = await _records(kafka, produced.topic)
    count = len(produced.first) + len(produced.second)
    assert (await runner.handle(records)).applied == count
    before = await _replica_rows(runtime)
    async with runtime.sessions.begin() as session:  # damage the replica: the rebuild must bring it back
        await session.execute(sa.delete(REPLICA_TABLES[-1]))

    output = run(
        kafka,
        produced.prefix,
        "rebuild",
        "verification.registry-replica",
        "--workers",
        workers,
        database_url=postgres_url,
    )

    assert f"rebuilt {count} events" in output and "set to the ends" in output
    assert await _replica_rows(runtime) == before
    again = await runner.handle(records)
    assert (again.applied, again.duplicates) == (0, count)
    async with runtime.engine.connect() as connection:
        tracked = await connection.execute(sa.select(sa.func.count()).select_from(processed_events))
        assert tracked.scalar_one() == count
    group = AIOKafkaConsumer(**kafka.aiokafka_options(), group_id=f"{produced.prefix}verification.registry-replica")
    await group.start()
    try:
        ends = {}
        for partition, offset, _ in produced.first + produced.second:
            ends[partition] = max(ends.get(partition, 0), offset + 1)
        committed = {p: await group.committed(TopicPartition(produced.topic, p)) for p in ends}
    finally:
        await group.stop()
        await runtime.dispose()
    assert committed == ends


async def test_a_rebuild_in_several_processes_on_sqlite_is_refused_in_one_line(kafka, produced: Produced, tmp_path):
    done = command(
        kafka, produced.prefix, "rebuild", "--workers", "2", database_url=f"sqlite+aiosqlite:///{tmp_path}/v.db"
    )

    assert done.returncode == 2
    assert (
        done.stderr.strip()
        == "--workers 2 needs PostgreSQL: SQLite takes one writer at a time (rebuild with --workers 1)"
    )


async def test_a_rebuild_of_topics_never_made_stops_with_one_line(kafka, postgres_url):
    prefix = infra.topic_prefix("none")

    done = command(kafka, prefix, "rebuild", "verification.registry-replica", database_url=postgres_url)

    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        f"no such topic: {prefix}metrology.registry.v1; the rebuild stopped there (is KAFKA_TOPIC_PREFIX right?)"
    )


async def test_rebuild_refuses_an_unknown_consumer_naming_the_known_ones(kafka, produced: Produced, postgres_url):
    done = command(kafka, produced.prefix, "rebuild", "nothing", database_url=postgres_url)

    assert done.returncode == 2
    assert "verification.registry-replica" in done.stderr


async def test_a_rebuild_beside_a_live_group_member_leaves_the_group_where_it_was_and_says_so(
    kafka, produced: Produced, postgres_url: str
):
    group_id = f"{produced.prefix}verification.registry-replica"
    member = AIOKafkaConsumer(produced.topic, **kafka.aiokafka_options(), group_id=group_id, enable_auto_commit=False)
    await member.start()
    try:
        await member.getmany(timeout_ms=3000)  # joined: the group has a live member

        # in a thread, so that the member keeps sending heartbeats while the rebuild runs
        output = await asyncio.to_thread(
            run, kafka, produced.prefix, "rebuild", "verification.registry-replica", database_url=postgres_url
        )
    finally:
        await member.stop()

    count = len(produced.first) + len(produced.second)
    assert f"rebuilt {count} events" in output
    assert "not moved" in output
