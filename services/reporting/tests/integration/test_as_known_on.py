"""KPIs "as known on" a recording time: the 2025 report made on 2026-01-10 can be made again, exactly, after
facts dated 2025 are recorded months later, and the changes report lists exactly those late facts."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import httpx
import openpyxl
import pytest
import scripted_year
from scripted_year import FakeRecord, NoDeadLetters

from metrology.eventkit.projector import ProjectorRunner
from metrology.reporting.application.yearly_report import yearly_report
from metrology.reporting.bootstrap import bootstrap
from metrology.reporting.settings import ReportingSettings
from metrology.servicekit.app import create_app
from metrology.servicekit.runtime import ServiceRuntime

PLAN = "ben-tre-996-2021"
ON_TIME = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)  # the year's facts, all recorded before the report
REPORT_MADE = "2026-01-10"  # the yearly report, as sent
LATE = datetime(2026, 4, 20, 9, 30, tzinfo=UTC)  # recorded more than three months after the report
AS_OF = {"as_of": "2025-12-31"}


def late_script() -> scripted_year.Script:
    """Two trainees who passed in November 2025 and a pump registered in September 2025 (due at once, never
    verified), all entered in April 2026."""
    s = scripted_year.Script()
    for trainee in ("t20", "t21"):
        s.add(
            "training", "trainee-completed", "course-c3", "2025-11-15", course_id="c3", trainee_id=trainee, passed=True
        )
    s.add(
        "registry",
        "instrument-registered",
        "instrument-i-late",
        "2025-09-01",
        instrument_id="i-late",
        type_code="2.6",
        serial="i-late",
        manufacturer="m",
        owner_enterprise_id="e6",
        province_code="83",
        commune_code=scripted_year.CITY,
    )
    return s


async def fold(runtime: ServiceRuntime, script: scripted_year.Script, recorded_at: datetime) -> None:
    runner = ProjectorRunner(runtime.sessions, runtime.subscriptions[0].projection, NoDeadLetters())
    envelopes = [e._replace(time=recorded_at) for e in script.envelopes()]
    await runner.handle([FakeRecord(e.to_json()) for e in envelopes])


@pytest.fixture
async def runtime(database_url: str) -> AsyncIterator[ServiceRuntime]:
    settings = ReportingSettings(
        service_name="reporting", database_url=database_url, evaluation_date=date(2025, 12, 31)
    )
    rt = bootstrap(settings, evaluate=False)
    await rt.migrate()
    await fold(rt, scripted_year.build(), ON_TIME)
    yield rt
    await rt.dispose()


@pytest.fixture
async def client(runtime: ServiceRuntime) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(runtime)), base_url="http://r") as c:
        yield c


def targets(progress: httpx.Response) -> dict[str, float]:
    assert progress.status_code == 200, progress.text
    return {t["id"]: t["value"] for t in progress.json()["targets"]}


async def test_late_facts_change_the_kpi_as_known_now_but_not_as_known_on_the_report_date(runtime, client):
    sent = targets(await client.get(f"/plans/{PLAN}/progress", params={**AS_OF, "known_at": REPORT_MADE}))
    await fold(runtime, late_script(), LATE)

    then = targets(await client.get(f"/plans/{PLAN}/progress", params={**AS_OF, "known_at": REPORT_MADE}))
    now = targets(await client.get(f"/plans/{PLAN}/progress", params=AS_OF))

    assert then == sent, "the report as sent is reproduced exactly"
    assert (then["person-times-trained-2025"], now["person-times-trained-2025"]) == (15, 17)
    assert (then["demand-coverage-2025"], now["demand-coverage-2025"]) == (pytest.approx(2 / 5), pytest.approx(2 / 6))


async def test_each_kpi_and_series_takes_a_recording_time_beside_the_business_date(runtime, client):
    await fold(runtime, late_script(), LATE)
    params = {**AS_OF, "known_at": "2026-04-20T09:29:59Z"}
    before = (await client.get("/kpis/person-times-trained", params=params)).json()
    after = await client.get("/kpis/person-times-trained", params={**params, "known_at": "2026-04-20T16:30:00+07:00"})
    assert (before["value"], after.json()["value"]) == (15, 17)
    assert before["known_at"] == "2026-04-20T09:29:59Z"
    series = await client.get(
        "/kpis/person-times-trained/series", params={"from": "2025-10-01", **AS_OF, "known_at": REPORT_MADE}
    )
    assert [p["value"] for p in series.json()["points"]] == [15, 15, 15]


async def test_the_changes_report_lists_exactly_the_late_facts_with_both_dates(runtime, client):
    await fold(runtime, late_script(), LATE)
    response = await client.get("/changes", params={**AS_OF, "since_known_at": REPORT_MADE})
    assert response.status_code == 200, response.text
    facts = {
        (f["kind"], tuple(sorted(f["key"].values())), f["business_date"], f["recorded_at"])
        for f in response.json()["facts"]
    }
    recorded = "2026-04-20T09:30:00Z"
    assert facts == {
        ("training_completions", ("c3", "t20"), "2025-11-15", recorded),
        ("training_completions", ("c3", "t21"), "2025-11-15", recorded),
        ("instruments", ("i-late",), "2025-09-01", recorded),
    }


async def test_the_plan_changes_report_shows_each_target_then_and_now(runtime, client):
    await fold(runtime, late_script(), LATE)
    response = await client.get(f"/plans/{PLAN}/changes", params={**AS_OF, "since_known_at": REPORT_MADE})
    body = response.json()
    moved = {t["id"]: (t["value_then"], t["value_now"]) for t in body["targets"] if t["value_then"] != t["value_now"]}
    assert moved == {
        "person-times-trained-2025": (15, 17),
        "person-times-trained-2030": (15, 17),
        "demand-coverage-2025": (pytest.approx(2 / 5), pytest.approx(2 / 6)),
    }
    assert len(body["facts"]) == 3


async def test_the_export_says_which_recording_time_it_answers_for(runtime, client):
    await fold(runtime, late_script(), LATE)
    response = await client.get(f"/plans/{PLAN}/report.csv", params={**AS_OF, "known_at": REPORT_MADE})
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    by_target = {r["target_id"]: r for r in rows}
    assert float(by_target["person-times-trained-2025"]["value"]) == 15
    assert by_target["person-times-trained-2025"]["known_at"] == "2026-01-10T23:59:59.999999+00:00"
    assert "known-20260110T235959Z" in response.headers["content-disposition"]


async def test_a_recording_time_that_is_not_one_is_refused_naming_the_field(client):
    response = await client.get("/kpis/person-times-trained", params={"known_at": "last tuesday"})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "known_at" in response.text


async def test_the_yearly_report_is_made_again_as_known_on_the_day_it_was_sent(runtime, client):
    await fold(runtime, late_script(), LATE)
    plan = next(p for p in runtime.plans if p.id == PLAN)
    async with runtime.engine.connect() as connection:
        sent = await yearly_report(connection, plan, 2025, datetime(2026, 1, 10, 23, 59, tzinfo=UTC))
        now = await yearly_report(connection, plan, 2025)
    trained = [
        {r.target.id: r.reading.value for r in report.targets}["person-times-trained-2025"] for report in (sent, now)
    ]
    assert trained == [15, 17]

    response = await client.get(f"/plans/{PLAN}/reports/2025.xlsx", params={"known_at": REPORT_MADE})
    assert response.status_code == 200, response.text
    assert "known-20260110T235959Z" in response.headers["content-disposition"]
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    cells = [str(c) for sheet in book for row in sheet.iter_rows(values_only=True) for c in row if c]
    assert any("theo dữ liệu ghi nhận đến 2026-01-10T23:59:59+00:00" in c for c in cells)
