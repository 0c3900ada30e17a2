"""An append alone on PostgreSQL: a stream's events and the caller's view rows in one statement that commits by
itself (no BEGIN, no COMMIT), all or nothing."""

from datetime import date

import asyncpg
import pytest
import sqlalchemy as sa

from metrology.eventkit import ConcurrencyError, EventContext, EventStore
from metrology.eventkit.database import create_engine, create_schema
from metrology.eventkit.envelope import Envelope
from metrology.eventkit.store import VIEW_PARAMETERS_FROM, ViewWrites, driver_alone, events_table, metadata
from metrology.eventkit.unit_of_work import KeptConnections, UnitOfWork
from metrology.testkit.sample_events import ThingCounted, registry

pytestmark = pytest.mark.integration

CONTEXT = EventContext(tenant="83")
STORE = EventStore("/test")
things = sa.Table(
    "alone_things",
    sa.MetaData(),
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("counted", sa.Integer, nullable=False),
)
tallies = sa.Table("alone_tallies", things.metadata, sa.Column("name", sa.Text), sa.Column("counted", sa.Integer))

# The thing's row is the gate (a name taken leaves it empty); the tally is written only beside it.
THING_WRITES = ViewWrites(
    ctes=f"""thing AS (
        INSERT INTO alone_things (name, counted) SELECT ${VIEW_PARAMETERS_FROM}, 1 FROM guard WHERE guard.ok
        ON CONFLICT (name) DO NOTHING
        RETURNING name
    ), tally AS (
        INSERT INTO alone_tallies (name, counted) SELECT name, 1 FROM thing
    )""",
    gate="thing",
)


@pytest.fixture
async def engine(postgres_url):
    engine = create_engine(postgres_url)
    await create_schema(engine, metadata, things.metadata)
    yield engine
    await engine.dispose()


def envelopes(stream_id: str, first_version: int, *names: str) -> list[Envelope]:
    return [
        Envelope.wrap(
            ThingCounted(occurred_on=date(2025, 3, 1), thing=name, amount=1),
            source=STORE.source,
            stream_id=stream_id,
            stream_version=version,
            context=CONTEXT,
        )
        for version, name in enumerate(names, start=first_version)
    ]


async def stored(engine) -> tuple[list[tuple[str, int]], list[str], int]:
    async with engine.connect() as connection:
        events = (await connection.execute(sa.select(events_table.c.stream_id, events_table.c.stream_version))).all()
        names = (await connection.execute(sa.select(things.c.name).order_by(things.c.name))).scalars().all()
        tallied = (await connection.execute(sa.select(sa.func.count()).select_from(tallies))).scalar_one()
    return sorted((e.stream_id, e.stream_version) for e in events), list(names), tallied


def unit(connections: KeptConnections) -> UnitOfWork:
    return UnitOfWork(connections, STORE, registry(), CONTEXT)


async def test_an_append_alone_is_committed_before_its_unit_of_work_ends_and_sends_no_transaction_control(engine):
    connections = KeptConnections(engine)
    sent: list[str] = []

    def note(record) -> None:
        sent.append(record.query)

    try:
        async with unit(connections) as uow:
            driver = await driver_alone(uow.session)
            driver.add_query_logger(note)
            written = await STORE.insert_alone(uow.session, envelopes("thing-a", 1, "a", "b"), THING_WRITES, ["a"])
            assert written
            # Another connection sees the events and the rows while this unit of work is still open.
            assert await stored(engine) == ([("thing-a", 1), ("thing-a", 2)], ["a"], 1)
            driver.remove_query_logger(note)
        assert len([query for query in sent if "INSERT INTO events" in query]) == 1  # the one statement
        assert not {"BEGIN", "COMMIT", "ROLLBACK"} & {query.strip().split()[0].upper() for query in sent}
        assert connections.idle == 1  # given back clean, for the next unit of work
    finally:
        await connections.close()


async def test_an_empty_gate_writes_neither_the_events_nor_the_other_rows(engine):
    connections = KeptConnections(engine)
    try:
        async with unit(connections) as uow:
            assert await STORE.insert_alone(uow.session, envelopes("thing-a", 1, "a"), THING_WRITES, ["a"])
        async with unit(connections) as uow:
            assert not await STORE.insert_alone(uow.session, envelopes("thing-b", 1, "b"), THING_WRITES, ["a"])
        assert await stored(engine) == ([("thing-a", 1)], ["a"], 1)
    finally:
        await connections.close()


async def test_a_stream_that_moved_on_is_a_concurrency_error_and_nothing_is_written(engine):
    connections = KeptConnections(engine)
    try:
        async with unit(connections) as uow:
            await uow.append("thing-a", 0, [ThingCounted(occurred_on=date(2025, 3, 1), thing="first", amount=1)])
        with pytest.raises(ConcurrencyError):
            async with unit(connections) as uow:
                await STORE.insert_alone(uow.session, envelopes("thing-a", 1, "a"), THING_WRITES, ["a"])
        assert await stored(engine) == ([("thing-a", 1)], [], 0)
    finally:
        await connections.close()


async def test_a_failing_view_write_rolls_the_events_back_with_it(engine):
    failing = ViewWrites(
        ctes=f"""thing AS (
            INSERT INTO alone_things (name, counted) SELECT ${VIEW_PARAMETERS_FROM}, 1 / 0 FROM guard WHERE guard.ok
            RETURNING name
        )""",
        gate="thing",
    )
    connections = KeptConnections(engine)
    try:
        with pytest.raises(asyncpg.DivisionByZeroError):
            async with unit(connections) as uow:
                await STORE.insert_alone(uow.session, envelopes("thing-a", 1, "a"), failing, ["a"])
        assert await stored(engine) == ([], [], 0)
    finally:
        await connections.close()


async def test_a_statement_alone_is_refused_inside_an_open_transaction(engine):
    connections = KeptConnections(engine)
    try:
        async with unit(connections) as uow:
            await uow.append("thing-a", 0, [ThingCounted(occurred_on=date(2025, 3, 1), thing="first", amount=1)])
            with pytest.raises(RuntimeError, match="inside an open transaction"):
                await STORE.insert_alone(uow.session, envelopes("thing-b", 1, "b"), THING_WRITES, ["b"])
        assert await stored(engine) == ([("thing-a", 1)], [], 0)
    finally:
        await connections.close()
