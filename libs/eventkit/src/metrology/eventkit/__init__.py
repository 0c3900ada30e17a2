"""The event-sourcing kit: envelope, event registry, store, outbox relay, projector runner, topics."""

from metrology.eventkit.envelope import Envelope, EventContext
from metrology.eventkit.events import DomainEvent, EventParseError, EventRegistry, UnknownEventTypeError
from metrology.eventkit.store import ConcurrencyError, EventStore, Position, RecordedEvent

__all__ = [
    "ConcurrencyError",
    "DomainEvent",
    "Envelope",
    "EventContext",
    "EventParseError",
    "EventRegistry",
    "EventStore",
    "Position",
    "RecordedEvent",
    "UnknownEventTypeError",
]
