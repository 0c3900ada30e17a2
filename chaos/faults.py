"""The faults, injected in turn while the load runs, and how long the platform takes to recover from each.

Recovery is measured from the fault to the pipeline moving again past what was there when the fault came (the
load goes on meanwhile, so "no lag at all" may never hold): after a killed relay, every event stored before the
kill is published; after a killed consumer, its groups are stable and have committed every record that was on
their topics at the kill; a killed API has answered the command it was killed in the middle of (the client sends
it again with the same Idempotency-Key, to the other API when there are two); after the broker or the database
came back, the APIs are ready, every relay has published what was stored before the fault and every group has
consumed what was on its topics.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from chaos.fleet import CONSUMERS, SERVICES, Fleet
from chaos.infra import PrivateInfra
from chaos.load import Ledger

# consumer group (after the prefix) -> the services whose topics it reads
GROUPS = {
    "verification.registry-replica": ("registry",),
    "outreach.registry-replica": ("registry",),
    "outreach.access-saga": ("verification",),
    "reporting.projector": ("registry", "verification", "outreach", "training"),
}
RELAY_BEHIND_MARK = """
SELECT count(*) FROM events e, relay_checkpoints c
WHERE c.name = 'kafka' AND e.position <= $1
  AND (e.txid > c.txid::text::xid8 OR (e.txid = c.txid::text::xid8 AND e.position > c.position))
"""
PUBLISHED_AFTER_MARK = """
SELECT count(*) FROM events e, relay_checkpoints c
WHERE c.name = 'kafka' AND e.position > $1
  AND (e.txid < c.txid::text::xid8 OR (e.txid = c.txid::text::xid8 AND e.position <= c.position))
