"""HTTP API of the training service: parse, build a command, hand it to the handlers, answer."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncConnection

from metrology.eventkit.errors import NotFoundError
from metrology.eventkit.ids import new_id
from metrology.eventkit.unit_of_work import UnitOfWork
from metrology.servicekit.auth import Authenticated, Principal, Role, require
from metrology.servicekit.commands import Commands
from metrology.servicekit.problems import problem
from metrology.servicekit.validation import Day, Finite, Limit, Offset
from metrology.training.adapters.crypto import PersonalDataCipher
from metrology.training.adapters.views import courses
from metrology.training.application import handlers, importing, queries
from metrology.training.domain.events import CourseScheduled, OrganisationKind
from metrology.training.domain.personal import PersonalData

router = APIRouter()
Trainer = Annotated[Principal, Depends(require(Role.PROVINCE_ADMIN, Role.TRAINER))]
Reader = Annotated[Principal, Depends(require(Role.PROVINCE_ADMIN, Role.TRAINER, Role.VIEWER))]
SEES_PERSONAL_DATA = (Role.PROVINCE_ADMIN, Role.TRAINER)


async def cipher_of(request: Request) -> PersonalDataCipher:
    """The service's cipher, built once (async, so that FastAPI runs it on the event loop, not a worker thread)."""
    state = request.app.state
    if not hasattr(state, "personal_data_cipher"):
        state.personal_data_cipher = PersonalDataCipher.from_settings(state.runtime.settings)
    cipher: PersonalDataCipher = state.personal_data_cipher
    return cipher


Cipher = Annotated[PersonalDataCipher, Depends(cipher_of)]


def personal_view(cipher: PersonalDataCipher, principal: Principal) -> queries.PersonalView:
    return queries.PersonalView(cipher, principal.has_any(SEES_PERSONAL_DATA))


class CourseIn(BaseModel):
    title: str = Field(min_length=3, max_length=300, examples=["Kiểm định công tơ điện xoay chiều"])
    topic: str = Field(min_length=2, max_length=200, examples=["verification of electricity meters"])
    field: str | None = Field(None, max_length=100, examples=["electricity"])
    audience: str | None = Field(None, max_length=200, examples=["verifiers of socialised providers"])
    organiser: str = Field(min_length=2, max_length=200, examples=["Chi cục TĐC Bến Tre"])
    trainer: str | None = Field(None, max_length=200, examples=["Trung tâm Kỹ thuật TĐC 3"])
    starts_on: Day = Field(examples=["2025-04-01"])
    ends_on: Day = Field(examples=["2025-04-03"])
    commune_code: str | None = Field(None, pattern=r"^\d{5}$", examples=["28756"])
    pass_mark: int = Field(50, ge=0, le=100, examples=[50])


class CompletionIn(BaseModel):
    trainee_id: str = Field(min_length=1, max_length=64, examples=["trainee-0042"])
    passed: bool = Field(examples=[True])
    completed_on: Day = Field(examples=["2025-04-03"])
    certificate_number: str | None = Field(None, max_length=64, examples=["ĐT-2025-017"])


class TraineeIn(BaseModel):
    full_name: str = Field(min_length=2, max_length=200, examples=["Lê Thị Hồng"])
    date_of_birth: Day = Field(examples=["1990-05-14"])
    id_number: str = Field(pattern=r"^(\d{9}|\d{12})$", examples=["083190001234"])
    phone: str | None = Field(None, pattern=r"^\+?\d[\d .-]{6,18}$", examples=["0912 345 678"])
    organisation_kind: OrganisationKind = Field(examples=["enterprise"])
    organisation_id: str | None = Field(None, max_length=64, description="The registry's id, where there is one")
    organisation_name: str | None = Field(None, max_length=300, examples=["Công ty CP Cấp thoát nước Bến Tre"])
    registered_on: Day | None = Field(None, examples=["2025-03-20"])


class EnrolmentIn(BaseModel):
    trainee_id: str = Field(min_length=1, max_length=64, examples=["4b1c2f3e-..."])
    enrolled_on: Day | None = Field(None, examples=["2025-03-25"])


class AttendanceIn(BaseModel):
    trainee_id: str = Field(min_length=1, max_length=64, examples=["4b1c2f3e-..."])
    day: Day = Field(examples=["2025-04-02"])
    present: bool = Field(True, examples=[True])


