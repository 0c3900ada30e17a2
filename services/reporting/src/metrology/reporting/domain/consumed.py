"""The events reporting folds, as reporting reads them: only the fields the KPIs need (extra fields ignored).

Built from the catalogue in docs/events.md; the producers' own models stay in their services.
"""

from __future__ import annotations

from datetime import date

from metrology.eventkit.events import ConsumedEvent, EventRegistry, JsonDict

# registry


class EnterpriseRegistered(ConsumedEvent):
    event_type = "vn.metrology.registry.enterprise-registered"
    enterprise_id: str
    sector: str | None = None
    province_code: str | None = None
    commune_code: str | None = None


class EnterpriseUpdated(ConsumedEvent):
    event_type = "vn.metrology.registry.enterprise-updated"
    enterprise_id: str
    sector: str | None = None
    commune_code: str | None = None


class ProviderRegistered(ConsumedEvent):
    event_type = "vn.metrology.registry.provider-registered"
    provider_id: str
    name: str
    ownership: str
    province_code: str
    commune_code: str | None = None


class ProviderDesignated(ConsumedEvent):
    event_type = "vn.metrology.registry.provider-designated"
    provider_id: str
    designation_id: str
    instrument_types: tuple[str, ...] = ()
    valid_from: date
    valid_until: date


class DesignationRenewed(ConsumedEvent):
    event_type = "vn.metrology.registry.designation-renewed"
    provider_id: str
    designation_id: str
    valid_until: date


class DesignationRevoked(ConsumedEvent):
    event_type = "vn.metrology.registry.designation-revoked"
    provider_id: str
    designation_id: str


class LaboratoryRegistered(ConsumedEvent):
    event_type = "vn.metrology.registry.laboratory-registered"
    laboratory_id: str
    name: str
    province_code: str | None = None
    commune_code: str | None = None


class LaboratoryAccredited(ConsumedEvent):
    event_type = "vn.metrology.registry.laboratory-accredited"
    laboratory_id: str
    accreditation_number: str
    valid_from: date
    valid_until: date


class LaboratoryAssessed(ConsumedEvent):
    event_type = "vn.metrology.registry.laboratory-assessed"
    laboratory_id: str
    criteria: str = "TCVN 13187:2020"  # the producer's default: its schema does not require the field
    passed: bool


class InstrumentRegistered(ConsumedEvent):
    event_type = "vn.metrology.registry.instrument-registered"
    instrument_id: str
    type_code: str
    owner_enterprise_id: str | None = None
    province_code: str | None = None
    commune_code: str | None = None


class InstrumentStatusChanged(ConsumedEvent):
    event_type = "vn.metrology.registry.instrument-status-changed"
    instrument_id: str
    status: str


# verification


class WorkRecorded(ConsumedEvent):
    event_type = "vn.metrology.verification.work-recorded"
    job_id: str
    kind: str
    subject: str = "instrument"
    subject_id: str
    type_code: str | None = None
    owner_enterprise_id: str | None = None
    provider_id: str
    provider_province_code: str | None = None
    result: str | None = None


class EnterpriseServiceRecorded(ConsumedEvent):
    event_type = "vn.metrology.verification.enterprise-service-recorded"
    service_id: str
    kind: str
    enterprise_id: str


class CertificateIssued(ConsumedEvent):
    event_type = "vn.metrology.verification.certificate-issued"
    job_id: str
    subject_id: str
    valid_until: date | None = None


# outreach


class EnterpriseEnrolled(ConsumedEvent):
    """v2 seals the contact person (`contact`), which reporting does not read; v1 is read as it is."""

    event_type = "vn.metrology.outreach.enterprise-enrolled"
    event_version = 2
    participation_id: str
    enterprise_id: str


class EnterpriseWithdrawn(ConsumedEvent):
    event_type = "vn.metrology.outreach.enterprise-withdrawn"
    participation_id: str
    enterprise_id: str


class AccessRecorded(ConsumedEvent):
    event_type = "vn.metrology.outreach.access-recorded"
    access_id: str
    participation_id: str | None = None
    enterprise_id: str
    channel: str
    source_job_id: str | None = None


# training


class CourseScheduled(ConsumedEvent):
    """Only for the breakdown of person-times by field of training."""

    event_type = "vn.metrology.training.course-scheduled"
    course_id: str
    topic: str
    field: str | None = None


class TraineeCompleted(ConsumedEvent):
    event_type = "vn.metrology.training.trainee-completed"
    course_id: str
    trainee_id: str
    passed: bool


# inspection


class OverdueInstrumentFound(ConsumedEvent):
    """A registered instrument found in use at an inspection without a valid verification (occurred_on = visit)."""

    event_type = "vn.metrology.inspection.overdue-instrument-found"
    finding_id: str
    instrument_id: str
    type_code: str


CONSUMED: list[type[ConsumedEvent]] = [
    EnterpriseRegistered,
    EnterpriseUpdated,
    ProviderRegistered,
    ProviderDesignated,
    DesignationRenewed,
    DesignationRevoked,
    LaboratoryRegistered,
    LaboratoryAccredited,
    LaboratoryAssessed,
    InstrumentRegistered,
    InstrumentStatusChanged,
    WorkRecorded,
    EnterpriseServiceRecorded,
    CertificateIssued,
    EnterpriseEnrolled,
    EnterpriseWithdrawn,
    AccessRecorded,
    CourseScheduled,
    TraineeCompleted,
    OverdueInstrumentFound,
]
FOLDED_SERVICES = ("registry", "verification", "outreach", "training", "inspection")


def contact_not_read(v1: JsonDict) -> JsonDict:
    """enterprise-enrolled v1 -> v2: the contact (clear in v1, sealed in v2) is not read here; the rest is the same."""
    return v1


def registry() -> EventRegistry:
    events = EventRegistry().register_all(CONSUMED)
    events.upcaster(EnterpriseEnrolled.event_type, 1)(contact_not_read)
    return events
