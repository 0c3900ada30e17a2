"""The Course aggregate: scheduled, trainees enrolled, attendance per day, assessment, then completion (once each).

A trainee who was assessed passes only with a score at or above the course's pass mark.
"""

from __future__ import annotations

from datetime import date

from metrology.eventkit.aggregate import Aggregate
from metrology.eventkit.errors import ConflictError, RuleViolationError
from metrology.eventkit.events import DomainEvent
from metrology.eventkit.ids import distinctive_part
from metrology.training.domain.events import (
    AttendanceRecorded,
    CourseScheduled,
    TraineeAssessed,
    TraineeCompleted,
    TraineeEnrolled,
)


class Course(Aggregate):
    def __init__(self) -> None:
        super().__init__()
        self.course_id = ""
        self.starts_on: date | None = None
        self.ends_on: date | None = None
        self.pass_mark = 50
        self.enrolled: set[str] = set()
        self.scores: dict[str, float] = {}
        self.completed: set[str] = set()
        self.certified = 0

    def when(self, event: DomainEvent) -> None:
        match event:
            case CourseScheduled():
                self.course_id, self.starts_on, self.ends_on = event.course_id, event.starts_on, event.ends_on
                self.pass_mark = event.pass_mark
            case TraineeEnrolled():
                self.enrolled.add(event.trainee_id)
            case TraineeAssessed():
                self.scores[event.trainee_id] = event.score
            case TraineeCompleted():
                self.completed.add(event.trainee_id)
                self.certified += int(event.passed)

    def schedule(self, event: CourseScheduled) -> None:
        if self.exists:
            raise ConflictError(f"course {event.course_id} is already scheduled", rule="course-exists")
        if event.ends_on < event.starts_on:
            raise RuleViolationError("a course cannot end before it starts", field="ends_on", rule="course-dates")
        self.record(event)

    def enrol(self, trainee_id: str, on: date) -> None:
        if trainee_id in self.enrolled:
            raise ConflictError(
                f"trainee {trainee_id} is already enrolled", field="trainee_id", rule="trainee-enrolled"
            )
        self.record(TraineeEnrolled(occurred_on=on, course_id=self.course_id, trainee_id=trainee_id))

    def record_attendance(self, trainee_id: str, day: date, present: bool) -> None:
        self._require_enrolled(trainee_id)
        if self.starts_on and self.ends_on and not self.starts_on <= day <= self.ends_on:
            raise RuleViolationError(
                f"attendance is for a day of the course ({self.starts_on} to {self.ends_on})",
                field="day",
                rule="attendance-day",
            )
        self.record(
            AttendanceRecorded(occurred_on=day, course_id=self.course_id, trainee_id=trainee_id, present=present)
        )

    def assess(self, trainee_id: str, score: float, on: date) -> None:
        self._require_enrolled(trainee_id)
        if trainee_id in self.completed:
            raise ConflictError(f"trainee {trainee_id} already completed this course", rule="completion-recorded")
        self._not_before_start(on, "assessed_on")
        self.record(TraineeAssessed(occurred_on=on, course_id=self.course_id, trainee_id=trainee_id, score=score))

    def complete(self, trainee_id: str, passed: bool, on: date, certificate_number: str | None) -> None:
        self._require_enrolled(trainee_id)
        self._not_before_start(on, "completed_on")
        if trainee_id in self.completed:
            raise ConflictError(f"trainee {trainee_id} already completed this course", rule="completion-recorded")
        score = self.scores.get(trainee_id)
        if score is not None and passed != (score >= self.pass_mark):
            raise RuleViolationError(
                f"the trainee scored {score:g} against a pass mark of {self.pass_mark}",
                field="passed",
                rule="completion-score",
            )
        if passed and not certificate_number:
            certificate_number = f"ĐT-{distinctive_part(self.course_id, 8).upper()}-{self.certified + 1:03d}"
        self.record(
            TraineeCompleted(
                occurred_on=on,
                course_id=self.course_id,
                trainee_id=trainee_id,
                passed=passed,
                certificate_number=certificate_number if passed else None,
                score=score,
            )
        )

    def _require_enrolled(self, trainee_id: str) -> None:
        if trainee_id not in self.enrolled:
            raise RuleViolationError(
                f"trainee {trainee_id} is not enrolled in this course", field="trainee_id", rule="trainee-not-enrolled"
            )

    def _not_before_start(self, on: date, field: str) -> None:
        if self.starts_on and on < self.starts_on:
            raise RuleViolationError(
                "a completion cannot be dated before the course starts", field=field, rule="completion-date"
            )
