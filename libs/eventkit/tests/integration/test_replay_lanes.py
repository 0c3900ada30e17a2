"""A rebuild spread over processes (`ReplayLanes`) on the real broker and PostgreSQL: each partition is replayed by
one process, every event is applied once, and a lane that fails or is killed fails the rebuild."""

import asyncio
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from datetime import date
from functools import partial
from pathlib import Path

import pytest
import sqlalchemy as sa

from metrology.eventkit import EventContext, EventStore
from metrology.eventkit.database import create_engine, create_schema, session_factory
from metrology.eventkit.kafka import KafkaConnection
from metrology.eventkit.projector import ProjectorRunner, processed_events
from metrology.eventkit.relay import KafkaEventPublisher, OutboxRelay
from metrology.eventkit.replay import LaneProcesses, ReplayLaneError, ReplayLanes, partition_spans, rebuild
from metrology.eventkit.store import metadata
from metrology.eventkit.topics import TopicSpec, ensure_topics
from metrology.testkit.sample_events import (
    CountingDeadLetters,
    ThingCounted,
    ThingTotals,
    read_totals,
    thing_totals_lane,
    totals_metadata,
)

pytestmark = pytest.mark.integration

CTX = EventContext(tenant="83")
THINGS = {"scales": 2, "meters": 1, "pumps": 3, "gauges": 5, "balances": 7, "taxis": 11}
TOTAL_EVENTS = sum(range(3, 3 + len(THINGS)))  # each thing counted 3, 4, ... times


@pytest.fixture
async def engine(postgres_url):
    engine = create_engine(postgres_url)
    await create_schema(engine, metadata)
    await create_schema(engine, totals_metadata)
    yield engine
    await engine.dispose()


@pytest.fixture
async def counted(engine, kafka: KafkaConnection, topic: str) -> str:
    """Each thing counted `times` times by its amount (a stream each), relayed to a topic of three partitions."""
    ensure_topics(kafka, [TopicSpec(topic, partitions=3)])
    for times, (thing, amount) in enumerate(THINGS.items(), start=3):
        async with session_factory(engine).begin() as session:
            events = [ThingCounted(occurred_on=date(2025, 5, 1), thing=thing, amount=amount) for _ in range(times)]
            await EventStore("/test").append(session, f"thing-{thing}", None, events, CTX)
    publisher = KafkaEventPublisher(kafka)
    await publisher.start()
    try:
        await publish_every_event(OutboxRelay(engine, EventStore("/test"), publisher, topic))
    finally:
        await publisher.stop()
    return topic


async def publish_every_event(relay: OutboxRelay, within: float = 30.0) -> None:
    """Relay until every counted event is on the topic: another transaction open on the shared PostgreSQL server (a
    test's, autovacuum's) can hold the gap-safe reader back for a moment; it waits, it never skips."""
    published, deadline = 0, time.monotonic() + within
    while published < TOTAL_EVENTS and time.monotonic() < deadline:
        published += await relay.publish_pending()
        if published < TOTAL_EVENTS:
            await asyncio.sleep(0.05)
    assert published == TOTAL_EVENTS


def expected_totals() -> dict[str, tuple[int, int]]:
    return {thing: (amount * times, times) for times, (thing, amount) in enumerate(THINGS.items(), start=3)}


async def test_a_rebuild_in_two_processes_applies_every_event_once_into_the_same_read_model(
    engine, kafka, counted, postgres_url
):
    spans = await partition_spans(kafka, [counted])
    assert sum(1 for start, end in spans.values() if end > start) >= 2  # the streams span partitions
    runner = ProjectorRunner(session_factory(engine), ThingTotals(), CountingDeadLetters())
    await runner.handle([])
    async with session_factory(engine).begin() as session:  # a stale row the reset must remove
        await session.execute(sa.text("INSERT INTO thing_totals VALUES ('stale', 99, 1)"))
    progress = []

    result = await rebuild(
        kafka,
        runner,
        [counted],
        batch_size=4,
        on_progress=progress.append,
        lanes=ReplayLanes(2, partial(thing_totals_lane, postgres_url, kafka)),
    )

    assert result.done == result.total == TOTAL_EVENTS
    assert await read_totals(engine) == expected_totals()
    async with engine.connect() as connection:
        tracked = await connection.scalar(sa.select(sa.func.count()).select_from(processed_events))
    assert tracked == TOTAL_EVENTS
    assert runner.stats.records == 0  # the lanes' processes read and applied it all
    assert progress and progress[-1].done == TOTAL_EVENTS


