"""The plan's tasks over HTTP (progress recorded as events, the task view read back) and the yearly report to the
ministry as XLSX and PDF, in Vietnamese and English, over the scripted year folded by the real projector."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import date

import httpx
import openpyxl
import pytest
import scripted_year
import sqlalchemy as sa
from pypdf import PdfReader
from scripted_year import FakeRecord, NoDeadLetters

from metrology.eventkit.projector import ProjectorRunner
from metrology.eventkit.store import events_table
from metrology.reporting.bootstrap import bootstrap
from metrology.reporting.settings import ReportingSettings
from metrology.servicekit.app import create_app
from metrology.servicekit.auth import issue_dev_token
from metrology.servicekit.runtime import ServiceRuntime

pytestmark = [pytest.mark.integration]

PLAN = "ben-tre-996-2021"


@pytest.fixture
async def runtime(database_url: str) -> AsyncIterator[ServiceRuntime]:
    settings = ReportingSettings(
        service_name="reporting", database_url=database_url, evaluation_date=date(2025, 12, 31)
    )
    rt = bootstrap(settings, evaluate=False)
    await rt.migrate()
    runner = ProjectorRunner(rt.sessions, rt.subscriptions[0].projection, NoDeadLetters())
    await runner.handle([FakeRecord(e.to_json()) for e in scripted_year.build().envelopes()])
    yield rt
    await rt.dispose()


@pytest.fixture
async def client(runtime: ServiceRuntime) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(runtime)), base_url="http://r") as c:
        yield c


def admin(runtime: ServiceRuntime) -> dict[str, str]:
    token = issue_dev_token(runtime.settings.auth_jwt_secret, "tester", ["province-admin"], "83")
    return {"Authorization": f"Bearer {token}"}


async def record(client: httpx.AsyncClient, runtime: ServiceRuntime, task: str, **body: object) -> httpx.Response:
    return await client.post(f"/plans/{PLAN}/tasks/{task}/progress", json=body, headers=admin(runtime))


async def record_the_year(client: httpx.AsyncClient, runtime: ServiceRuntime) -> None:
    answers = [
        await record(
            client, runtime, "state-inspection", on="2024-11-05", done="Kiểm tra 12 chợ", status="in-progress",
            activity_id="markets", budget_spent=40,
        ),
        await record(
            client, runtime, "state-inspection", on="2025-05-20", done="Kiểm tra 42 cột đo xăng dầu",
            status="done", activity_id="fuel-stations", budget_spent=35.5,
            evidence=[{"title": "Biên bản kiểm tra số 07/BB-KT", "url": "https://docs.example.vn/bb-07.pdf"}],
        ),
        await record(
            client, runtime, "communication", on="2025-09-01", done="Hội thảo đo lường cho doanh nghiệp",
            status="in-progress", activity_id="workshops", budget_spent=12,
        ),
    ]  # fmt: skip
    assert [answer.status_code for answer in answers] == [201, 201, 201], [a.text for a in answers]


async def test_progress_is_recorded_as_an_event_and_folded_into_the_task_view(runtime, client):
    await record_the_year(client, runtime)

    answer = await client.get(f"/plans/{PLAN}/tasks", params={"as_of": "2025-12-31"})

    assert answer.status_code == 200, answer.text
    tasks = {task["id"]: task for task in answer.json()["tasks"]}
    inspection = tasks["state-inspection"]
    assert inspection["status"] == "done"
    assert inspection["budget"] == {"planned": 500, "spent": 75.5, "spent_share": 0.151}
    assert [a["id"] for a in inspection["activities"] if a["done"]] == ["fuel-stations", "markets"]
    assert inspection["evidence"] == [
        {"title": "Biên bản kiểm tra số 07/BB-KT", "url": "https://docs.example.vn/bb-07.pdf"}
    ]
    assert tasks["research"]["status"] == "not-started"
    async with runtime.engine.connect() as connection:
        streams = (await connection.execute(sa.select(events_table.c.stream_id, events_table.c.type))).all()
    assert sorted(set(streams)) == [
        (f"task-{PLAN}-communication", "vn.metrology.reporting.task-progress-recorded.v1"),
        (f"task-{PLAN}-state-inspection", "vn.metrology.reporting.task-progress-recorded.v1"),
    ]
    earlier = (await client.get(f"/plans/{PLAN}/tasks", params={"as_of": "2025-01-01"})).json()
    assert {t["id"]: t["status"] for t in earlier["tasks"]}["state-inspection"] == "in-progress"


async def test_progress_on_an_unknown_task_or_activity_or_without_a_province_admin_is_refused(runtime, client):
    unknown = await record(client, runtime, "no-such-task", on="2025-01-02", done="work", status="done")
    activity = await record(
        client, runtime, "research", on="2025-01-02", done="work", status="done", activity_id="fuel-stations"
    )
    bad = await record(client, runtime, "research", on="2025-01-02", done="", status="finished", budget_spent=-1)
    anonymous = await client.post(
        f"/plans/{PLAN}/tasks/research/progress", json={"on": "2025-01-02", "done": "work", "status": "done"}
    )

    assert unknown.status_code == 404 and unknown.json()["rule"] == "task-unknown"
    assert activity.status_code == 422 and activity.json()["rule"] == "activity-unknown"
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"body.done", "body.status", "body.budget_spent"}
    assert anonymous.status_code == 401


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


async def test_the_yearly_pdf_in_vietnamese_names_targets_with_values_and_tasks_with_what_was_done(runtime, client):
    await record_the_year(client, runtime)

    answer = await client.get(f"/plans/{PLAN}/reports/2025.pdf")

    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/pdf"
    text = " ".join(pdf_text(answer.content).split())
    want = scripted_year.expected(date(2025, 12, 31))
    assert "Báo cáo kết quả thực hiện năm 2025" in text
    assert "Lượt doanh nghiệp được hỗ trợ áp dụng Chương trình đảm bảo đo lường" in text
    assert f"{want.enterprise_times:g}" in text and f"{want.person_times:g}" in text
    assert "Kiểm tra nhà nước về đo lường" in text and "Thông tin, tuyên truyền về đo lường" in text
    assert "Kiểm tra 42 cột đo xăng dầu" in text and "Kiểm tra 12 chợ" not in text, "only the year's work"
    assert "Biên bản kiểm tra số 07/BB-KT" in text
    assert "Hoàn thành" in text and "Chưa bắt đầu" in text


async def test_the_yearly_pdf_in_english_uses_the_english_titles(runtime, client):
    answer = await client.get(f"/plans/{PLAN}/reports/2025.pdf", params={"lang": "en"})

    text = " ".join(pdf_text(answer.content).split())
    assert "Yearly report 2025" in text
    assert "Enterprise-times reached by the Measurement Assurance Programme" in text
    assert "State metrological inspection" in text and "Nothing recorded in the year" in text


async def test_the_yearly_xlsx_has_a_sheet_of_targets_and_a_sheet_of_tasks_with_the_budget(runtime, client):
    await record_the_year(client, runtime)

    answer = await client.get(f"/plans/{PLAN}/reports/2025.xlsx")

    assert answer.status_code == 200, answer.text
    book = openpyxl.load_workbook(io.BytesIO(answer.content))
    assert book.sheetnames == ["Chỉ tiêu", "Nhiệm vụ"]
    targets = {row[0]: row for row in book["Chỉ tiêu"].iter_rows(min_row=5, values_only=True)}
    want = scripted_year.expected(date(2025, 12, 31))
    reached = targets["Lượt doanh nghiệp được hỗ trợ áp dụng Chương trình đảm bảo đo lường"]
    assert reached[3] == f"{want.enterprise_times:g}"
    tasks = {row[0]: row for row in book["Nhiệm vụ"].iter_rows(min_row=3, values_only=True)}
    inspection = tasks["Kiểm tra nhà nước về đo lường"]
    assert inspection[2] == "Hoàn thành"
    assert "2025-05-20 — Kiểm tra cây xăng dầu: Kiểm tra 42 cột đo xăng dầu" in inspection[3]
    assert inspection[4:7] == ("500", "35.5", "75.5")


async def test_a_report_for_an_unknown_plan_or_format_is_not_found(client):
    assert (await client.get("/plans/nowhere/reports/2025.pdf")).status_code == 404
    assert (await client.get(f"/plans/{PLAN}/reports/2025.docx")).status_code == 422
