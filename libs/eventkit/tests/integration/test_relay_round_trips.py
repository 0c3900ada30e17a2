"""An active relay on PostgreSQL moves events with statements that each stand alone: its lock check, checkpoint
read, reads and checkpoint writes send no BEGIN, COMMIT or ROLLBACK (one round trip each), and every event still
reaches the topic once, with the checkpoint at the last one published."""

import asyncio
from datetime import date

import pytest
import sqlalchemy as sa

from metrology.eventkit import EventContext, EventStore
from metrology.eventkit.database import create_engine, create_schema, session_factory
from metrology.eventkit.relay import KafkaEventPublisher, OutboxRelay, records_in_topic, relay_checkpoints
from metrology.eventkit.store import metadata
from metrology.eventkit.topics import TopicSpec, ensure_topics
from metrology.testkit.sample_events import ThingCounted, totals_metadata

pytestmark = pytest.mark.integration

STORE = EventStore("/test")
CONTROL = ("BEGIN", "COMMIT", "ROLLBACK")


def transaction_control_sent_by(engine) -> list[str]:
    """Every BEGIN, COMMIT or ROLLBACK the engine's connections send from now on."""
    sent: list[str] = []

    def log_queries(dbapi_connection, _record) -> None:
        dbapi_connection.driver_connection.add_query_logger(
            lambda query: sent.append(query.query) if query.query.upper().startswith(CONTROL) else None
        )

    sa.event.listen(engine.sync_engine, "connect", log_queries)
    return sent


async def append(engine, count: int) -> None:
    async with session_factory(engine).begin() as session:
        for n in range(count):
            event = ThingCounted(occurred_on=date(2025, 5, 1), thing=f"thing-{n}", amount=1)
            await STORE.append(session, f"thing-{n}", None, [event], EventContext(tenant="83"))


async def test_an_active_relay_sends_no_transaction_control_and_loses_nothing(postgres_url, kafka, topic):
    writer, relay_engine = create_engine(postgres_url), create_engine(postgres_url)
    await create_schema(writer, metadata, totals_metadata)
    ensure_topics(kafka, [TopicSpec(topic)])
    sent = transaction_control_sent_by(relay_engine)
    publisher = KafkaEventPublisher(kafka)
    await publisher.start()
    relay = OutboxRelay(relay_engine, STORE, publisher, topic, poll_interval=0.05)
    stop = asyncio.Event()
    running = asyncio.create_task(relay.run(stop))
    try:
        for _ in range(3):  # passes that find events, and passes between that find none
            await append(writer, 5)
            await asyncio.sleep(0.3)
        async with asyncio.timeout(30):
            while await records_in_topic(kafka, topic) < 15:  # noqa: ASYNC110 (polls the broker)
                await asyncio.sleep(0.1)
    finally:
        stop.set()
        relay.signal.notify()
        await running
        await publisher.stop()
    async with writer.connect() as connection:
        checkpoint = (await connection.execute(sa.select(relay_checkpoints.c.position))).scalar_one()
        last = (await connection.execute(sa.text("SELECT max(position) FROM events"))).scalar_one()
    await writer.dispose()
    await relay_engine.dispose()

    assert (await records_in_topic(kafka, topic), relay.published, checkpoint) == (15, 15, last)
    assert sent == []