class AssessmentIn(BaseModel):
    trainee_id: str = Field(min_length=1, max_length=64, examples=["4b1c2f3e-..."])
    score: Finite = Field(ge=0, le=100, examples=[82.5])
    assessed_on: Day = Field(examples=["2025-04-03"])


class Accepted(BaseModel):
    id: str
    stream_version: int


def _accepted(id_: str, aggregate: Any) -> Accepted:
    return Accepted(id=id_, stream_version=aggregate.version + len(aggregate.pending))


# -- courses -------------------------------------------------------------------------------------


@router.post("/courses", status_code=201, response_model=Accepted, tags=["courses"], summary="Schedule a course")
async def schedule_course(body: CourseIn, commands: Commands, _: Trainer) -> JSONResponse:
    course_id = new_id()

    async def handle(uow: UnitOfWork) -> Accepted:
        event = CourseScheduled(occurred_on=body.starts_on, course_id=course_id, **body.model_dump())
        return _accepted(course_id, await handlers.schedule_course(uow, event))

    return await commands.run(handle)


@router.get("/courses", tags=["courses"], summary="Courses with their counts (paginated)")
async def list_courses(request: Request, principal: Reader, limit: Limit = 50, offset: Offset = 0) -> dict[str, Any]:
    async with request.app.state.runtime.engine.connect() as connection:
        return await queries.courses_page(connection, principal.tenant, queries.Page(limit, offset))


@router.get("/courses/{course_id}", tags=["courses"], summary="One course with its completion counts")
async def get_course(course_id: str, request: Request, principal: Reader) -> dict[str, object]:
    async with request.app.state.runtime.engine.connect() as connection:
        return await _course(connection, principal.tenant, course_id)


async def _course(connection: AsyncConnection, tenant: str, course_id: str) -> dict[str, object]:
    """A course of the caller's province, or 404 (another province's course is not known here)."""
    query = sa.select(courses).where(courses.c.course_id == course_id, courses.c.tenant == tenant)
    row = (await connection.execute(query)).first()
    if row is None:
        raise NotFoundError(f"no course {course_id}", field="course_id")
    return dict(row._mapping)


@router.post(
    "/courses/{course_id}/trainees",
    status_code=201,
    response_model=Accepted,
    tags=["courses"],
    summary="Enrol a registered trainee in the course",
)
async def enrol(course_id: str, body: EnrolmentIn, commands: Commands, _: Trainer) -> JSONResponse:
    async def handle(uow: UnitOfWork) -> Accepted:
        course = await handlers.enrol_trainee(uow, course_id, body.trainee_id, body.enrolled_on or date.today())
        return _accepted(course_id, course)

    return await commands.run(handle)


@router.post(
    "/courses/{course_id}/attendance",
    status_code=201,
    response_model=Accepted,
    tags=["courses"],
    summary="Record a trainee's attendance on one day of the course",
)
async def attend(course_id: str, body: AttendanceIn, commands: Commands, _: Trainer) -> JSONResponse:
    async def handle(uow: UnitOfWork) -> Accepted:
        course = await handlers.record_attendance(uow, course_id, body.trainee_id, body.day, body.present)
        return _accepted(course_id, course)

    return await commands.run(handle)


@router.post(
    "/courses/{course_id}/assessments",
    status_code=201,
    response_model=Accepted,
    tags=["courses"],
    summary="Record a trainee's assessment score",
)
async def assess(course_id: str, body: AssessmentIn, commands: Commands, _: Trainer) -> JSONResponse:
    async def handle(uow: UnitOfWork) -> Accepted:
        course = await handlers.assess_trainee(uow, course_id, body.trainee_id, body.score, body.assessed_on)
        return _accepted(course_id, course)

    return await commands.run(handle)


@router.post(
    "/courses/{course_id}/completions",
    status_code=201,
    response_model=Accepted,
    tags=["courses"],
    summary="Record that a trainee completed a course (passed trainees are certified and count as one person-time)",
)
async def record_completion(course_id: str, body: CompletionIn, commands: Commands, _: Trainer) -> JSONResponse:
    command = handlers.RecordCompletion(course_id=course_id, **body.model_dump())

    async def handle(uow: UnitOfWork) -> Accepted:
        return _accepted(course_id, await handlers.record_completion(uow, command))

    return await commands.run(handle)


