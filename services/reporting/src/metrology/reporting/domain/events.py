"""Events reporting publishes (`metrology.reporting.v1`)."""

from __future__ import annotations

from datetime import date

from metrology.eventkit.events import DomainEvent, EventRegistry


class TargetStatusChanged(DomainEvent):
    """A plan target moved between on-track, at-risk, met and missed (occurred_on = the date it was evaluated as of)."""

    event_type = "vn.metrology.reporting.target-status-changed"
    plan_id: str
    target_id: str
    tenant: str
    previous_status: str | None
    status: str
    value: float
    forecast: float | None = None
    as_of: date


PUBLISHED = [TargetStatusChanged]


def register_published(registry: EventRegistry) -> EventRegistry:
    return registry.register_all(PUBLISHED)
