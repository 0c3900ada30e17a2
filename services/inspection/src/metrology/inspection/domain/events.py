"""Events of the inspection service: state metrological inspection (kiểm tra nhà nước về đo lường).

Streams: `plan-<id>` (a year's inspection plan), `campaign-<id>` (an inspection campaign under a plan: where,
which instrument types, prepackaged goods) and `visit-<id>` (one inspection visit and its record, biên bản:
findings per instrument or goods lot, violations, the decisions taken and the follow-up verifications ordered).
`instrument-found-unregistered` and `overdue-instrument-found` are written beside the finding that shows them,
for the registry (a registration to request) and reporting (demand not met) to act on.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from metrology.eventkit.events import DomainEvent, EventRegistry

VenueKind = Literal["market", "fuel-station", "hospital", "taxi-fleet", "shop", "factory", "other"]
Subject = Literal["instrument", "prepackaged-goods"]
Defect = Literal[
    "no-stamp",
    "overdue",
    "out-of-tolerance",
    "seal-broken",
    "not-registered",
    "quantity-short",
    "label-wrong",
]
RegistryStatus = Literal["registered", "unregistered", "not-applicable"]
VerificationStatus = Literal["valid", "overdue", "unknown", "not-applicable"]
Sanction = Literal["warning", "fine", "no-sanction"]


class InspectionPlanApproved(DomainEvent):
    """A year's inspection plan (kế hoạch kiểm tra) was approved (occurred_on = approval date)."""

    event_type = "vn.metrology.inspection.inspection-plan-approved"
    plan_id: str
    year: int
    title: str
    decision_number: str
    approved_by: str


class CampaignLaunched(DomainEvent):
    """An inspection campaign (đợt kiểm tra) under a plan: the venues, instrument types and goods it covers."""

    event_type = "vn.metrology.inspection.campaign-launched"
    campaign_id: str
    plan_id: str
    title: str
    decision_number: str
    venue_kinds: list[VenueKind]
    instrument_types: list[str]
    prepackaged_goods: bool
    starts_on: date
    ends_on: date


class VisitRecorded(DomainEvent):
    """An inspection visit to a venue (occurred_on = visit date), with the number of its record (biên bản)."""

    event_type = "vn.metrology.inspection.visit-recorded"
    visit_id: str
    campaign_id: str
    record_number: str
    venue_kind: VenueKind
    venue_name: str
    enterprise_id: str | None = None
    commune_code: str
    inspectors: list[str]


class FindingRecorded(DomainEvent):
    """What the inspectors found on one instrument or one lot of prepackaged goods (no defects: compliant).

    An instrument is named by its registry id (`instrument_id`) or, when unregistered, by type and serial;
    `registry_status` and `verification_status` are what the service's replica of the registry and of the
    certificates said on the visit date."""

    event_type = "vn.metrology.inspection.finding-recorded"
    visit_id: str
    finding_id: str
    subject: Subject
    instrument_id: str | None = None
    type_code: str | None = None
    serial: str | None = None
    owner_enterprise_id: str | None = None
    product: str | None = None
    defects: list[Defect]
    registry_status: RegistryStatus
    verification_status: VerificationStatus
    valid_until: date | None = None
    note: str | None = None


class InstrumentFoundUnregistered(DomainEvent):
    """An instrument in use that the registry does not know was found at an inspection (a registration to request)."""

    event_type = "vn.metrology.inspection.instrument-found-unregistered"
    visit_id: str
    finding_id: str
    type_code: str
    serial: str
    enterprise_id: str | None = None
    venue_name: str
    commune_code: str


class OverdueInstrumentFound(DomainEvent):
    """A registered instrument found in use without a valid verification on the visit date (demand not met).

    `valid_until` is the last day of its latest certificate (null: never verified on record)."""

    event_type = "vn.metrology.inspection.overdue-instrument-found"
    visit_id: str
    finding_id: str
    instrument_id: str
    type_code: str
    owner_enterprise_id: str | None = None
    commune_code: str
    valid_until: date | None = None


class ViolationRecorded(DomainEvent):
    """A violation (vi phạm) established from one or more findings of the visit, with its legal basis."""

    event_type = "vn.metrology.inspection.violation-recorded"
    visit_id: str
    violation_id: str
    finding_ids: list[str]
    legal_basis: str
    description: str


class DecisionIssued(DomainEvent):
    """A decision on violations of the visit (quyết định xử phạt vi phạm hành chính, or a warning)."""

    event_type = "vn.metrology.inspection.decision-issued"
    visit_id: str
    decision_id: str
    decision_number: str
    violation_ids: list[str]
    sanction: Sanction
    fine_vnd: int = 0
    remedies: list[str]
    issued_by: str


class FollowUpVerificationOrdered(DomainEvent):
    """An instrument found at the visit must be verified by `due_on` (kiểm định lại theo yêu cầu)."""

    event_type = "vn.metrology.inspection.follow-up-verification-ordered"
    visit_id: str
    order_id: str
    finding_id: str
    instrument_id: str | None = None
    type_code: str
    serial: str | None = None
    owner_enterprise_id: str | None = None
    due_on: date


ALL_EVENTS: list[type[DomainEvent]] = [
    InspectionPlanApproved,
    CampaignLaunched,
    VisitRecorded,
    FindingRecorded,
    InstrumentFoundUnregistered,
    OverdueInstrumentFound,
    ViolationRecorded,
    DecisionIssued,
    FollowUpVerificationOrdered,
]


def registry() -> EventRegistry:
    return EventRegistry().register_all(ALL_EVENTS)
