"""A small world as the registry and verification services write it: an enterprise with three fuel
dispensers in Bến Tre (one verified, one past its certificate, one never verified) and another province's."""

from __future__ import annotations

from datetime import date

from metrology.eventkit.envelope import Envelope, EventContext
from metrology.eventkit.events import DomainEvent
from metrology.registry.domain import events as r
from metrology.verification.domain import events as v

OWNER = "ent-petro-1"
VERIFIED, LAPSED, NEVER, ELSEWHERE = "inst-cd-1", "inst-cd-2", "inst-cd-3", "inst-cd-86"


def _dispenser(instrument_id: str, serial: str, province: str = "83", commune: str = "28756") -> r.InstrumentRegistered:
    return r.InstrumentRegistered(
        occurred_on=date(2024, 1, 10), instrument_id=instrument_id, type_code="2.19", serial=serial,
        manufacturer="Tatsuno", owner_enterprise_id=OWNER, province_code=province, commune_code=commune,
    )  # fmt: skip


def _certificate(number: str, subject_id: str, performed_on: date, valid_until: date) -> v.CertificateIssued:
    return v.CertificateIssued(
        occurred_on=performed_on, certificate_number=number, job_id=f"job-{number}", kind="verification",
        subject_id=subject_id, valid_until=valid_until, sticker_serial=f"T-{number}", qr_payload=number,
    )  # fmt: skip


def registry_events() -> list[tuple[str, DomainEvent]]:
    return [
        (f"enterprise-{OWNER}", r.EnterpriseRegistered(
            occurred_on=date(2023, 5, 1), enterprise_id=OWNER, tax_code="1300123456", name="Công ty Xăng dầu Bến Tre",
            sector="fuel retail", address="Phường 1", province_code="83", commune_code="28756")),
        (f"instrument-{VERIFIED}", _dispenser(VERIFIED, "CD-0001")),
        (f"instrument-{LAPSED}", _dispenser(LAPSED, "CD-0002")),
        (f"instrument-{NEVER}", _dispenser(NEVER, "CD-0003")),
    ]  # fmt: skip


def other_province_events() -> list[tuple[str, DomainEvent]]:
    return [(f"instrument-{ELSEWHERE}", _dispenser(ELSEWHERE, "CD-0086", province="86", commune="29500"))]


def verification_events() -> list[tuple[str, DomainEvent]]:
    return [
        (f"job-{VERIFIED}", _certificate("KĐ-2026-001", VERIFIED, date(2026, 2, 1), date(2027, 2, 1))),
        (f"job-{LAPSED}", _certificate("KĐ-2025-002", LAPSED, date(2025, 3, 1), date(2026, 3, 1))),
    ]


def envelopes(pairs: list[tuple[str, DomainEvent]], source: str, tenant: str = "83") -> list[Envelope]:
    versions: dict[str, int] = {}
    wrapped = []
    for stream, event in pairs:
        versions[stream] = versions.get(stream, 0) + 1
        wrapped.append(
            Envelope.wrap(event, source=source, stream_id=stream, stream_version=versions[stream],
                          context=EventContext(tenant=tenant))
        )  # fmt: skip
    return wrapped
