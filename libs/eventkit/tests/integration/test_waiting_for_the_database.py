"""A service starting while its database is not up yet (a server restarting as the pod starts) waits for it for a
bounded time; a database that refuses it for another reason (one that does not exist) is reported at once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from sqlalchemy.engine import make_url

from metrology.eventkit.database import (
    DatabaseRefusedError,
    DatabaseUnavailableError,
    create_engine,
    is_unavailable,
    wait_for_database,
)
from metrology.testkit.services import free_port

pytestmark = pytest.mark.integration


@asynccontextmanager
async def proxy_to(host: str, port: int, listen_on: int) -> AsyncIterator[None]:
    """A TCP pass-through on `listen_on` to the real server, open while the context lasts."""

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except OSError:
            pass
        finally:
            writer.close()

    async def connect(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        server_reader, server_writer = await asyncio.open_connection(host, port)
        await asyncio.gather(pipe(client_reader, server_writer), pipe(server_reader, client_writer))

    server = await asyncio.start_server(connect, "127.0.0.1", listen_on)
    async with server:
        yield


def through_port(url: str, port: int) -> str:
    return make_url(url).set(host="127.0.0.1", port=port).render_as_string(hide_password=False)


async def test_the_service_waits_for_a_database_that_comes_up_after_it_starts(postgres_url: str) -> None:
    real = make_url(postgres_url)
    port = free_port()
    engine = create_engine(through_port(postgres_url, port))
    started = time.monotonic()
    try:
        waiting = asyncio.create_task(wait_for_database(engine, seconds=30))
        await asyncio.sleep(1.0)
        assert not waiting.done(), "nothing listens yet: still waiting"
        async with proxy_to(real.host or "127.0.0.1", real.port or 5432, port):
            await asyncio.wait_for(waiting, 10)
    finally:
        await engine.dispose()
    assert time.monotonic() - started >= 1.0


async def test_a_database_that_never_comes_up_is_reported_after_the_wait(postgres_url: str) -> None:
    engine = create_engine(through_port(postgres_url, free_port()))
    started = time.monotonic()
    try:
        with pytest.raises(Exception) as raised:
            await wait_for_database(engine, seconds=1.5)
    finally:
        await engine.dispose()
    assert is_unavailable(raised.value)
    assert isinstance(raised.value, DatabaseUnavailableError)
    assert str(raised.value).startswith("the database did not answer within 1.5 s (")
    assert 1.0 <= time.monotonic() - started < 10


async def test_a_database_that_does_not_exist_is_reported_at_once_not_waited_on(postgres_url: str) -> None:
    engine = create_engine(make_url(postgres_url).set(database="no_such_database").render_as_string(False))
    started = time.monotonic()
    try:
        with pytest.raises(Exception, match="does not exist") as raised:
            await wait_for_database(engine, seconds=30)
    finally:
        await engine.dispose()
    assert not is_unavailable(raised.value)
    assert isinstance(raised.value, DatabaseRefusedError)
    assert time.monotonic() - started < 5
