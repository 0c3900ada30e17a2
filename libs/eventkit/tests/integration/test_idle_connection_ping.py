"""The pool pings only connections that sat idle, and replaces one the server dropped meanwhile."""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection

from metrology.eventkit import database
from metrology.eventkit.database import create_engine


async def backend_pid(engine) -> int:
    async with engine.connect() as connection:
        return (await connection.execute(sa.text("SELECT pg_backend_pid()"))).scalar_one()


async def test_an_idle_connection_the_server_dropped_is_replaced_without_an_error(postgres_url, monkeypatch):
    engine = create_engine(postgres_url, pool_size=1, max_overflow=0)
    killer = create_engine(postgres_url)
    try:
        dropped = await backend_pid(engine)
        async with killer.connect() as connection:
            await connection.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": dropped})
        monkeypatch.setattr(database, "PING_AFTER_IDLE_SECONDS", 0.0)

        assert await backend_pid(engine) != dropped
    finally:
        await engine.dispose()
        await killer.dispose()


async def test_a_connection_back_in_use_within_seconds_is_not_pinged(postgres_url, monkeypatch):
    pings = []
    original = AsyncAdapt_asyncpg_connection.ping

    def counted(self):
        pings.append(1)
        return original(self)

    monkeypatch.setattr(AsyncAdapt_asyncpg_connection, "ping", counted)
    engine = create_engine(postgres_url, pool_size=1, max_overflow=0)
    try:
        first = await backend_pid(engine)
        assert [await backend_pid(engine) for _ in range(5)] == [first] * 5
        assert pings == []
        monkeypatch.setattr(database, "PING_AFTER_IDLE_SECONDS", 0.0)
        await backend_pid(engine)
        assert pings == [1]
    finally:
        await engine.dispose()