async def test_a_lane_whose_wiring_fails_fails_the_rebuild_naming_the_lane(engine, kafka, counted, postgres_url):
    runner = ProjectorRunner(session_factory(engine), ThingTotals(), CountingDeadLetters())
    lanes = ReplayLanes(2, partial(thing_totals_lane, postgres_url, kafka, fail=True))

    with pytest.raises(ReplayLaneError, match=r"replay lane \d failed: RuntimeError: this lane's wiring failed"):
        await rebuild(kafka, runner, [counted], batch_size=4, lanes=lanes)

    assert not multiprocessing.active_children()


async def test_a_lane_killed_mid_rebuild_fails_the_rebuild_and_the_other_lane_is_stopped(
    engine, kafka, counted, postgres_url
):
    runner = ProjectorRunner(session_factory(engine), ThingTotals(), CountingDeadLetters())
    lanes = ReplayLanes(2, partial(thing_totals_lane, postgres_url, kafka))

    async def kill_a_lane() -> None:
        for _ in range(3000):  # as soon as the lanes' processes exist (they take a second or more to start)
            if lanes_started := multiprocessing.active_children():
                os.kill(lanes_started[0].pid, signal.SIGKILL)
                return
            await asyncio.sleep(0.01)

    killer = asyncio.ensure_future(kill_a_lane())
    with pytest.raises(ReplayLaneError, match=r"replay lane \d exited with code -9"):
        await rebuild(kafka, runner, [counted], batch_size=4, lanes=lanes)
    await killer

    assert not multiprocessing.active_children()


class DerivesSideBySide(ThingTotals):
    """ThingTotals with two derivations that each wait for the other to have begun (only side by side can both
    finish) and an `after_replay` that notes what had finished before it ran."""

    def __init__(self) -> None:
        super().__init__()
        self.begun = [asyncio.Event(), asyncio.Event()]
        self.finished: list[int] = []
        self.after: list[list[int]] = []

    def derivations_after_replay(self):
        return [partial(self.derive, 0), partial(self.derive, 1)]

    async def derive(self, mine: int, session) -> None:
        await session.execute(sa.text("SELECT 1"))  # each in a transaction of its own
        self.begun[mine].set()
        await asyncio.wait_for(self.begun[1 - mine].wait(), timeout=10)
        self.finished.append(mine)

    async def after_replay(self, session) -> None:
        self.after.append(sorted(self.finished))


async def test_a_replay_s_derivations_run_side_by_side_before_after_replay(engine, kafka, counted):
    projection = DerivesSideBySide()
    runner = ProjectorRunner(session_factory(engine), projection, CountingDeadLetters())

    result = await rebuild(kafka, runner, [counted], batch_size=50)

    assert result.done == result.total
    assert projection.after == [[0, 1]]


class DerivesSlowly(ThingTotals):
    """ThingTotals whose one derivation after a replay takes DERIVING seconds."""

    DERIVING = 0.4

    def derivations_after_replay(self):
        return [self.derive]

    async def derive(self, session) -> None:
        await session.execute(sa.text("SELECT pg_sleep(:seconds)"), {"seconds": self.DERIVING})


async def test_a_rebuild_reports_how_long_it_took_after_its_last_record(engine, kafka, counted):
    runner = ProjectorRunner(session_factory(engine), DerivesSlowly(), CountingDeadLetters())

    result = await rebuild(kafka, runner, [counted], batch_size=50)

    assert DerivesSlowly.DERIVING <= result.finishing < result.elapsed
    assert f"; {result.finishing:.1f}s of it after the last record)" in result.described()


