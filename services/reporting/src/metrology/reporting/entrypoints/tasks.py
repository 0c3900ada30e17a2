"""HTTP API for the plan's tasks and the yearly report: record progress, read the tasks, download the report."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, HttpUrl

from metrology.eventkit.unit_of_work import UnitOfWork
from metrology.reporting.adapters import report_files
from metrology.reporting.application import tasks
from metrology.reporting.application.yearly_report import Language, yearly_report
from metrology.reporting.domain.tasks import Evidence, TaskStatus, TaskView
from metrology.reporting.entrypoints.access import ReaderTenant, plan_named
from metrology.reporting.entrypoints.http import KnownAt, parse_known_at
from metrology.servicekit.auth import Principal, Role, require
from metrology.servicekit.commands import Commands
from metrology.servicekit.validation import Day, Finite

router = APIRouter(tags=["tasks"])
Admin = Annotated[Principal, Depends(require(Role.PROVINCE_ADMIN))]


class EvidenceIn(BaseModel):
    title: str = Field(min_length=1, max_length=300, examples=["Quyết định số 123/QĐ-SKHCN"])
    url: HttpUrl = Field(examples=["https://docs.example.vn/qd-123.pdf"])


class ProgressIn(BaseModel):
    on: Day = Field(examples=["2025-06-30"], description="the date of the work")
    done: str = Field(min_length=3, max_length=2000, examples=["Kiểm tra 42 cột đo xăng dầu tại 12 cửa hàng"])
    status: TaskStatus = Field(examples=["in-progress"], description="the status the task is in after this work")
    activity_id: str | None = Field(None, max_length=100, examples=["fuel-stations"])
    budget_spent: Finite = Field(0, ge=0, le=1e9, description="million VND spent by this work", examples=[35.5])
    evidence: list[EvidenceIn] = Field(default_factory=list, max_length=50)

    def command(self) -> tasks.RecordProgress:
        return tasks.RecordProgress(
            on=self.on,
            done=self.done,
            status=self.status,
            budget_spent=self.budget_spent,
            activity_id=self.activity_id,
            evidence=tuple(Evidence(e.title, str(e.url)) for e in self.evidence),
        )


def task_out(view: TaskView, lang: str = "vi") -> dict[str, Any]:
    task = view.task
    return {
        "id": task.id,
        "title": task.title.model_dump(),
        "responsible_unit": task.responsible_unit.model_dump(),
        "activities": [
            {"id": a.id, "title": a.title.model_dump(), "done": a.id in view.activities_done} for a in task.activities
        ],
        "years": task.years,
        "status": view.status.value,
        "budget": {"planned": task.budget_planned, "spent": view.budget_spent, "spent_share": view.budget_share},
        "progress": [
            {
                "progress_id": p.progress_id,
                "on": p.on,
                "activity_id": p.activity_id,
                "done": p.done,
                "status": p.status.value,
                "budget_spent": p.budget_spent,
                "evidence": [{"title": e.title, "url": e.url} for e in p.evidence],
            }
            for p in view.progress
        ],
        "evidence": [{"title": e.title, "url": e.url} for e in view.evidence],
    }


@router.post(
    "/plans/{plan_id}/tasks/{task_id}/progress",
    status_code=201,
    summary="Record progress on one of the plan's tasks (an event `task-progress-recorded`, then the task view)",
    responses={404: {"description": "no such plan or task"}, 422: {"description": "a rule is violated"}},
)
async def record_progress(
    plan_id: str, task_id: str, body: ProgressIn, commands: Commands, principal: Admin, request: Request
) -> JSONResponse:
    plan = plan_named(request, plan_id, principal.tenant)
    command = body.command()

    async def handle(uow: UnitOfWork) -> dict[str, Any]:
        event = await tasks.record_progress(uow, plan, task_id, command, date.today())
        return event.model_dump(mode="json") | {"type": event.type_name()}

    return await commands.run(handle)


@router.get(
    "/plans/{plan_id}/tasks", summary="The plan's tasks as of a date: status, activities done, budget, evidence"
)
async def list_tasks(plan_id: str, request: Request, tenant: ReaderTenant, as_of: Day | None = None) -> dict[str, Any]:
    plan = plan_named(request, plan_id, tenant)
    day = as_of or date.today()
    async with request.app.state.runtime.engine.connect() as connection:
        views = await tasks.task_views(connection, plan, day)
    return {"plan_id": plan.id, "as_of": day, "tasks": [task_out(view) for view in views]}


@router.get(
    "/plans/{plan_id}/reports/{year}.{fmt}",
    summary="The yearly report to the ministry: targets with value and status at the year's end, tasks with what "
    "was done and the budget (XLSX or PDF; Vietnamese or English)",
    response_class=Response,
    responses={200: {"content": {report_files.XLSX: {}, report_files.PDF: {}}}},
)
async def yearly_report_file(
    plan_id: str,
    year: Annotated[int, Path(ge=2000, le=2100)],
    fmt: Literal["xlsx", "pdf"],
    request: Request,
    tenant: ReaderTenant,
    lang: Annotated[Language, Query(description="vi (default) or en")] = Language.VI,
    known_at: KnownAt = None,
) -> Response:
    plan = plan_named(request, plan_id, tenant)
    known = parse_known_at(known_at)
    async with request.app.state.runtime.engine.connect() as connection:
        report = await yearly_report(connection, plan, year, known)
    if fmt == "pdf":
        content, media_type = report_files.render_pdf(report, lang), report_files.PDF
    else:
        content, media_type = report_files.render_xlsx(report, lang), report_files.XLSX
    suffix = f"-known-{known.strftime('%Y%m%dT%H%M%SZ')}" if known else ""
    filename = f"{plan.id}-{year}-{lang.value}{suffix}.{fmt}"
    return Response(
        content, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )
