"""Event types for tests of the kit itself."""

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from metrology.eventkit import event_loop
from metrology.eventkit.database import create_engine, session_factory
from metrology.eventkit.envelope import Envelope
from metrology.eventkit.events import DomainEvent, EventRegistry
from metrology.eventkit.kafka import KafkaConnection
from metrology.eventkit.projector import DeadLetter, ProjectorRunner


class ThingCounted(DomainEvent):
    """A thing was counted."""

    event_type = "vn.metrology.test.thing-counted"
    event_version = 2
    thing: str
    amount: int


def registry() -> EventRegistry:
    reg = EventRegistry().register_all([ThingCounted])

    @reg.upcaster("vn.metrology.test.thing-counted", 1)
    def amount_defaults_to_one(data: dict) -> dict:
        return data | {"amount": 1}

    return reg


class ThingCountedWithUnit(ThingCounted):
    """A thing was counted, in a unit (version 3: what a newer producer writes before its readers upgrade)."""

    event_version = 3
    unit: str = "piece"


def upgraded_registry() -> EventRegistry:
    """The registry of a reader upgraded to version 3 of thing-counted."""
    reg = EventRegistry().register_all([ThingCountedWithUnit])
    reg.upcaster("vn.metrology.test.thing-counted", 1)(lambda data: data | {"amount": 1})
    reg.upcaster("vn.metrology.test.thing-counted", 2)(lambda data: data | {"unit": "piece"})
    return reg


totals_metadata = sa.MetaData()

thing_totals = sa.Table(
    "thing_totals",
    totals_metadata,
    sa.Column("thing", sa.String(100), primary_key=True),
    sa.Column("amount", sa.Integer, nullable=False),
    sa.Column("times", sa.Integer, nullable=False),
)


class ThingTotals:
    """A projection summing ThingCounted amounts per thing: double counting shows at once."""

    name = "test.thing-totals"

    def __init__(self, events: EventRegistry | None = None) -> None:
        self.registry = events or registry()

    async def apply(self, session: AsyncSession, envelope: Envelope, event: DomainEvent) -> None:
        assert isinstance(event, ThingCounted)
        updated = await session.execute(
            sa.update(thing_totals)
            .where(thing_totals.c.thing == event.thing)
            .values(amount=thing_totals.c.amount + event.amount, times=thing_totals.c.times + 1)
        )
        if updated.rowcount == 0:  # type: ignore[attr-defined]
            await session.execute(sa.insert(thing_totals).values(thing=event.thing, amount=event.amount, times=1))

    async def after_batch(self, session: AsyncSession) -> None:
        """Everything is written in `apply`."""

    async def reset(self, session: AsyncSession) -> None:
        await session.execute(sa.delete(thing_totals))


async def read_totals(engine: AsyncEngine) -> dict[str, tuple[int, int]]:
    async with engine.connect() as connection:
        rows = await connection.execute(sa.select(thing_totals))
        return {row.thing: (row.amount, row.times) for row in rows}


@asynccontextmanager
async def thing_totals_lane(
    database_url: str, kafka: KafkaConnection, fail: bool = False
) -> AsyncIterator[tuple[KafkaConnection, ProjectorRunner]]:
    """A replay lane's runner of ThingTotals, on an engine of its own (`fail`: wiring that fails at once)."""
    if fail:
        raise RuntimeError("this lane's wiring failed")
    engine = create_engine(database_url)
    try:
        yield kafka, ProjectorRunner(session_factory(engine), ThingTotals(), CountingDeadLetters())
    finally:
        await engine.dispose()


class CountingDeadLetters:
    """A dead-letter sink that only keeps what it was given."""

    def __init__(self) -> None:
        self.letters: list[DeadLetter] = []

    async def send(self, letters: Sequence[DeadLetter]) -> None:
        self.letters.extend(letters)


def rebuild_thing_totals_in_lanes(
    database_url: str, bootstrap_servers: str, topic: str, lanes: int, forked: bool = False
) -> None:
    """`python -c` entry for tests of a rebuild as a process: rebuild ThingTotals from `topic` in `lanes` processes,
    started inside the replay (spawned) or, `forked`, before its event loop as a command starts them; prints how
    they were started."""
    from functools import partial

    from metrology.eventkit.replay import LaneProcesses, ReplayLanes, rebuild

    kafka = KafkaConnection(bootstrap_servers=bootstrap_servers)
    spec = ReplayLanes(lanes, partial(thing_totals_lane, database_url, kafka))
    started = LaneProcesses.start(spec, fork=True) if forked else None
    if started is not None:
        print(f"lanes started by {started.start_method}", flush=True)

    async def run() -> None:
        engine = create_engine(database_url)
        try:
            runner = ProjectorRunner(session_factory(engine), ThingTotals(), CountingDeadLetters())
            await rebuild(kafka, runner, [topic], batch_size=1, lanes=started or spec)
        finally:
            await engine.dispose()

    event_loop.run(run())
