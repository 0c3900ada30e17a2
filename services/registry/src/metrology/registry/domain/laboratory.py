"""The Laboratory aggregate: registered, accredited (ISO/IEC 17025) for windows, assessed against TCVN 13187:2020."""

from __future__ import annotations

from metrology.eventkit.aggregate import Aggregate
from metrology.eventkit.errors import ConflictError, NotFoundError, RuleViolationError
from metrology.eventkit.events import DomainEvent
from metrology.registry.domain.events import LaboratoryAccredited, LaboratoryAssessed, LaboratoryRegistered


class Laboratory(Aggregate):
    def __init__(self) -> None:
        super().__init__()
        self.accreditations: set[str] = set()

    def when(self, event: DomainEvent) -> None:
        if isinstance(event, LaboratoryAccredited):
            self.accreditations.add(event.accreditation_number)

    def register(self, event: LaboratoryRegistered) -> None:
        if self.exists:
            raise ConflictError(f"laboratory {event.laboratory_id} is already registered", rule="laboratory-exists")
        self.record(event)

    def accredit(self, event: LaboratoryAccredited) -> None:
        self._require_registered()
        if event.valid_until <= event.valid_from:
            raise RuleViolationError(
                "valid_until must be after valid_from", field="valid_until", rule="accreditation-dates"
            )
        if event.accreditation_number in self.accreditations:
            raise ConflictError(
                f"accreditation {event.accreditation_number} is already recorded", rule="accreditation-recorded"
            )
        self.record(event)

    def assess(self, event: LaboratoryAssessed) -> None:
        self._require_registered()
        self.record(event)

    def _require_registered(self) -> None:
        if not self.exists:
            raise NotFoundError("no such laboratory", field="laboratory_id", rule="laboratory-unknown")
