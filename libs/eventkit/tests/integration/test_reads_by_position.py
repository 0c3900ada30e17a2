"""The reads of the store a relay and a command repeat (the check for events held back, the next batch, a stream's
events) and the outbox backlog answer right and stay on the store's indexes whatever plan PostgreSQL makes of them,
so their cost does not grow with the events the store holds."""

from datetime import date

import pytest
import sqlalchemy as sa

from metrology.eventkit import EventContext, EventStore, Position
from metrology.eventkit.database import create_engine, create_schema, session_factory
from metrology.eventkit.store import metadata
from metrology.testkit.sample_events import ThingCounted

pytestmark = pytest.mark.integration

STORE = EventStore("/test")
CTX = EventContext(tenant="83")
EVENTS = 3000


@pytest.fixture
async def filled_engine(postgres_url):
    """A store of EVENTS events in streams of ten, with fresh planner statistics."""
    engine = create_engine(postgres_url)
    await create_schema(engine, metadata)
    async with session_factory(engine).begin() as session:
        for stream in range(EVENTS // 10):
            events = [ThingCounted(occurred_on=date(2025, 1, 1), thing=str(n), amount=1) for n in range(10)]
            await STORE.append(session, f"things-{stream}", 0, events, CTX)
    async with engine.connect() as connection:
        await connection.execute(sa.text("ANALYZE events"))
        await connection.commit()
    yield engine
    await engine.dispose()


async def positions(engine) -> list[Position]:
    async with engine.connect() as connection:
        return [event.position for event in await STORE.read_all(connection, Position(), EVENTS + 1)]


async def test_held_back_says_whether_events_stand_after_a_position(filled_engine):
    stored = await positions(filled_engine)
    async with filled_engine.connect() as connection:
        assert await STORE.held_back(connection, Position()) is True
        assert await STORE.held_back(connection, stored[-2]) is True
        assert await STORE.held_back(connection, stored[-1]) is False


async def test_the_outbox_backlog_counts_the_events_after_a_position(filled_engine):
    stored = await positions(filled_engine)
    async with filled_engine.connect() as connection:
        assert await STORE.count_after(connection, Position()) == EVENTS
        assert await STORE.count_after(connection, stored[99]) == EVENTS - 100
        assert await STORE.count_after(connection, stored[-1]) == 0


async def table_scans(connection) -> tuple[int, int]:
    """The sequential and index scans of `events` this backend counted and has not yet reported."""
    query = sa.text("SELECT seq_scan, idx_scan FROM pg_stat_xact_user_tables WHERE relname = 'events'")
    row = (await connection.execute(query)).one()
    return row.seq_scan, row.idx_scan


async def generic_plans(connection) -> None:
    """Have the connection plan each prepared statement without its values, as PostgreSQL may after five runs."""
    await connection.execute(sa.text("SET plan_cache_mode = force_generic_plan"))
    await connection.commit()


async def test_the_held_back_check_reads_the_index_even_on_a_generic_plan(filled_engine):
    """PostgreSQL plans a prepared statement without its values after five executions when that plan looks no
    dearer; the check must then still look up its one row in the index, not scan every event stored."""
    stored = await positions(filled_engine)
    async with filled_engine.connect() as connection:
        await generic_plans(connection)
        async with connection.begin():
            before = await table_scans(connection)
            answers = [await STORE.held_back(connection, stored[n]) for n in (0, 1000, 2000, EVENTS - 1)]
            after = await table_scans(connection)
    assert answers == [True, True, True, False]
    assert after[0] - before[0] == 0, "the check scanned the whole table"
    assert after[1] - before[1] == 4


async def test_the_relays_reads_and_a_streams_read_use_the_index_on_a_generic_plan(filled_engine):
    """The other reads a relay or a command repeats: the next batch after a position, and a stream's events from a
    version on."""
    stored = await positions(filled_engine)
    async with filled_engine.connect() as connection:
        await generic_plans(connection)
        async with connection.begin():
            before = await table_scans(connection)
            batches = [await STORE.read_all(connection, stored[n], 10) for n in (0, 1000, EVENTS - 5)]
            stream = await STORE.read_stream(connection, "things-7", 8)
            after = await table_scans(connection)
    assert [len(batch) for batch in batches] == [10, 10, 4]
    assert [envelope.stream_version for envelope in stream] == [8, 9, 10]
    assert after[0] - before[0] == 0, "a read scanned the whole table"
