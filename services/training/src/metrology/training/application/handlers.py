"""Command handlers: load the aggregate, decide, append its events and update the query tables."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import NamedTuple

import sqlalchemy as sa

from metrology.eventkit.database import dialect_of
from metrology.eventkit.errors import ConflictError, NotFoundError, RuleViolationError
from metrology.eventkit.store import driver_for_a_read
from metrology.eventkit.unit_of_work import UnitOfWork
from metrology.training.adapters import postgres_courses
from metrology.training.adapters.crypto import PersonalDataCipher
from metrology.training.adapters.views import attendance, courses, enrolments, trainees
from metrology.training.domain.course import Course
from metrology.training.domain.events import (
    AttendanceRecorded,
    CourseScheduled,
    OrganisationKind,
    TraineeAssessed,
    TraineeCompleted,
    TraineeEnrolled,
    TraineeRegistered,
)
from metrology.training.domain.personal import ERASED, PersonalData
from metrology.training.domain.trainee import Trainee


@dataclass(frozen=True)
class RecordCompletion:
    course_id: str
    trainee_id: str
    passed: bool
    completed_on: date
    certificate_number: str | None = None


@dataclass(frozen=True)
class RegisterTrainee:
    trainee_id: str
    personal: PersonalData
    organisation_kind: OrganisationKind
    registered_on: date
    organisation_id: str | None = None
    organisation_name: str | None = None


def course_stream(course_id: str) -> str:
    return f"course-{course_id}"


def trainee_stream(trainee_id: str) -> str:
    return f"trainee-{trainee_id}"


# -- courses -------------------------------------------------------------------------------------


async def schedule_course(uow: UnitOfWork, event: CourseScheduled) -> Course:
    course = Course.replay(await uow.history(course_stream(event.course_id)))
    course.schedule(event)
    await uow.append(course_stream(event.course_id), course.version, course.pending)
    await uow.session.execute(
        sa.insert(courses).values(
            course_id=event.course_id,
            tenant=uow.context.tenant,
            title=event.title,
            topic=event.topic,
            field=event.field,
            audience=event.audience,
            organiser=event.organiser,
            trainer=event.trainer,
            starts_on=event.starts_on,
            ends_on=event.ends_on,
            pass_mark=event.pass_mark,
            enrolled=0,
            completed=0,
            passed=0,
        )
    )
    return course


async def load_course(uow: UnitOfWork, course_id: str) -> Course:
    course = Course.replay(await uow.history(course_stream(course_id)))
    if not course.exists:
        raise NotFoundError(f"no course {course_id}", field="course_id", rule="course-unknown")
    return course


async def save_course(uow: UnitOfWork, course: Course) -> Course:
    pending = list(course.pending)
    writes = postgres_courses.view_writes(pending) if dialect_of(uow.session) == "postgresql" else None
    if writes is not None:  # the event and its rows in one statement (the gate is the stream's guard)
        await uow.append_with_views(course_stream(course.course_id), course.version, pending, writes)
        return course
    await uow.append(course_stream(course.course_id), course.version, pending)
    for event in pending:
        await _update_course_views(uow, event)
    return course


async def enrol_trainee(uow: UnitOfWork, course_id: str, trainee_id: str, on: date) -> Course:
    course = await load_course(uow, course_id)
    await require_enrollable(uow, trainee_id)
    course.enrol(trainee_id, on)
    return await save_course(uow, course)


async def record_attendance(uow: UnitOfWork, course_id: str, trainee_id: str, day: date, present: bool) -> Course:
    course = await load_course(uow, course_id)
    course.record_attendance(trainee_id, day, present)
    return await save_course(uow, course)


async def assess_trainee(uow: UnitOfWork, course_id: str, trainee_id: str, score: float, on: date) -> Course:
    course = await load_course(uow, course_id)
    course.assess(trainee_id, score, on)
    return await save_course(uow, course)


async def record_completion(uow: UnitOfWork, command: RecordCompletion) -> Course:
    course = await load_course(uow, command.course_id)
    course.complete(command.trainee_id, command.passed, command.completed_on, command.certificate_number)
    return await save_course(uow, course)


# -- trainees ------------------------------------------------------------------------------------


async def register_trainee(uow: UnitOfWork, cipher: PersonalDataCipher, command: RegisterTrainee) -> Trainee:
    stream = trainee_stream(command.trainee_id)
    trainee = Trainee.replay(await uow.history(stream))
    digest = cipher.id_digest(command.personal.id_number)
    if await find_by_id_number(uow, digest) is not None:
        raise ConflictError("a trainee with this ID number is registered", field="id_number", rule="trainee-known")
    key = cipher.new_key()
    sealed = cipher.seal(key, command.trainee_id, command.personal, command.organisation_name)
    trainee.register(
        TraineeRegistered(
            occurred_on=command.registered_on,
            trainee_id=command.trainee_id,
            organisation_kind=command.organisation_kind,
            organisation_id=command.organisation_id,
            personal=sealed,
        )
    )
    await uow.append(stream, trainee.version, trainee.pending)
    await cipher.store(uow.session, key, command.trainee_id)
    await uow.session.execute(
        sa.insert(trainees).values(
            trainee_id=command.trainee_id,
            tenant=uow.context.tenant,
            organisation_kind=command.organisation_kind,
            organisation_id=command.organisation_id,
            organisation_name=command.organisation_name,
            key_id=key.key_id,
            sealed=sealed.model_dump(mode="json"),
            id_digest=digest,
            registered_on=command.registered_on,
        )
    )
    return trainee


async def erase_trainee(uow: UnitOfWork, cipher: PersonalDataCipher, trainee_id: str, on: date) -> Trainee:
    """Crypto-shredding: the person's data key is destroyed, so every copy of their data becomes unreadable."""
    stream = trainee_stream(trainee_id)
    trainee = Trainee.replay(await uow.history(stream))
    if not trainee.exists or await _trainee_tenant(uow, trainee_id) != uow.context.tenant:
        raise NotFoundError(f"no trainee {trainee_id}", field="trainee_id", rule="trainee-unknown")
    trainee.erase(on)
    await uow.append(stream, trainee.version, trainee.pending)
    await cipher.destroy(uow.session, trainee.key_id)
    await uow.session.execute(
        sa.update(trainees)
        .where(trainees.c.trainee_id == trainee_id)
        .values(
            sealed=None, id_digest=None, erased_on=on, organisation_name=_erased_if_held(trainees.c.organisation_name)
        )
    )
    return trainee


