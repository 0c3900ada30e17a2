"""Other services' events as the inspection replica reads them: only the fields it needs, the rest ignored."""

from __future__ import annotations

from datetime import date

from metrology.eventkit.events import ConsumedEvent, EventRegistry

_REGISTRY = "vn.metrology.registry."
_VERIFICATION = "vn.metrology.verification."


class EnterpriseRegistered(ConsumedEvent):
    event_type = _REGISTRY + "enterprise-registered"
    enterprise_id: str
    tax_code: str
    name: str


class InstrumentRegistered(ConsumedEvent):
    event_type = _REGISTRY + "instrument-registered"
    instrument_id: str
    type_code: str
    serial: str
    owner_enterprise_id: str
    commune_code: str
    status: str = "in-use"


class InstrumentStatusChanged(ConsumedEvent):
    event_type = _REGISTRY + "instrument-status-changed"
    instrument_id: str
    status: str


class CertificateIssued(ConsumedEvent):
    """occurred_on = the date of the work the certificate records."""

    event_type = _VERIFICATION + "certificate-issued"
    certificate_number: str
    subject_id: str
    valid_until: date | None


class CertificateRevoked(ConsumedEvent):
    event_type = _VERIFICATION + "certificate-revoked"
    certificate_number: str


class InstrumentFellOverdue(ConsumedEvent):
    """An instrument in use passed its due date without a verification (occurred_on = its first day overdue)."""

    event_type = _VERIFICATION + "instrument-fell-overdue"
    instrument_id: str
    due_on: date


class InstrumentMarkedUnfit(ConsumedEvent):
    """An instrument failed a verification (occurred_on = the date performed)."""

    event_type = _VERIFICATION + "instrument-marked-unfit"
    job_id: str
    subject_id: str


CONSUMED: list[type[ConsumedEvent]] = [
    EnterpriseRegistered,
    InstrumentRegistered,
    InstrumentStatusChanged,
    CertificateIssued,
    CertificateRevoked,
    InstrumentFellOverdue,
    InstrumentMarkedUnfit,
]


def registry() -> EventRegistry:
    return EventRegistry().register_all(CONSUMED)
