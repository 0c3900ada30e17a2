"""The Course aggregate: a course is scheduled, then trainees complete it, each at most once."""

from __future__ import annotations

from datetime import date

from metrology.eventkit.aggregate import Aggregate
from metrology.eventkit.errors import ConflictError, RuleViolationError
from metrology.eventkit.events import DomainEvent
from metrology.training.domain.events import CourseScheduled, TraineeCompleted


class Course(Aggregate):
    def __init__(self) -> None:
        super().__init__()
        self.course_id = ""
        self.starts_on: date | None = None
        self.completed: set[str] = set()

    def when(self, event: DomainEvent) -> None:
        match event:
            case CourseScheduled():
                self.course_id, self.starts_on = event.course_id, event.starts_on
            case TraineeCompleted():
                self.completed.add(event.trainee_id)

    def schedule(self, event: CourseScheduled) -> None:
        if self.exists:
            raise ConflictError(f"course {event.course_id} is already scheduled", rule="course-exists")
        if event.ends_on < event.starts_on:
            raise RuleViolationError("a course cannot end before it starts", field="ends_on", rule="course-dates")
        self.record(event)

    def complete(self, trainee_id: str, passed: bool, on: date, certificate_number: str | None) -> None:
        if self.starts_on and on < self.starts_on:
            raise RuleViolationError(
                "a completion cannot be dated before the course starts", field="completed_on", rule="completion-date"
            )
        if trainee_id in self.completed:
            raise ConflictError(f"trainee {trainee_id} already completed this course", rule="completion-recorded")
        self.record(
            TraineeCompleted(
                occurred_on=on,
                course_id=self.course_id,
                trainee_id=trainee_id,
                passed=passed,
                certificate_number=certificate_number if passed else None,
            )
        )
