"""The events reporting folds, as reporting reads them: only the fields the KPIs need."""

from __future__ import annotations

from metrology.eventkit.events import ConsumedEvent, EventRegistry


class TraineeCompleted(ConsumedEvent):
    event_type = "vn.metrology.training.trainee-completed"
    course_id: str
    trainee_id: str
    passed: bool


CONSUMED: list[type[ConsumedEvent]] = [TraineeCompleted]


def registry() -> EventRegistry:
    return EventRegistry().register_all(CONSUMED)
