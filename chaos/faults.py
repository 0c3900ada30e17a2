"""The faults, injected in turn while the load runs, and how long the platform takes to recover from each.

Recovery is measured from the fault to the pipeline moving again: a killed relay is back and has published every
committed event; a killed consumer is back, its group is stable and has no lag; a killed API has answered the
command it was killed in the middle of (the client sends it again with the same Idempotency-Key); after the
broker or the database came back, every relay has published everything and every group has caught up.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

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
RELAY_BEHIND = """
SELECT count(*) FROM events e, relay_checkpoints c
WHERE c.name = 'kafka' AND (e.txid > c.txid::text::xid8 OR (e.txid = c.txid::text::xid8 AND e.position > c.position))
"""


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

    async def group_lag(self, group: str) -> int | None:
        return await group_lag(self.infra.kafka_bootstrap, self.prefix + group, self.prefix, GROUPS[group])

    async def group_caught_up(self, group: str) -> bool:
        return await self.group_lag(group) == 0

    async def ready(self, name: str, command: str) -> bool:
        process = self.fleet.process(name, command)
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
        for (name, command), process in list(self.fleet.processes.items()):
            if process.process and process.process.poll() is not None:
                self.notes.append(f"{name} {command} exited by itself ({process.process.returncode}):\n"
                                  f"{process.log_tail(15)}")  # fmt: skip
                self.fleet.restart(name, command)


async def group_lag(bootstrap: str, group: str, prefix: str, services: tuple[str, ...]) -> int | None:
    """Records `group` has not committed yet on the event topics of `services`; None when the group is not stable
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
            return sum(end - (committed[tp].offset if tp in committed else 0) for tp, end in ends.items())
    except Exception:
        return None
    finally:
        with contextlib.suppress(Exception):
            await consumer.stop()
        with contextlib.suppress(Exception):
            await admin.close()


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

    async def run(self, faults: list[str], load_done: asyncio.Event, gap: float = 1.0) -> None:
        for fault in faults:
            if load_done.is_set():
                self.results.append(FaultResult(fault, self._now(), None, "not injected: the load had ended"))
                continue
            kind, _, target = fault.partition(" ")
            await asyncio.sleep(gap)
            self.results.append(await getattr(self, kind)(target))
            self.monitor.revive_the_dead()
            # a short settle before the next fault; the whole pipeline is only caught up once the load stops
            await until(self.monitor.pipeline_caught_up, time.monotonic() + SETTLE_SECONDS)

    async def relay(self, service: str) -> FaultResult:
        at = self._kill_and_restart(service, "relay")

        async def back() -> bool:
            return await self.monitor.ready(service, "relay") and await self.monitor.relay_caught_up(service)

        return await self._measure(f"kill -9 {service} relay", at, back)

    async def consume(self, service: str) -> FaultResult:
        at = self._kill_and_restart(service, "consume")
        groups = [g for g in GROUPS if g.startswith(f"{service}.")]

        async def back() -> bool:
            caught_up = await asyncio.gather(*(self.monitor.group_caught_up(g) for g in groups))
            return await self.monitor.ready(service, "consume") and all(caught_up)

        return await self._measure(f"kill -9 {service} consumer", at, back)

    async def api(self, service: str) -> FaultResult:
        """Killed while a command to it is in flight (waits up to 30 s for one)."""

        async def in_flight() -> bool:
            return self.ledger.in_flight[service] > 0

        mid_command = await until(in_flight, time.monotonic() + 30, every=0.002)
        at = self._kill_and_restart(service, "serve")

        async def back() -> bool:
            if mid_command:
                return self.ledger.first_answer_after(service, at) is not None
            return await self.monitor.ready(service, "serve")

        result = await self._measure(f"kill -9 {service} API", at, back)
        answered = self.ledger.first_answer_after(service, at)
        if mid_command and answered is not None:
            result.recovery = answered - at
        result.note = "mid-command" if mid_command else "no command in flight"
        return result

    async def kafka(self, _: str) -> FaultResult:
        at = time.monotonic()
        await asyncio.to_thread(self.monitor.infra.stop_kafka)
        await asyncio.to_thread(self.monitor.infra.start_kafka_again)
        result = await self._measure("Kafka broker stopped and started", at, self.monitor.pipeline_caught_up)
        result.note = f"broker back after {self._since(at):.1f}s"
        return result

    async def postgres(self, _: str) -> FaultResult:
        at = time.monotonic()
        await asyncio.to_thread(self.monitor.infra.restart_postgres)
        down = self._since(at)

        async def back() -> bool:
            apis = await asyncio.gather(*(self.monitor.ready(s, "serve") for s in SERVICES))
            return all(apis) and await self.monitor.pipeline_caught_up()

        result = await self._measure("PostgreSQL restarted", at, back)
        result.note = f"server back after {down:.1f}s"
        return result

    def _kill_and_restart(self, service: str, command: str) -> float:
        at = time.monotonic()
        self.fleet.kill(service, command)
        self.fleet.restart(service, command)
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

    The quick form (run by `make test`) leaves the broker out: a graceful stop of the single-node broker took its
    full 60 s under load and its restart from the saved command line did not come back in one run, so it stays in
    the full `make chaos` until that is understood.
    """
    if quick:
        return ["relay registry", "consume reporting", "api verification", "postgres -"]
    one = [f"relay {s}" for s in SERVICES] + [f"consume {s}" for s in CONSUMERS]
    one += [f"api {s}" for s in SERVICES] + ["kafka -", "postgres -"]
    return one * rounds
