"""Events of the training service: courses and the people trained on them."""

from __future__ import annotations

from datetime import date

from metrology.eventkit.events import DomainEvent, EventRegistry


class CourseScheduled(DomainEvent):
    """A metrology training course was scheduled (khóa đào tạo)."""

    event_type = "vn.metrology.training.course-scheduled"
    course_id: str
    title: str
    topic: str
    field: str | None = None
    audience: str | None = None
    organiser: str
    trainer: str | None = None
    starts_on: date
    ends_on: date
    commune_code: str | None = None


class TraineeCompleted(DomainEvent):
    """A trainee finished a course: `passed` trainees are certified and count as one person-time trained."""

    event_type = "vn.metrology.training.trainee-completed"
    course_id: str
    trainee_id: str
    passed: bool
    certificate_number: str | None = None


ALL_EVENTS: list[type[DomainEvent]] = [CourseScheduled, TraineeCompleted]


def registry() -> EventRegistry:
    return EventRegistry().register_all(ALL_EVENTS)
