"""Events of the verification service: work recorded on instruments and standards, and what it issued.

One stream per job, `job-<id>`: the work itself, then a certificate (passed) or a failure record that marks the
instrument unfit (failed verification), then any revocation. Corrections are new events; nothing is erased.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from metrology.eventkit.events import DomainEvent, EventRegistry
from metrology.verification.domain.traceability import TraceabilityLink

Kind = Literal["verification", "calibration", "testing"]
Mode = Literal["initial", "periodic", "after-repair", "cross-check"]
Subject = Literal["instrument", "standard"]
Result = Literal["pass", "fail"]
ServiceKind = Literal["calibration", "testing", "measurement-method", "consultation"]


class Measurement(BaseModel):
    """One calibration point: the measured value with its expanded uncertainty (coverage factor k, 2 by default)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    quantity: str
    nominal: float
    measured: float
    unit: str
    expanded_uncertainty: float = Field(gt=0)
    coverage_factor: float = 2.0


class WorkRecorded(DomainEvent):
    """A provider performed verification, calibration or testing on an instrument or a standard
    (occurred_on = date performed). The checks against the registry replica passed when it was recorded."""

    event_type = "vn.metrology.verification.work-recorded"
    job_id: str
    kind: Kind
    mode: Mode
    subject: Subject
    subject_id: str
    type_code: str | None = None
    serial: str | None = None
    owner_enterprise_id: str | None = None
    province_code: str | None = None
    commune_code: str | None = None
    provider_id: str
    provider_province_code: str
    provider_local: bool = True
    verifier_id: str
    procedure: str
    working_standard_id: str | None = None
    field: str | None = None
    result: Result
    measurements: list[Measurement] = Field(default_factory=list)
    notes: str | None = None
    external_reference: str | None = None  # the client's own id for the job (optional, added later)


class CertificateIssued(DomainEvent):
    """A certificate (giấy chứng nhận) was issued for passed work, with its sticker (tem) serial."""

    event_type = "vn.metrology.verification.certificate-issued"
    certificate_number: str
    job_id: str
    kind: Kind
    subject_id: str
    valid_until: date | None
    sticker_serial: str
    qr_payload: str
    traceability: list[TraceabilityLink] | None = None  # the working standard's chain, frozen on the date performed


class CertificateRevoked(DomainEvent):
    """A certificate was revoked (occurred_on = revocation date); the work it records stays in history."""

    event_type = "vn.metrology.verification.certificate-revoked"
    certificate_number: str
    job_id: str
    subject_id: str
    reason: str


class InstrumentMarkedUnfit(DomainEvent):
    """A failed verification: a record (biên bản) was drawn up and the instrument may not be used."""

    event_type = "vn.metrology.verification.instrument-marked-unfit"
    job_id: str
    subject_id: str
    record_number: str
    findings: str | None = None


class InstrumentFellOverdue(DomainEvent):
    """An instrument in use passed its verification due date without a new verification (occurred_on = the first
    day overdue). Stream `overdue-<instrument_id>-<due_on>`: once per instrument and due date, found by the daily
    sweep (`metrology-verification sweep-due`). Outreach and inspection act on it; it may not be used until verified."""

    event_type = "vn.metrology.verification.instrument-fell-overdue"
    instrument_id: str
    due_on: date
    type_code: str
    serial: str
    owner_enterprise_id: str
    commune_code: str
    last_job_id: str | None = None
    last_verified_on: date | None = None


class EnterpriseServiceRecorded(DomainEvent):
    """A provider served a registered enterprise (occurred_on = date performed): calibration, testing, a measurement
    method or a consultation not tied to a registered instrument or standard. Stream `enterprise-service-<id>`.
    Whether it counts as an access of the Measurement Assurance Programme is outreach's decision, not this one's."""

    event_type = "vn.metrology.verification.enterprise-service-recorded"
    service_id: str
    kind: ServiceKind
    enterprise_id: str
    enterprise_province_code: str
    enterprise_commune_code: str
    provider_id: str
    provider_province_code: str
    description: str
    external_reference: str | None = None


ALL_EVENTS: list[type[DomainEvent]] = [
    WorkRecorded,
    CertificateIssued,
    CertificateRevoked,
    InstrumentMarkedUnfit,
    EnterpriseServiceRecorded,
    InstrumentFellOverdue,
]


def registry() -> EventRegistry:
    return EventRegistry().register_all(ALL_EVENTS)
