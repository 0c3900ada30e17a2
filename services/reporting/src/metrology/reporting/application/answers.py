"""Computed answers (plan progress, target details, KPI readings, series) kept in process by read-model version.

The read model changes only when a projector batch commits, and that batch bumps the tenant's row of
`reporting_read_model_versions` in its own transaction. A request reads that one row (a primary-key lookup) and
serves the answer cached under the same version, or computes it. It works when `serve` and `consume` run as
separate processes: nothing is shared but the database.

An answer is stored only when the version read before computing it is still the version after: no batch committed
in between, so every statement of the computation (on any connection) saw that version's facts and nothing newer.

The public dashboard is open to anonymous readers, so uncached computations are bounded: at most `computations` run
at once, each on one connection (a plan's progress on `lanes`); a request waits for its turn holding no connection,
and one that waits longer than `wait_seconds` is refused with `AnswersBusyError` (503 with Retry-After) instead of
queueing on the pool.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from functools import cache
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from metrology.eventkit.database import statements_alone
from metrology.reporting.adapters.readmodel import read_model_versions

T = TypeVar("T")
Version = tuple[str, int]  # (epoch, version); ("", 0) before the first batch of a tenant

DEFAULT_SIZE = 512
DEFAULT_COMPUTATIONS = 4
DEFAULT_WAIT_SECONDS = 5.0
DEFAULT_LANES = 2


class AnswersBusyError(Exception):
    """Every computation slot stayed taken for the whole wait: ask again after `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"every answer computation is busy; retry after {retry_after} s")
        self.retry_after = retry_after


async def read_version(connection: AsyncConnection, tenant: str) -> Version:
    row = (await connection.execute(_version_of_tenant(), {"tenant": tenant})).first()
    return ("", 0) if row is None else (str(row.epoch), int(row.version))


@cache
def _version_of_tenant() -> sa.Select[tuple[str, int]]:
    """Built once and run with the tenant (every request reads it): no statement to build or key per request."""
    v = read_model_versions
    return sa.select(v.c.epoch, v.c.version).where(v.c.tenant == sa.bindparam("tenant", type_=v.c.tenant.type))


class AnswerCache:
    """A bounded LRU of computed answers, keyed by the request's parameters and the tenant's read-model version."""

    def __init__(
        self,
        size: int = DEFAULT_SIZE,
        computations: int = DEFAULT_COMPUTATIONS,
        wait_seconds: float = DEFAULT_WAIT_SECONDS,
        lanes: int = DEFAULT_LANES,
    ) -> None:
        self.size = size
        self.lanes = lanes  # connections a computation may hold at once (a plan's progress spreads its targets)
        self._answers: OrderedDict[Hashable, Any] = OrderedDict()
        self._computing = asyncio.Semaphore(computations)
        self._looking = asyncio.Semaphore(computations)  # cache look-ups: one short primary-key read each
        self.wait_seconds = wait_seconds
        self.hits = 0
        self.misses = 0
        self.refused = 0

    def __len__(self) -> int:
        return len(self._answers)

    def get(self, key: Hashable) -> tuple[bool, Any]:
        try:
            value = self._answers[key]
        except KeyError:
            return False, None
        self._answers.move_to_end(key)
        return True, value

    def put(self, key: Hashable, value: Any) -> None:
        self._answers[key] = value
        self._answers.move_to_end(key)
        while len(self._answers) > self.size:
            self._answers.popitem(last=False)

    def clear(self) -> None:
        self._answers.clear()

    async def answer(
        self,
        engine: AsyncEngine,
        tenant: str,
        key: Hashable,
        compute: Callable[[AsyncConnection], Awaitable[T]],
    ) -> T:
        """The cached answer for `key` at the tenant's current version, else `compute(connection)` (then cached)
        once a computation slot is free; `AnswersBusyError` when none frees up within `wait_seconds`.

        The look-up is one statement on a connection of its own, outside any transaction (`statements_alone`).
        A computation that found a slot free at once takes that version as the one read before computing;
        one that waited for its slot reads the version again, since another request may have computed the
        answer at a newer version meanwhile."""
        async with self._looking, engine.connect() as connection:
            version = await read_version(await statements_alone(connection), tenant)
        found, value = self._cached(key, tenant, version)
        if found:
            return value  # type: ignore[no-any-return]
        waited = await self._turn()
        try:
            async with engine.connect() as connection:
                if waited:
                    version = await read_version(connection, tenant)
                    found, value = self._cached(key, tenant, version)  # computed by a request served meanwhile
                    if found:
                        return value  # type: ignore[no-any-return]
                self.misses += 1
                value = await compute(connection)
                if await read_version(connection, tenant) == version:
                    self.put((key, tenant, version), value)
                return value
        finally:
            self._computing.release()

    def _cached(self, key: Hashable, tenant: str, version: Version) -> tuple[bool, Any]:
        found, value = self.get((key, tenant, version))
        self.hits += found
        return found, value

    async def _turn(self) -> bool:
        """Take a computation slot: at once when one is free (False), else after waiting for one (True)."""
        if not self._computing.locked():
            await self._computing.acquire()  # free: returns without yielding
            return False
        try:
            await asyncio.wait_for(self._computing.acquire(), self.wait_seconds)
        except TimeoutError:
            self.refused += 1
            raise AnswersBusyError(max(1, round(self.wait_seconds))) from None
        return True
