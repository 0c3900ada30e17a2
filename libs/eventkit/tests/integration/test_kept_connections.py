"""Units of work keep their connections between them, and never keep one that could hurt the next command."""

import asyncio
from datetime import date

import asyncpg
import pytest
import sqlalchemy as sa

from metrology.eventkit import ConcurrencyError, EventContext, EventStore
from metrology.eventkit import database as database_module
from metrology.eventkit.database import create_engine, create_schema, is_unavailable
from metrology.eventkit.store import NOTIFY_CHANNEL, events_table, metadata
from metrology.eventkit.unit_of_work import KeptConnections, UnitOfWork
from metrology.testkit.sample_events import ThingCounted, registry

CONTEXT = EventContext(tenant="83")
notes = sa.Table("kept_notes", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True), sa.Column("text", sa.Text))


def counted(thing: str) -> ThingCounted:
    return ThingCounted(occurred_on=date(2025, 3, 1), thing=thing, amount=1)


async def engine_with_tables(url: str):
    engine = create_engine(url)
    await create_schema(engine, metadata, notes.metadata)
    yield engine
    await engine.dispose()


@pytest.fixture
async def engine(database_url):
    async for engine in engine_with_tables(database_url):
        yield engine


@pytest.fixture
async def pg_engine(postgres_url):
    async for engine in engine_with_tables(postgres_url):
        yield engine


def unit(connections: KeptConnections, store: EventStore | None = None) -> UnitOfWork:
    return UnitOfWork(connections, store or EventStore("/test", notify=False), registry(), CONTEXT)


async def stored(engine) -> tuple[list[str], list[str]]:
    async with engine.connect() as connection:
        streams = (await connection.execute(sa.select(events_table.c.stream_id).order_by("position"))).scalars()
        texts = (await connection.execute(sa.select(notes.c.text).order_by(notes.c.id))).scalars()
        return list(streams), list(texts)


async def backend_of(uow: UnitOfWork) -> int:
    return (await uow.session.execute(sa.text("SELECT pg_backend_pid()"))).scalar_one()


async def test_an_append_alone_commits_and_the_connection_waits_for_the_next_unit(engine):
    connections = KeptConnections(engine)
    async with unit(connections) as uow:
        await uow.append("thing-a", 0, [counted("a")])
        first = uow.session
    async with unit(connections) as uow:
        await uow.append("thing-a", 1, [counted("b")])
        assert uow.session is first
    assert await stored(engine) == (["thing-a", "thing-a"], [])
    assert connections.idle == 1 and engine.pool.checkedout() == 1
    await connections.close()
    assert connections.idle == 0 and engine.pool.checkedout() == 0


async def test_an_append_and_core_statements_commit_together(engine):
    connections = KeptConnections(engine)
    async with unit(connections) as uow:
        await uow.append("thing-a", 0, [counted("a")])
        await uow.session.execute(sa.insert(notes).values(id=1, text="a view row"))
    async with unit(connections) as uow:  # a Core statement first, then an append, on the same kept connection
        await uow.session.execute(sa.insert(notes).values(id=2, text="another"))
        await uow.append("thing-b", 0, [counted("b")])
    assert await stored(engine) == (["thing-a", "thing-b"], ["a view row", "another"])
    await connections.close()


async def test_a_failed_unit_leaves_nothing_and_its_connection_serves_the_next(engine):
    connections = KeptConnections(engine)
    with pytest.raises(RuntimeError, match="handler failed"):
        async with unit(connections) as uow:
            await uow.append("thing-a", 0, [counted("a")])
            await uow.session.execute(sa.insert(notes).values(id=1, text="lost"))
            failed = uow.session
            raise RuntimeError("handler failed")
    with pytest.raises(ConcurrencyError):
        async with unit(connections) as uow:
            await uow.append("thing-b", 3, [counted("b")])  # the stream is not at version 3
    async with unit(connections) as uow:
        await uow.append("thing-a", 0, [counted("a")])
        assert uow.session is failed
    assert await stored(engine) == (["thing-a"], [])
    await connections.close()


async def test_a_savepoint_that_fails_rolls_back_alone(engine):
    connections = KeptConnections(engine)
    async with unit(connections) as uow:
        await uow.append("thing-a", 0, [counted("a")])
        await uow.session.execute(sa.insert(notes).values(id=1, text="kept"))
        with pytest.raises(sa.exc.IntegrityError):
            async with uow.session.begin_nested():
                await uow.session.execute(sa.insert(notes).values(id=1, text="taken id"))
    assert await stored(engine) == (["thing-a"], ["kept"])
    await connections.close()


