"""The load: the scripted year of tests/e2e/test_reporting_scripted_year.py (2023-2025), performed over HTTP as
several cohorts (each a copy of the script with its own enterprises, providers, instruments, trainees...), by a
client that behaves like a real integrator: every command carries an Idempotency-Key and is sent again, with the
same key, after a connection error, a 5xx or a concurrent-change 409, until it gets an answer. Where a service runs
two APIs, a connection error sends the retry to the other one (as a load balancer would)."""

from __future__ import annotations

import asyncio
import dataclasses
import importlib.util
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import httpx

from metrology.testkit.infra import REPO

SCRIPTED_YEAR = REPO / "tests" / "e2e" / "test_reporting_scripted_year.py"
REFERENCES = {"key", "provider", "designation", "owner", "against", "instrument", "verifier", "standard", "job",
              "enterprise", "participation", "course", "trainee", "lab"}  # fmt: skip
RETRIED_STATUSES = {500, 502, 503, 504}
MAX_500_RETRIES = 3  # a 500 is a fault of the platform, not of the moment: tried again a few times, then reported


def scripted_year() -> ModuleType:
    """The scripted year's facts, counting rules and HTTP driver, used as they are (one script, one truth)."""
    spec = importlib.util.spec_from_file_location("scripted_year", SCRIPTED_YEAR)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def cohort(facts: list[Any], number: int) -> list[Any]:
    """Copy `number` of the script: the same dates and rules, other keys, tax codes, cards and id numbers."""
    if number == 0:
        return list(facts)

    def renamed(fact: Any) -> Any:
        changes: dict[str, Any] = {
            name: f"{value}~{number}"
            for name, value in vars(fact).items()
            if name in REFERENCES and isinstance(value, str)
        }
        if hasattr(fact, "serial"):
            changes["serial"] = fact.serial + 10 * number
        if hasattr(fact, "card"):
            changes["card"] = f"{fact.card}-{number}"
        if hasattr(fact, "id_number"):
            changes["id_number"] = f"{fact.id_number[:6]}{number:02d}{fact.id_number[8:]}"
        return dataclasses.replace(fact, **changes)

    return [renamed(fact) for fact in facts]


@dataclass
class Command:
    """One logical command (one Idempotency-Key) and what became of it."""

    service: str
    method: str
    path: str
    key: str
    sent_at: float
    attempts: int = 0
    status: int | None = None
    answered_at: float | None = None

    @property
    def acknowledged(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass
class Ledger:
    """Every command sent, the errors seen on the way, what is in flight now and when each service answered
    (for the API fault: reads count as much as commands)."""

    commands: dict[tuple[str, str], Command] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    in_flight: Counter[str] = field(default_factory=Counter)
    answered: dict[str, list[float]] = field(default_factory=dict)

    def acknowledged(self) -> list[Command]:
        return [c for c in self.commands.values() if c.acknowledged]

    def first_answer_after(self, service: str, moment: float) -> float | None:
        return min((t for t in self.answered.get(service, []) if t > moment), default=None)


class RetryingClient:
    """What the scripted driver calls `post`, `get` and `delete` on, for one service."""

    def __init__(self, service: str, apis: list[httpx.AsyncClient], ledger: Ledger, give_up_after: float = 240) -> None:
        self.service = service
        self.apis = apis
        self.current = 0
        self.ledger = ledger
        self.give_up_after = give_up_after

    @property
    def http(self) -> httpx.AsyncClient:
        return self.apis[self.current]

    async def post(self, path: str, **kw: Any) -> httpx.Response:
        return await self.request("POST", path, **kw)

    async def delete(self, path: str, **kw: Any) -> httpx.Response:
        return await self.request("DELETE", path, **kw)

    async def get(self, path: str, **kw: Any) -> httpx.Response:
        return await self.request("GET", path, **kw)

    async def request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        headers = dict(kw.pop("headers", None) or {})
        command = None
        if method != "GET":
            key = headers.setdefault("Idempotency-Key", f"chaos-{uuid.uuid4()}")
            command = self.ledger.commands.setdefault(
                (self.service, key), Command(self.service, method, path, key, time.monotonic())
            )
        deadline = time.monotonic() + self.give_up_after
        delay, server_errors = 0.1, 0
        while True:
            if command:
                command.attempts += 1
            self.ledger.in_flight[self.service] += 1
            try:
                response = await self.http.request(method, path, headers=headers, **kw)
            except httpx.TransportError as error:
                self.ledger.errors[f"{self.service} {type(error).__name__}"] += 1
                self.current = (self.current + 1) % len(self.apis)  # the other API, when there is one
                response = None
            finally:
                self.ledger.in_flight[self.service] -= 1
            server_errors += response is not None and response.status_code == 500
            retried = response is None or (self._retried(method, path, response) and server_errors <= MAX_500_RETRIES)
            if response is not None and not retried:
                self.ledger.answered.setdefault(self.service, []).append(time.monotonic())
                if command:
                    command.status, command.answered_at = response.status_code, time.monotonic()
                return response
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.service} {method} {path}: no answer in {self.give_up_after}s")
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)

    def _retried(self, method: str, path: str, response: httpx.Response) -> bool:
        status = response.status_code
        if status in RETRIED_STATUSES:
            self.ledger.errors[f"{self.service} {status}"] += 1
            if status == 500:
                self.ledger.server_errors.append(f"{self.service} {method} {path}: 500 {response.text[:300]}")
            return True
        if status == 409 and response.headers.get("content-type", "").startswith("application/problem+json"):
            concurrent = response.json().get("type", "").endswith("concurrent-change")
            if concurrent:
                self.ledger.errors[f"{self.service} 409 concurrent-change"] += 1
            return bool(concurrent)
        return False


