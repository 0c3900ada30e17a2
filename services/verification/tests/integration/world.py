"""A small registry world as the registry service writes it: a province centre designated for scales, an
outside provider, a verifier, a working standard, two enterprises' instruments."""

from __future__ import annotations

from datetime import date

from metrology.eventkit.envelope import Envelope, EventContext
from metrology.eventkit.events import DomainEvent
from metrology.registry.domain import events as r

CENTRE, OUTSIDE = "prov-centre", "prov-outside"
VERIFIER, OUTSIDE_VERIFIER = "ver-1", "ver-9"
STANDARD = "std-mass-1"
SCALE, METER = "inst-scale-1", "inst-meter-1"
OWNER, OTHER_OWNER = "ent-1", "ent-2"


def registry_events() -> list[tuple[str, DomainEvent]]:
    """(stream, event) pairs in the order the registry records them."""
    d = date
    return [
        (f"provider-{CENTRE}", r.ProviderRegistered(
            occurred_on=d(2023, 1, 5), provider_id=CENTRE, name="Trung tâm Kỹ thuật TĐC Bến Tre", ownership="state",
            province_code="83", commune_code="28756", fields=["mass", "electricity"],
            registration_certificate_number="ĐK-001", registration_certificate_date=d(2023, 1, 5))),
        (f"provider-{CENTRE}", r.ProviderDesignated(
            occurred_on=d(2023, 2, 1), provider_id=CENTRE, designation_id="des-1", decision_number="QĐ-12/2023",
            instrument_types=["2.8b", "2.10"], fields=["mass"], valid_from=d(2023, 2, 1), valid_until=d(2028, 1, 31))),
        (f"provider-{CENTRE}", r.VerifierCertified(
            occurred_on=d(2023, 3, 1), provider_id=CENTRE, verifier_id=VERIFIER, card_number="KĐV-83-001",
            personal=None, fields=["mass"], card_valid_until=None)),
        (f"provider-{OUTSIDE}", r.ProviderRegistered(
            occurred_on=d(2023, 1, 5), provider_id=OUTSIDE, name="Trung tâm Đo lường Cần Thơ", ownership="state",
            province_code="92", commune_code="31117", fields=["mass"],
            registration_certificate_number="ĐK-092", registration_certificate_date=d(2023, 1, 5))),
        (f"provider-{OUTSIDE}", r.ProviderDesignated(
            occurred_on=d(2023, 2, 1), provider_id=OUTSIDE, designation_id="des-9", decision_number="QĐ-92/2023",
            instrument_types=["2.8b"], fields=["mass"], valid_from=d(2023, 2, 1), valid_until=d(2028, 1, 31))),
        (f"provider-{OUTSIDE}", r.VerifierCertified(
            occurred_on=d(2023, 3, 1), provider_id=OUTSIDE, verifier_id=OUTSIDE_VERIFIER, card_number="KĐV-92-009",
            personal=None, fields=["mass"], card_valid_until=d(2028, 2, 29))),
        (f"standard-{STANDARD}", r.StandardRegistered(
            occurred_on=d(2023, 1, 10), standard_id=STANDARD, owner_id=CENTRE, name="Bộ quả cân M1",
            quantity="mass", measuring_range="1 g - 20 kg", accuracy="M1", level="working",
            calibrated_against="std-ref-1", certificate_number="HC-2024-001", calibrated_on=d(2024, 12, 1),
            due_on=d(2025, 12, 1))),
        (f"instrument-{SCALE}", r.InstrumentRegistered(
            occurred_on=d(2024, 2, 1), instrument_id=SCALE, type_code="2.8b", serial="CB-0001", manufacturer="Nhơn Hòa",
            owner_enterprise_id=OWNER, province_code="83", commune_code="28756")),
        (f"instrument-{METER}", r.InstrumentRegistered(
            occurred_on=d(2024, 2, 1), instrument_id=METER, type_code="2.8b", serial="CB-0002", manufacturer="Nhơn Hòa",
            owner_enterprise_id=OTHER_OWNER, province_code="83", commune_code="28759")),
    ]  # fmt: skip


def envelopes(pairs: list[tuple[str, DomainEvent]], tenant: str = "83") -> list[Envelope]:
    versions: dict[str, int] = {}
    wrapped = []
    for stream, event in pairs:
        versions[stream] = versions.get(stream, 0) + 1
        context = EventContext(tenant=tenant)
        wrapped.append(
            Envelope.wrap(
                event, source="/metrology/registry", stream_id=stream, stream_version=versions[stream], context=context
            )
        )
    return wrapped


def twin_of(job_id: str) -> str:
    """Another version-7 id with the same random end: the same certificate number, for work of the same year."""
    return ("f" if job_id[0] != "f" else "e") + job_id[1:]