"""
RELAY_BEHIND = """
SELECT count(*) FROM events e, relay_checkpoints c
WHERE c.name = 'kafka' AND (e.txid > c.txid::text::xid8 OR (e.txid = c.txid::text::xid8 AND e.position > c.position))
"""


@dataclass
class Marks:
    """What was there when a fault came: each store's newest position, each group's topic end offsets."""

    stores: dict[str, int]
    topics: dict[str, dict[TopicPartition, int]]


@dataclass
class FaultResult:
    fault: str
    at: float  # seconds into the run
    recovery: float | None  # None: not recovered within the deadline
    note: str = ""


@dataclass
class Monitor:
    """Probes of the pipeline: relays published, groups stable and caught up, processes ready."""

    fleet: Fleet
    infra: PrivateInfra
    database_urls: dict[str, str]
    prefix: str
    notes: list[str] = field(default_factory=list)

    async def relay_caught_up(self, service: str) -> bool:
        try:
            connection = await asyncpg.connect(self.database_urls[service], timeout=3)
        except (OSError, asyncpg.PostgresError):
            return False
        try:
            events = await connection.fetchval("SELECT count(*) FROM events")
            checkpoints = await connection.fetchval("SELECT count(*) FROM relay_checkpoints WHERE name = 'kafka'")
            if events == 0:
                return True
            return bool(checkpoints) and await connection.fetchval(RELAY_BEHIND) == 0
        except (OSError, asyncpg.PostgresError):
            return False
        finally:
            await connection.close()

    async def store_mark(self, service: str) -> int:
        """The newest position in the service's store (0 when empty or unreachable)."""
        try:
            connection = await asyncpg.connect(self.database_urls[service], timeout=3)
        except (OSError, asyncpg.PostgresError):
            return 0
        try:
            return int(await connection.fetchval("SELECT coalesce(max(position), 0) FROM events"))
        finally:
            await connection.close()

    async def relay_moved_past(self, service: str, mark: int, require_newer: bool = False) -> bool:
        """Every event stored up to `mark` is published, and one stored after it too if there is any (a relay
        that died with nothing left to publish has recovered only once it publishes again)."""
        if not await self.relay_past(service, mark):
            return False
        try:
            connection = await asyncpg.connect(self.database_urls[service], timeout=3)
        except (OSError, asyncpg.PostgresError):
            return False
        try:
            newer = await connection.fetchval("SELECT count(*) FROM events WHERE position > $1", mark)
            if newer == 0:
                return not require_newer
            return bool(await connection.fetchval(PUBLISHED_AFTER_MARK, mark) > 0)
        except (OSError, asyncpg.PostgresError):
            return False
        finally:
            await connection.close()

    async def relay_past(self, service: str, mark: int) -> bool:
        """Every event stored up to `mark` is published."""
        try:
            connection = await asyncpg.connect(self.database_urls[service], timeout=3)
        except (OSError, asyncpg.PostgresError):
            return False
        try:
            if mark == 0:
                return True
            checkpoints = await connection.fetchval("SELECT count(*) FROM relay_checkpoints WHERE name = 'kafka'")
            return bool(checkpoints) and await connection.fetchval(RELAY_BEHIND_MARK, mark) == 0
        except (OSError, asyncpg.PostgresError):
            return False
        finally:
            await connection.close()

    async def marks(self) -> Marks:
        stores = await asyncio.gather(*(self.store_mark(s) for s in SERVICES))
        ends = await asyncio.gather(*(self.topic_ends(g) for g in GROUPS))
        return Marks(dict(zip(SERVICES, stores, strict=True)), dict(zip(GROUPS, ends, strict=True)))

    async def topic_ends(self, group: str) -> dict[TopicPartition, int]:
        offsets = await group_offsets(self.infra.kafka_bootstrap, self.prefix + group, self.prefix, GROUPS[group])
        return offsets[1] if offsets else {}

    async def group_past(self, group: str, ends: dict[TopicPartition, int], moved: bool = False) -> bool:
        """The group is stable and has committed every record that `ends` counted; with `moved`, also one record
        after them on every partition that received any (a group whose member died with no lag has recovered only
        once it consumes again)."""
        offsets = await group_offsets(self.infra.kafka_bootstrap, self.prefix + group, self.prefix, GROUPS[group])
        if offsets is None:
            return False
        committed, now = offsets
        for tp, end in ends.items():
            done = committed.get(tp, 0)
            if done < end or (moved and now.get(tp, 0) > end and done <= end):
                return False
        return True

    async def pipeline_past(self, marks: Marks) -> bool:
        relays = [self.relay_past(s, mark) for s, mark in marks.stores.items()]
        groups = [self.group_past(g, ends) for g, ends in marks.topics.items()]
        return all(await asyncio.gather(*relays, *groups))

    async def group_lag(self, group: str) -> int | None:
        return await group_lag(self.infra.kafka_bootstrap, self.prefix + group, self.prefix, GROUPS[group])

    async def group_caught_up(self, group: str) -> bool:
        return await self.group_lag(group) == 0

    async def ready(self, name: str, command: str, replica: int = 0) -> bool:
        process = self.fleet.process(name, command, replica)
        try:
            async with httpx.AsyncClient(timeout=3) as http:
                return (await http.get(f"{process.url}/ready")).status_code == 200
        except httpx.HTTPError:
            return False

    async def pipeline_caught_up(self) -> bool:
        checks = [self.relay_caught_up(s) for s in SERVICES] + [self.group_caught_up(g) for g in GROUPS]
        return all(await asyncio.gather(*checks))

    def revive_the_dead(self) -> None:
        """A process that exited without being killed is a finding: note it and start it again."""
        for (name, command, replica), process in list(self.fleet.processes.items()):
            if process.process and process.process.poll() is not None:
                self.notes.append(f"{name} {command} exited by itself ({process.process.returncode}):\n"
                                  f"{process.log_tail(15)}")  # fmt: skip
                self.fleet.restart(name, command, replica)


Offsets = dict[TopicPartition, int]


