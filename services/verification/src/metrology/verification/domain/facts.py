"""What the write side knows of the registry, as of a date: snapshots read from the local replica.

Every fact keeps its dated history (renewals, revocations, suspensions, status changes) so that a job is checked
against the registry as it stood on the job's own date, whenever the job is recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar

T = TypeVar("T")


def _latest_on(changes: Sequence[tuple[date, T]], day: date, default: T) -> T:
    """The value of the last change dated on or before `day` (changes in recording order)."""
    value = default
    for changed_on, new_value in sorted(changes, key=lambda change: change[0]):
        if changed_on <= day:
            value = new_value
    return value


@dataclass(frozen=True, slots=True)
class Designation:
    designation_id: str
    instrument_types: frozenset[str]
    fields: frozenset[str]
    valid_from: date
    valid_until: date
    renewals: tuple[tuple[date, date], ...] = ()
    revoked_on: date | None = None

    def valid_until_on(self, day: date) -> date:
        """The end of the window as known on `day`: renewals decided after `day` do not count for it."""
        return max([self.valid_until, *(until for decided_on, until in self.renewals if decided_on <= day)])

    def in_force_on(self, day: date) -> bool:
        revoked = self.revoked_on is not None and self.revoked_on <= day
        return not revoked and self.valid_from <= day <= self.valid_until_on(day)

    def covers(self, type_code: str, day: date) -> bool:
        return type_code in self.instrument_types and self.in_force_on(day)


@dataclass(frozen=True, slots=True)
class Provider:
    provider_id: str
    name: str
    province_code: str
    designations: tuple[Designation, ...] = ()

    def designation_for(self, type_code: str, day: date) -> Designation | None:
        return next((d for d in self.designations if d.covers(type_code, day)), None)

    def is_local_to(self, province_code: str) -> bool:
        return self.province_code == province_code


@dataclass(frozen=True, slots=True)
class Verifier:
    verifier_id: str
    provider_id: str
    card_number: str
    fields: frozenset[str]
    certified_on: date
    suspensions: tuple[tuple[date, bool], ...] = ()
    """(date, suspended?) for each suspension (True) and reinstatement (False)."""
    card_valid_until: date | None = None
    """The last day the card may be used (None: no end date on record)."""

    def suspended_on(self, day: date) -> bool:
        return _latest_on(self.suspensions, day, False)

    def card_expired_on(self, day: date) -> bool:
        return self.card_valid_until is not None and day > self.card_valid_until

    def holds_any(self, fields: frozenset[str]) -> bool:
        return bool(self.fields & fields)


@dataclass(frozen=True, slots=True)
class Standard:
    standard_id: str
    owner_id: str
    level: str
    calibrated_on: date
    due_on: date
    recalibrations: tuple[tuple[date, date], ...] = ()
    """(date performed, valid until) of the calibration certificates this service issued for the standard."""

    def due_on_for(self, day: date) -> date:
        """The calibration due date as it stood on `day`: the registry's, or a later recalibration's."""
        return max([self.due_on, *(until for performed_on, until in self.recalibrations if performed_on <= day)])


@dataclass(frozen=True, slots=True)
class Instrument:
    instrument_id: str
    type_code: str
    serial: str
    owner_enterprise_id: str
    province_code: str
    commune_code: str
    registered_on: date
    status_changes: tuple[tuple[date, str], ...] = field(default=())

    def status_on(self, day: date) -> str:
        return _latest_on(self.status_changes, day, "in-use")


@dataclass(frozen=True, slots=True)
class Facts:
    """The registry facts one job depends on (None: the replica has not heard of it)."""

    provider: Provider | None
    verifier: Verifier | None
    instrument: Instrument | None = None
    standard_subject: Standard | None = None
    working_standard: Standard | None = None
