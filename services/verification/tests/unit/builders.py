"""Builders of registry facts and work for the unit tests (a scale, a provider designated for it, a verifier)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from metrology.refdata.group2 import group2
from metrology.verification.domain.certificates import QrSigner
from metrology.verification.domain.facts import Designation, Facts, Instrument, Provider, Standard, Verifier
from metrology.verification.domain.job import Context
from metrology.verification.domain.work import Work

SCALE = "2.8b"  # platform / counter / hanging scale: 12 months
TODAY = date(2026, 1, 15)
SIGNER = QrSigner("unit-test-secret")

DESIGNATION = Designation(
    designation_id="d-1",
    instrument_types=frozenset({SCALE, "2.10"}),
    fields=frozenset({"mass"}),
    valid_from=date(2024, 1, 1),
    valid_until=date(2025, 12, 31),
)
PROVIDER = Provider("p-1", "Trung tâm Kỹ thuật TĐC Bến Tre", "83", (DESIGNATION,))
VERIFIER = Verifier("v-1", "p-1", "KĐV-0001", frozenset({"mass"}), certified_on=date(2023, 6, 1))
STANDARD = Standard("s-1", "p-1", "working", calibrated_on=date(2025, 1, 10), due_on=date(2026, 1, 10))
INSTRUMENT = Instrument("i-1", SCALE, "SN-001", "e-1", "83", "28756", registered_on=date(2024, 3, 1))


def facts(**changes: Any) -> Facts:
    return replace(
        Facts(provider=PROVIDER, verifier=VERIFIER, instrument=INSTRUMENT, working_standard=STANDARD), **changes
    )


def work(**changes: Any) -> Work:
    base = Work(
        kind="verification",
        mode="periodic",
        subject="instrument",
        subject_id="i-1",
        provider_id="p-1",
        verifier_id="v-1",
        procedure="ĐLVN 14:2009",
        performed_on=date(2025, 5, 14),
        result="pass",
        working_standard_id="s-1",
    )
    return replace(base, **changes)


def context(province_code: str = "83", intervals: Any = None) -> Context:
    return Context(TODAY, province_code, intervals or group2(), SIGNER)
