"""Fixtures for the verification service's integration tests: the service on PostgreSQL with its replica fed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from metrology.eventkit.events import DomainEvent
from metrology.servicekit.app import create_app
from metrology.servicekit.auth import issue_dev_token
from metrology.servicekit.runtime import ServiceRuntime
from metrology.verification.application.replica import RegistryReplica
from metrology.verification.bootstrap import bootstrap
from metrology.verification.settings import VerificationSettings

from .world import envelopes, registry_events


async def feed(runtime: ServiceRuntime, pairs: list[tuple[str, DomainEvent]]) -> None:
    """Fold registry events into the replica as its projector would (one transaction)."""
    replica = RegistryReplica()
    async with runtime.sessions.begin() as session:
        for envelope in envelopes(pairs):
            await replica.apply(session, envelope, envelope.event(replica.registry))
        await replica.after_batch(session)


@dataclass
class Service:
    runtime: ServiceRuntime
    http: httpx.AsyncClient

    def token(self, *roles: str, **claims: str) -> dict[str, str]:
        token = issue_dev_token(self.runtime.settings.auth_jwt_secret, "tester", roles, "83", **claims)
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def service(postgres_url: str) -> AsyncIterator[Service]:
    settings = VerificationSettings.from_env("verification", database_url=postgres_url, tenant="83")
    runtime = bootstrap(settings)
    await runtime.migrate()
    await feed(runtime, registry_events())
    app = create_app(runtime)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://verification") as client:
        yield Service(runtime, client)
    await runtime.dispose()
