"""A process's commands read a stream they read lately from its last known event on, and never see events that
are not in the database: not another process's that they missed, nor a rolled-back command's, nor a replaced
database's old ones."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from metrology.eventkit import EventContext, EventStore
from metrology.eventkit.database import create_engine, create_schema
from metrology.eventkit.histories import StreamHistories
from metrology.eventkit.store import events_table, metadata
from metrology.eventkit.unit_of_work import KeptConnections, UnitOfWork
from metrology.testkit.sample_events import ThingCounted, registry

pytestmark = pytest.mark.integration

BEN_TRE, HO_CHI_MINH_CITY = EventContext(tenant="83"), EventContext(tenant="79")


def counted(thing: str) -> ThingCounted:
    return ThingCounted(occurred_on=date(2025, 3, 1), thing=thing, amount=1)


class Process:
    """One service process: its kept connections, and its stream histories (None: it keeps none)."""

    def __init__(self, engine, histories: StreamHistories | None) -> None:
        self.connections = KeptConnections(engine)
        self.histories = histories
        self.store = EventStore("/test", notify=False)
        self.reads: list[int] = []  # the first version each read of the store asked for
        read_stream = self.store.read_stream

        async def counted_read(session, stream_id, from_version=1):
            self.reads.append(from_version)
            return await read_stream(session, stream_id, from_version)

        self.store.read_stream = counted_read  # type: ignore[method-assign]

    def unit(self, context: EventContext = BEN_TRE) -> UnitOfWork:
        return UnitOfWork(self.connections, self.store, registry(), context, histories=self.histories)

    async def things(self, stream: str, context: EventContext = BEN_TRE) -> list[str]:
        async with self.unit(context) as uow:
            return [event.thing for event in await uow.history(stream)]  # type: ignore[attr-defined]

    async def append(self, stream: str, *things: str) -> None:
        async with self.unit() as uow:
            version = len(await uow.history(stream))
            await uow.append(stream, version, [counted(thing) for thing in things])


@pytest.fixture
async def engine(database_url):
    engine = create_engine(database_url)
    await create_schema(engine, metadata)
    yield engine
    await engine.dispose()


async def test_a_stream_read_lately_is_read_again_from_its_last_known_event_on(engine):
    this, other = Process(engine, StreamHistories()), Process(engine, None)
    await other.append("course-1", "scheduled", "enrolled a", "enrolled b")
    assert await this.things("course-1") == ["scheduled", "enrolled a", "enrolled b"]
    await other.append("course-1", "completed a", "completed b")  # another process: this one did not see it

    assert await this.things("course-1") == ["scheduled", "enrolled a", "enrolled b", "completed a", "completed b"]
    assert await this.things("course-1") == ["scheduled", "enrolled a", "enrolled b", "completed a", "completed b"]
    assert this.reads == [1, 3, 5], "after the first read, each read began at the last event it knew"
    await this.connections.close()
    await other.connections.close()


async def test_events_of_a_command_that_rolled_back_are_never_read_again(engine):
    this, other = Process(engine, StreamHistories()), Process(engine, None)
    await other.append("course-1", "scheduled", "enrolled a")
    with pytest.raises(RuntimeError):
        async with this.unit() as uow:
            await uow.append("course-1", 2, [counted("enrolled ghost")])
            assert len(await uow.history("course-1")) == 3  # read inside the command, before it fails
            raise RuntimeError("the command fails after reading its own append")
    this.reads.clear()
    assert await this.things("course-1") == ["scheduled", "enrolled a"]

    await other.append("course-1", "enrolled b")  # version 3 again, another event
    assert await this.things("course-1") == ["scheduled", "enrolled a", "enrolled b"]
    assert await this.things("course-1") == ["scheduled", "enrolled a", "enrolled b"]
    assert this.reads == [3, 1, 2, 3], "the ghost was not found at 3, so the stream was read in full and kept"
    await this.connections.close()
    await other.connections.close()


async def test_a_stream_replaced_in_the_database_is_read_in_full(engine):
    this = Process(engine, StreamHistories())
    await this.append("course-1", "scheduled", "enrolled a")
    assert await this.things("course-1") == ["scheduled", "enrolled a"]
    async with engine.begin() as connection:  # a database restored from another backup under the running process
        await connection.execute(sa.delete(events_table).where(events_table.c.stream_id == "course-1"))
    other = Process(engine, None)
    await other.append("course-1", "rescheduled", "enrolled z")

    assert await this.things("course-1") == ["rescheduled", "enrolled z"]
    await this.connections.close()
    await other.connections.close()


async def test_another_province_s_stream_reads_as_empty_from_a_stream_read_lately_too(engine):
    this = Process(engine, StreamHistories())
    await this.append("course-1", "scheduled")
    assert await this.things("course-1") == ["scheduled"]
    assert await this.things("course-1", HO_CHI_MINH_CITY) == []
    assert await this.things("course-1") == ["scheduled"]
    await this.connections.close()


async def test_a_process_keeps_a_bounded_number_of_events_dropping_the_streams_read_least_lately(engine):
    this = Process(engine, StreamHistories(events=5))
    for n in range(4):
        await this.append(f"course-{n}", "scheduled", "enrolled")
        assert await this.things(f"course-{n}") == ["scheduled", "enrolled"]
    assert (len(this.histories), this.histories.held) == (2, 4), "two streams of two events fit in five"
    this.reads.clear()
    assert await this.things("course-0") == ["scheduled", "enrolled"]
    assert await this.things("course-3") == ["scheduled", "enrolled"]
    assert this.reads == [1, 2], "a stream no longer kept is read in full, a kept one from its last known event"
    await this.connections.close()


async def test_a_stream_longer_than_the_events_a_process_keeps_is_read_in_full_each_time(engine):
    this = Process(engine, StreamHistories(events=2))
    await this.append("course-1", "scheduled", "enrolled a", "enrolled b")
    this.reads.clear()
    for _ in range(2):
        assert await this.things("course-1") == ["scheduled", "enrolled a", "enrolled b"]
    assert (len(this.histories), this.histories.held, this.reads) == (0, 0, [1, 1])
    await this.connections.close()
