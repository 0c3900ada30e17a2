"""A relay that starts while its topic cannot be compared with its store (the broker away, or not able to describe
the topic yet) asks again, and neither stops nor publishes its store a second time."""

import asyncio
from datetime import date

import pytest

from metrology.eventkit import EventContext, EventStore
from metrology.eventkit.database import create_engine, create_schema, session_factory
from metrology.eventkit.relay import OutboxRelay
from metrology.eventkit.store import metadata
from metrology.eventkit.topics import TopicNotReadyError
from metrology.testkit.sample_events import ThingCounted

STORE = EventStore("/test", notify=False)
CONTEXT = EventContext(tenant="83")


class Broker:
    """Keeps what relays publish; answers `records_in` with the failures it is given first, then the truth."""

    def __init__(self) -> None:
        self.published: list[str] = []
        self.failures: list[Exception] = []
        self.asked = 0

    async def publish(self, topic: str, events) -> None:
        self.published.extend(event.stream_id for event in events)

    async def records_in(self, topic: str) -> int:
        self.asked += 1
        if self.failures:
            raise self.failures.pop(0)
        return len(self.published)


@pytest.fixture
async def engine(tmp_path):
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/relay.db")
    await create_schema(engine, metadata)
    yield engine
    await engine.dispose()


async def append(engine, stream: str) -> None:
    async with session_factory(engine).begin() as session:
        await STORE.append(
            session, stream, None, [ThingCounted(occurred_on=date(2025, 1, 1), thing=stream, amount=1)], CONTEXT
        )


async def relay_until_published(engine, broker: Broker, count: int) -> OutboxRelay:
    relay = OutboxRelay(engine, STORE, broker, "t", poll_interval=0.05)  # type: ignore[arg-type]
    stop = asyncio.Event()
    running = asyncio.create_task(relay.run(stop))
    try:
        async with asyncio.timeout(10):
            while len(broker.published) < count and not running.done():  # noqa: ASYNC110 (the relay's own task)
                await asyncio.sleep(0.02)
        assert not running.done(), "the relay stopped"
    finally:
        stop.set()
        relay.signal.wake()
        await running
    return relay


async def test_a_relay_started_while_the_broker_is_away_or_not_ready_asks_again_and_republishes_nothing(engine):
    broker = Broker()
    await append(engine, "thing-a")
    await append(engine, "thing-b")
    await relay_until_published(engine, broker, 2)
    broker.failures = [ConnectionError("the broker is away"), TopicNotReadyError("LeaderNotAvailableError")]
    await append(engine, "thing-c")

    relay = await relay_until_published(engine, broker, 3)

    assert broker.published == ["thing-a", "thing-b", "thing-c"]
    assert (broker.asked, relay.republished) == (3, 0)
