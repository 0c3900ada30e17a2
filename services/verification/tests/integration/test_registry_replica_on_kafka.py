"""The replica fed by real registry events: appended to a registry event store, relayed to Kafka, consumed."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest
import sqlalchemy as sa

from metrology.eventkit.database import create_engine, create_schema, session_factory
from metrology.eventkit.envelope import EventContext
from metrology.eventkit.kafka import KafkaConnection
from metrology.eventkit.relay import KafkaEventPublisher, OutboxRelay
from metrology.eventkit.store import EventStore, metadata
from metrology.eventkit.topics import ensure_topics, event_topic
from metrology.registry.domain import events as r
from metrology.servicekit.workers import Workers
from metrology.testkit import infra
from metrology.verification.adapters.tables import instrument_due, replica_designations, replica_verifiers
from metrology.verification.bootstrap import bootstrap
from metrology.verification.settings import VerificationSettings

from .world import CENTRE, SCALE, VERIFIER, registry_events

pytestmark = [pytest.mark.integration]


async def wait_until(check) -> None:
    for _ in range(150):
        if await check():
            return
        await asyncio.sleep(0.2)
    raise AssertionError("the replica did not catch up in 30 s")


async def test_registry_events_relayed_through_kafka_fill_the_replica(
    kafka: KafkaConnection, postgres_url: str, postgres_admin_url: str
):
    prefix = infra.topic_prefix("it")
    registry_url = await infra.create_database(postgres_admin_url, prefix="registry")
    registry_engine = create_engine(registry_url)
    await create_schema(registry_engine, metadata)
    store = EventStore(source="/metrology/registry")
    suspended = r.VerifierSuspended(occurred_on=date(2025, 5, 1), provider_id=CENTRE, verifier_id=VERIFIER)
    renewed = r.DesignationRenewed(
        occurred_on=date(2027, 12, 1), provider_id=CENTRE, designation_id="des-1", valid_until=date(2033, 1, 31)
    )
    pairs = [*registry_events(), (f"provider-{CENTRE}", suspended), (f"provider-{CENTRE}", renewed)]
    async with session_factory(registry_engine).begin() as session:
        for stream, event in pairs:
            await store.append(session, stream, None, [event], EventContext(tenant="83"))

    settings = VerificationSettings.from_env(
        "verification",
        database_url=postgres_url,
        kafka_topic_prefix=prefix,
        kafka_bootstrap_servers=kafka.bootstrap_servers,
    )
    runtime = bootstrap(settings)
    await runtime.migrate()
    stop = asyncio.Event()
    workers = asyncio.create_task(Workers(runtime, relay=False, consumers=True).run(stop))
    publisher = KafkaEventPublisher(kafka)
    await publisher.start()
    relay = OutboxRelay(registry_engine, store, publisher, prefix + event_topic("registry"))
    try:
        await asyncio.to_thread(ensure_topics, kafka, runtime.topic_specs())
        published = 0

        async def all_published() -> bool:  # the gap-safe reader waits out transactions still in flight
            nonlocal published
            published += await relay.publish_pending()
            return published == len(pairs)

        await wait_until(all_published)

        async def caught_up() -> bool:
            async with runtime.engine.connect() as connection:
                rows = (await connection.execute(sa.select(replica_designations.c.renewals))).scalars().all()
                return any(rows)

        await wait_until(caught_up)
        async with runtime.engine.connect() as connection:
            verifier = (
                await connection.execute(
                    sa.select(replica_verifiers).where(replica_verifiers.c.verifier_id == VERIFIER)
                )
            ).one()
            due = (
                await connection.execute(sa.select(instrument_due).where(instrument_due.c.instrument_id == SCALE))
            ).one()
        assert verifier.suspensions == [["2025-05-01", True]]
        assert due.due_on == date(2024, 2, 1), "never verified: due on its registration date"
    finally:
        stop.set()
        await workers
        await publisher.stop()
        await registry_engine.dispose()
        await runtime.dispose()
        await infra.drop_database(postgres_admin_url, registry_url)
