"""Command handlers: load the aggregate, decide, append its events and update the query tables."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from metrology.eventkit.errors import NotFoundError
from metrology.eventkit.unit_of_work import UnitOfWork
from metrology.training.adapters.views import courses
from metrology.training.domain.course import Course
from metrology.training.domain.events import CourseScheduled


@dataclass(frozen=True)
class RecordCompletion:
    course_id: str
    trainee_id: str
    passed: bool
    completed_on: date
    certificate_number: str | None = None


def course_stream(course_id: str) -> str:
    return f"course-{course_id}"


async def schedule_course(uow: UnitOfWork, event: CourseScheduled) -> Course:
    course = Course.replay(await uow.history(course_stream(event.course_id)))
    course.schedule(event)
    await uow.append(course_stream(event.course_id), course.version, course.pending)
    await uow.session.execute(
        sa.insert(courses).values(
            course_id=event.course_id,
            title=event.title,
            topic=event.topic,
            organiser=event.organiser,
            starts_on=event.starts_on,
            ends_on=event.ends_on,
            completed=0,
            passed=0,
        )
    )
    return course


async def record_completion(uow: UnitOfWork, command: RecordCompletion) -> Course:
    course = Course.replay(await uow.history(course_stream(command.course_id)))
    if not course.exists:
        raise NotFoundError(f"no course {command.course_id}", field="course_id", rule="course-unknown")
    course.complete(command.trainee_id, command.passed, command.completed_on, command.certificate_number)
    await uow.append(course_stream(command.course_id), course.version, course.pending)
    await uow.session.execute(
        sa.update(courses)
        .where(courses.c.course_id == command.course_id)
        .values(completed=courses.c.completed + 1, passed=courses.c.passed + int(command.passed))
    )
    return course
