"""The due-date sweep: an instrument in use whose verification due date has passed raises `instrument-fell-overdue`.

Once per instrument and due date: the event's stream is named by both (`overdue-<instrument>-<due_on>`), so a
second sweep, or two at once, finds it written (the store's unique (stream, version) refuses the second writer).
A new verification moves the due date, and the next time that one passes is a new fact.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa

from metrology.eventkit.database import DatabaseSession
from metrology.eventkit.envelope import EventContext
from metrology.eventkit.store import events_table
from metrology.servicekit.runtime import ServiceRuntime
from metrology.verification.adapters.tables import instrument_due
from metrology.verification.domain.events import InstrumentFellOverdue

log = logging.getLogger(__name__)
SWEEP_ACTOR = "sweep-due"
CHUNK = 500


@dataclass(frozen=True, slots=True)
class SweepResult:
    on: date
    raised: int
    already_raised: int


def overdue_stream(instrument_id: str, due_on: date) -> str:
    return f"overdue-{instrument_id}-{due_on.isoformat()}"


def fell_overdue(row: Any) -> InstrumentFellOverdue:
    return InstrumentFellOverdue(
        occurred_on=row.due_on + timedelta(days=1),
        instrument_id=row.instrument_id,
        due_on=row.due_on,
        type_code=row.type_code,
        serial=row.serial,
        owner_enterprise_id=row.owner_enterprise_id,
        commune_code=row.commune_code,
        last_job_id=row.last_job_id,
        last_verified_on=row.last_verified_on,
    )


async def sweep_due(runtime: ServiceRuntime, on: date) -> SweepResult:
    """Raise the event for every instrument in use, in every tenant, whose due date is before `on`."""
    async with runtime.engine.connect() as connection:
        query = (
            sa.select(instrument_due)
            .where(instrument_due.c.status == "in-use", instrument_due.c.due_on < on)
            .order_by(instrument_due.c.tenant, instrument_due.c.instrument_id)
        )
        rows = (await connection.execute(query)).all()
    raised = already = 0
    for tenant in sorted({row.tenant for row in rows}):
        mine = [row for row in rows if row.tenant == tenant]
        for start in range(0, len(mine), CHUNK):
            new, old = await _raise(runtime, tenant, mine[start : start + CHUNK])
            raised, already = raised + new, already + old
    return SweepResult(on, raised, already)


async def _raise(runtime: ServiceRuntime, tenant: str, rows: Sequence[Any]) -> tuple[int, int]:
    context = EventContext(tenant=tenant, actor=SWEEP_ACTOR)
    async with runtime.unit_of_work(context) as uow:
        streams = {overdue_stream(row.instrument_id, row.due_on): row for row in rows}
        written = await _existing(uow.session, list(streams))
        for stream, row in streams.items():
            if stream not in written:
                await uow.append(stream, 0, [fell_overdue(row)])
    return len(streams) - len(written), len(written)


async def _existing(session: DatabaseSession, streams: list[str]) -> set[str]:
    query = sa.select(events_table.c.stream_id).where(events_table.c.stream_id.in_(streams)).distinct()
    return set((await session.execute(query)).scalars())


def daily_sweep(
    runtime: ServiceRuntime, every_seconds: float, today: Callable[[], date] = date.today
) -> Callable[[asyncio.Event], Coroutine[Any, Any, None]]:
    """A background task for the consumer process: sweep at start, then every `every_seconds`, until stopped."""

    async def run(stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                result = await sweep_due(runtime, today())
                if result.raised:
                    log.info("due-date sweep", extra={"raised": result.raised, "on": result.on.isoformat()})
            except Exception:  # the next round tries again; the consumers beside it go on
                log.exception("due-date sweep failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=every_seconds)

    return run
