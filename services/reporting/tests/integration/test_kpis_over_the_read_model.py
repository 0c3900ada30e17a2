"""The scripted year folded by the real projector into SQLite and PostgreSQL, read back through the HTTP API."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import httpx
import openpyxl
import pytest
import scripted_year
import sqlalchemy as sa
from scripted_year import FakeRecord

from metrology.eventkit.projector import ProjectorRunner
from metrology.eventkit.store import events_table
from metrology.reporting.bootstrap import bootstrap
from metrology.reporting.settings import ReportingSettings
from metrology.servicekit.app import create_app
from metrology.servicekit.runtime import ServiceRuntime

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


@pytest.mark.parametrize("as_of", [date(2025, 6, 30), date(2025, 12, 31)])
async def test_every_target_matches_the_numbers_worked_out_by_hand(runtime, client, as_of):
    await fold(runtime)
    want = scripted_year.expected(as_of)
    response = await client.get(f"/plans/{PLAN}/progress", params={"as_of": as_of.isoformat()})
    assert response.status_code == 200, response.text
    targets = by_id(response.json())
    assert targets["person-times-trained-2025"]["value"] == want.person_times
    assert targets["person-times-trained-2025"]["details"]["unique_people"] == want.unique_people
    assert targets["enterprise-times-2025"]["value"] == want.enterprise_times
    assert targets["enterprise-times-2025"]["details"]["unique_enterprises"] == want.unique_enterprises
    assert targets["enterprise-times-2025"]["details"]["channels"] == want.channels
    assert targets["socialised-providers-2025"]["value"] == want.socialised_providers
    assert targets["accredited-labs-2030"]["value"] == want.labs
    coverage = targets["demand-coverage-2025"]
    assert (coverage["details"]["demand"], coverage["details"]["met"]) == (want.demand, want.met)
    assert coverage["value"] == pytest.approx(want.coverage)


async def test_each_kpi_answers_as_of_any_date_with_breakdowns(runtime, client):
    await fold(runtime)
    before = await client.get("/kpis/person-times-trained", params={"as_of": "2025-03-19"})
    after = await client.get("/kpis/person-times-trained", params={"as_of": "2025-03-20"})
    assert (before.json()["value"], after.json()["value"]) == (0, 10)
    reached = (await client.get("/kpis/enterprise-times", params={"as_of": "2025-12-31"})).json()
    assert {row["key"]: row["value"] for row in reached["breakdowns"]["sector"]} == {"food": 10, "fuel": 3, "water": 1}
    coverage = (await client.get("/kpis/demand-coverage", params={"as_of": "2025-12-31", "from": "2025-01-01"})).json()
    by_type = {row["key"]: (row["met"], row["demand"]) for row in coverage["breakdowns"]["instrument_type"]}
    assert by_type == {"2.4": (0, 1), "2.6": (2, 3), "2.7": (0, 1)}
    assert coverage["details"]["designated_share"] == 1.0


METRICS = ["demand-coverage", "socialised-providers", "person-times-trained", "enterprise-times", "accredited-labs"]


@pytest.mark.parametrize("metric", METRICS)
async def test_a_kpi_without_breakdowns_answers_the_same_value_and_details(runtime, client, metric):
    await fold(runtime)
    params = {"as_of": "2025-12-31", "from": "2025-01-01"}
    full = (await client.get(f"/kpis/{metric}", params=params)).json()
    value_only = (await client.get(f"/kpis/{metric}", params=params | {"breakdowns": "false"})).json()

    assert full["breakdowns"] != {}
    assert value_only["breakdowns"] == {}
    assert {k: v for k, v in value_only.items() if k != "breakdowns"} == {
        k: v for k, v in full.items() if k != "breakdowns"
    }


async def test_a_kpi_s_breakdowns_flag_that_is_not_a_boolean_is_a_problem_naming_the_field(runtime, client):
    response = await client.get("/kpis/person-times-trained", params={"breakdowns": "some"})

    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [error["field"] for error in response.json()["errors"]] == ["query.breakdowns"]


async def test_a_fact_delivered_twice_counts_once_and_nothing_is_dead_lettered(runtime, client):
    sink = await fold(runtime)
    await fold(runtime)  # the whole log delivered again under new event ids: same facts, same numbers
    assert sink.letters == []
    response = await client.get("/kpis/person-times-trained", params={"as_of": "2025-12-31"})
    assert response.json()["value"] == 15


async def test_status_changes_are_published_once_per_change(runtime):
    await fold(runtime)
    async with runtime.sessions() as session:
        rows = (await session.execute(sa.select(events_table.c.stream_id, events_table.c.payload))).all()
    streams = [stream for stream, _ in rows]
    assert len(streams) == len(set(streams)) == 8, "one status event per target after the first evaluation"
    assert "target-ben-tre-996-2021-enterprise-times-2025" in streams


async def test_the_monthly_series_and_forecast_come_with_each_target(runtime, client):
    await fold(runtime)
    target = (await client.get(f"/plans/{PLAN}/targets/enterprise-times-2025", params={"as_of": "2025-12-31"})).json()
    december = [p for p in target["series"] if p["date"] == "2025-12-31"]
    assert december == [{"date": "2025-12-31", "value": 14.0}]
    assert target["forecast"]["method"].startswith("least-squares")
    assert target["status"] == "at-risk", "14 of 50 at the deadline"


async def test_metrics_expose_every_target_as_a_labelled_gauge_the_grafana_dashboard_reads(runtime, client):
    await fold(runtime)
    text = (await client.get("/metrics")).text
    line = (
        'metrology_kpi_value{metric="person-times-trained",plan="ben-tre-996-2021",target="person-times-trained-2025"'
    )
    assert f'{line},tenant="83"}} 15.0' in text
    grafana = (Path(__file__).parents[4] / "deploy/grafana/metrology-kpis.json").read_text(encoding="utf-8")
    for name in re.findall(r"metrology_kpi_[a-z_]+", grafana):
        assert f"# TYPE {name} gauge" in text, name


async def test_the_report_exports_as_csv_and_as_xlsx_with_one_sheet_per_target(runtime, client):
    await fold(runtime)
    csv_text = (await client.get(f"/plans/{PLAN}/report.csv", params={"as_of": "2025-12-31"})).content.decode(
        "utf-8-sig"
    )
    rows = list(csv.DictReader(io.StringIO(csv_text)))
    assert {r["target_id"]: float(r["value"]) for r in rows}["enterprise-times-2025"] == 14.0
    response = await client.get(f"/plans/{PLAN}/report.xlsx", params={"as_of": "2025-12-31"})
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["summary", *[r["target_id"] for r in rows]]
    sheet = dict(row for row in book["person-times-trained-2025"].iter_rows(values_only=True, max_col=2) if row[0])
    assert sheet["value"] == 15


@pytest.mark.parametrize("as_of", [date(2025, 6, 30), date(2025, 12, 31)])
async def test_each_target_of_the_progress_page_is_what_the_target_alone_answers(runtime, client, as_of):
    """The page computes once what two targets both ask (the same metric, start and region, both windows ending
    after D) and gives it to both: each target still reads as it does alone."""
    await fold(runtime)
    params = {"as_of": as_of.isoformat()}
    page = by_id((await client.get(f"/plans/{PLAN}/progress", params=params)).json())
    alone = {t: (await client.get(f"/plans/{PLAN}/targets/{t}", params=params)).json() for t in page}

    assert {"person-times-trained-2025", "person-times-trained-2030"} <= set(page)
    assert page == alone
