"""One definition per KPI, "not started" before a target's window, the forecast note in each language."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import httpx
import pytest
import scripted_year
from scripted_year import FakeRecord

from metrology.eventkit.projector import ProjectorRunner
from metrology.reporting.bootstrap import bootstrap
from metrology.reporting.domain.forecast import METHOD_TEXT
from metrology.reporting.settings import ReportingSettings
from metrology.servicekit.app import create_app
from metrology.servicekit.runtime import ServiceRuntime

# The scripted year folded by the real projector into SQLite and PostgreSQL, read over HTTP.
PLAN = "ben-tre-996-2021"


class NoDeadLetters:
    def __init__(self) -> None:
        self.letters: list[object] = []

    async def send(self, letters: list[object]) -> None:
        self.letters += letters


@pytest.fixture
async def runtime(database_url: str) -> AsyncIterator[ServiceRuntime]:
    settings = ReportingSettings(
        service_name="reporting", database_url=database_url, evaluation_date=date(2025, 12, 31)
    )
    rt = bootstrap(settings)
    await rt.migrate()
    yield rt
    await rt.dispose()


async def fold(runtime: ServiceRuntime, batch: int = 25) -> NoDeadLetters:
    sink = NoDeadLetters()
    runner = ProjectorRunner(runtime.sessions, runtime.subscriptions[0].projection, sink)
    records = [FakeRecord(e.to_json()) for e in scripted_year.build().envelopes()]
    for i in range(0, len(records), batch):
        await runner.handle(records[i : i + batch])
    return sink


@pytest.fixture
async def client(runtime: ServiceRuntime) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(runtime)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://reporting") as c:
        yield c


def by_id(progress: dict) -> dict[str, dict]:
    return {t["id"]: t for t in progress["targets"]}


async def test_the_accredited_labs_kpi_counts_what_the_plans_target_counts_on_the_same_date(runtime, client):
    await fold(runtime)
    for as_of in ("2025-06-30", "2025-12-31"):
        kpi = (await client.get("/kpis/accredited-labs", params={"as_of": as_of})).json()
        progress = (await client.get(f"/plans/{PLAN}/progress", params={"as_of": as_of})).json()
        target = by_id(progress)["accredited-labs-2030"]
        assert kpi["value"] == target["value"]
        assert kpi["defined_by"] == "accredited-labs-2030"
    labs = {row["key"] for row in kpi["breakdowns"]["laboratory"]}
    assert "l3" not in labs, "l3 lies outside the city the target names"
    assert kpi["value"] == scripted_year.expected(date(2025, 12, 31)).labs


async def test_the_kpi_series_uses_the_same_definition_as_the_kpi(runtime, client):
    await fold(runtime)
    series = (
        await client.get("/kpis/accredited-labs/series", params={"from": "2025-01-01", "as_of": "2025-12-31"})
    ).json()
    kpi = (await client.get("/kpis/accredited-labs", params={"as_of": "2025-12-31"})).json()
    assert series["defined_by"] == "accredited-labs-2030"
    assert series["points"][-1]["value"] == kpi["value"]


async def test_a_2030_target_before_its_window_is_not_started_and_has_no_forecast(runtime, client):
    await fold(runtime)
    progress = (await client.get(f"/plans/{PLAN}/progress", params={"as_of": "2025-12-31"})).json()
    later = by_id(progress)["demand-coverage-2030"]
    assert (later["status"], later["forecast"], later["series"]) == ("not-started", None, [])
    opened = (await client.get(f"/plans/{PLAN}/targets/demand-coverage-2030", params={"as_of": "2026-03-31"})).json()
    assert opened["status"] != "not-started"


async def test_the_forecast_method_comes_in_vietnamese_and_english(runtime, client):
    await fold(runtime)
    target = (await client.get(f"/plans/{PLAN}/targets/enterprise-times-2025", params={"as_of": "2025-12-31"})).json()
    text = target["forecast"]["method_text"]
    assert text == METHOD_TEXT
    assert text["vi"].startswith("xu hướng tuyến tính") and text["en"] == target["forecast"]["method"]


def test_the_dashboard_labels_not_started_and_shows_the_method_in_the_page_language():
    from importlib import resources

    script = resources.files("metrology.reporting").joinpath("static/app.js").read_text()
    assert '"not-started": "Chưa bắt đầu"' in script and '"not-started": "Not started"' in script
    assert "method_text || {})[lang]" in script


async def scheduled(runtime: ServiceRuntime, *courses: tuple[str, str | None]) -> None:
    """Training's course-scheduled for each (course, field), folded as the projector folds it."""
    runner = ProjectorRunner(runtime.sessions, runtime.subscriptions[0].projection, NoDeadLetters())
    facts = [
        scripted_year.Fact(
            "training",
            "course-scheduled",
            f"course-{course}",
            {
                "occurred_on": "2025-03-01",
                "course_id": course,
                "title": f"Khóa {course}",
                "topic": "Kiểm định cân" if field == "mass" else "Đo lường chung",
                "field": field,
                "organiser": "Chi cục TĐC",
                "starts_on": "2025-03-10",
                "ends_on": "2025-03-20",
            },
        )
        for course, field in courses
    ]
    await runner.handle([FakeRecord(fact.envelope().to_json()) for fact in facts])


async def test_person_times_are_broken_down_by_the_courses_field_of_training(runtime, client):
    await scheduled(runtime, ("c1", "mass"), ("c2", "volume"))
    await fold(runtime)

    kpi = (await client.get("/kpis/person-times-trained", params={"as_of": "2025-12-31"})).json()

    assert kpi["value"] == 15
    assert {row["key"]: row["value"] for row in kpi["breakdowns"]["field"]} == {"mass": 10, "volume": 5}
    march = (await client.get("/kpis/person-times-trained", params={"as_of": "2025-06-30"})).json()
    assert {row["key"]: row["value"] for row in march["breakdowns"]["field"]} == {"mass": 10}


async def test_a_completion_of_a_course_not_yet_known_counts_under_no_field(runtime, client):
    await scheduled(runtime, ("c1", "mass"))
    await fold(runtime)
    kpi = (await client.get("/kpis/person-times-trained", params={"as_of": "2025-12-31"})).json()
    assert {row["key"]: row["value"] for row in kpi["breakdowns"]["field"]} == {"mass": 10, None: 5}
    assert sum(row["value"] for row in kpi["breakdowns"]["field"]) == kpi["value"]
