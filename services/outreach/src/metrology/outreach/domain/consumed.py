"""Other services' events as outreach reads them: only the fields it needs, the rest ignored."""

from __future__ import annotations

from metrology.eventkit.events import ConsumedEvent, EventRegistry


class EnterpriseRegistered(ConsumedEvent):
    event_type = "vn.metrology.registry.enterprise-registered"
    enterprise_id: str
    tax_code: str
    name: str
    sector: str | None = None
    province_code: str | None = None
    commune_code: str | None = None


class EnterpriseUpdated(ConsumedEvent):
    event_type = "vn.metrology.registry.enterprise-updated"
    enterprise_id: str
    name: str | None = None
    sector: str | None = None


class EnterpriseClosed(ConsumedEvent):
    event_type = "vn.metrology.registry.enterprise-closed"
    enterprise_id: str


class InstrumentRegistered(ConsumedEvent):
    event_type = "vn.metrology.registry.instrument-registered"
    instrument_id: str
    owner_enterprise_id: str


class StandardRegistered(ConsumedEvent):
    event_type = "vn.metrology.registry.standard-registered"
    standard_id: str
    owner_id: str


class WorkRecorded(ConsumedEvent):
    """Verification, calibration or testing of an instrument or a standard (occurred_on = date performed)."""

    event_type = "vn.metrology.verification.work-recorded"
    job_id: str
    kind: str
    subject: str
    subject_id: str
    owner_enterprise_id: str | None = None


class EnterpriseServiceRecorded(ConsumedEvent):
    """Calibration, testing, a measurement method or a consultation for any registered enterprise
    (occurred_on = date performed); the enterprise may or may not take part in the programme."""

    event_type = "vn.metrology.verification.enterprise-service-recorded"
    service_id: str
    kind: str
    enterprise_id: str


# the channel an access records for each kind of service
SERVICE_CHANNELS = {
    "calibration": "calibration",
    "testing": "testing",
    "measurement-method": "method",
    "consultation": "consultation",
}


REGISTRY_EVENTS: list[type[ConsumedEvent]] = [
    EnterpriseRegistered,
    EnterpriseUpdated,
    EnterpriseClosed,
    InstrumentRegistered,
    StandardRegistered,
]
VERIFICATION_EVENTS: list[type[ConsumedEvent]] = [WorkRecorded, EnterpriseServiceRecorded]


def registry_events() -> EventRegistry:
    return EventRegistry().register_all(REGISTRY_EVENTS)


def verification_events() -> EventRegistry:
    return EventRegistry().register_all(VERIFICATION_EVENTS)
