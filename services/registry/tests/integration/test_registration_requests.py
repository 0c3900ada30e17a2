"""Instruments found in use at state inspections but not registered arrive from the inspection topic as
registration requests: pending, then registered once the province registers that type and serial (SQLite and
PostgreSQL); only the province's staff see them, each province its own."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from metrology.eventkit.envelope import Envelope
from metrology.inspection.domain.events import InstrumentFoundUnregistered
from metrology.registry.application.registration_requests import RegistrationRequests
from metrology.registry.bootstrap import bootstrap
from metrology.registry.settings import RegistrySettings
from metrology.servicekit.app import create_app
from metrology.servicekit.auth import issue_dev_token
from metrology.servicekit.runtime import ServiceRuntime

from .test_natural_keys import ENTERPRISE, instrument

pytestmark = pytest.mark.integration
SECRET = "registry-registration-requests-0123456789abcdef"


@dataclass
class Registry:
    runtime: ServiceRuntime
    http: httpx.AsyncClient

    def token(self, role: str, tenant: str = "83") -> dict[str, str]:
        return {"Authorization": f"Bearer {issue_dev_token(SECRET, 'tester', [role], tenant)}"}

    async def requests(self, role: str = "viewer", tenant: str = "83", **params: str) -> httpx.Response:
        return await self.http.get("/registration-requests", params=params, headers=self.token(role, tenant))

    async def found(self, finding_id: str, serial: str, tenant: str = "83") -> None:
        """What the registry's consumer does with an inspection's event (the projector's transaction)."""
        event = InstrumentFoundUnregistered(
            occurred_on=date(2026, 4, 14), visit_id="visit-1", finding_id=finding_id, type_code="2.19",
            serial=serial, enterprise_id=None, venue_name="Cửa hàng xăng dầu số 5", commune_code="28975",
        )  # fmt: skip
        envelope = Envelope(
            id=str(uuid.uuid4()), type=event.type_name(), source="/metrology/inspection", time=datetime.now(UTC),
            stream_id="visit-visit-1", stream_version=1, tenant=tenant, correlation_id=str(uuid.uuid4()),
            data=event.model_dump(mode="json"),
        )  # fmt: skip
        projection = RegistrationRequests()
        async with self.runtime.sessions.begin() as session:
            await projection.apply(session, envelope, envelope.event(projection.registry))


@pytest.fixture
async def registry(database_url: str) -> AsyncIterator[Registry]:
    settings = RegistrySettings.from_env("registry", database_url=database_url, auth_jwt_secret=SECRET, tenant="83")
    runtime = bootstrap(settings)
    await runtime.migrate()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(runtime)), base_url="http://r") as c:
        yield Registry(runtime, c)
    await runtime.dispose()


def items(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def test_an_unregistered_instrument_found_is_pending_until_that_type_and_serial_is_registered(
    registry: Registry,
):
    await registry.found("finding-1", "TK-2024-0001")
    await registry.found("finding-1", "TK-2024-0001")  # delivered twice: one request
    await registry.found("finding-2", "TK-2024-0002")
    pending = items(await registry.requests(status="pending"))
    assert [(r["finding_id"], r["serial"], r["status"]) for r in pending] == [
        ("finding-1", "TK-2024-0001", "pending"), ("finding-2", "TK-2024-0002", "pending"),
    ]  # fmt: skip
    assert pending[0]["venue_name"] == "Cửa hàng xăng dầu số 5" and pending[0]["found_on"] == "2026-04-14"

    admin = registry.token("province-admin")
    owner = (await registry.http.post("/enterprises", json=ENTERPRISE, headers=admin)).json()["id"]
    registered = await registry.http.post("/instruments", json=instrument(owner), headers=admin)
    assert registered.status_code == 201, registered.text

    assert [r["finding_id"] for r in items(await registry.requests(status="pending"))] == ["finding-2"]
    done = items(await registry.requests(status="registered"))
    assert [(r["finding_id"], r["instrument_id"]) for r in done] == [("finding-1", registered.json()["id"])]


async def test_only_the_provinces_staff_see_its_requests(registry: Registry):
    await registry.found("finding-1", "TK-2024-0001")
    await registry.found("finding-86", "TK-2024-0086", tenant="86")
    assert [r["finding_id"] for r in items(await registry.requests())] == ["finding-1"]
    assert [r["finding_id"] for r in items(await registry.requests(tenant="86"))] == ["finding-86"]
    assert (await registry.requests(role="enterprise")).status_code == 403
    assert (await registry.http.get("/registration-requests")).status_code == 401
