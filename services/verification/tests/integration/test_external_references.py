"""A client's own job id (`external_reference`): one job per provider and province, found again by it.

Run on SQLite and PostgreSQL; the concurrent cases show the database's unique index decides, not a read.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator

import httpx
import pytest
import sqlalchemy as sa

from metrology.eventkit.store import events_table
from metrology.servicekit.app import create_app
from metrology.verification.adapters import postgres_jobs
from metrology.verification.adapters.tables import jobs
from metrology.verification.application import handlers
from metrology.verification.bootstrap import bootstrap
from metrology.verification.settings import VerificationSettings

from .conftest import Service, feed
from .world import CENTRE, METER, OUTSIDE, OUTSIDE_VERIFIER, OWNER, SCALE, STANDARD, VERIFIER, registry_events

pytestmark = [pytest.mark.integration]

REFERENCE = "LIMS-2025/000123"
JOB = {
    "kind": "verification",
    "mode": "periodic",
    "subject": "instrument",
    "subject_id": SCALE,
    "provider_id": CENTRE,
    "verifier_id": VERIFIER,
    "procedure": "ĐLVN 14:2009",
    "working_standard_id": STANDARD,
    "performed_on": "2025-05-14",
    "result": "pass",
    "external_reference": REFERENCE,
}
OUTSIDE_JOB = JOB | {
    "subject_id": METER,
    "provider_id": OUTSIDE,
    "verifier_id": OUTSIDE_VERIFIER,
    "mode": "cross-check",
}


@pytest.fixture
async def service(database_url: str) -> AsyncIterator[Service]:
    runtime = bootstrap(VerificationSettings.from_env("verification", database_url=database_url, tenant="83"))
    await runtime.migrate()
    await feed(runtime, registry_events())
    transport = httpx.ASGITransport(app=create_app(runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://verification") as client:
        yield Service(runtime, client)
    await runtime.dispose()


async def counts(service: Service) -> tuple[int, int]:
    async with service.runtime.engine.connect() as connection:
        events = (await connection.execute(sa.select(sa.func.count()).select_from(events_table))).scalar_one()
        job_rows = (await connection.execute(sa.select(sa.func.count()).select_from(jobs))).scalar_one()
    return events, job_rows


def admin(service: Service, key: str | None = None) -> dict[str, str]:
    return service.token("province-admin") | ({"Idempotency-Key": key} if key else {})


async def test_a_job_is_found_by_the_clients_reference_and_carries_it_in_its_event(service: Service):
    recorded = await service.http.post("/jobs", json=JOB, headers=admin(service))
    assert recorded.status_code == 201, recorded.text

    found = await service.http.get(f"/jobs/by-reference/{REFERENCE}", headers=service.token("viewer"))

    assert found.status_code == 200, found.text
    assert found.json()["job_id"] == recorded.json()["job_id"]
    assert recorded.json()["events"][0]["external_reference"] == REFERENCE


async def test_the_same_reference_under_another_idempotency_key_is_a_409_naming_the_first_job(service: Service):
    first = await service.http.post("/jobs", json=JOB, headers=admin(service, "key-1"))
    stored = await counts(service)

    again = await service.http.post("/jobs", json=JOB, headers=admin(service, "key-2"))

    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    problem = again.json()
    assert problem["errors"][0]["field"] == "external_reference"
    assert problem["rule"] == "external-reference-taken"
    assert problem["job_id"] == first.json()["job_id"]
    assert await counts(service) == stored
    replayed = await service.http.post("/jobs", json=JOB, headers=admin(service, "key-1"))
    assert replayed.json() == first.json() and replayed.headers["Idempotent-Replayed"] == "true"


async def test_requests_racing_with_one_reference_record_one_job(service: Service):
    answers = await asyncio.gather(
        *(service.http.post("/jobs", json=JOB, headers=admin(service, f"key-{n}")) for n in range(4))
    )

    assert sorted(a.status_code for a in answers) == [201, 409, 409, 409]
    assert (await counts(service))[1] == 1


async def test_the_unique_index_alone_refuses_a_second_job_that_passed_the_read(service: Service, monkeypatch):
    async def no_read(uow: object, work: object) -> None:
        return None

    async def facts_without_the_known_job(*args: object) -> postgres_jobs.JobReads:
        return dataclasses.replace(await read_job_facts(*args), known_job=None)

    read_job_facts = postgres_jobs.read_job_facts
    monkeypatch.setattr(handlers, "_refuse_known_reference", no_read)  # the portable path's read
    monkeypatch.setattr(postgres_jobs, "read_job_facts", facts_without_the_known_job)  # PostgreSQL's
    first = await service.http.post("/jobs", json=JOB, headers=admin(service))
    written = await counts(service)

    again = await service.http.post("/jobs", json=JOB | {"notes": "sent twice"}, headers=admin(service))

    assert again.status_code == 409, again.text
    assert again.json()["job_id"] == first.json()["job_id"]
    assert await counts(service) == written  # neither the second job's events nor its rows


async def test_a_reference_is_unique_per_provider_so_a_tenant_wide_look_up_needs_the_provider(service: Service):
    ours = await service.http.post("/jobs", json=JOB, headers=admin(service))
    theirs = await service.http.post("/jobs", json=OUTSIDE_JOB, headers=service.token("provider", provider_id=OUTSIDE))
    assert (ours.status_code, theirs.status_code) == (201, 201), theirs.text

    ambiguous = await service.http.get(f"/jobs/by-reference/{REFERENCE}", headers=admin(service))
    by_provider = await service.http.get(
        f"/jobs/by-reference/{REFERENCE}", params={"provider_id": OUTSIDE}, headers=admin(service)
    )
    as_outside = await service.http.get(
        f"/jobs/by-reference/{REFERENCE}", headers=service.token("provider", provider_id=OUTSIDE)
    )

    assert ambiguous.status_code == 422 and ambiguous.json()["errors"][0]["field"] == "provider_id"
    assert by_provider.json()["job_id"] == theirs.json()["job_id"]
    assert as_outside.json()["job_id"] == theirs.json()["job_id"]


async def test_a_job_reference_is_not_found_outside_its_scope(service: Service):
    await service.http.post("/jobs", json=JOB, headers=admin(service))
    path = f"/jobs/by-reference/{REFERENCE}"

    owner = await service.http.get(path, headers=service.token("enterprise", enterprise_id=OWNER))
    other_owner = await service.http.get(path, headers=service.token("enterprise", enterprise_id="ent-2"))
    other_provider = await service.http.get(path, headers=service.token("provider", provider_id=OUTSIDE))
    viewer_elsewhere = await service.http.get(path, headers=_other_tenant_viewer(service))

    assert owner.status_code == 200
    assert [r.status_code for r in (other_owner, other_provider, viewer_elsewhere)] == [404, 404, 404]
    assert other_owner.json()["errors"][0]["field"] == "external_reference"


def _other_tenant_viewer(service: Service) -> dict[str, str]:
    from metrology.servicekit.auth import issue_dev_token

    token = issue_dev_token(service.runtime.settings.auth_jwt_secret, "elsewhere", ["viewer"], "87")
    return {"Authorization": f"Bearer {token}"}


async def test_jobs_without_a_reference_never_collide(service: Service):
    plain = {key: value for key, value in JOB.items() if key != "external_reference"}

    answers = [await service.http.post("/jobs", json=plain, headers=admin(service)) for _ in range(2)]

    assert [a.status_code for a in answers] == [201, 201]
    assert (await counts(service))[1] == 2
