"""The Participation aggregate: one enterprise's way through the Measurement Assurance Programme.

enrolled → assessed → planned (support, annual evaluations) → completed; withdrawn from any open state.
Accesses (lượt tiếp cận) are recorded against an open participation for dates it covers.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from metrology.eventkit.aggregate import Aggregate
from metrology.eventkit.errors import ConflictError, NotFoundError, RuleViolationError
from metrology.eventkit.events import DomainEvent
from metrology.eventkit.sealed import SealedPersonalData
from metrology.outreach.domain.events import (
    AccessRecorded,
    AnnualEvaluationRecorded,
    AreaRating,
    Channel,
    CurrentStateAssessed,
    EnterpriseEnrolled,
    EnterpriseWithdrawn,
    Objective,
    ParticipationCompleted,
    ParticipationContactErased,
    PlanApproved,
    SupportDelivered,
)


class Status(StrEnum):
    ENROLLED = "enrolled"
    ASSESSED = "assessed"
    PLANNED = "planned"
    COMPLETED = "completed"
    WITHDRAWN = "withdrawn"


CLOSED = {Status.COMPLETED, Status.WITHDRAWN}


class Participation(Aggregate):
    def __init__(self) -> None:
        super().__init__()
        self.participation_id = ""
        self.enterprise_id = ""
        self.status = Status.ENROLLED
        self.enrolled_on: date | None = None
        self.assessed_on: date | None = None
        self.planned_on: date | None = None
        self.objectives = 0
        self.evaluated_years: set[int] = set()
        self.ended_on: date | None = None
        self.job_ids: set[str] = set()
        self.has_contact = False

    def when(self, event: DomainEvent) -> None:
        match event:
            case EnterpriseEnrolled():
                self.participation_id, self.enterprise_id = event.participation_id, event.enterprise_id
                self.enrolled_on = event.occurred_on
                self.has_contact = event.contact is not None
            case ParticipationContactErased():
                self.has_contact = False
            case CurrentStateAssessed():
                self.assessed_on = event.occurred_on
                self.status = Status.ASSESSED if self.status == Status.ENROLLED else self.status
            case PlanApproved():
                self.planned_on, self.objectives, self.status = event.occurred_on, len(event.objectives), Status.PLANNED
                self.has_contact = self.has_contact or event.approver is not None
            case AnnualEvaluationRecorded():
                self.evaluated_years.add(event.year)
            case ParticipationCompleted():
                self.status, self.ended_on = Status.COMPLETED, event.occurred_on
            case EnterpriseWithdrawn():
                self.status, self.ended_on = Status.WITHDRAWN, event.occurred_on
            case AccessRecorded() if event.source_job_id:
                self.job_ids.add(event.source_job_id)

    # -- lifecycle ---------------------------------------------------------------------------------

    def enrol(self, event: EnterpriseEnrolled) -> None:
        if self.exists:
            raise ConflictError(f"participation {event.participation_id} exists", rule="participation-exists")
        if not event.consent:
            raise RuleViolationError(
                "an enterprise enrols only with its consent", field="consent", rule="consent-required"
            )
        self.record(event)

    def assess(self, on: date, assessor: str, areas: list[AreaRating]) -> None:
        self._require_open(on)
        named = [a.area for a in areas]
        if not areas or len(set(named)) != len(named):
            raise RuleViolationError(
                "an assessment rates each area at most once, and at least one", field="areas", rule="assessment-areas"
            )
        self.record(CurrentStateAssessed(occurred_on=on, assessor=assessor, areas=areas, **self._ids))

    def approve_plan(
        self, on: date, approver: SealedPersonalData | None, objectives: list[Objective], budget_vnd: int | None
    ) -> None:
        self._require_open(on)
        if self.assessed_on is None:
            raise RuleViolationError(
                "a plan needs the current-state assessment first",
                field="participation_id",
                rule="plan-before-assessment",
            )
        self._not_before(on, self.assessed_on, "the assessment")
        if not objectives:
            raise RuleViolationError("a plan states at least one objective", field="objectives", rule="plan-objectives")
        event = PlanApproved(
            occurred_on=on, approver=approver, objectives=objectives, budget_vnd=budget_vnd, **self._ids
        )
        self.record(event)

    def deliver_support(self, on: date, kind: str, description: str) -> None:
        self._require_plan(on, "support")
        self.record(SupportDelivered(occurred_on=on, kind=kind, description=description, **self._ids))

    def evaluate(self, on: date, year: int, objectives_met: int, findings: str) -> None:
        self._require_plan(on, "an evaluation")
        if year in self.evaluated_years:
            raise ConflictError(f"the {year} evaluation is already recorded", rule="evaluation-recorded")
        if objectives_met > self.objectives:
            raise RuleViolationError(
                f"the plan has {self.objectives} objectives", field="objectives_met", rule="objectives-met"
            )
        self.record(
            AnnualEvaluationRecorded(
                occurred_on=on, year=year, objectives_met=objectives_met, findings=findings, **self._ids
            )
        )

    def complete(self, on: date, summary: str | None) -> None:
        self._require_plan(on, "completion")
        if not self.evaluated_years:
            raise RuleViolationError(
                "a participation completes after at least one annual evaluation",
                field="participation_id",
                rule="completion-before-evaluation",
            )
        self.record(ParticipationCompleted(occurred_on=on, summary=summary, **self._ids))

    def erase_contact(self, on: date) -> None:
        """Allowed at any stage, ended participations included; there must be a sealed contact left to erase."""
        if not self.exists:
            raise NotFoundError(f"no participation {self.participation_id}", field="participation_id")
        if not self.has_contact:
            raise ConflictError("the participation has no contact person on record", rule="contact-erased")
        self.record(ParticipationContactErased(occurred_on=on, **self._ids))

    def withdraw(self, on: date, reason: str | None) -> None:
        self._require_open(on)
        self.record(EnterpriseWithdrawn(occurred_on=on, reason=reason, **self._ids))

    # -- accesses ----------------------------------------------------------------------------------

    def covers(self, on: date) -> bool:
        """Whether the enterprise was in the programme on `on` (enrolled on or before, not ended before)."""
        if self.enrolled_on is None or on < self.enrolled_on:
            return False
        if self.status == Status.WITHDRAWN and self.ended_on is not None:
            return on < self.ended_on
        return self.ended_on is None or on <= self.ended_on

    def record_access(
        self, access_id: str, on: date, channel: Channel, source_job_id: str | None = None, note: str | None = None
    ) -> AccessRecorded | None:
        """Record an access; a job already counted returns None (one access per job, whatever is re-sent)."""
        if source_job_id and source_job_id in self.job_ids:
            return None
        if not self.covers(on):
            raise RuleViolationError(
                f"the enterprise was not in the programme on {on}", field="occurred_on", rule="access-not-covered"
            )
        event = AccessRecorded(
            occurred_on=on, access_id=access_id, channel=channel, source_job_id=source_job_id, note=note, **self._ids
        )
        self.record(event)
        return event

    # -- rules -------------------------------------------------------------------------------------

    @property
    def _ids(self) -> dict[str, str]:
        return {"participation_id": self.participation_id, "enterprise_id": self.enterprise_id}

    def _require_open(self, on: date) -> None:
        if self.status in CLOSED:
            raise RuleViolationError(
                f"the participation is {self.status}: nothing more can be recorded",
                field="participation_id",
                rule="participation-closed",
            )
        if self.enrolled_on is not None:
            self._not_before(on, self.enrolled_on, "the enrolment")

    def _require_plan(self, on: date, what: str) -> None:
        self._require_open(on)
        if self.planned_on is None:
            raise RuleViolationError(
                f"{what} needs an approved plan first", field="participation_id", rule="plan-required"
            )
        self._not_before(on, self.planned_on, "the plan's approval")

    @staticmethod
    def _not_before(on: date, earlier: date, what: str) -> None:
        if on < earlier:
            raise RuleViolationError(
                f"this cannot be dated before {what} ({earlier})", field="occurred_on", rule="date-order"
            )
