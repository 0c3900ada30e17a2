"""The registry events the verification replica folds, as verification reads them: only the fields it needs."""

from __future__ import annotations

from datetime import date

from metrology.eventkit.events import ConsumedEvent, EventRegistry, JsonDict

_REGISTRY = "vn.metrology.registry."


class EnterpriseRegistered(ConsumedEvent):
    event_type = _REGISTRY + "enterprise-registered"
    enterprise_id: str
    tax_code: str
    name: str
    province_code: str
    commune_code: str


class EnterpriseUpdated(ConsumedEvent):
    event_type = _REGISTRY + "enterprise-updated"
    enterprise_id: str
    name: str | None = None
    province_code: str | None = None
    commune_code: str | None = None


class EnterpriseClosed(ConsumedEvent):
    event_type = _REGISTRY + "enterprise-closed"
    enterprise_id: str


class ProviderRegistered(ConsumedEvent):
    event_type = _REGISTRY + "provider-registered"
    provider_id: str
    name: str
    ownership: str
    province_code: str
    commune_code: str


class ProviderDesignated(ConsumedEvent):
    event_type = _REGISTRY + "provider-designated"
    provider_id: str
    designation_id: str
    decision_number: str
    instrument_types: list[str]
    fields: list[str]
    valid_from: date
    valid_until: date


class DesignationRenewed(ConsumedEvent):
    event_type = _REGISTRY + "designation-renewed"
    provider_id: str
    designation_id: str
    valid_until: date


class DesignationRevoked(ConsumedEvent):
    event_type = _REGISTRY + "designation-revoked"
    provider_id: str
    designation_id: str


class VerifierCertified(ConsumedEvent):
    event_type = _REGISTRY + "verifier-certified"
    event_version = 3
    provider_id: str
    verifier_id: str
    card_number: str
    fields: list[str]
    card_valid_until: date | None


def card_validity_not_recorded(v1: JsonDict) -> JsonDict:
    """verifier-certified v1 had no validity: such a card has no end date on record (as the registry reads it)."""
    return {**v1, "card_valid_until": None}


def full_name_not_carried(v2: JsonDict) -> JsonDict:
    """verifier-certified v3 seals the name (`personal`); the replica reads neither, so v2 only loses its name."""
    return {key: value for key, value in v2.items() if key != "full_name"} | {"personal": None}


class VerifierSuspended(ConsumedEvent):
    event_type = _REGISTRY + "verifier-suspended"
    provider_id: str
    verifier_id: str


class VerifierReinstated(ConsumedEvent):
    event_type = _REGISTRY + "verifier-reinstated"
    provider_id: str
    verifier_id: str


class StandardRegistered(ConsumedEvent):
    event_type = _REGISTRY + "standard-registered"
    standard_id: str
    owner_id: str
    quantity: str
    level: str
    calibrated_on: date
    due_on: date
    name: str | None = None
    calibrated_against: str | None = None  # the higher standard (traceability chain)
    national_standard: str | None = None  # when calibrated directly against a national standard
    certificate_number: str | None = None


class InstrumentRegistered(ConsumedEvent):
    event_type = _REGISTRY + "instrument-registered"
    instrument_id: str
    type_code: str
    serial: str
    manufacturer: str = ""
    owner_enterprise_id: str
    province_code: str
    commune_code: str
    status: str = "in-use"


class InstrumentStatusChanged(ConsumedEvent):
    event_type = _REGISTRY + "instrument-status-changed"
    instrument_id: str
    status: str


CONSUMED: list[type[ConsumedEvent]] = [
    EnterpriseRegistered,
    EnterpriseUpdated,
    EnterpriseClosed,
    ProviderRegistered,
    ProviderDesignated,
    DesignationRenewed,
    DesignationRevoked,
    VerifierCertified,
    VerifierSuspended,
    VerifierReinstated,
    StandardRegistered,
    InstrumentRegistered,
    InstrumentStatusChanged,
]


def registry() -> EventRegistry:
    events = EventRegistry().register_all(CONSUMED)
    events.upcaster(VerifierCertified.event_type, 1)(card_validity_not_recorded)
    events.upcaster(VerifierCertified.event_type, 2)(full_name_not_carried)
    return events
