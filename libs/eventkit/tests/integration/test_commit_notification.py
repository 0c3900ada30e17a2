"""Relays in other processes hear of commits through a NOTIFY sent after the commit, outside the transaction."""

import asyncio
from datetime import date

import asyncpg
import pytest

from metrology.eventkit import EventContext, EventStore
from metrology.eventkit.database import create_engine, create_schema
from metrology.eventkit.relay import CommitSignal, PostgresCommitNotifier
from metrology.eventkit.store import NOTIFY_CHANNEL, metadata
from metrology.eventkit.unit_of_work import UnitOfWork
from metrology.testkit.sample_events import ThingCounted, registry


@pytest.fixture
async def engine(postgres_url):
    engine = create_engine(postgres_url)
    await create_schema(engine, metadata)
    yield engine
    await engine.dispose()


@pytest.fixture
async def heard(postgres_url):
    """Notifications another process's relay would hear."""
    got: asyncio.Queue = asyncio.Queue()
    listener = await asyncpg.connect(postgres_url.replace("+asyncpg", ""))
    await listener.add_listener(NOTIFY_CHANNEL, lambda *_: got.put_nowait(1))
    yield got
    await listener.close()


async def test_a_commit_is_notified_to_other_processes_after_the_transaction(engine, heard):
    signal = CommitSignal(PostgresCommitNotifier(engine))
    store = EventStore("/test", notify=False)
    context = EventContext(tenant="83")
    async with UnitOfWork(engine, store, registry(), context, signal) as uow:
        await uow.append("thing-a", 0, [ThingCounted(occurred_on=date(2025, 1, 1), thing="a", amount=1)])
        await asyncio.sleep(0.2)
        assert heard.empty(), "nothing is told before the commit"
    async with asyncio.timeout(5):
        await heard.get()


async def test_a_notification_heard_wakes_this_relay_without_notifying_again(engine, heard):
    signal = CommitSignal(PostgresCommitNotifier(engine))
    signal.wake()
    await signal.wait(1)
    await asyncio.sleep(0.3)
    assert heard.empty()


async def test_commits_in_a_burst_are_told_without_one_notify_each(engine, heard):
    sent = []

    async def slow_notifier() -> None:
        sent.append(1)
        await asyncio.sleep(0.1)

    signal = CommitSignal(slow_notifier)
    for _ in range(50):
        signal.notify()
    await asyncio.sleep(0.5)
    assert 1 <= len(sent) <= 2


class Collecting:
    """A publisher that keeps what the relay hands it."""

    def __init__(self) -> None:
        self.published: list[str] = []
        self.arrived = asyncio.Event()

    async def publish(self, topic: str, events) -> None:
        self.published.extend(e.stream_id for e in events)
        self.arrived.set()

    async def records_in(self, topic: str) -> int:
        return len(self.published)


async def test_an_event_held_behind_an_open_transaction_is_published_when_it_ends_not_at_the_next_poll(engine):
    from metrology.eventkit.relay import OutboxRelay

    store = EventStore("/test", notify=False)
    publisher = Collecting()
    relay = OutboxRelay(engine, store, publisher, "t", poll_interval=60, signal=CommitSignal())  # type: ignore[arg-type]
    stop = asyncio.Event()
    running = asyncio.create_task(relay.run(stop))
    try:
        async with engine.connect() as blocker:
            await blocker.begin()
            await blocker.exec_driver_sql("SELECT pg_current_xact_id()")  # an open transaction that appends nothing
            async with UnitOfWork(engine, store, registry(), EventContext(tenant="83"), relay.signal) as uow:
                await uow.append("held", 0, [ThingCounted(occurred_on=date(2025, 1, 1), thing="h", amount=1)])
            await asyncio.sleep(0.3)  # the commit woke the relay; its read stopped short of the open transaction
            assert publisher.published == []
            await blocker.commit()  # wakes nobody
        async with asyncio.timeout(10):  # far below the 60 s poll interval
            await publisher.arrived.wait()
        assert publisher.published == ["held"]
    finally:
        stop.set()
        relay.signal.wake()
        await running
