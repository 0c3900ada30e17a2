"""Events of the registry service: enterprises, providers, laboratories, standards and measuring instruments.

Streams: `enterprise-<id>`, `provider-<id>` (designations and verifiers live in the provider's stream),
`laboratory-<id>`, `standard-<id>`, `instrument-<id>`. Administrative codes are the ones valid on the fact's date.
A designation's expiry is derived (valid_until in the past), not an event: see the service README.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from metrology.eventkit.events import DomainEvent, EventRegistry, JsonDict
from metrology.eventkit.sealed import SealedPersonalData

Ownership = Literal["state", "socialised"]
StandardLevel = Literal["reference", "working"]
InstrumentStatus = Literal["in-use", "out-of-use", "retired"]


class EnterpriseRegistered(DomainEvent):
    """An enterprise (doanh nghiệp) was registered with its tax code (mã số thuế), once per tenant.

    The contact person travels only sealed (`contact`: name, phone, email under the person's data key, erased
    with it); `contact_name`, `contact_phone` and `contact_email` are no longer written (events recorded before
    sealing may hold them).
    """

    event_type = "vn.metrology.registry.enterprise-registered"
    enterprise_id: str
    tax_code: str
    name: str
    sector: str
    address: str
    province_code: str
    commune_code: str
    contact_name: str | None = None
    contact_phone: str | None = None
    contact_email: str | None = None
    contact: SealedPersonalData | None = None


class EnterpriseUpdated(DomainEvent):
    """Some of an enterprise's details changed; only the changed fields are set (contact details sealed in
    `contact`, as in enterprise-registered)."""

    event_type = "vn.metrology.registry.enterprise-updated"
    enterprise_id: str
    name: str | None = None
    sector: str | None = None
    address: str | None = None
    province_code: str | None = None
    commune_code: str | None = None
    contact_name: str | None = None
    contact_phone: str | None = None
    contact_email: str | None = None
    contact: SealedPersonalData | None = None


class EnterpriseContactErased(DomainEvent):
    """The enterprise's contact person was erased: their data key is destroyed, every sealed copy unreadable."""

    event_type = "vn.metrology.registry.enterprise-contact-erased"
    enterprise_id: str


class EnterpriseClosed(DomainEvent):
    """An enterprise closed (giải thể / ngừng hoạt động): no instrument can be registered to it any more."""

    event_type = "vn.metrology.registry.enterprise-closed"
    enterprise_id: str
    reason: str | None = None


class ProviderRegistered(DomainEvent):
    """A verification / calibration / testing provider was registered (Decree 105/2016 service registration)."""

    event_type = "vn.metrology.registry.provider-registered"
    provider_id: str
    name: str
    ownership: Ownership
    tax_code: str | None = None
    address: str | None = None
    province_code: str
    commune_code: str
    fields: list[str]
    registration_certificate_number: str
    registration_certificate_date: date


class ProviderDesignated(DomainEvent):
    """A provider was designated (chỉ định) to verify the listed Group 2 instrument types, valid_from..valid_until."""

    event_type = "vn.metrology.registry.provider-designated"
    provider_id: str
    designation_id: str
    decision_number: str
    instrument_types: list[str]
    fields: list[str]
    valid_from: date
    valid_until: date


class DesignationRenewed(DomainEvent):
    """A designation was renewed: it is now valid until `valid_until`."""

    event_type = "vn.metrology.registry.designation-renewed"
    provider_id: str
    designation_id: str
    valid_until: date
    decision_number: str | None = None


class DesignationRevoked(DomainEvent):
    """A designation was revoked (occurred_on is the revocation date)."""

    event_type = "vn.metrology.registry.designation-revoked"
    provider_id: str
    designation_id: str
    reason: str


class VerifierCertified(DomainEvent):
    """A verifier (kiểm định viên) of a provider was certified, with a card number, fields and the card's validity.

    v2: `card_valid_until` (the last day the card may be used) is always stated, null when the card carries no
    end date. v1 events had no such field; they are read with `card_valid_until = null` (see
    `card_validity_not_recorded`).
    v3: the verifier's name travels only sealed under their data key (`personal`: full_name), erased with it;
    v2's plaintext `full_name` is not carried forward (see `full_name_not_carried`).
    """

    event_type = "vn.metrology.registry.verifier-certified"
    event_version = 3
    provider_id: str
    verifier_id: str
    card_number: str
    personal: SealedPersonalData | None
    fields: list[str]
    card_valid_until: date | None


