"""Events of the outreach service: the Measurement Assurance Programme (Chương trình đảm bảo đo lường).

Streams: `participation-<id>` (an enterprise's participation, with its accesses), `campaign-<id>`.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from metrology.eventkit.events import DomainEvent, EventRegistry, JsonDict
from metrology.eventkit.sealed import SealedPersonalData

Channel = Literal["verification", "calibration", "testing", "method", "consultation"]
AssessmentArea = Literal[
    "organisation",
    "staff",
    "methods",
    "instruments-and-standards",
    "verification-calibration-maintenance",
    "environment",
    "records",
    "proficiency-testing",
    "expected-benefit",
]
ASSESSMENT_AREAS: tuple[str, ...] = AssessmentArea.__args__  # type: ignore[attr-defined]
CHANNELS: tuple[str, ...] = Channel.__args__  # type: ignore[attr-defined]


class AreaRating(BaseModel):
    """One area of the current-state assessment: a rating from 1 (absent) to 5 (exemplary) and notes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    area: AssessmentArea
    rating: int = Field(ge=1, le=5)
    notes: str = ""


class Objective(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    objective: str
    due_on: date | None = None


class EnterpriseEnrolled(DomainEvent):
    """An enterprise enrolled in the programme, with its consent and a contact person (occurred_on = enrolment).

    v2: the contact person (name, role, phone, email) travels only sealed under their data key (`contact`),
    erased with it (participation-contact-erased); v1 carried them in clear (see `contact_not_carried`).
    """

    event_type = "vn.metrology.outreach.enterprise-enrolled"
    event_version = 2
    participation_id: str
    enterprise_id: str
    enterprise_name: str | None = None
    consent: bool
    contact: SealedPersonalData | None


def contact_not_carried(v1: JsonDict) -> JsonDict:
    """enterprise-enrolled v1 -> v2: a contact recorded in clear is not carried into the sealed field (null)."""
    clear = {"contact_name", "contact_role", "contact_phone", "contact_email"}
    return {key: value for key, value in v1.items() if key not in clear} | {"contact": None}


def approver_not_carried(v1: JsonDict) -> JsonDict:
    """plan-approved v1 -> v2: a name recorded in clear is not carried into the sealed field (null)."""
    return {key: value for key, value in v1.items() if key != "approved_by"} | {"approver": None}


class ParticipationContactErased(DomainEvent):
    """The participation's contact persons (its contact, the plan's approver) were erased: their data key is
    destroyed, every sealed copy unreadable."""

    event_type = "vn.metrology.outreach.participation-contact-erased"
    participation_id: str
    enterprise_id: str


class CurrentStateAssessed(DomainEvent):
    """The enterprise's current measurement state was assessed, area by area (đánh giá hiện trạng)."""

    event_type = "vn.metrology.outreach.current-state-assessed"
    participation_id: str
    enterprise_id: str
    assessor: str
    areas: list[AreaRating]


class PlanApproved(DomainEvent):
    """The enterprise's programme plan, with its objectives, was approved by the enterprise's head.

    v2: who approved it (a person) travels only sealed (`approver`), under the key of the participation's contact
    persons, erased with them; v1 carried `approved_by` in clear (see `approver_not_carried`).
    """

    event_type = "vn.metrology.outreach.plan-approved"
    event_version = 2
    participation_id: str
    enterprise_id: str
    approver: SealedPersonalData | None
    objectives: list[Objective]
    budget_vnd: int | None = None


class SupportDelivered(DomainEvent):
    """Support was delivered under the plan (consultation visit, document, training, equipment advice)."""

    event_type = "vn.metrology.outreach.support-delivered"
    participation_id: str
    enterprise_id: str
    kind: str
    description: str


class AnnualEvaluationRecorded(DomainEvent):
    """The programme's annual evaluation: how many of the plan's objectives were met, and the findings."""

    event_type = "vn.metrology.outreach.annual-evaluation-recorded"
    participation_id: str
    enterprise_id: str
    year: int
    objectives_met: int
    findings: str


class ParticipationCompleted(DomainEvent):
    """The enterprise completed the programme."""

    event_type = "vn.metrology.outreach.participation-completed"
    participation_id: str
    enterprise_id: str
    summary: str | None = None


class EnterpriseWithdrawn(DomainEvent):
    """The enterprise withdrew from the programme (occurred_on = withdrawal date); nothing follows."""

    event_type = "vn.metrology.outreach.enterprise-withdrawn"
    participation_id: str
    enterprise_id: str
    reason: str | None = None


class AccessRecorded(DomainEvent):
    """An enrolled enterprise was served (lượt doanh nghiệp tiếp cận); `source_job_id` is set by the saga."""

    event_type = "vn.metrology.outreach.access-recorded"
    access_id: str
    participation_id: str
    enterprise_id: str
    channel: Channel
    source_job_id: str | None = None
    note: str | None = None


class CampaignHeld(DomainEvent):
    """A communication campaign (tuyên truyền) was held: audience, channel and the enterprises reached."""

    event_type = "vn.metrology.outreach.campaign-held"
    campaign_id: str
    title: str
    audience: str
    channel: str
    enterprises_reached: int
    enterprise_ids: list[str] = Field(default_factory=list)
    people_reached: int | None = None


ALL_EVENTS: list[type[DomainEvent]] = [
    EnterpriseEnrolled,
    ParticipationContactErased,
    CurrentStateAssessed,
    PlanApproved,
    SupportDelivered,
    AnnualEvaluationRecorded,
    ParticipationCompleted,
    EnterpriseWithdrawn,
    AccessRecorded,
    CampaignHeld,
]


def registry() -> EventRegistry:
    events = EventRegistry().register_all(ALL_EVENTS)
    events.upcaster(EnterpriseEnrolled.event_type, 1)(contact_not_carried)
    events.upcaster(PlanApproved.event_type, 1)(approver_not_carried)
    return events