class DerivesBesideAReader(ThingTotals):
    """ThingTotals whose one derivation locks two tables in turn while a reader holds the second and then asks for
    the first: a deadlock, which the derivation (detecting it first) loses the first time. The reader is let go
    when the derivation fails, so the second run finds the tables free."""

    def __init__(self, engine) -> None:
        super().__init__()
        self.engine = engine
        self.runs = 0
        self.reader_holds = asyncio.Event()
        self.derivation_holds_the_first = asyncio.Event()
        self.reader: asyncio.Task | None = None

    def derivations_after_replay(self):
        return [self.derive]

    async def derive(self, session) -> None:
        self.runs += 1
        if self.runs == 1:
            self.reader = asyncio.create_task(self.read_second_then_first())
            await asyncio.wait_for(self.reader_holds.wait(), timeout=10)
        await session.execute(sa.text("SET LOCAL deadlock_timeout = '50ms'"))  # found by this side first
        await session.execute(sa.text("LOCK TABLE processed_events IN ACCESS EXCLUSIVE MODE"))
        self.derivation_holds_the_first.set()
        await session.execute(sa.text("LOCK TABLE thing_totals IN ACCESS EXCLUSIVE MODE"))

    async def read_second_then_first(self) -> None:
        async with self.engine.connect() as connection, connection.begin():
            await connection.execute(sa.text("SET LOCAL deadlock_timeout = '5s'"))
            await connection.execute(sa.select(sa.func.count()).select_from(sa.table("thing_totals")))
            self.reader_holds.set()
            await asyncio.wait_for(self.derivation_holds_the_first.wait(), timeout=10)
            await connection.execute(sa.select(sa.func.count()).select_from(processed_events))


async def test_a_derivation_that_loses_a_deadlock_with_a_reader_is_run_again_and_the_rebuild_ends(
    engine, kafka, counted
):
    projection = DerivesBesideAReader(engine)
    runner = ProjectorRunner(session_factory(engine), projection, CountingDeadLetters())

    result = await asyncio.wait_for(rebuild(kafka, runner, [counted], batch_size=50), timeout=60)

    assert result.done == result.total == TOTAL_EVENTS
    assert projection.runs == 2
    assert projection.reader is not None
    await asyncio.wait_for(projection.reader, timeout=10)  # the reader got its answers too


def children_of(pid: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


REBUILD_IN_LANES = "import sys; from metrology.testkit.sample_events import rebuild_thing_totals_in_lanes as r; "


def lanes_left_after_killing_a_rebuild(
    database_url: str, servers: str, topic: str, forked: bool
) -> tuple[set[int], set[int]]:
    """Start a rebuild in two lanes as a process, SIGKILL it once its lanes exist, and return the lanes and those
    still alive a moment later."""
    code = REBUILD_IN_LANES + f"r(*sys.argv[1:4], 2, forked={forked})"
    parent = subprocess.Popen([sys.executable, "-c", code, database_url, servers, topic], stdout=subprocess.DEVNULL)
    try:
        lanes: set[int] = set()
        for _ in range(600):  # the lanes' processes exist within a moment (spawned, they then take a second to start)
            lanes = {pid for pid in children_of(parent.pid) if forked or "spawn_main" in command_line(pid)}
            if len(lanes) == 2:
                break
            time.sleep(0.02)
        parent.kill()
        parent.wait()
        for _ in range(250):
            if not any(alive(pid) for pid in lanes):
                break
            time.sleep(0.02)
        return lanes, {pid for pid in lanes if alive(pid)}
    finally:
        if parent.poll() is None:
            parent.kill()


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text()
    except OSError:
        return ""


@pytest.mark.parametrize("forked", [False, True], ids=["spawned", "forked"])
async def test_the_lanes_of_a_rebuild_whose_process_is_killed_end_with_it(engine, kafka, counted, postgres_url, forked):
    lanes, survivors = await asyncio.to_thread(
        lanes_left_after_killing_a_rebuild, postgres_url, kafka.bootstrap_servers, counted, forked
    )

    assert len(lanes) == 2
    assert survivors == set()


async def test_lanes_forked_before_the_event_loop_begin_as_forks_and_apply_every_event_once(
    engine, kafka, counted, postgres_url
):
    code = REBUILD_IN_LANES + "r(*sys.argv[1:4], 2, forked=True)"
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", code, postgres_url, kafka.bootstrap_servers, counted],
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stderr[-2000:]
    assert "lanes started by fork" in done.stdout
    assert await read_totals(engine) == expected_totals()
    async with engine.connect() as connection:
        tracked = await connection.scalar(sa.select(sa.func.count()).select_from(processed_events))
    assert tracked == TOTAL_EVENTS


async def test_lanes_asked_to_fork_inside_a_running_event_loop_are_spawned(kafka, postgres_url):
    lanes = LaneProcesses.start(ReplayLanes(2, partial(thing_totals_lane, postgres_url, kafka)), fork=True)
    try:
        assert lanes.start_method == "spawn"
        assert len(multiprocessing.active_children()) == 2
    finally:
        lanes.stop()

    assert not multiprocessing.active_children()