async def test_no_more_than_keep_connections_wait_between_units(pg_engine):
    engine = pg_engine  # on SQLite, units that write wait for each other rather than run at once
    connections = KeptConnections(engine, keep=2)
    started = asyncio.Event()

    async def command(n: int) -> None:
        async with unit(connections) as uow:
            await uow.append(f"thing-{n}", 0, [counted(str(n))])
            if n == 3:
                started.set()
            await started.wait()  # all four hold a connection at once

    await asyncio.gather(*(command(n) for n in range(4)))
    assert connections.idle == 2 and engine.pool.checkedout() == 2
    await connections.close()
    assert engine.pool.checkedout() == 0


async def test_with_keep_zero_every_unit_returns_its_connection_to_the_pool(engine):
    async with UnitOfWork(engine, EventStore("/test", notify=False), registry(), CONTEXT) as uow:
        await uow.append("thing-a", 0, [counted("a")])
        assert engine.pool.checkedout() == 1
    assert engine.pool.checkedout() == 0


async def test_a_connection_kept_past_the_ping_threshold_goes_back_to_the_pool_to_be_pinged(pg_engine, monkeypatch):
    connections = KeptConnections(pg_engine)
    async with unit(connections) as uow:
        dropped = await backend_of(uow)
    async with pg_engine.connect() as other:
        await other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": dropped})
    monkeypatch.setattr(database_module, "PING_AFTER_IDLE_SECONDS", 0.0)

    async with unit(connections) as uow:  # no error: the pool's ping found the dropped one and replaced it
        await uow.append("thing-a", 0, [counted("a")])
        assert await backend_of(uow) != dropped
    assert (await stored(pg_engine))[0] == ["thing-a"]
    await connections.close()


async def test_a_kept_connection_the_server_dropped_fails_one_unit_and_is_not_kept(pg_engine):
    connections = KeptConnections(pg_engine)
    async with unit(connections) as uow:
        dropped = await backend_of(uow)
    async with pg_engine.connect() as other:
        await other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": dropped})
    await asyncio.sleep(0.1)

    with pytest.raises(asyncpg.InterfaceError):  # answered 503 by the services (servicekit.problems)
        async with unit(connections) as uow:
            await uow.append("thing-a", 0, [counted("a")])
    assert connections.idle == 0

    async with unit(connections) as uow:
        await uow.append("thing-a", 0, [counted("a")])
        assert await backend_of(uow) != dropped
    assert (await stored(pg_engine))[0] == ["thing-a"]
    await connections.close()


async def _dropped_kept_connection(pg_engine) -> tuple[KeptConnections, int]:
    connections = KeptConnections(pg_engine)
    async with unit(connections) as uow:
        await uow.append("thing-a", 0, [counted("a")])
        dropped = await backend_of(uow)
    async with pg_engine.connect() as other:
        await other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": dropped})
    await asyncio.sleep(0.1)
    return connections, dropped


async def test_a_core_read_on_a_connection_the_server_dropped_fails_as_unavailable_and_is_not_kept(pg_engine):
    connections, dropped = await _dropped_kept_connection(pg_engine)

    with pytest.raises(sa.exc.DBAPIError) as raised:  # the read's own error, not one from putting the unit away
        async with unit(connections) as uow:
            await uow.session.execute(sa.text("SELECT count(*) FROM events"))  # SQLAlchemy invalidates the connection
    assert is_unavailable(raised.value)
    assert connections.idle == 0

    async with unit(connections) as uow:
        assert len(await uow.history("thing-a")) == 1
        assert await backend_of(uow) != dropped
    await connections.close()


async def test_a_stream_read_on_a_connection_the_server_dropped_fails_and_is_not_kept(pg_engine):
    connections, dropped = await _dropped_kept_connection(pg_engine)

    with pytest.raises(asyncpg.InterfaceError):  # on the driver, as an append's; the services answer it 503
        async with unit(connections) as uow:
            await uow.history("thing-a")
    assert connections.idle == 0

    async with unit(connections) as uow:
        assert len(await uow.history("thing-a")) == 1
        assert await backend_of(uow) != dropped
    await connections.close()


async def test_every_unit_on_a_kept_connection_notifies_when_the_store_notifies_in_its_transaction(
    pg_engine, postgres_url
):
    heard: asyncio.Queue = asyncio.Queue()
    listener = await asyncpg.connect(postgres_url.replace("+asyncpg", ""))
    await listener.add_listener(NOTIFY_CHANNEL, lambda *_: heard.put_nowait(1))
    connections, store = KeptConnections(pg_engine), EventStore("/test", notify=True)
    try:
        for n in range(3):
            async with unit(connections, store) as uow:
                await uow.append(f"thing-{n}", 0, [counted(str(n))])
                await uow.append(f"other-{n}", 0, [counted(str(n))])
        async with asyncio.timeout(5):
            assert [await heard.get() for _ in range(3)] == [1, 1, 1]
        await asyncio.sleep(0.2)
        assert heard.empty(), "one NOTIFY per transaction, however many appends"
    finally:
        await listener.close()
        await connections.close()