async def group_offsets(
    bootstrap: str, group: str, prefix: str, services: tuple[str, ...]
) -> tuple[Offsets, Offsets] | None:
    """(committed, end offsets) of `group` on the event topics of `services`; None when the group is not stable
    (rebalancing, or no member) or Kafka does not answer."""
    options = {"bootstrap_servers": bootstrap, "request_timeout_ms": 3000}
    admin = AIOKafkaAdminClient(**options)
    consumer = AIOKafkaConsumer(**options, enable_auto_commit=False)
    try:
        async with asyncio.timeout(8):
            await admin.start()
            await consumer.start()
            described = (await admin.describe_consumer_groups([group]))[0].groups[0]
            state, members = described[2], described[5]
            if state != "Stable" or not members:
                return None
            committed = await admin.list_consumer_group_offsets(group)
            topics = [f"{prefix}metrology.{service}.v1" for service in services]
            ends = await consumer.end_offsets([TopicPartition(t, p) for t in topics for p in range(3)])
            return {tp: committed[tp].offset for tp in ends if tp in committed}, dict(ends)
    except Exception:
        return None
    finally:
        with contextlib.suppress(Exception):
            await consumer.stop()
        with contextlib.suppress(Exception):
            await admin.close()


async def group_lag(bootstrap: str, group: str, prefix: str, services: tuple[str, ...]) -> int | None:
    """Records `group` has not committed yet on the event topics of `services` (None: not stable, or no answer)."""
    offsets = await group_offsets(bootstrap, group, prefix, services)
    if offsets is None:
        return None
    committed, ends = offsets
    return sum(end - committed.get(tp, 0) for tp, end in ends.items())


async def until(probe: Callable[[], Awaitable[bool]], deadline: float, every: float = 0.1) -> bool:
    while time.monotonic() < deadline:
        if await probe():
            return True
        await asyncio.sleep(every)
    return False


