"""One active holder per name: a PostgreSQL session advisory lock, held on a connection of its own.

The outbox relay (one publisher per service database) and a static consumer member (one process per group instance
id) take such a lock before they work; a second process with the same name waits as a hot standby. A holder that
dies loses its connection and, with it, the lock, so a standby takes over within one poll: no session timeout to
wait out, no process to start.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

RELAY_LOCK_CLASS = 7_406_002  # one active relay per (database, relay name)
CONSUMER_LOCK_CLASS = 7_406_003  # one active consumer process per (database, group instance id)

_TRY_LOCK = sa.text("SELECT pg_try_advisory_lock(:cls, hashtext(:name))")
_LOCK = sa.text("SELECT pg_advisory_lock(:cls, hashtext(:name))")


async def try_lock(connection: AsyncConnection, lock_class: int, name: str) -> bool:
    """Take the lock if it is free; it belongs to the connection's session, not to a transaction."""
    taken = (await connection.execute(_TRY_LOCK, {"cls": lock_class, "name": name})).scalar()
    await connection.commit()
    return bool(taken)


async def wait_for_lock(
    connection: AsyncConnection,
    lock_class: int,
    name: str,
    stop: asyncio.Event,
    between_tries: Callable[[], Awaitable[object]],
) -> bool:
    """True once the lock is held; False if `stop` came first. `between_tries` paces the standby."""
    while not stop.is_set():
        if await try_lock(connection, lock_class, name):
            return True
        await between_tries()
    return False


async def queue_for_lock(connection: AsyncConnection, lock_class: int, name: str, stop: asyncio.Event) -> bool:
    """True once the lock is held; False if `stop` came first. The standby waits inside the server, so it is
    woken the moment the holder's session ends (no polling interval to wait out). A wait given up on `stop`
    leaves the connection unusable: close it."""
    waiting = asyncio.create_task(_lock(connection, lock_class, name))
    stopping = asyncio.create_task(stop.wait())
    try:
        done, _ = await asyncio.wait({waiting, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
    if waiting in done:
        waiting.result()  # raises when the connection was lost meanwhile
        return True
    waiting.cancel()
    with contextlib.suppress(BaseException):
        await waiting
    return False


async def _lock(connection: AsyncConnection, lock_class: int, name: str) -> None:
    await connection.execute(_LOCK, {"cls": lock_class, "name": name})
    await connection.commit()


async def still_connected(connection: AsyncConnection) -> None:
    """Raises when the lock's connection is gone (and the lock with it: another holder may be active)."""
    await connection.execute(sa.text("SELECT 1"))
    await connection.commit()


async def wait_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await stop.wait()
