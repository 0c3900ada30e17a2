"""Publish `target-status-changed` for every target whose status moved.

Targets are evaluated as of the evaluation date (today unless the settings fix one), and only those whose metric
reads a table the batches since the last evaluation wrote to (the first evaluation of a process looks at every
target); a rebuild does not evaluate at all.

With no interval (0) each batch evaluates in its own transaction, so the new facts, the stored statuses and the
outgoing events commit together. With an interval, batches only note what they touched, and `run_trailing` (a
background task of the consumer process) evaluates it once the interval has passed, in a transaction of its own.
That transaction takes the plans' evaluation locks, not the tenants' aggregate locks: batches keep committing
while it reads its targets (hundreds of milliseconds at a million events), and two evaluations (two consumers of
the group, or a batch evaluating beside one) still never publish a status twice. Each of its statements reads what
is committed when it runs, so a batch that commits meanwhile is evaluated by the next round (it noted its metrics).
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
from metrology.reporting.adapters.aggregates import serialise_evaluations
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
        """After a batch that wrote the facts of `touched` metrics (None: unknown, so all of them): evaluate them
        in the batch's transaction, or with an interval leave them to `run_trailing`."""
        self._dirty.update(Metric if touched is None else touched)
        if self.interval > 0 or not self._dirty:
            return
        dirty, self._dirty = self._dirty, set()
        await self.evaluate(session, dirty)
        self._last = time.monotonic()

    async def run_trailing(self, stop: asyncio.Event, sessions: Callable[[], Any]) -> None:
        """Until `stop`: evaluate, in a transaction of its own, what batches touched but left to the interval."""
        while not stop.is_set():
            await wait_or_stop(stop, max(self.interval - (time.monotonic() - self._last), TRAILING_CHECK_SECONDS))
            if stop.is_set() or not self._dirty or time.monotonic() - self._last < self.interval:
                continue
            dirty, self._dirty = self._dirty, set()
            try:
                async with sessions() as session, session.begin():
                    await self.evaluate(session, dirty)
                self._last = time.monotonic()
            except Exception:
                self._dirty |= dirty
                log.exception("target statuses could not be evaluated; retrying after %s s", self.interval)
                await wait_or_stop(stop, self.interval)

    async def evaluate(self, session: DatabaseSession, metrics: Iterable[Metric] | None = None) -> int:
        """Compare each target (of `metrics`, default all) with its last published status; returns how many changed."""
        await serialise_evaluations(session, [plan.id for plan in self.plans])
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
