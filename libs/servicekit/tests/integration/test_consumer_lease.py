"""The lease of a static consumer member: one process per group instance id consumes, a second waits as a hot
standby and takes over the moment the first one's database session ends."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from metrology.eventkit.database import create_engine
from metrology.servicekit.workers import ConsumerLease

pytestmark = pytest.mark.integration


async def test_only_one_process_holds_the_lease_of_an_instance_id_and_a_standby_takes_it_when_the_holder_dies(
    postgres_url,
):
    first_engine, second_engine = create_engine(postgres_url), create_engine(postgres_url)  # two processes
    first = ConsumerLease(first_engine, "verification-consume-1")
    second = ConsumerLease(second_engine, "verification-consume-1")
    other_instance = ConsumerLease(second_engine, "outreach-consume-1")
    stop = asyncio.Event()
    try:
        assert await first.acquire(stop)
        assert await other_instance.acquire(stop), "another instance id has a lease of its own"
        standing_by = asyncio.create_task(second.acquire(stop))
        await asyncio.sleep(1.5)
        assert not standing_by.done(), "the second process waits while the first holds the lease"

        await terminate(first_engine, await backend_pid(first))  # the first process is killed
        assert await asyncio.wait_for(standing_by, 10)
        assert not await first.kept(), "the old holder, back, finds its lease taken and stands by"
        assert await second.kept()
    finally:
        stop.set()
        for lease in (first, second, other_instance):
            await lease.release()
        await first_engine.dispose()
        await second_engine.dispose()


async def test_a_standby_waiting_for_the_lease_gives_up_when_its_process_stops(postgres_url):
    engine = create_engine(postgres_url)
    holder, standby = ConsumerLease(engine, "training-consume-1"), ConsumerLease(engine, "training-consume-1")
    stop = asyncio.Event()
    try:
        assert await holder.acquire(asyncio.Event())
        waiting = asyncio.create_task(standby.acquire(stop))
        await asyncio.sleep(0.5)
        stop.set()
        assert await asyncio.wait_for(waiting, 5) is False
        await standby.release()
        assert await holder.kept(), "the holder still holds it"
    finally:
        await holder.release()
        await standby.release()
        await engine.dispose()


async def test_a_holder_whose_connection_dropped_takes_its_lease_again_and_goes_on(postgres_url):
    engine = create_engine(postgres_url)
    lease = ConsumerLease(engine, "reporting-consume-1")
    try:
        assert await lease.acquire(asyncio.Event())
        dropped = await backend_pid(lease)
        await terminate(engine, dropped)  # as a database restart ends every session
        assert await lease.kept(), "nobody else holds it: the lease is taken again on a new connection"
        assert await backend_pid(lease) != dropped
        async with engine.connect() as probe:
            holders = (await probe.execute(sa.text(ADVISORY_HOLDERS))).scalar()
        assert holders == 1
    finally:
        await lease.release()
        await engine.dispose()


ADVISORY_HOLDERS = """
SELECT count(*) FROM pg_locks
WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
"""


async def backend_pid(lease: ConsumerLease) -> int:
    assert lease.connection is not None
    pid = (await lease.connection.execute(sa.text("SELECT pg_backend_pid()"))).scalar()
    await lease.connection.commit()
    assert isinstance(pid, int)
    return pid


async def terminate(engine: AsyncEngine, pid: int) -> None:
    async with engine.connect() as connection:
        await connection.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        await connection.commit()
