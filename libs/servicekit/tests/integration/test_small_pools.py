"""A process's one pool, shared by its commands, relay, consumers and reads, serves them all at any size."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa

from metrology.eventkit.envelope import EventContext
from metrology.eventkit.events import EventRegistry
from metrology.servicekit.runtime import new_runtime
from metrology.servicekit.settings import ServiceSettings

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("pool_size", [2, 4, 10])
async def test_after_a_burst_of_commands_the_relay_and_the_reads_still_find_a_connection(postgres_url, pool_size):
    settings = ServiceSettings(
        service_name="probe", database_url=postgres_url, database_pool_size=pool_size, database_max_overflow=0
    )
    runtime = new_runtime(settings, EventRegistry(), [])

    async def command() -> None:
        async with runtime.unit_of_work(EventContext("83")) as uow:
            await uow.session.execute(sa.text("SELECT pg_sleep(0.2)"))

    try:
        await asyncio.gather(*(command() for _ in range(pool_size)))  # every connection of the pool at once
        async with asyncio.timeout(5), runtime.engine.connect() as connection:  # the relay's, or a read's
            assert (await connection.execute(sa.text("SELECT 1"))).scalar_one() == 1
        assert runtime.engine.pool.checkedout() == runtime.connections.idle <= pool_size // 2
    finally:
        await runtime.dispose()


async def test_a_burst_past_the_pool_waits_for_connections_instead_of_failing_while_some_sit_idle(postgres_url):
    settings = ServiceSettings(
        service_name="probe", database_url=postgres_url, database_pool_size=6, database_max_overflow=0
    )
    runtime = new_runtime(settings, EventRegistry(), [])
    held = [await runtime.engine.connect() for _ in range(3)]  # as the relay's LISTEN and a consumer's lease hold
    finished: list[int] = []

    async def command(n: int) -> None:
        async with runtime.unit_of_work(EventContext("83")) as uow:
            await uow.session.execute(sa.text("SELECT pg_sleep(0.05)"))
        finished.append(n)

    try:
        async with asyncio.timeout(10):  # the pool's own wait is 30 s: a starved command would fail after it
            await asyncio.gather(*(command(n) for n in range(24)))
        assert sorted(finished) == list(range(24))
        async with asyncio.timeout(5), runtime.engine.connect() as connection:  # the relay's, or a read's
            assert (await connection.execute(sa.text("SELECT 1"))).scalar_one() == 1
    finally:
        for connection in held:
            await connection.close()
        await runtime.dispose()
