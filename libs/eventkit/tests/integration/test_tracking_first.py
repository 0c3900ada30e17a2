"""A projection's batch is tracked before it is folded, and looked up only when the tracking rows refuse it.

On PostgreSQL the batch's tracking rows go in first, in one `COPY`, with no lookup: the unique index refuses an
event applied before, and only then is the batch applied again, looking up what was applied. Every event is still
applied once, whether it comes again in a later batch, twice in one batch, or in two batches applied at once.
"""

import asyncio
from dataclasses import dataclass
from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from metrology.eventkit import EventContext
from metrology.eventkit.database import create_schema, session_factory
from metrology.eventkit.envelope import Envelope
from metrology.eventkit.projector import ProjectorRunner, processed_events
from metrology.testkit.sample_events import ThingCounted, ThingTotals, read_totals, totals_metadata

pytestmark = pytest.mark.integration


@dataclass
class FakeRecord:
    value: bytes
    headers: list
    key: bytes
    topic: str = "t"
    partition: int = 0
    offset: int = 0


def record(thing: str, amount: int = 1) -> FakeRecord:
    envelope = Envelope.wrap(
        ThingCounted(occurred_on=date(2025, 1, 1), thing=thing, amount=amount),
        source="/test",
        stream_id=f"thing-{thing}",
        stream_version=1,
        context=EventContext(tenant="83"),
    )
    key, value, headers = envelope.to_kafka()
    return FakeRecord(value, headers, key)


class NoLetters:
    async def send(self, letters) -> None:
        raise AssertionError(f"nothing should be dead-lettered: {letters}")


class SlowTotals(ThingTotals):
    """Thing totals whose batches take a while in the database, so that two batches applied at once overlap."""

    async def after_batch(self, session) -> None:
        await asyncio.sleep(0.3)


@pytest.fixture
async def engine(store_engine: AsyncEngine) -> AsyncEngine:
    await create_schema(store_engine, totals_metadata)
    return store_engine


@pytest.fixture
def pg_engine(totals_engine: AsyncEngine) -> AsyncEngine:
    return totals_engine


def runner_of(engine: AsyncEngine, projection=None) -> ProjectorRunner:
    return ProjectorRunner(session_factory(engine), projection or ThingTotals(), NoLetters())


class LookupsCounted:
    """Counts the runner's look-ups of what was applied before."""

    def __init__(self, runner: ProjectorRunner, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        for name in ("_unseen_pg", "_unseen"):
            original = getattr(runner, name)

            async def counted(session, items, original=original):
                self.count += 1
                return await original(session, items)

            monkeypatch.setattr(runner, name, counted)


async def test_events_applied_before_or_twice_in_a_batch_are_applied_once_and_the_others_are_applied(engine):
    runner = runner_of(engine)
    meters, scales, taxis = record("meters", 2), record("scales", 3), record("taxis", 5)
    first = await runner.apply(runner.read([meters, scales]))
    again = await runner.apply(runner.read([scales, taxis, taxis, meters]))

    assert await read_totals(engine) == {"meters": (2, 1), "scales": (3, 1), "taxis": (5, 1)}
    assert (first.applied, first.duplicates) == (2, 0)
    assert (again.applied, again.duplicates) == (1, 3)
    async with engine.connect() as connection:
        assert await connection.scalar(sa.select(sa.func.count()).select_from(processed_events)) == 3


async def test_on_postgresql_a_batch_of_new_events_is_applied_without_looking_anything_up(pg_engine, monkeypatch):
    engine = pg_engine
    runner = runner_of(engine)
    lookups = LookupsCounted(runner, monkeypatch)
    await runner.apply(runner.read([record("meters"), record("scales")]))
    await runner.apply(runner.read([record("taxis"), record("meters")]))  # a new event of the same stream
    assert lookups.count == 0

    repeated = record("pumps")
    await runner.apply(runner.read([repeated]))
    result = await runner.apply(runner.read([record("gauges"), repeated]))
    assert lookups.count == 1, "the tracking rows refused the repeat, and only then was the batch looked up"
    assert (result.applied, result.duplicates, result.retries) == (1, 1, 0)
    assert await read_totals(engine) == {"meters": (2, 2), "scales": (1, 1), "taxis": (1, 1), "pumps": (1, 1),
                                         "gauges": (1, 1)}  # fmt: skip


async def test_on_postgresql_the_same_batch_applied_by_two_runners_at_once_is_applied_once(pg_engine):
    engine = pg_engine  # (SQLite has one writer at a time: two batches never overlap there)
    batch = [record("meters", 2), record("scales", 3)]
    one, other = runner_of(engine, SlowTotals()), runner_of(engine, SlowTotals())
    results = await asyncio.gather(one.apply(one.read(batch)), other.apply(other.read(batch)))

    assert await read_totals(engine) == {"meters": (2, 1), "scales": (3, 1)}
    assert sorted((r.applied, r.duplicates) for r in results) == [(0, 2), (2, 0)]


async def test_a_reset_forgets_only_its_own_projection_s_applied_events(engine):
    runner, other = runner_of(engine), runner_of(engine, Renamed())
    await runner.apply(runner.read([record("meters")]))
    await other.apply(other.read([record("scales")]))

    await runner.reset()
    async with engine.connect() as connection:
        left = (await connection.execute(sa.select(processed_events.c.consumer))).scalars().all()
    assert left == [Renamed.name]
    replayed = await runner.apply(runner.read([record("meters")]))
    assert replayed.applied == 1


async def test_on_postgresql_the_only_projection_s_reset_empties_its_tracking_table_anew(pg_engine):
    engine = pg_engine
    runner = runner_of(engine)
    await runner.apply(runner.read([record("meters"), record("scales")]))
    before = await _filenode(engine)

    await runner.reset()
    assert await _filenode(engine) != before, "emptied by TRUNCATE: no deleted rows left for the replay to meet"
    async with engine.connect() as connection:
        assert await connection.scalar(sa.select(sa.func.count()).select_from(processed_events)) == 0


class Renamed(ThingTotals):
    name = "test.thing-totals-elsewhere"

    async def reset(self, session) -> None:
        """Its read model is the same table: nothing of it is emptied here."""


async def _filenode(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return await connection.scalar(sa.text("SELECT pg_relation_filenode('processed_events')"))
