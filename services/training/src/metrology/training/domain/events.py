"""Events of the training service: courses, trainees and the people trained on them.

Streams: `course-<id>` (scheduling, enrolments, attendance, assessments, completions) and `trainee-<id>`
(registration and erasure). A trainee's personal data (name, date of birth, ID number, phone) travels only as
ciphertext under that person's own data key (`key_id`); erasing the person destroys the key.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict

from metrology.eventkit.events import DomainEvent, EventRegistry

OrganisationKind = Literal["enterprise", "provider", "state-agency", "other"]


class SealedPersonalData(BaseModel):
    """Personal fields, each AES-GCM ciphertext (base64 of nonce + ciphertext) under the data key `key_id`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key_id: str
    full_name: str
    date_of_birth: str
    id_number: str
    phone: str | None = None
    organisation_name: str | None = (
        None  # the trainee's organisation, sealed with the rest (it names the person's employer)
    )


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
    pass_mark: int = 50


class TraineeRegistered(DomainEvent):
    """A person to be trained was registered, with their organisation; personal data sealed under their key.

    The organisation's name travels sealed in `personal`; the clear `organisation_name` is no longer written
    (events recorded before may hold it).
    """

    event_type = "vn.metrology.training.trainee-registered"
    trainee_id: str
    organisation_kind: OrganisationKind
    organisation_id: str | None = None
    organisation_name: str | None = None
    personal: SealedPersonalData


class TraineeEnrolled(DomainEvent):
    """A registered trainee was enrolled in a course."""

    event_type = "vn.metrology.training.trainee-enrolled"
    course_id: str
    trainee_id: str


class AttendanceRecorded(DomainEvent):
    """A trainee's attendance on one day of a course (occurred_on = that day)."""

    event_type = "vn.metrology.training.attendance-recorded"
    course_id: str
    trainee_id: str
    present: bool


class TraineeAssessed(DomainEvent):
    """A trainee's assessment score (0–100) on a course."""

    event_type = "vn.metrology.training.trainee-assessed"
    course_id: str
    trainee_id: str
    score: float


class TraineeCompleted(DomainEvent):
    """A trainee finished a course: `passed` trainees are certified and count as one person-time trained."""

    event_type = "vn.metrology.training.trainee-completed"
    course_id: str
    trainee_id: str
    passed: bool
    certificate_number: str | None = None
    score: float | None = None


class TraineeErased(DomainEvent):
    """A trainee's personal data was erased on request: the key `key_id` is destroyed; counts stay."""

    event_type = "vn.metrology.training.trainee-erased"
    trainee_id: str
    key_id: str


ALL_EVENTS: list[type[DomainEvent]] = [
    CourseScheduled,
    TraineeRegistered,
    TraineeEnrolled,
    AttendanceRecorded,
    TraineeAssessed,
    TraineeCompleted,
    TraineeErased,
]


def registry() -> EventRegistry:
    return EventRegistry().register_all(ALL_EVENTS)