@dataclass
class Injector:
    monitor: Monitor
    ledger: Ledger
    started: float
    recovery_deadline: float = 120
    results: list[FaultResult] = field(default_factory=list)

    @property
    def fleet(self) -> Fleet:
        return self.monitor.fleet

    async def run(self, faults: list[str], load_done: asyncio.Event, deadline: float, gap: float = 3.0) -> None:
        for fault in faults:
            if load_done.is_set() or time.monotonic() > deadline:
                why = "the load had ended" if load_done.is_set() else "out of time"
                self.results.append(FaultResult(fault, self._now(), None, f"not injected: {why}"))
                continue
            kind, _, target = fault.partition(" ")
            await asyncio.sleep(gap)
            result = await getattr(self, kind)(target)
            self.results.append(result)
            recovery = "not recovered" if result.recovery is None else f"recovered in {result.recovery:.1f}s"
            print(f"chaos: {result.at:.0f}s {result.fault}: {recovery} {result.note}", file=sys.stderr, flush=True)
            self.monitor.revive_the_dead()
            # a short settle before the next fault; the whole pipeline is only caught up once the load stops
            await until(self.monitor.pipeline_caught_up, time.monotonic() + SETTLE_SECONDS)

    async def relay(self, service: str) -> FaultResult:
        replica = await self.fleet.active(service, "relay")
        mark = await self.monitor.store_mark(service)
        at = self._kill_and_restart(service, "relay", replica)

        async def back() -> bool:
            return await self.fleet.has_active(service, "relay") and await self.monitor.relay_moved_past(service, mark)

        result = await self._measure(f"kill -9 {service} relay{self._which(service, 'relay')}", at, back)
        if result.recovery is not None and not await self.monitor.relay_moved_past(service, mark, require_newer=True):
            result.note = "nothing was stored after the kill while it recovered"
        return result

    async def consume(self, service: str) -> FaultResult:
        replica = await self.fleet.active(service, "consume")
        groups = [g for g in GROUPS if g.startswith(f"{service}.")]
        ends = dict(zip(groups, await asyncio.gather(*(self.monitor.topic_ends(g) for g in groups)), strict=True))
        at = self._kill_and_restart(service, "consume", replica)

        async def back() -> bool:
            if not await self.fleet.has_active(service, "consume"):
                return False
            return all(await asyncio.gather(*(self.monitor.group_past(g, ends[g], moved=True) for g in groups)))

        return await self._measure(f"kill -9 {service} consumer{self._which(service, 'consume')}", at, back)

    async def api(self, service: str) -> FaultResult:
        """Killed while a request to it is in flight (waits up to 30 s for one); recovered when the service answers
        again (the retry of that request, or any request after the kill)."""

        async def in_flight() -> bool:
            return self.ledger.in_flight[service] > 0

        mid_request = await until(in_flight, time.monotonic() + 30, every=0.002)
        at = self._kill_and_restart(service, "serve", 0)

        async def back() -> bool:
            if self.ledger.first_answer_after(service, at) is not None:
                return True
            return any([await self.monitor.ready(service, "serve", r) for r in self.fleet.replicas(service, "serve")])

        result = await self._measure(f"kill -9 {service} API{self._which(service, 'serve')}", at, back)
        answered = self.ledger.first_answer_after(service, at)
        if answered is not None and result.recovery is not None:
            result.recovery = min(result.recovery, answered - at)
        result.note = "mid-request" if mid_request else "no request in flight"
        return result

    async def kafka(self, _: str) -> FaultResult:
        """Recovery is counted from the broker answering again (its own stop and start are in the note)."""
        marks = await self.monitor.marks()
        at = time.monotonic()
        await asyncio.to_thread(self.monitor.infra.stop_kafka)
        await asyncio.to_thread(self.monitor.infra.start_kafka_again)
        back_at = time.monotonic()
        moving = partial(self.monitor.pipeline_past, marks)
        result = await self._measure("Kafka broker stopped and started", back_at, moving)
        result.at = at - self.started
        result.note = f"broker stopped and back in {back_at - at:.1f}s"
        return result

    async def postgres(self, _: str) -> FaultResult:
        """Recovery is counted from the server accepting connections again (its restart is in the note)."""
        marks = await self.monitor.marks()
        at = time.monotonic()
        await asyncio.to_thread(self.monitor.infra.restart_postgres)
        back_at = time.monotonic()

        async def back() -> bool:
            apis = await asyncio.gather(*(self.monitor.ready(s, "serve") for s in SERVICES))
            return all(apis) and await self.monitor.pipeline_past(marks)

        result = await self._measure("PostgreSQL restarted", back_at, back)
        result.at = at - self.started
        result.note = f"server stopped and back in {back_at - at:.1f}s"
        return result

    def _which(self, service: str, command: str) -> str:
        return " (of two)" if (service, command) in self.fleet.pairs else ""

    def _kill_and_restart(self, service: str, command: str, replica: int) -> float:
        at = time.monotonic()
        self.fleet.kill(service, command, replica)
        self.fleet.restart(service, command, replica)
        return at

    async def _measure(self, fault: str, at: float, back: Callable[[], Awaitable[bool]]) -> FaultResult:
        recovered = await until(back, at + self.recovery_deadline)
        recovery = self._since(at) if recovered else None
        return FaultResult(fault, at - self.started, recovery, "" if recovered else "not recovered in time")

    def _since(self, moment: float) -> float:
        return time.monotonic() - moment

    def _now(self) -> float:
        return time.monotonic() - self.started


SETTLE_SECONDS = 10.0


def schedule(quick: bool, rounds: int = 1) -> list[str]:
    """Each relay, each consumer, each API, the broker and the database, in turn (a few of them when quick).

    The quick form (run by `make test`) leaves the broker out to stay short: the broker's own stop and start take
    12 s or more on two cores; the full `make chaos` has it.
    """
    if quick:
        return ["relay registry", "consume reporting", "api verification", "postgres -"]
    one = [f"relay {s}" for s in SERVICES] + [f"consume {s}" for s in CONSUMERS]
    one += [f"api {s}" for s in SERVICES] + ["kafka -", "postgres -"]
    return one * rounds
