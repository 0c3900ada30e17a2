"""The measuring-instrument aggregate: a Group 2 instrument owned by an open enterprise, then its status."""

from __future__ import annotations

from metrology.eventkit.aggregate import Aggregate
from metrology.eventkit.errors import ConflictError, RuleViolationError
from metrology.eventkit.events import DomainEvent
from metrology.refdata.group2 import Group2List, UnknownInstrumentTypeError
from metrology.registry.domain.enterprise import Enterprise
from metrology.registry.domain.events import InstrumentRegistered, InstrumentStatusChanged


class Instrument(Aggregate):
    def __init__(self) -> None:
        super().__init__()
        self.instrument_id = ""
        self.status = ""

    def when(self, event: DomainEvent) -> None:
        match event:
            case InstrumentRegistered():
                self.instrument_id, self.status = event.instrument_id, event.status
            case InstrumentStatusChanged():
                self.status = event.status

    def register(self, event: InstrumentRegistered, owner: Enterprise, types: Group2List) -> None:
        if self.exists:
            raise ConflictError(f"instrument {event.instrument_id} is already registered", rule="instrument-exists")
        check_type(event, types)
        check_owner(event.owner_enterprise_id, owner)
        self.record(event)

    def change_status(self, event: InstrumentStatusChanged) -> None:
        if self.status == "retired":
            raise ConflictError("a retired instrument cannot change status", rule="instrument-retired")
        if event.status == self.status:
            raise RuleViolationError(f"the instrument is already {self.status}", field="status", rule="status-same")
        self.record(event)


def check_type(event: InstrumentRegistered, types: Group2List) -> None:
    """The type must be on the Group 2 list in force on the registration date, with type approval if it needs it."""
    try:
        kind = types.type_on(event.type_code, event.occurred_on)
    except UnknownInstrumentTypeError as error:
        raise RuleViolationError(str(error), field="type_code", rule="group2-type-unknown") from None
    if kind.type_approval_required and not event.type_approval_number:
        raise RuleViolationError(
            f"type {kind.code} ({kind.name_en}) needs a type-approval number",
            field="type_approval_number",
            rule="type-approval-required",
        )


def check_owner(enterprise_id: str, owner: Enterprise) -> None:
    if not owner.exists:
        raise RuleViolationError(
            f"no enterprise {enterprise_id} is registered", field="owner_enterprise_id", rule="owner-unknown"
        )
    if owner.closed:
        raise RuleViolationError(
            f"enterprise {enterprise_id} is closed", field="owner_enterprise_id", rule="owner-closed"
        )
