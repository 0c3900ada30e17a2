"""After each projected batch: publish `target-status-changed` for every target whose status moved.

Runs in the projector's transaction, so the new facts, the stored statuses and the outgoing events commit
together. Targets are evaluated as of the evaluation date (today unless the settings fix one), at most once
every `interval` seconds (0: after every batch), and only those whose metric reads a table the batches since
the last evaluation wrote to (the first evaluation of a process looks at every target); a rebuild does not
evaluate at all.

With an interval, the batches folded within it are not evaluated at once; `run_trailing` (a background task of
the consumer process) evaluates what they touched once the interval has passed and no batch did it, in a
transaction of its own that takes the tenants' aggregate locks as a batch does, so a status is never published
twice and the last batch of a burst is evaluated too. At a million events an evaluation reads its targets for
hundreds of milliseconds: an interval keeps that off most batches, so new facts become visible sooner.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa

from metrology.eventkit.database import DatabaseSession, connection_of
from metrology.eventkit.envelope import EventContext
from metrology.eventkit.leases import wait_or_stop
from metrology.eventkit.relay import CommitSignal
from metrology.eventkit.store import EventStore
from metrology.reporting.adapters import readmodel as rm
from metrology.reporting.adapters.aggregates import serialise_aggregates
from metrology.reporting.adapters.sql import upsert
from metrology.reporting.application.progress import Computed, TargetProgress, target_progress
from metrology.reporting.domain.events import TargetStatusChanged
from metrology.reporting.domain.plan import Metric, Plan

log = logging.getLogger(__name__)
TRAILING_CHECK_SECONDS = 0.5  # the least wait between two looks for batches left to the interval


class StatusEvaluation:
    def __init__(
        self,
        plans: Sequence[Plan],
        store: EventStore,
        today: Callable[[], date],
        *,
        interval: float = 0.0,
        signal: CommitSignal | None = None,
    ) -> None:
        self.plans = plans
        self.store = store
        self.today = today
        self.interval = interval
        self.signal = signal
        self._last = float("-inf")
        self._dirty: set[Metric] = set(Metric)  # nothing evaluated yet in this process: every target

    async def __call__(self, session: DatabaseSession, touched: Iterable[Metric] | None = None) -> None:
        """After a batch that wrote the facts of `touched` metrics (None: unknown, so all of them)."""
        self._dirty.update(Metric if touched is None else touched)
        now = time.monotonic()
        if not self._dirty or now - self._last < self.interval:
            return
        dirty = self._dirty
        await self.evaluate(session, dirty)
        self._last = now
        self._dirty = set()

    async def run_trailing(self, stop: asyncio.Event, sessions: Callable[[], Any]) -> None:
        """Until `stop`: evaluate, in a transaction of its own, what batches touched but left to the interval."""
        tenants = sorted({t for plan in self.plans for target in plan.targets for t in plan.tenants_of(target)})
        while not stop.is_set():
            await wait_or_stop(stop, max(self.interval - (time.monotonic() - self._last), TRAILING_CHECK_SECONDS))
            if stop.is_set() or not self._dirty or time.monotonic() - self._last < self.interval:
                continue
            dirty, self._dirty = self._dirty, set()
            try:
                async with sessions() as session, session.begin():
                    await serialise_aggregates(session, tenants)
                    await self.evaluate(session, dirty)
                self._last = time.monotonic()
            except Exception:
                self._dirty |= dirty
                log.exception("target statuses could not be evaluated; retrying after %s s", self.interval)
                await wait_or_stop(stop, self.interval)

    async def evaluate(self, session: DatabaseSession, metrics: Iterable[Metric] | None = None) -> int:
        """Compare each target (of `metrics`, default all) with its last published status; returns how many changed."""
        connection = await connection_of(session)
        as_of = self.today()
        wanted = set(Metric if metrics is None else metrics)
        changed = 0
        for plan in self.plans:
            computed: Computed = {}  # the 2025 and 2030 targets on one metric often ask the same: read it once
            for target in plan.targets:
                if target.metric not in wanted:
                    continue
                result = await target_progress(
                    connection, plan, target, as_of, breakdowns=False, months=12, computed=computed
                )
                changed += await self._publish_if_changed(session, result, as_of)
        if changed and self.signal:
            self.signal.notify()
        return changed

    async def _publish_if_changed(self, session: DatabaseSession, result: TargetProgress, as_of: date) -> int:
        s = rm.target_statuses
        query = sa.select(s.c.status).where(s.c.plan_id == result.plan.id, s.c.target_id == result.target.id)
        previous = (await session.execute(query)).scalar_one_or_none()
        if previous == result.status.value:
            return 0
        event = TargetStatusChanged(
            occurred_on=as_of,
            plan_id=result.plan.id,
            target_id=result.target.id,
            tenant=result.plan.tenant,
            previous_status=previous,
            status=result.status.value,
            value=result.reading.value,
            forecast=result.forecast.value if result.forecast else None,
            as_of=as_of,
        )
        stream = f"target-{result.plan.id}-{result.target.id}"
        await self.store.append(session, stream, None, [event], EventContext(tenant=result.plan.tenant))
        await upsert(
            session,
            s,
            ["status", "value", "as_of"],
            plan_id=result.plan.id,
            target_id=result.target.id,
            status=result.status.value,
            value=result.reading.value,
            as_of=as_of,
        )
        return 1
