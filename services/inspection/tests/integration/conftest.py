"""Fixtures for the inspection service's integration tests: the service on SQLite and PostgreSQL, its replica
fed with the world's registry and verification events, and a client that walks a campaign's record."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from metrology.inspection.application.replica import Replica
from metrology.inspection.bootstrap import bootstrap
from metrology.inspection.settings import InspectionSettings
from metrology.servicekit.app import create_app
from metrology.servicekit.auth import issue_dev_token
from metrology.servicekit.runtime import ServiceRuntime

from .world import envelopes, other_province_events, registry_events, verification_events


async def feed(runtime: ServiceRuntime) -> None:
    """Fold the world into the replica as its projector would (one transaction)."""
    replica = Replica()
    batches = [
        envelopes(registry_events(), "/metrology/registry"),
        envelopes(other_province_events(), "/metrology/registry", tenant="86"),
        envelopes(verification_events(), "/metrology/verification"),
    ]
    async with runtime.sessions.begin() as session:
        for envelope in [e for batch in batches for e in batch]:
            await replica.apply(session, envelope, envelope.event(replica.registry))
        await replica.after_batch(session)


@dataclass
class Service:
    runtime: ServiceRuntime
    http: httpx.AsyncClient

    def token(self, *roles: str, tenant: str = "83") -> dict[str, str]:
        token = issue_dev_token(self.runtime.settings.auth_jwt_secret, "inspector-1", roles or ("province-admin",),
                                tenant)  # fmt: skip
        return {"Authorization": f"Bearer {token}"}

    async def post(self, path: str, body: dict[str, Any], status: int = 201, **headers: str) -> dict[str, Any]:
        response = await self.http.post(path, json=body, headers=headers or self.token())
        assert response.status_code == status, response.text
        return dict(response.json())

    async def get(self, path: str, **params: Any) -> dict[str, Any]:
        response = await self.http.get(path, params=params, headers=self.token("viewer"))
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def campaign(self, **changes: Any) -> str:
        plan = await self.post("/plans", {
            "year": 2026, "title": "Kế hoạch kiểm tra nhà nước về đo lường năm 2026",
            "decision_number": "125/QĐ-SKHCN", "approved_by": "Sở KH&CN", "approved_on": "2026-01-15",
        })  # fmt: skip
        body = {
            "plan_id": plan["id"], "title": "Cột đo xăng dầu, chợ", "decision_number": "42/QĐ-TĐC",
            "venue_kinds": ["fuel-station", "market"], "instrument_types": ["2.19"], "prepackaged_goods": True,
            "starts_on": "2026-04-01", "ends_on": "2026-06-30",
        } | changes  # fmt: skip
        return str((await self.post("/campaigns", body))["id"])

    async def visit(self, campaign_id: str, **changes: Any) -> str:
        body = {
            "campaign_id": campaign_id, "record_number": "BB-07/2026", "venue_kind": "fuel-station",
            "venue_name": "Cửa hàng xăng dầu số 5", "enterprise_id": "ent-petro-1", "commune_code": "28756",
            "inspectors": ["Nguyễn Văn A", "Trần Thị B"], "visited_on": "2026-04-14",
        } | changes  # fmt: skip
        return str((await self.post("/visits", body))["id"])


@pytest.fixture
async def service(database_url: str) -> AsyncIterator[Service]:
    settings = InspectionSettings.from_env("inspection", database_url=database_url, tenant="83")
    runtime = bootstrap(settings)
    await runtime.migrate()
    await feed(runtime)
    app = create_app(runtime)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://inspection") as client:
        yield Service(runtime, client)
    await runtime.dispose()
