"""A small base for event-sourced aggregates: state is rebuilt by folding the stream's events."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Self

from metrology.eventkit.events import DomainEvent


class Aggregate:
    """Subclasses implement `when(event)` to fold one event, and record new events with `record`."""

    def __init__(self) -> None:
        self.version = 0
        self.pending: list[DomainEvent] = []

    @classmethod
    def replay(cls, history: Iterable[DomainEvent]) -> Self:
        aggregate = cls()
        for event in history:
            aggregate.when(event)
            aggregate.version += 1
        return aggregate

    @property
    def exists(self) -> bool:
        return self.version > 0 or bool(self.pending)

    def record(self, event: DomainEvent) -> DomainEvent:
        self.when(event)
        self.pending.append(event)
        return event

    def when(self, event: DomainEvent) -> None:
        raise NotImplementedError
