"""Computed answers (plan progress, target details, KPI readings, series) kept in process by read-model version.

The read model changes only when a projector batch commits, and that batch bumps the tenant's row of
`reporting_read_model_versions` in its own transaction. A request reads that one row (a primary-key lookup) and
serves the answer cached under the same version, or computes it. It works when `serve` and `consume` run as
separate processes: nothing is shared but the database.

An answer is stored only when the version read before computing it is still the version after: no batch committed
in between, so every statement of the computation (on any connection) saw that version's facts and nothing newer.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from metrology.reporting.adapters.readmodel import read_model_versions

T = TypeVar("T")
Version = tuple[str, int]  # (epoch, version); ("", 0) before the first batch of a tenant

DEFAULT_SIZE = 512


async def read_version(connection: AsyncConnection, tenant: str) -> Version:
    v = read_model_versions
    row = (await connection.execute(sa.select(v.c.epoch, v.c.version).where(v.c.tenant == tenant))).first()
    return ("", 0) if row is None else (str(row.epoch), int(row.version))


class AnswerCache:
    """A bounded LRU of computed answers, keyed by the request's parameters and the tenant's read-model version."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self.size = size
        self._answers: OrderedDict[Hashable, Any] = OrderedDict()
        self.hits = 0
        self.misses = 0

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
        """The cached answer for `key` at the tenant's current version, else `compute(connection)` (then cached)."""
        async with engine.connect() as connection:
            version = await read_version(connection, tenant)
            found, value = self.get((key, tenant, version))
            if found:
                self.hits += 1
                return value  # type: ignore[no-any-return]
            self.misses += 1
            value = await compute(connection)
            if await read_version(connection, tenant) == version:
                self.put((key, tenant, version), value)
            return value