def _erased_if_held(column: sa.Column) -> sa.Case:
    return sa.case((column.is_(None), None), else_=sa.literal(ERASED))


async def find_by_id_number(uow: UnitOfWork, digest: str) -> str | None:
    query = sa.select(trainees.c.trainee_id).where(
        trainees.c.tenant == uow.context.tenant, trainees.c.id_digest == digest
    )
    return (await uow.session.execute(query)).scalar_one_or_none()


async def require_enrollable(uow: UnitOfWork, trainee_id: str) -> None:
    row = await _trainee_row(uow, trainee_id)
    if row is None or row[0] != uow.context.tenant:
        raise RuleViolationError(f"no trainee {trainee_id}", field="trainee_id", rule="trainee-unknown")
    if row[1] is not None:
        raise RuleViolationError("an erased trainee cannot be enrolled", field="trainee_id", rule="trainee-erased")


async def _trainee_row(uow: UnitOfWork, trainee_id: str) -> tuple[str, date | None] | None:
    """The trainee's (tenant, erased_on); on PostgreSQL on the driver, alone before the command writes."""
    if dialect_of(uow.session) == "postgresql":
        driver = await driver_for_a_read(uow.session)
        record = await driver.fetchrow(postgres_courses.TRAINEE, trainee_id)
        return None if record is None else (record[0], record[1])
    query = sa.select(trainees.c.tenant, trainees.c.erased_on).where(trainees.c.trainee_id == trainee_id)
    row = (await uow.session.execute(query)).first()
    return None if row is None else (row.tenant, row.erased_on)


