"""The due-date sweep on PostgreSQL: an instrument past its due date raises `instrument-fell-overdue`, once."""

from __future__ import annotations

import asyncio
import json
from datetime import date

import pytest
import sqlalchemy as sa

from metrology.eventkit.store import events_table
from metrology.verification.application.overdue import daily_sweep, sweep_due

from .conftest import Service
from .test_http_write_path import JOB, record
from .world import METER, OTHER_OWNER, SCALE

pytestmark = [pytest.mark.integration]
OVERDUE = "vn.metrology.verification.instrument-fell-overdue"


async def overdue_events(service: Service) -> list[tuple[str, dict]]:
    query = (
        sa.select(events_table.c.stream_id, events_table.c.payload)
        .where(events_table.c.type.like(f"{OVERDUE}%"))
        .order_by(events_table.c.position)
    )
    async with service.runtime.engine.connect() as connection:
        rows = (await connection.execute(query)).all()
    return [(stream, json.loads(payload)) for stream, payload in rows]


def data_of(payload: dict) -> dict:
    return payload.get("data", payload)


async def test_every_instrument_past_its_due_date_raises_the_event_once(service: Service):
    first = await sweep_due(service.runtime, date(2025, 1, 1))
    again = await sweep_due(service.runtime, date(2025, 1, 2))

    assert (first.raised, first.already_raised) == (2, 0)
    assert (again.raised, again.already_raised) == (0, 2)
    events = await overdue_events(service)
    assert [stream for stream, _ in events] == [f"overdue-{METER}-2024-02-01", f"overdue-{SCALE}-2024-02-01"]
    meter = data_of(events[0][1])
    assert meter["instrument_id"] == METER and meter["owner_enterprise_id"] == OTHER_OWNER
    assert (meter["due_on"], meter["occurred_on"]) == ("2024-02-01", "2024-02-02")
    assert meter["commune_code"] == "28759" and meter["last_verified_on"] is None


async def test_nothing_is_raised_before_the_due_date_passes(service: Service):
    assert (await sweep_due(service.runtime, date(2024, 2, 1))).raised == 0  # due that day: not yet overdue
    assert await overdue_events(service) == []


async def test_a_verification_moves_the_due_date_and_its_passing_is_a_new_fact(service: Service):
    await sweep_due(service.runtime, date(2025, 1, 1))
    assert (await record(service, JOB)).status_code == 201  # the scale verified on 2025-05-14, due 2026-05-14

    assert (await sweep_due(service.runtime, date(2026, 5, 14))).raised == 0
    later = await sweep_due(service.runtime, date(2026, 5, 15))

    assert later.raised == 1
    stream, payload = (await overdue_events(service))[-1]
    assert stream == f"overdue-{SCALE}-2026-05-14"
    assert data_of(payload)["last_verified_on"] == "2025-05-14"


async def test_the_consumer_process_sweeps_in_the_background_until_stopped(service: Service):
    stop = asyncio.Event()
    task = asyncio.create_task(daily_sweep(service.runtime, 3600, today=lambda: date(2025, 1, 1))(stop))
    for _ in range(100):
        if len(await overdue_events(service)) == 2:
            break
        await asyncio.sleep(0.1)
    stop.set()
    await asyncio.wait_for(task, timeout=5)
    assert len(await overdue_events(service)) == 2
