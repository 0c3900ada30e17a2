"""One contract for the event store, run on SQLite and on PostgreSQL (the `database_url` fixture)."""

import asyncio
from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from metrology.eventkit import ConcurrencyError, EventContext, EventStore, Position
from metrology.eventkit.database import session_factory
from metrology.eventkit.store import events_table
from metrology.testkit.sample_events import ThingCounted

CTX = EventContext(tenant="83")


def counted(thing: str, amount: int = 1) -> ThingCounted:
    return ThingCounted(occurred_on=date(2025, 3, 1), thing=thing, amount=amount)


async def append(engine: AsyncEngine, stream: str, expected: int | None, *events: ThingCounted) -> None:
    async with session_factory(engine).begin() as session:
        await EventStore("/test").append(session, stream, expected, list(events), CTX)


async def read_everything(engine: AsyncEngine, expected: int) -> list:
    """Read all events; waits while other transactions on a shared PostgreSQL server hold the reader back
    (it never skips), then checks that nothing more than `expected` is offered."""
    store, after, out = EventStore("/test"), Position(), []
    deadline = asyncio.get_running_loop().time() + 30
    while len(out) < expected and asyncio.get_running_loop().time() < deadline:
        async with engine.connect() as connection:
            batch = await store.read_all(connection, after, 100)
        out.extend(batch)
        after = batch[-1].position if batch else after
        if not batch:
            await asyncio.sleep(0.05)
    async with engine.connect() as connection:
        out.extend(await store.read_all(connection, after, 100))
    return out


async def test_appended_events_read_back_in_stream_order(store_engine):
    await append(store_engine, "s-1", 0, counted("a"), counted("b"))
    await append(store_engine, "s-1", 2, counted("c"))
    async with session_factory(store_engine)() as session:
        envelopes = await EventStore("/test").read_stream(session, "s-1")
    assert [e.stream_version for e in envelopes] == [1, 2, 3]
    assert [e.data["thing"] for e in envelopes] == ["a", "b", "c"]
    assert all(e.tenant == "83" and e.source == "/test" for e in envelopes)


async def test_append_with_a_stale_expected_version_is_a_conflict_and_writes_nothing(store_engine):
    await append(store_engine, "s-1", 0, counted("a"))
    with pytest.raises(ConcurrencyError):
        await append(store_engine, "s-1", 0, counted("b"), counted("c"))
    assert len(await read_everything(store_engine, 1)) == 1


async def test_concurrent_appends_to_one_stream_let_exactly_one_win(store_engine):
    await append(store_engine, "s-1", 0, counted("first"))
    outcomes = await asyncio.gather(
        *(append(store_engine, "s-1", 1, counted(f"w{i}"), counted(f"x{i}")) for i in range(6)),
        return_exceptions=True,
    )
    winners = [o for o in outcomes if o is None]
    losers = [o for o in outcomes if isinstance(o, ConcurrencyError)]
    assert len(winners) == 1 and len(losers) == 5
    async with session_factory(store_engine)() as session:
        stream = await EventStore("/test").read_stream(session, "s-1")
    assert [e.stream_version for e in stream] == [1, 2, 3]


async def test_read_all_returns_every_event_once_across_streams(store_engine):
    for i in range(25):
        await append(store_engine, f"s-{i % 5}", None, counted(str(i)))
    everything = await read_everything(store_engine, 25)
    assert sorted(int(r.envelope().data["thing"]) for r in everything) == list(range(25))
    assert len({r.envelope().id for r in everything}) == 25


async def test_recorded_events_carry_stream_id_type_and_cloudevents_payload(store_engine):
    ctx = EventContext(tenant="83", traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
    async with session_factory(store_engine).begin() as session:
        await EventStore("/test").append(session, "s-9", 0, [counted("a")], ctx)
    [recorded] = await read_everything(store_engine, 1)
    assert recorded.stream_id == "s-9"
    assert recorded.type == "vn.metrology.test.thing-counted.v2"
    key, _, headers = recorded.kafka_record()
    assert key == b"s-9"
    assert ("traceparent", ctx.traceparent.encode()) in headers
    assert ("ce_traceparent", ctx.traceparent.encode()) in headers
    assert recorded.envelope().traceparent == ctx.traceparent


async def test_a_failed_transaction_leaves_no_events_behind(store_engine):
    with pytest.raises(RuntimeError):
        async with session_factory(store_engine).begin() as session:
            await EventStore("/test").append(session, "s-1", 0, [counted("a")], CTX)
            raise RuntimeError("handler failed after appending")
    async with store_engine.connect() as connection:
        assert (await connection.execute(sa.select(sa.func.count()).select_from(events_table))).scalar_one() == 0


async def test_append_expecting_a_version_the_stream_has_not_reached_is_a_conflict(store_engine):
    await append(store_engine, "s-1", 0, counted("a"))
    with pytest.raises(ConcurrencyError):
        await append(store_engine, "s-1", 3, counted("b"))
    with pytest.raises(ConcurrencyError):
        await append(store_engine, "s-new", 2, counted("c"))
    assert len(await read_everything(store_engine, 1)) == 1


async def test_a_large_batch_appends_in_order_and_a_stale_one_writes_nothing(store_engine):
    batch = [counted(str(i)) for i in range(300)]
    await append(store_engine, "s-big", 0, *batch)
    await append(store_engine, "s-big", 300, *batch)
    with pytest.raises(ConcurrencyError):
        await append(store_engine, "s-big", 300, *batch)
    with pytest.raises(ConcurrencyError):
        await append(store_engine, "s-big", 700, *batch)
    async with session_factory(store_engine)() as session:
        stream = await EventStore("/test").read_stream(session, "s-big")
    assert [e.stream_version for e in stream] == list(range(1, 601))
    assert [e.data["thing"] for e in stream] == [str(i) for i in range(300)] * 2


async def test_several_appends_in_one_transaction_commit_together(store_engine):
    async with session_factory(store_engine).begin() as session:
        store = EventStore("/test")
        await store.append(session, "s-1", 0, [counted("a")], CTX)
        await store.append(session, "s-2", None, [counted("b")], CTX)
        await store.append(session, "s-1", 1, [counted("c")] * 100, CTX)
        assert await store.stream_version(session, "s-1") == 101
    assert len(await read_everything(store_engine, 102)) == 102
