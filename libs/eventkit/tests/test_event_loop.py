"""The platform's processes run their coroutines on uvloop, as `asyncio.run` would on the standard loop."""

from __future__ import annotations

import asyncio

import pytest
import uvloop

from metrology.eventkit import event_loop


def test_run_gives_back_what_its_coroutine_returns_having_run_it_on_uvloop() -> None:
    async def loop_kind() -> type[asyncio.AbstractEventLoop]:
        await asyncio.sleep(0)
        return type(asyncio.get_running_loop())

    assert event_loop.run(loop_kind()) is uvloop.Loop


def test_run_raises_what_its_coroutine_raises() -> None:
    async def fails() -> None:
        raise LookupError("no such topic")

    with pytest.raises(LookupError, match="no such topic"):
        event_loop.run(fails())


def test_run_cancels_the_tasks_its_coroutine_leaves_behind() -> None:
    cancelled = []

    async def forever() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    async def leaves_a_task() -> None:
        asyncio.get_running_loop().create_task(forever())
        await asyncio.sleep(0)

    event_loop.run(leaves_a_task())
    assert cancelled == [True]


def test_run_refuses_to_start_inside_a_running_loop() -> None:
    async def nested() -> None:
        event_loop.run(asyncio.sleep(0))

    with pytest.raises(RuntimeError, match="running event loop"):
        event_loop.run(nested())
