"""The Enterprise aggregate: registered once with a valid tax code, updated, closed; its contact person erased."""

from __future__ import annotations

from metrology.eventkit.aggregate import Aggregate
from metrology.eventkit.errors import ConflictError, RuleViolationError
from metrology.eventkit.events import DomainEvent
from metrology.registry.domain import taxcode
from metrology.registry.domain.events import (
    EnterpriseClosed,
    EnterpriseContactErased,
    EnterpriseRegistered,
    EnterpriseUpdated,
)


class Enterprise(Aggregate):
    def __init__(self) -> None:
        super().__init__()
        self.enterprise_id = ""
        self.tax_code = ""
        self.closed = False
        self.has_contact = False

    def when(self, event: DomainEvent) -> None:
        match event:
            case EnterpriseRegistered():
                self.enterprise_id, self.tax_code = event.enterprise_id, event.tax_code
                self.has_contact = _names_a_contact(event)
            case EnterpriseUpdated():
                self.has_contact = self.has_contact or _names_a_contact(event)
            case EnterpriseContactErased():
                self.has_contact = False
            case EnterpriseClosed():
                self.closed = True

    def register(self, event: EnterpriseRegistered) -> None:
        if self.exists:
            raise ConflictError(f"enterprise {event.enterprise_id} is already registered", rule="enterprise-exists")
        taxcode.validate(event.tax_code)
        self.record(event)

    def update(self, event: EnterpriseUpdated) -> None:
        self._require_open("update")
        if not event.model_dump(exclude={"occurred_on", "enterprise_id"}, exclude_none=True):
            raise RuleViolationError("nothing to update", field="body", rule="enterprise-update-empty")
        self.record(event)

    def close(self, event: EnterpriseClosed) -> None:
        self._require_open("close")
        self.record(event)

    def erase_contact(self, event: EnterpriseContactErased) -> None:
        """Erasure is allowed on a closed enterprise too; there must be a contact left to erase."""
        if not self.has_contact:
            raise ConflictError(
                f"enterprise {self.enterprise_id} has no contact person on record", rule="enterprise-contact-erased"
            )
        self.record(event)

    def _require_open(self, action: str) -> None:
        if self.closed:
            raise ConflictError(f"enterprise {self.enterprise_id} is closed: cannot {action}", rule="enterprise-closed")


def _names_a_contact(event: EnterpriseRegistered | EnterpriseUpdated) -> bool:
    return any(
        value is not None for value in (event.contact, event.contact_name, event.contact_phone, event.contact_email)
    )