async def _trainee_tenant(uow: UnitOfWork, trainee_id: str) -> str | None:
    row = await _trainee_row(uow, trainee_id)
    return None if row is None else row[0]


# -- query tables --------------------------------------------------------------------------------


async def _update_course_views(uow: UnitOfWork, event: object) -> None:
    statements = _course_view_statements()
    match event:
        case TraineeEnrolled():
            enrolment = {"course": event.course_id, "trainee": event.trainee_id, "on": event.occurred_on}
            await _run(uow, statements.enrol, enrolment)
        case AttendanceRecorded():
            await _record_day(uow, event)
        case TraineeAssessed():
            assessment = {"course": event.course_id, "trainee": event.trainee_id, "score": event.score}
            await _run(uow, statements.assess, assessment)
        case TraineeCompleted():
            outcome = {"outcome": event.passed, "certificate": event.certificate_number, "on": event.occurred_on}
            completion = {"course": event.course_id, "trainee": event.trainee_id, "passes": int(event.passed)}
            await _run(uow, statements.complete, completion | outcome)


async def _run(uow: UnitOfWork, statements: tuple[sa.Executable, ...], values: dict[str, object]) -> None:
    for statement in statements:  # each takes the values it names
        await uow.session.execute(statement, values)


class _CourseViewStatements(NamedTuple):
    """What each of a course's events does to the query tables: one statement or more, run in turn."""

    enrol: tuple[sa.Executable, ...]
    assess: tuple[sa.Executable, ...]
    complete: tuple[sa.Executable, ...]


@cache
def _course_view_statements() -> _CourseViewStatements:
    """The query tables' statements of a course's events, built once and run with their values: building a Core
    statement for each command cost more of the process's CPU than the database's answer.

    An enrolment or a completion changes the enrolment's row and the course's counts, in turn. A command that
    raises one of them alone on PostgreSQL writes both with its event in one statement instead
    (`adapters.postgres_courses`); these serve SQLite and saves of several events (attendance imports)."""
    course, trainee = sa.bindparam("course", type_=sa.String), sa.bindparam("trainee", type_=sa.String)
    enrolment = [enrolments.c.course_id == course, enrolments.c.trainee_id == trainee]
    of_course = courses.c.course_id == course
    enrol = sa.insert(enrolments).values(
        course_id=course, trainee_id=trainee, enrolled_on=sa.bindparam("on"), days_present=0
    )
    count_enrolled = sa.update(courses).where(of_course).values(enrolled=courses.c.enrolled + 1)
    assess = sa.update(enrolments).where(*enrolment).values(score=sa.bindparam("score"))
    complete = (
        sa.update(enrolments)
        .where(*enrolment)
        .values(
            passed=sa.bindparam("outcome"),
            certificate_number=sa.bindparam("certificate"),
            completed_on=sa.bindparam("on"),
        )
    )
    count_completed = (
        sa.update(courses)
        .where(of_course)
        .values(completed=courses.c.completed + 1, passed=courses.c.passed + sa.bindparam("passes"))
    )
    return _CourseViewStatements((enrol, count_enrolled), (assess,), (complete, count_completed))


def _enrolment(course_id: str, trainee_id: str) -> list[sa.ColumnElement[bool]]:
    return [enrolments.c.course_id == course_id, enrolments.c.trainee_id == trainee_id]


async def _record_day(uow: UnitOfWork, event: AttendanceRecorded) -> None:
    key = [attendance.c.course_id == event.course_id, attendance.c.trainee_id == event.trainee_id]
    await uow.session.execute(sa.delete(attendance).where(*key, attendance.c.day == event.occurred_on))
    await uow.session.execute(
        sa.insert(attendance).values(
            course_id=event.course_id, trainee_id=event.trainee_id, day=event.occurred_on, present=event.present
        )
    )
    present = sa.select(sa.func.count()).where(*key, attendance.c.present.is_(True)).scalar_subquery()
    await uow.session.execute(
        sa.update(enrolments).where(*_enrolment(event.course_id, event.trainee_id)).values(days_present=present)
    )
