"""An answer two targets of a page share is computed once: the target that asks second waits for the first's
computation and gets its value, its failure, or its cancellation."""

from __future__ import annotations

import asyncio

import pytest

from metrology.reporting.application.progress import Computed, _once


async def test_the_second_asker_gets_the_value_the_first_computed_and_nothing_is_computed_twice():
    computed: Computed = {}
    calls = 0

    async def compute() -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        return 42

    first, second = await asyncio.gather(_once(computed, ("k",), compute), _once(computed, ("k",), compute))

    assert (first, second, calls) == (42, 42, 1)


async def test_the_second_asker_gets_the_failure_of_the_computation_it_waited_for():
    computed: Computed = {}
    started = asyncio.Event()

    async def failing() -> int:
        started.set()
        await asyncio.sleep(0.01)
        raise ConnectionResetError("the database went away")

    async def never() -> int:
        raise AssertionError("the answer was under way: it is not computed again")

    first = asyncio.create_task(_once(computed, ("k",), failing))
    await started.wait()
    second = asyncio.create_task(_once(computed, ("k",), never))

    with pytest.raises(ConnectionResetError):
        await first
    with pytest.raises(ConnectionResetError):
        await asyncio.wait_for(second, 1)


async def test_a_cancelled_computation_cancels_the_asker_waiting_for_it():
    computed: Computed = {}
    started = asyncio.Event()

    async def slow() -> int:
        started.set()
        await asyncio.sleep(10)
        return 1

    first = asyncio.create_task(_once(computed, ("k",), slow))
    await started.wait()
    second = asyncio.create_task(_once(computed, ("k",), slow))
    await asyncio.sleep(0)  # the second is waiting for the first's answer
    first.cancel()

    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(second, 1)
    assert second.cancelled()
