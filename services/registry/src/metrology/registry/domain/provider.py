"""The Provider aggregate: a verification/calibration/testing provider, its designations and its verifiers.

A designation's status on a day is derived: `revoked` from its revocation date, `expired` after valid_until,
`pending` before valid_from, else `valid`. No event is written for expiry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from metrology.eventkit.aggregate import Aggregate
from metrology.eventkit.errors import ConflictError, NotFoundError, RuleViolationError
from metrology.eventkit.events import DomainEvent
from metrology.refdata.group2 import Group2List, add_months
from metrology.registry.domain.events import (
    DesignationRenewed,
    DesignationRevoked,
    ProviderDesignated,
    ProviderRegistered,
    VerifierCertified,
    VerifierPersonalDataErased,
    VerifierReinstated,
    VerifierSuspended,
)

DESIGNATION_MONTHS = 60  # Circular 24/2013: a designation is valid for 5 years


def default_valid_until(valid_from: date, months: int = DESIGNATION_MONTHS) -> date:
    """Five years from `valid_from`, inclusive (the day before the anniversary)."""
    return add_months(valid_from, months) - timedelta(days=1)


@dataclass
class Designation:
    designation_id: str
    instrument_types: list[str]
    valid_from: date
    valid_until: date
    revoked_on: date | None = None

    def status_on(self, day: date) -> str:
        if self.revoked_on is not None and self.revoked_on <= day:
            return "revoked"
        if day > self.valid_until:
            return "expired"
        return "pending" if day < self.valid_from else "valid"


class Provider(Aggregate):
    def __init__(self) -> None:
        super().__init__()
        self.provider_id = ""
        self.designations: dict[str, Designation] = {}
        self.cards: dict[str, str] = {}  # card number -> verifier id
        self.suspended: set[str] = set()
        self.erased: set[str] = set()  # verifiers whose personal data is erased

    def when(self, event: DomainEvent) -> None:
        match event:
            case ProviderRegistered():
                self.provider_id = event.provider_id
            case ProviderDesignated():
                self.designations[event.designation_id] = Designation(
                    event.designation_id, list(event.instrument_types), event.valid_from, event.valid_until
                )
            case DesignationRenewed():
                self.designations[event.designation_id].valid_until = event.valid_until
            case DesignationRevoked():
                self.designations[event.designation_id].revoked_on = event.occurred_on
            case VerifierCertified():
                self.cards[event.card_number] = event.verifier_id
            case VerifierSuspended():
                self.suspended.add(event.verifier_id)
            case VerifierReinstated():
                self.suspended.discard(event.verifier_id)
            case VerifierPersonalDataErased():
                self.erased.add(event.verifier_id)

    def register(self, event: ProviderRegistered) -> None:
        if self.exists:
            raise ConflictError(f"provider {event.provider_id} is already registered", rule="provider-exists")
        self.record(event)

    def designate(self, event: ProviderDesignated, types: Group2List) -> None:
        self._require_registered()
        if event.valid_until <= event.valid_from:
            raise RuleViolationError(
                "valid_until must be after valid_from", field="valid_until", rule="designation-dates"
            )
        if not event.instrument_types:
            raise RuleViolationError("name at least one instrument type", field="instrument_types", rule="types-empty")
        in_force = set(types.codes(event.occurred_on))
        unknown = [code for code in event.instrument_types if code not in in_force]
        if unknown:
            raise RuleViolationError(
                f"not Group 2 types in force on {event.occurred_on.isoformat()}: {', '.join(unknown)}",
                field="instrument_types",
                rule="group2-type-unknown",
            )
        self.record(event)

    def renew(self, event: DesignationRenewed) -> None:
        designation = self._active_designation(event.designation_id, event.occurred_on)
        if event.valid_until <= designation.valid_until:
            raise RuleViolationError(
                f"a renewal must extend the designation beyond {designation.valid_until.isoformat()}",
                field="valid_until",
                rule="renewal-not-later",
            )
        self.record(event)

    def revoke(self, event: DesignationRevoked) -> None:
        designation = self._active_designation(event.designation_id, event.occurred_on)
        if event.occurred_on < designation.valid_from:
            raise RuleViolationError(
                "a designation cannot be revoked before it starts", field="revoked_on", rule="revocation-date"
            )
        self.record(event)

    def certify(self, event: VerifierCertified) -> None:
        self._require_registered()
        if event.card_valid_until is not None and event.card_valid_until <= event.occurred_on:
            raise RuleViolationError(
                "the card must be valid after the certification date",
                field="card_valid_until",
                rule="card-validity-dates",
            )
        if event.card_number in self.cards:
            raise ConflictError(
                f"card {event.card_number} is already held by a verifier of this provider", rule="card-number-taken"
            )
        self.record(event)

    def suspend(self, event: VerifierSuspended) -> None:
        self._require_verifier(event.verifier_id)
        if event.verifier_id in self.suspended:
            raise ConflictError(f"verifier {event.verifier_id} is already suspended", rule="verifier-suspended")
        self.record(event)

    def reinstate(self, event: VerifierReinstated) -> None:
        self._require_verifier(event.verifier_id)
        if event.verifier_id not in self.suspended:
            raise ConflictError(f"verifier {event.verifier_id} is not suspended", rule="verifier-not-suspended")
        self.record(event)

    def erase_personal_data(self, event: VerifierPersonalDataErased) -> None:
        self._require_verifier(event.verifier_id)
        if event.verifier_id in self.erased:
            raise ConflictError(
                f"verifier {event.verifier_id}'s personal data is already erased", rule="verifier-personal-data-erased"
            )
        self.record(event)

    def is_active_verifier(self, verifier_id: str) -> bool:
        return verifier_id in self.cards.values() and verifier_id not in self.suspended

    def _require_registered(self) -> None:
        if not self.exists:
            raise NotFoundError("no such provider", field="provider_id", rule="provider-unknown")

    def _require_verifier(self, verifier_id: str) -> None:
        self._require_registered()
        if verifier_id not in self.cards.values():
            raise NotFoundError(f"no verifier {verifier_id} at this provider", field="verifier_id")

    def _active_designation(self, designation_id: str, on: date) -> Designation:
        self._require_registered()
        designation = self.designations.get(designation_id)
        if designation is None:
            raise NotFoundError(f"no designation {designation_id} at this provider", field="designation_id")
        status = designation.status_on(on)
        if status in ("revoked", "expired"):
            raise ConflictError(f"designation {designation_id} is {status}", rule=f"designation-{status}")
        return designation