@router.post(
    "/courses/{course_id}/attendance/import",
    status_code=201,
    tags=["courses"],
    summary="Import an attendance list (CSV or XLSX body): all rows or none, with row-level errors",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {"schema": {"type": "string"}, "example": ",".join(importing.COLUMNS)},
                importing.XLSX: {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
async def import_attendance(
    course_id: str, request: Request, commands: Commands, cipher: Cipher, _: Trainer
) -> JSONResponse:
    content_type = request.headers.get("content-type", "text/csv")
    try:
        rows = importing.validate(await importing.read_upload(await request.body(), content_type))

        async def handle(uow: UnitOfWork) -> importing.ImportSummary:
            return await importing.import_attendance(uow, cipher, course_id, rows, date.today())

        return await commands.run(handle)
    except importing.ImportRejectedError as rejected:
        return problem(
            422,
            "Import rejected",
            f"{len(rejected.errors)} problem(s) in the file; nothing was imported",
            type="urn:metrology:problem:import-rejected",
            rule="import-rejected",
            instance=request.url.path,
            errors=rejected.errors,
        )


@router.get(
    "/courses/{course_id}/trainees",
    tags=["courses"],
    response_model=None,
    summary="The course's roster (paginated; format=csv exports it); personal data only for trainers",
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def roster(
    course_id: str,
    request: Request,
    principal: Reader,
    cipher: Cipher,
    limit: Limit = 500,
    offset: Offset = 0,
    format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
) -> dict[str, Any] | Response:
    view = personal_view(cipher, principal)
    async with request.app.state.runtime.engine.connect() as connection:
        await _course(connection, principal.tenant, course_id)
        page = await queries.trainees_page(
            connection, principal.tenant, queries.Page(limit, offset), view, course_id=course_id
        )
    if format == "csv":
        return Response(_csv(page["items"]), media_type="text/csv; charset=utf-8")
    return page


# -- trainees ------------------------------------------------------------------------------------


@router.post(
    "/trainees",
    status_code=201,
    response_model=Accepted,
    tags=["trainees"],
    summary="Register a trainee; personal data is encrypted under the person's own key",
)
async def register_trainee(body: TraineeIn, commands: Commands, cipher: Cipher, _: Trainer) -> JSONResponse:
    personal = PersonalData(body.full_name, body.date_of_birth, body.id_number, body.phone)
    command = handlers.RegisterTrainee(
        trainee_id=new_id(),
        personal=personal,
        organisation_kind=body.organisation_kind,
        registered_on=body.registered_on or date.today(),
        organisation_id=body.organisation_id,
        organisation_name=body.organisation_name,
    )

    async def handle(uow: UnitOfWork) -> Accepted:
        return _accepted(command.trainee_id, await handlers.register_trainee(uow, cipher, command))

    return await commands.run(handle)


@router.get("/trainees", tags=["trainees"], summary="Trainees (paginated); personal data only for trainers")
async def list_trainees(
    request: Request, principal: Reader, cipher: Cipher, limit: Limit = 50, offset: Offset = 0
) -> dict[str, Any]:
    async with request.app.state.runtime.engine.connect() as connection:
        return await queries.trainees_page(
            connection, principal.tenant, queries.Page(limit, offset), personal_view(cipher, principal)
        )


@router.get("/trainees/{trainee_id}", tags=["trainees"], summary="One trainee; personal data only for trainers")
async def get_trainee(trainee_id: str, request: Request, principal: Reader, cipher: Cipher) -> dict[str, Any]:
    async with request.app.state.runtime.engine.connect() as connection:
        found = await queries.trainee(connection, principal.tenant, trainee_id, personal_view(cipher, principal))
    if found is None:
        raise NotFoundError(f"no trainee {trainee_id}", field="trainee_id")
    return found


@router.delete(
    "/trainees/{trainee_id}/personal-data",
    status_code=200,
    response_model=Accepted,
    tags=["trainees"],
    summary="Erase a trainee's personal data (destroys their key; completions still count)",
)
async def erase_personal_data(trainee_id: str, commands: Commands, cipher: Cipher, _: Trainer) -> JSONResponse:
    async def handle(uow: UnitOfWork) -> Accepted:
        return _accepted(trainee_id, await handlers.erase_trainee(uow, cipher, trainee_id, date.today()))

    return await commands.run(handle, status_code=200)


@router.get("/events/schemas", tags=["events"], summary="JSON Schemas of the events training publishes")
async def event_schemas(request: Request, _: Authenticated) -> dict[str, Any]:
    return dict(request.app.state.runtime.registry.json_schemas())


def _csv(items: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    if items:
        writer = csv.DictWriter(buffer, fieldnames=list(items[0]))
        writer.writeheader()
        writer.writerows(items)
    return buffer.getvalue()