def card_validity_not_recorded(v1: JsonDict) -> JsonDict:
    """verifier-certified v1 -> v2: the validity was not recorded before v2, so the card has no end date on record.

    No date is invented (e.g. certification + 5 years): a made-up expiry would stop verifiers whose cards are
    in fact valid; a card renewed or limited since is recorded as a new certification.
    """
    return {**v1, "card_valid_until": None}


def full_name_not_carried(v2: JsonDict) -> JsonDict:
    """verifier-certified v2 -> v3: a name recorded in clear is not carried into the sealed field.

    `personal = null` reads as "no personal data in the event"; the name of such a verifier stays where it was
    recorded (the registry's query table) until erased there.
    """
    return {key: value for key, value in v2.items() if key != "full_name"} | {"personal": None}


class VerifierPersonalDataErased(DomainEvent):
    """A verifier's personal data was erased: their data key is destroyed, every sealed copy unreadable."""

    event_type = "vn.metrology.registry.verifier-personal-data-erased"
    provider_id: str
    verifier_id: str


class VerifierSuspended(DomainEvent):
    """A verifier was suspended: they may not verify until reinstated."""

    event_type = "vn.metrology.registry.verifier-suspended"
    provider_id: str
    verifier_id: str
    reason: str | None = None


class VerifierReinstated(DomainEvent):
    """A suspended verifier was reinstated."""

    event_type = "vn.metrology.registry.verifier-reinstated"
    provider_id: str
    verifier_id: str


class LaboratoryRegistered(DomainEvent):
    """A measurement laboratory was registered with its owner organisation and location."""

    event_type = "vn.metrology.registry.laboratory-registered"
    laboratory_id: str
    name: str
    owner: str
    address: str | None = None
    province_code: str
    commune_code: str
    registration_number: str | None = None  # optional (added later): unique per tenant when given


class LaboratoryAccredited(DomainEvent):
    """A laboratory was accredited (ISO/IEC 17025) for a scope and a validity window."""

    event_type = "vn.metrology.registry.laboratory-accredited"
    laboratory_id: str
    accreditation_number: str
    standard: str = "ISO/IEC 17025"
    accreditation_body: str | None = None
    scope: list[str]
    valid_from: date
    valid_until: date


class LaboratoryAssessed(DomainEvent):
    """A laboratory was assessed against the national criteria set (occurred_on is the assessment date)."""

    event_type = "vn.metrology.registry.laboratory-assessed"
    laboratory_id: str
    assessment_id: str
    criteria: str = "TCVN 13187:2020"
    passed: bool
    assessor: str


class StandardRegistered(DomainEvent):
    """A measurement standard was registered; `calibrated_against` names the higher standard it is traceable to
    (None for a reference standard calibrated directly against a national standard, named in `national_standard`)."""

    event_type = "vn.metrology.registry.standard-registered"
    standard_id: str
    owner_id: str
    name: str
    quantity: str
    measuring_range: str
    accuracy: str
    level: StandardLevel
    calibrated_against: str | None = None
    national_standard: str | None = None
    certificate_number: str
    calibrated_on: date
    due_on: date


class InstrumentRegistered(DomainEvent):
    """A Group 2 measuring instrument was registered to its owner enterprise, at its place of use."""

    event_type = "vn.metrology.registry.instrument-registered"
    instrument_id: str
    type_code: str
    serial: str
    manufacturer: str
    model: str | None = None
    type_approval_number: str | None = None
    owner_enterprise_id: str
    province_code: str
    commune_code: str
    status: InstrumentStatus = "in-use"


class InstrumentStatusChanged(DomainEvent):
    """An instrument's status changed (in use, out of use, retired)."""

    event_type = "vn.metrology.registry.instrument-status-changed"
    instrument_id: str
    status: InstrumentStatus
    reason: str | None = None


ALL_EVENTS: list[type[DomainEvent]] = [
    EnterpriseRegistered,
    EnterpriseUpdated,
    EnterpriseClosed,
    EnterpriseContactErased,
    ProviderRegistered,
    ProviderDesignated,
    DesignationRenewed,
    DesignationRevoked,
    VerifierCertified,
    VerifierSuspended,
    VerifierReinstated,
    VerifierPersonalDataErased,
    LaboratoryRegistered,
    LaboratoryAccredited,
    LaboratoryAssessed,
    StandardRegistered,
    InstrumentRegistered,
    InstrumentStatusChanged,
]


def registry() -> EventRegistry:
    events = EventRegistry().register_all(ALL_EVENTS)
    events.upcaster(VerifierCertified.event_type, 1)(card_validity_not_recorded)
    events.upcaster(VerifierCertified.event_type, 2)(full_name_not_carried)
    return events
