"""The programme's lifecycle and its campaigns through the HTTP API, on SQLite and PostgreSQL.

Enterprises reach outreach's registry replica as the registry's events would (through the replica projection);
everything else goes through the API a province's staff use.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from metrology.eventkit.envelope import Envelope, EventContext
from metrology.eventkit.store import events_table
from metrology.outreach.application.replica import RegistryReplica
from metrology.outreach.bootstrap import bootstrap
from metrology.outreach.domain.consumed import EnterpriseRegistered
from metrology.servicekit.app import create_app
from metrology.servicekit.auth import issue_dev_token
from metrology.servicekit.runtime import ServiceRuntime
from metrology.servicekit.settings import ServiceSettings

pytestmark = pytest.mark.integration

SECRET = "outreach-integration-secret-0123456789abcdef"
TENANT = "83"


def headers(*roles: str, **claims: str) -> dict[str, str]:
    token = issue_dev_token(SECRET, f"user-{'-'.join(roles)}", roles, TENANT, **claims)
    return {"Authorization": f"Bearer {token}"}


ADMIN = headers("province-admin")
VIEWER = headers("viewer")


@pytest.fixture
async def runtime(database_url: str) -> AsyncIterator[ServiceRuntime]:
    settings = ServiceSettings.from_env(
        "outreach", database_url=database_url, auth_jwt_secret=SECRET, run_consumers=False
    )
    rt = bootstrap(settings)
    await rt.migrate()
    yield rt
    await rt.dispose()


@pytest.fixture
async def client(runtime: ServiceRuntime) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(runtime)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://outreach") as c:
        yield c


async def registered(runtime: ServiceRuntime, name: str) -> str:
    """An enterprise as the registry's `enterprise-registered` event puts it into outreach's replica."""
    enterprise_id = str(uuid.uuid4())
    event = EnterpriseRegistered(
        occurred_on=datetime(2024, 1, 10, tzinfo=UTC).date(),
        enterprise_id=enterprise_id,
        tax_code=str(uuid.uuid4().int)[:10],
        name=name,
        sector="food",
    )
    envelope = Envelope.wrap(
        event,
        source="/metrology/registry",
        stream_id=f"enterprise-{enterprise_id}",
        stream_version=1,
        context=EventContext(tenant=TENANT),
    )
    async with runtime.sessions() as session, session.begin():
        await RegistryReplica().apply(session, envelope, event)
    return enterprise_id


async def created(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(path, json=body, headers=ADMIN)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def enrol(client: httpx.AsyncClient, enterprise_id: str, on: str = "2025-02-01") -> str:
    body = {"enterprise_id": enterprise_id, "enrolled_on": on, "consent": True, "contact_name": "Nguyễn Văn An"}
    return str((await created(client, "/participations", body))["id"])


async def status_of(client: httpx.AsyncClient, participation_id: str) -> str:
    response = await client.get(f"/participations/{participation_id}", headers=VIEWER)
    assert response.status_code == 200, response.text
    return str(response.json()["status"])


def refused(response: httpx.Response, status: int, rule: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert rule in response.text


ASSESSMENT = {
    "assessed_on": "2025-03-05",
    "assessor": "Chi cục TĐC Bến Tre",
    "areas": [
        {"area": "instruments-and-standards", "rating": 2, "notes": "3 of 12 scales overdue"},
        {"area": "staff", "rating": 3},
    ],
}
PLAN = {
    "approved_on": "2025-04-01",
    "approved_by": "Trần Thị Bích, Giám đốc",
    "objectives": [{"objective": "All Group 2 scales verified on time", "due_on": "2025-12-31"}],
    "budget_vnd": 45_000_000,
}
SUPPORT = {"delivered_on": "2025-05-12", "kind": "consultation visit", "description": "Set up the register"}
EVALUATION = {"evaluated_on": "2025-12-15", "year": 2025, "objectives_met": 1, "findings": "Verified on time"}
COMPLETION = {"completed_on": "2026-01-20", "summary": "Objectives met"}


async def test_a_participation_goes_through_assessment_plan_support_evaluation_and_completion(runtime, client):
    participation = await enrol(client, await registered(runtime, "Công ty Thực phẩm Bến Tre"))
    steps = [
        ("assessment", ASSESSMENT, "assessed"),
        ("plan", PLAN, "planned"),
        ("support", SUPPORT, "planned"),
        ("evaluations", EVALUATION, "planned"),
        ("completion", COMPLETION, "completed"),
    ]
    versions = []
    for step, body, status in steps:
        versions.append((await created(client, f"/participations/{participation}/{step}", body))["stream_version"])
        assert await status_of(client, participation) == status, step
    assert versions == [2, 3, 4, 5, 6]

    async with runtime.sessions() as session:
        types = (
            await session.execute(
                sa.select(events_table.c.type)
                .where(events_table.c.stream_id == f"participation-{participation}")
                .order_by(events_table.c.stream_version)
            )
        ).scalars()
        names = [t.split(".")[3] for t in types]
    assert names == [
        "enterprise-enrolled",
        "current-state-assessed",
        "plan-approved",
        "support-delivered",
        "annual-evaluation-recorded",
        "participation-completed",
    ]
    completed = await client.get("/participations", params={"status": "completed"}, headers=VIEWER)
    assert [p["participation_id"] for p in completed.json()["items"]] == [participation]


async def test_the_steps_out_of_order_are_refused_as_problems_naming_the_rule(runtime, client):
    participation = await enrol(client, await registered(runtime, "Công ty Nước sạch"))

    refused(
        await client.post(f"/participations/{participation}/plan", json=PLAN, headers=ADMIN),
        422,
        "plan-before-assessment",
    )
    refused(
        await client.post(f"/participations/{participation}/support", json=SUPPORT, headers=ADMIN), 422, "plan-required"
    )
    await created(client, f"/participations/{participation}/assessment", ASSESSMENT)
    await created(client, f"/participations/{participation}/plan", PLAN)
    early = await client.post(f"/participations/{participation}/completion", json=COMPLETION, headers=ADMIN)
    refused(early, 422, "completion-before-evaluation")
    await created(client, f"/participations/{participation}/evaluations", EVALUATION)
    again = await client.post(f"/participations/{participation}/evaluations", json=EVALUATION, headers=ADMIN)
    refused(again, 409, "evaluation-recorded")
    assert await status_of(client, participation) == "planned"


async def test_nothing_is_recorded_after_a_withdrawal_and_only_an_admin_records_steps(runtime, client):
    participation = await enrol(client, await registered(runtime, "Công ty Xăng dầu"))
    await created(client, f"/participations/{participation}/withdrawal", {"withdrawn_on": "2025-03-01"})
    assert await status_of(client, participation) == "withdrawn"

    late = await client.post(f"/participations/{participation}/assessment", json=ASSESSMENT, headers=ADMIN)
    refused(late, 422, "participation-closed")
    viewer = await client.post(f"/participations/{participation}/assessment", json=ASSESSMENT, headers=VIEWER)
    assert viewer.status_code == 403


async def test_an_enterprise_unknown_to_the_replica_cannot_enrol(client):
    body = {"enterprise_id": str(uuid.uuid4()), "enrolled_on": "2025-02-01", "consent": True, "contact_name": "An"}
    response = await client.post("/participations", json=body, headers=ADMIN)
    assert response.status_code in (404, 422), response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"][0]["field"] == "enterprise_id"


async def test_campaigns_are_listed_by_period_with_their_reach(runtime, client):
    reached = [await registered(runtime, f"Công ty {i}") for i in range(3)]
    held = [
        ("2025-03-15", "Ngày đo lường thế giới 20/5", 35, reached[:2]),
        ("2025-09-10", "Hội thảo cân đúng, đong đủ", 20, reached[2:]),
        ("2026-02-01", "Tập huấn đầu năm", 12, []),
    ]
    for held_on, title, count, ids in held:
        body = {
            "held_on": held_on,
            "title": title,
            "audience": "enterprises of the Giao Long industrial park",
            "channel": "seminar",
            "enterprises_reached": count,
            "enterprise_ids": ids,
            "people_reached": count * 2,
        }
        await created(client, "/campaigns", body)

    year = await client.get("/campaigns", params={"from": "2025-01-01", "to": "2025-12-31"}, headers=VIEWER)
    assert year.status_code == 200, year.text
    page = year.json()
    assert (page["total"], page["enterprises_reached"]) == (2, 55)
    assert [c["title"] for c in page["items"]] == ["Ngày đo lường thế giới 20/5", "Hội thảo cân đúng, đong đủ"]
    assert sorted(page["items"][0]["enterprise_ids"]) == sorted(reached[:2])
    assert page["items"][0]["people_reached"] == 70

    everything = (await client.get("/campaigns", params={"limit": 2}, headers=VIEWER)).json()
    assert (everything["total"], everything["enterprises_reached"], len(everything["items"])) == (3, 67, 2)
    second = (await client.get("/campaigns", params={"limit": 2, "offset": 2}, headers=VIEWER)).json()
    assert [c["title"] for c in second["items"]] == ["Tập huấn đầu năm"]


async def test_a_campaign_with_a_negative_reach_is_refused_naming_the_field(client):
    body = {"held_on": "2025-03-15", "title": "Hội thảo", "audience": "all", "channel": "seminar"}
    response = await client.post("/campaigns", json=body | {"enterprises_reached": -1}, headers=ADMIN)
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["body.enterprises_reached"]