WAIT_UNDER_FAULTS = 180.0


def driver_type(scripted: ModuleType, hard_stop: float) -> type:
    """The scripted driver, made to record a failed fact and go on (the checks then say what it cost)."""

    class ChaosDriver(scripted.Driver):  # type: ignore[name-defined,misc]
        failures: list[str]

        async def until(self, probe: Any, what: str, seconds: float = 30.0) -> None:
            # A fault may hold a replica back for as long as its process takes to restart on a loaded machine: the
            # load waits (the recovery is measured and reported on its own), rather than dropping the fact.
            # Past `hard_stop` (the run's time is up) a fact waits only its own few seconds, so the run ends.
            left = hard_stop - time.monotonic()
            await super().until(probe, what, max(seconds, min(WAIT_UNDER_FAULTS, left)))

        async def perform(self, fact: Any) -> None:
            try:
                await super().perform(fact)
            except Exception as error:
                self.failures.append(f"{fact}: {type(error).__name__} {error}"[:500])

    return ChaosDriver


@dataclass
class Load:
    """Cohorts of the script, one after another, until at least `cohorts` are done and the faults are over; no
    cohort starts after `stop_at` (the run's time budget), and a fact's waits end by `hard_stop`."""

    scripted: ModuleType
    clients: dict[str, RetryingClient]
    ledger: Ledger
    cohorts: int
    stop_at: float
    hard_stop: float
    max_cohorts: int = 64  # the load goes on while faults remain (within the time budget), up to this many
    performed: list[Any] = field(default_factory=list)
    done_cohorts: int = 0

    def __post_init__(self) -> None:
        ready: dict[str, asyncio.Future[None]] = {}
        for name in self.clients:
            ready[name] = asyncio.get_running_loop().create_future()
            ready[name].set_result(None)
        self.driver = driver_type(self.scripted, self.hard_stop)(self.clients, ready)
        self.driver.failures = []

    async def run(self, faults_over: asyncio.Event) -> None:
        while self._another_cohort(faults_over):
            facts = cohort(self.scripted.script(), self.done_cohorts)
            self.performed += facts
            await self.driver.perform_all(facts)
            self.done_cohorts += 1
            print(f"chaos: cohort {self.done_cohorts} done", file=sys.stderr, flush=True)

    def _another_cohort(self, faults_over: asyncio.Event) -> bool:
        if self.done_cohorts >= self.max_cohorts or (self.done_cohorts and time.monotonic() > self.stop_at):
            return False
        return self.done_cohorts < self.cohorts or not faults_over.is_set()
