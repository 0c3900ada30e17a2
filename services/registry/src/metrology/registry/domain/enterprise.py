"""The Enterprise aggregate: registered once with a valid tax code, updated, closed."""

from __future__ import annotations

from metrology.eventkit.aggregate import Aggregate
from metrology.eventkit.errors import ConflictError, RuleViolationError
from metrology.eventkit.events import DomainEvent
from metrology.registry.domain import taxcode
from metrology.registry.domain.events import EnterpriseClosed, EnterpriseRegistered, EnterpriseUpdated


class Enterprise(Aggregate):
    def __init__(self) -> None:
        super().__init__()
        self.enterprise_id = ""
        self.tax_code = ""
        self.closed = False

    def when(self, event: DomainEvent) -> None:
        match event:
            case EnterpriseRegistered():
                self.enterprise_id, self.tax_code = event.enterprise_id, event.tax_code
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

    def _require_open(self, action: str) -> None:
        if self.closed:
            raise ConflictError(f"enterprise {self.enterprise_id} is closed: cannot {action}", rule="enterprise-closed")
