"""An append with views on PostgreSQL: a stream's events and the caller's view rows in one statement, all or
nothing. First in its unit of work it stands alone and commits by itself (no BEGIN, no COMMIT); in a unit that keeps
one transaction, or after another write, it runs in the unit's transaction."""

from datetime import date

import asyncpg
import pytest
import sqlalchemy as sa

from metrology.eventkit import ConcurrencyError, EventContext, EventStore
from metrology.eventkit.database import create_engine, create_schema
from metrology.eventkit.store import VIEW_PARAMETERS_FROM, Views, ViewWrites, driver_alone, events_table, metadata
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
THING_VIEWS = Views(
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


@pytest.fixture
async def connections(engine):
    kept = KeptConnections(engine)
    yield kept
    await kept.close()


def counted(*names: str) -> list[ThingCounted]:
    return [ThingCounted(occurred_on=date(2025, 3, 1), thing=name, amount=1) for name in names]


def thing(name: str) -> ViewWrites:
    return ViewWrites(THING_VIEWS, [name])


async def stored(engine) -> tuple[list[tuple[str, int]], list[str], int]:
    async with engine.connect() as connection:
        events = (await connection.execute(sa.select(events_table.c.stream_id, events_table.c.stream_version))).all()
        names = (await connection.execute(sa.select(things.c.name).order_by(things.c.name))).scalars().all()
        tallied = (await connection.execute(sa.select(sa.func.count()).select_from(tallies))).scalar_one()
    return sorted((e.stream_id, e.stream_version) for e in events), list(names), tallied


def unit(connections: KeptConnections) -> UnitOfWork:
    return UnitOfWork(connections, STORE, registry(), CONTEXT)


class Sent:
    """The statements a driver connection sends, by their first word (BEGIN, COMMIT, WITH, ...)."""

    def __init__(self) -> None:
        self.queries: list[str] = []

    def __call__(self, record) -> None:
        self.queries.append(record.query)

    @property
    def first_words(self) -> set[str]:
        return {query.strip().split()[0].rstrip(";").upper() for query in self.queries}

    @property
    def appends(self) -> int:
        return len([query for query in self.queries if "INSERT INTO events" in query])


async def test_a_first_write_with_views_stands_alone_committed_before_its_unit_of_work_ends(engine, connections):
    sent = Sent()
    async with unit(connections) as uow:
        driver = await driver_alone(uow.session)
        driver.add_query_logger(sent)
        assert await uow.append_with_views("thing-a", 0, counted("a", "b"), thing("a"))
        # Another connection sees the events and the rows while this unit of work is still open.
        assert await stored(engine) == ([("thing-a", 1), ("thing-a", 2)], ["a"], 1)
        driver.remove_query_logger(sent)
        assert len(uow.appended) == 2
    assert sent.appends == 1  # the one statement
    assert not {"BEGIN", "COMMIT", "ROLLBACK"} & sent.first_words
    assert connections.idle == 1  # given back clean, for the next unit of work


async def test_an_empty_gate_writes_neither_the_events_nor_the_other_rows(engine, connections):
    async with unit(connections) as uow:
        assert await uow.append_with_views("thing-a", 0, counted("a"), thing("a"))
    async with unit(connections) as uow:
        assert not await uow.append_with_views("thing-b", 0, counted("b"), thing("a"))
        assert uow.appended == []
    assert await stored(engine) == ([("thing-a", 1)], ["a"], 1)


async def test_a_stream_that_moved_on_is_a_concurrency_error_and_nothing_is_written(engine, connections):
    async with unit(connections) as uow:
        await uow.append("thing-a", 0, counted("first"))
    with pytest.raises(ConcurrencyError):
        async with unit(connections) as uow:
            await uow.append_with_views("thing-a", 0, counted("a"), thing("a"))
    assert await stored(engine) == ([("thing-a", 1)], [], 0)


async def test_a_failing_view_write_takes_the_events_with_it(engine, connections):
    failing = Views(
        ctes=f"""thing AS (
            INSERT INTO alone_things (name, counted) SELECT ${VIEW_PARAMETERS_FROM}, 1 / 0 FROM guard WHERE guard.ok
            RETURNING name
        )""",
        gate="thing",
    )
    with pytest.raises(asyncpg.DivisionByZeroError):
        async with unit(connections) as uow:
            await uow.append_with_views("thing-a", 0, counted("a"), ViewWrites(failing, ["a"]))
    assert await stored(engine) == ([], [], 0)


async def test_a_unit_that_keeps_one_transaction_commits_the_write_with_what_follows_or_nothing(engine, connections):
    sent = Sent()
    with pytest.raises(RuntimeError, match="after the write"):
        async with unit(connections) as uow:
            uow.one_transaction = True  # as a command with an idempotency record to write after it
            (await driver_alone(uow.session)).add_query_logger(sent)
            assert await uow.append_with_views("thing-a", 0, counted("a"), thing("a"))
            assert await stored(engine) == ([], [], 0)  # not committed yet
            raise RuntimeError("a failure after the write")
    assert await stored(engine) == ([], [], 0)
    assert {"BEGIN", "ROLLBACK"} <= sent.first_words
    async with unit(connections) as uow:
        uow.one_transaction = True
        assert await uow.append_with_views("thing-a", 0, counted("a"), thing("a"))
        await uow.session.execute(sa.insert(tallies).values(name="written after", counted=1))
    assert await stored(engine) == ([("thing-a", 1)], ["a"], 2)


async def test_a_write_with_views_after_another_write_joins_the_unit_of_works_transaction(engine, connections):
    with pytest.raises(RuntimeError, match="after both"):
        async with unit(connections) as uow:
            await uow.append("thing-a", 0, counted("first"))
            assert await uow.append_with_views("thing-b", 0, counted("b"), thing("b"))
            raise RuntimeError("a failure after both")
    assert await stored(engine) == ([], [], 0)
    async with unit(connections) as uow:
        await uow.append("thing-a", 0, counted("first"))
        with pytest.raises(RuntimeError, match="inside an open transaction"):
            await STORE.append_with_views(uow.session, "thing-b", 0, counted("b"), CONTEXT, thing("b"), alone=True)


async def test_nothing_is_appended_after_a_write_that_stood_alone(engine, connections):
    async with unit(connections) as uow:
        assert await uow.append_with_views("thing-a", 0, counted("a"), thing("a"))
        with pytest.raises(RuntimeError, match="its unit of work's last"):
            await uow.append("thing-b", 0, counted("b"))
        with pytest.raises(RuntimeError, match="its unit of work's last"):
            await uow.append_with_views("thing-c", 0, counted("c"), thing("c"))
    assert await stored(engine) == ([("thing-a", 1)], ["a"], 1)
