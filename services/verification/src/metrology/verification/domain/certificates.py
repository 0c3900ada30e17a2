"""Certificates: their numbers, how long they stay valid, their status, and the signed QR payload on the sticker."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import date
from typing import Literal

from metrology.eventkit.errors import RuleViolationError
from metrology.eventkit.ids import distinctive_part
from metrology.refdata.group2 import Group2List, UnknownInstrumentTypeError
from metrology.verification.domain.events import Kind
from metrology.verification.domain.facts import Facts
from metrology.verification.domain.work import Work

QR_SCHEME = "MTRL1"
Status = Literal["valid", "expired", "revoked"]
_PREFIX: dict[Kind, str] = {"verification": "KD", "calibration": "HC", "testing": "TN"}


def certificate_number(kind: Kind, performed_on: date, job_id: str) -> str:
    """E.g. `KD-2025-1A2B3C4D5E` (kiểm định), `HC-` (hiệu chuẩn), `TN-` (thử nghiệm): unique by job."""
    return f"{_PREFIX[kind]}-{performed_on.year}-{_short(job_id)}"


def record_number(performed_on: date, job_id: str) -> str:
    """The number of the record (biên bản) a failed verification yields."""
    return f"BB-{performed_on.year}-{_short(job_id)}"


def sticker_serial(performed_on: date, job_id: str) -> str:
    return f"TEM-{performed_on.year}-{_short(job_id)}"


def _short(job_id: str) -> str:
    return distinctive_part(job_id, 10).upper()


def valid_until(work: Work, facts: Facts, intervals: Group2List) -> date | None:
    """Date performed + the interval in force for the type on that date (verification of an instrument);
    otherwise the date the provider states (a calibration interval is the owner's choice), or none."""
    if work.is_instrument_verification and facts.instrument is not None:
        try:
            return intervals.next_due(facts.instrument.type_code, work.performed_on)
        except UnknownInstrumentTypeError as error:
            raise RuleViolationError(str(error), field="subject_id", rule="type-not-in-group2") from error
    if work.valid_until is not None and work.valid_until <= work.performed_on:
        raise RuleViolationError(
            "a certificate must stay valid after the date performed", field="valid_until", rule="valid-until-order"
        )
    return work.valid_until


def status_on(day: date, valid_until: date | None, revoked: bool) -> Status:
    if revoked:
        return "revoked"
    if valid_until is not None and valid_until < day:
        return "expired"
    return "valid"


class InvalidQrError(ValueError):
    """A QR payload that is malformed or whose signature does not match (forged or altered)."""


@dataclass(frozen=True, slots=True)
class QrSigner:
    """Signs `MTRL1|<number>|<valid_until>` with an HMAC, so a payload naming another date or number fails."""

    secret: str

    def payload(self, number: str, until: date | None) -> str:
        body = f"{QR_SCHEME}|{number}|{until.isoformat() if until else '-'}"
        return f"{body}|{self._signature(body)}"

    def verify(self, payload: str) -> tuple[str, date | None]:
        parts = payload.strip().split("|")
        if len(parts) != 4 or parts[0] != QR_SCHEME:
            raise InvalidQrError(f"not a {QR_SCHEME} certificate payload")
        body, signature = "|".join(parts[:3]), parts[3]
        if not hmac.compare_digest(signature, self._signature(body)):
            raise InvalidQrError("the payload's signature does not match")
        try:
            until = None if parts[2] == "-" else date.fromisoformat(parts[2])
        except ValueError as error:
            raise InvalidQrError("the payload's date is not a date") from error
        return parts[1], until

    def _signature(self, body: str) -> str:
        digest = hmac.new(self.secret.encode(), body.encode(), hashlib.sha256).digest()
        return base64.b32encode(digest[:10]).decode().rstrip("=")
