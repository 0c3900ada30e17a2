"""The event loop every process of the platform runs on: uvloop's, as uvicorn already gives the HTTP processes.

A consumer, a relay and a rebuild lane spend part of each record in the loop's own machinery (callbacks, socket
reads into aiokafka's and asyncpg's protocols). On uvloop the million-event rebuild took 6-16 % less time and a live
fold 2-12 % less CPU per event than on the standard library's loop, measured alternating (BENCHMARKS.md); the relay,
whose sending is librdkafka's, did not change. Where uvloop is not available (Windows), the standard loop runs."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(main)` on a new uvloop loop (the standard loop where uvloop is missing)."""
    if _loop_running():  # refused before a loop is made, as asyncio.run refuses it
        main.close()
        raise RuntimeError("event_loop.run() cannot be called from a running event loop")
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(main)


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """What makes the platform's loops: uvloop's `new_event_loop`, or None (the standard loop) without uvloop."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is installed wherever the platform runs (Linux)
        return None
    return uvloop.new_event_loop
