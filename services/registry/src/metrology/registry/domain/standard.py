"""The measurement-standard aggregate and its traceability rule (working → reference → national)."""

from __future__ import annotations

from dataclasses import dataclass

from metrology.eventkit.aggregate import Aggregate
from metrology.eventkit.errors import ConflictError, RuleViolationError
from metrology.eventkit.events import DomainEvent
from metrology.registry.domain.events import StandardRegistered


@dataclass(frozen=True)
class HigherStandard:
    """What the rule needs to know of the standard a new one is calibrated against."""

    standard_id: str
    quantity: str
    level: str


class Standard(Aggregate):
    def when(self, event: DomainEvent) -> None:
        pass

    def register(self, event: StandardRegistered, higher: HigherStandard | None) -> None:
        if self.exists:
            raise ConflictError(f"standard {event.standard_id} is already registered", rule="standard-exists")
        if event.due_on <= event.calibrated_on:
            raise RuleViolationError("the due date must follow the calibration", field="due_on", rule="standard-dates")
        check_traceability(event, higher)
        self.record(event)


def check_traceability(event: StandardRegistered, higher: HigherStandard | None) -> None:
    if event.calibrated_against is None:
        if event.level == "working" or not event.national_standard:
            raise RuleViolationError(
                "only a reference standard may be calibrated directly against a national standard (name it)",
                field="calibrated_against",
                rule="traceability-missing",
            )
        return
    if higher is None:
        raise RuleViolationError(
            f"no standard {event.calibrated_against} is registered", field="calibrated_against", rule="standard-unknown"
        )
    if higher.level != "reference":
        raise RuleViolationError(
            "a standard is calibrated against a reference standard",
            field="calibrated_against",
            rule="traceability-level",
        )
    if higher.quantity != event.quantity:
        raise RuleViolationError(
            f"the higher standard measures {higher.quantity}, not {event.quantity}",
            field="calibrated_against",
            rule="traceability-quantity",
        )
