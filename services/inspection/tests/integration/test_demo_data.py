"""The demo year loads over HTTP from the replica (SQLite and PostgreSQL), and a second run adds nothing."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from metrology.inspection import demo

from .conftest import Service
from .world import NEVER, VERIFIED

pytestmark = [pytest.mark.integration]


class BlockingClient:
    """The demo's blocking calls, served by the test's async client on its own loop (the demo runs in a thread)."""

    def __init__(self, client: httpx.AsyncClient, headers: dict[str, str], loop: asyncio.AbstractEventLoop) -> None:
        self.client, self.headers, self.loop = client, headers, loop

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self._call(self.client.get(path, headers=self.headers, **kwargs))

    def post(self, path: str, json: Any, headers: dict[str, str]) -> httpx.Response:
        return self._call(self.client.post(path, json=json, headers=self.headers | headers))

    def _call(self, call: Any) -> httpx.Response:
        return asyncio.run_coroutine_threadsafe(call, self.loop).result(60)


def run_demo(service: Service, loop: asyncio.AbstractEventLoop) -> dict[str, int]:
    loader = demo.DemoLoader(BlockingClient(service.http, service.token(), loop))  # type: ignore[arg-type]
    visits = demo.plan_visits(loader.instruments(wait_seconds=0))
    campaigns = loader.campaigns()
    for visit in visits:
        loader.visit(visit, campaigns[visit.campaign.decision_number])
    return loader.counts


async def test_the_demo_year_is_recorded_once_and_judged_by_the_replica(service: Service):
    loop = asyncio.get_running_loop()
    counts = await asyncio.to_thread(run_demo, service, loop)
    assert counts["plans"] == 1 and counts["campaigns"] == 3 and counts["visits"] == 1
    assert counts["findings"] == 4 and counts["violations"] == counts["decisions"] == 1
    overdue = await service.get("/findings", defect="overdue")
    # in spring 2025 one dispenser was never verified and one only got its certificate in 2026; the third's ran
    assert {f["instrument_id"] for f in overdue["items"]} == {NEVER, VERIFIED}
    assert (await service.get("/findings", registry_status="unregistered"))["total"] == 1
    assert (await service.get("/follow-ups"))["total"] == 2
    assert await asyncio.to_thread(run_demo, service, loop) == {}, "a second run replays every answer"
