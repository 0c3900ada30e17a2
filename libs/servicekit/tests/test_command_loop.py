"""`consume`, `relay` and the other long-running commands: their work runs on uvloop and ends on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal

import uvloop

from metrology.servicekit.cli import _run_until_signalled


def test_a_long_running_command_works_on_uvloop_until_sigterm_stops_it() -> None:
    seen: dict[str, object] = {}

    async def work(stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        seen["loop"] = type(loop)
        loop.call_later(0.05, os.kill, os.getpid(), signal.SIGTERM)
        await asyncio.wait_for(stop.wait(), timeout=10)
        seen["stopped"] = stop.is_set()

    _run_until_signalled(work)

    assert seen == {"loop": uvloop.Loop, "stopped": True}
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
