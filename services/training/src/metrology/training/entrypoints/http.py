"""HTTP API of the training service: parse, build a command, hand it to the handlers, answer."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from metrology.eventkit.errors import NotFoundError
from metrology.eventkit.unit_of_work import UnitOfWork
from metrology.servicekit.auth import Authenticated, Principal, Role, require
from metrology.servicekit.commands import Commands
from metrology.training.adapters.views import courses
from metrology.training.application import handlers
from metrology.training.domain.events import CourseScheduled

router = APIRouter(tags=["courses"])
Trainer = Annotated[Principal, Depends(require(Role.PROVINCE_ADMIN, Role.TRAINER))]


class CourseIn(BaseModel):
    title: str = Field(min_length=3, max_length=300, examples=["Kiểm định công tơ điện xoay chiều"])
    topic: str = Field(min_length=2, max_length=200, examples=["verification of electricity meters"])
    field: str | None = Field(None, max_length=100, examples=["electricity"])
    audience: str | None = Field(None, max_length=200, examples=["verifiers of socialised providers"])
    organiser: str = Field(min_length=2, max_length=200, examples=["Chi cục TĐC Bến Tre"])
    trainer: str | None = Field(None, max_length=200)
    starts_on: date
    ends_on: date
    commune_code: str | None = Field(None, pattern=r"^\d{5}$")


class CompletionIn(BaseModel):
    trainee_id: str = Field(min_length=1, max_length=64, examples=["trainee-0042"])
    passed: bool
    completed_on: date
    certificate_number: str | None = Field(None, max_length=64)


class Accepted(BaseModel):
    id: str
    stream_version: int


@router.post("/courses", status_code=201, response_model=Accepted, summary="Schedule a course")
async def schedule_course(body: CourseIn, commands: Commands, _: Trainer) -> JSONResponse:
    course_id = str(uuid.uuid4())

    async def handle(uow: UnitOfWork) -> Accepted:
        event = CourseScheduled(occurred_on=body.starts_on, course_id=course_id, **body.model_dump())
        course = await handlers.schedule_course(uow, event)
        return Accepted(id=course_id, stream_version=course.version + len(course.pending))

    return await commands.run(handle)


@router.post(
    "/courses/{course_id}/completions",
    status_code=201,
    response_model=Accepted,
    summary="Record that a trainee completed a course (passed trainees count as one person-time trained)",
)
async def record_completion(course_id: str, body: CompletionIn, commands: Commands, _: Trainer) -> JSONResponse:
    command = handlers.RecordCompletion(course_id=course_id, **body.model_dump())

    async def handle(uow: UnitOfWork) -> Accepted:
        course = await handlers.record_completion(uow, command)
        return Accepted(id=course_id, stream_version=course.version + len(course.pending))

    return await commands.run(handle)


@router.get("/courses/{course_id}", summary="One course with its completion counts")
async def get_course(course_id: str, request: Request, _: Authenticated) -> dict[str, object]:
    async with request.app.state.runtime.engine.connect() as connection:
        row = (await connection.execute(sa.select(courses).where(courses.c.course_id == course_id))).first()
    if row is None:
        raise NotFoundError(f"no course {course_id}", field="course_id")
    return dict(row._mapping)
