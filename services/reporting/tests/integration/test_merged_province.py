"""The merged Vĩnh Long province (86, from 2025-07-01): its plan rolls up the former Bến Tre plan's facts (tenant
83) with its own, and the national view shows every KPI by former province and by the province it is part of."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import httpx
import pytest
import scripted_year
from scripted_year import FakeRecord, NoDeadLetters

from metrology.eventkit.projector import ProjectorRunner
from metrology.reporting.application import kpis
from metrology.reporting.application.progress import scopes_of
from metrology.reporting.bootstrap import bootstrap
from metrology.reporting.settings import ReportingSettings
from metrology.servicekit.app import create_app
from metrology.servicekit.runtime import ServiceRuntime

MERGED = "vinh-long-2030"
AS_OF = {"as_of": "2026-06-30"}


def merged_province_script() -> scripted_year.Script:
    """2026 under the merged province's own tenant: three trainees; two pumps due at once, one verified locally."""
    s = scripted_year.Script()
    for trainee in ("v1", "v2", "v3"):
        s.add("training", "trainee-completed", "course-v", "2026-03-01", course_id="v", trainee_id=trainee, passed=True)
    for pump in ("v-pump-1", "v-pump-2"):
        s.add(
            "registry",
            "instrument-registered",
            f"instrument-{pump}",
            "2026-03-01",
            instrument_id=pump,
            type_code="2.6",
            serial=pump,
            manufacturer="m",
            owner_enterprise_id="v-e1",
            province_code="86",
            commune_code="29000",
        )
    s.add(
        "verification",
        "work-recorded",
        "job-v-1",
        "2026-03-10",
        job_id="v-1",
        kind="verification",
        mode="initial",
        subject="instrument",
        subject_id="v-pump-1",
        type_code="2.6",
        owner_enterprise_id="v-e1",
        provider_id="v-provider",
        provider_province_code="86",
        verifier_id="v1",
        result="pass",
    )
    return s


async def fold(runtime: ServiceRuntime, script: scripted_year.Script, tenant: str) -> None:
    runner = ProjectorRunner(runtime.sessions, runtime.subscriptions[0].projection, NoDeadLetters())
    now = datetime.now(UTC)
    envelopes = [e._replace(tenant=tenant, time=now) for e in script.envelopes()]
    await runner.handle([FakeRecord(e.to_json()) for e in envelopes])


@pytest.fixture
async def runtime(database_url: str) -> AsyncIterator[ServiceRuntime]:
    settings = ReportingSettings(
        service_name="reporting", database_url=database_url, plan_files="ben-tre-2021.yaml,vinh-long.yaml"
    )
    rt = bootstrap(settings, evaluate=False)
    await rt.migrate()
    await fold(rt, scripted_year.build(), "83")
    await fold(rt, merged_province_script(), "86")
    yield rt
    await rt.dispose()


@pytest.fixture
async def client(runtime: ServiceRuntime) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(runtime)), base_url="http://r") as c:
        yield c


def by_id(response: httpx.Response) -> dict[str, dict]:
    assert response.status_code == 200, response.text
    return {t["id"]: t for t in response.json()["targets"]}


async def test_the_merged_plan_adds_up_the_former_provinces_counts(client):
    targets = by_id(await client.get(f"/plans/{MERGED}/progress", params={**AS_OF, "tenant": "86"}))
    trained = targets["person-times-trained-2030"]

    assert trained["value"] == 15 + 3
    assert {row["key"]: row["value"] for row in trained["breakdowns"]["province"]} == {"86": 3, "83": 15}
    assert trained["series"][-1] == {"date": "2026-06-30", "value": 18.0}


async def test_the_merged_plans_share_is_recomputed_from_the_former_provinces_met_and_demand(runtime, client):
    targets = by_id(await client.get(f"/plans/{MERGED}/progress", params={**AS_OF, "tenant": "86"}))
    coverage = targets["demand-coverage-2030"]
    plan = next(p for p in runtime.plans if p.id == MERGED)
    target = plan.target("demand-coverage-2030")
    async with runtime.engine.connect() as connection:
        parts = [await kpis.read(connection, target.metric, s, date(2026, 6, 30)) for s in scopes_of(plan, target)]

    demand, met = (sum(p.details[k] for p in parts) for k in ("demand", "met"))
    assert (coverage["details"]["demand"], coverage["details"]["met"]) == (demand, met)
    assert coverage["value"] == pytest.approx(met / demand)
    assert coverage["value"] != pytest.approx(sum(p.value for p in parts) / len(parts)), "not an average of shares"
    assert (parts[0].details["demand"], parts[0].details["met"]) == (2, 1), "the merged province's own pumps"


async def test_the_former_plan_still_counts_only_its_own_province(client):
    targets = by_id(await client.get("/plans/ben-tre-996-2021/progress", params={**AS_OF, "tenant": "83"}))
    assert targets["person-times-trained-2030"]["value"] == 15


async def test_the_national_view_shows_each_kpi_by_former_province_and_by_the_province_now(client):
    response = await client.get("/national", params=AS_OF)
    assert response.status_code == 200, response.text
    body = response.json()
    trained = next(k for k in body["kpis"] if k["metric"] == "person-times-trained")

    assert body["tenants"] == ["83", "86"]
    assert trained["value"] == 18
    former = {p["province_code"]: (p["value"], p["part_of"]) for p in trained["by_former_province"]}
    assert former == {"83": (15, "86"), "86": (3, "86")}
    [now] = trained["by_province"]
    assert (now["province_code"], now["name"], now["value"], now["former"]) == (
        "86",
        "Tỉnh Vĩnh Long",
        18,
        ["83", "86"],
    )


async def test_before_the_merger_the_national_view_keeps_the_provinces_apart(client):
    body = (await client.get("/national", params={"as_of": "2025-06-30"})).json()
    trained = next(k for k in body["kpis"] if k["metric"] == "person-times-trained")
    assert {p["province_code"]: p["value"] for p in trained["by_province"]} == {"83": 10, "86": 0}


async def test_a_cached_rolled_up_answer_is_computed_again_when_only_a_former_province_gets_new_facts(runtime, client):
    params = {**AS_OF, "tenant": "86"}
    before = by_id(await client.get(f"/plans/{MERGED}/progress", params=params))["person-times-trained-2030"]
    late = scripted_year.Script()
    late.add("training", "trainee-completed", "course-c9", "2026-04-01", course_id="c9", trainee_id="t99", passed=True)
    await fold(runtime, late, "83")

    after = by_id(await client.get(f"/plans/{MERGED}/progress", params=params))["person-times-trained-2030"]

    assert (before["value"], after["value"]) == (18, 19)
