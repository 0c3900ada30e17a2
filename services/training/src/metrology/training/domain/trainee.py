"""The Trainee aggregate: registered once with sealed personal data; erasable once, after which it is anonymous."""

from __future__ import annotations

from datetime import date

from metrology.eventkit.aggregate import Aggregate
from metrology.eventkit.errors import ConflictError
from metrology.eventkit.events import DomainEvent
from metrology.training.domain.events import TraineeErased, TraineeRegistered


class Trainee(Aggregate):
    def __init__(self) -> None:
        super().__init__()
        self.trainee_id = ""
        self.key_id = ""
        self.erased = False

    def when(self, event: DomainEvent) -> None:
        match event:
            case TraineeRegistered():
                self.trainee_id, self.key_id = event.trainee_id, event.personal.key_id
            case TraineeErased():
                self.erased = True

    def register(self, event: TraineeRegistered) -> None:
        if self.exists:
            raise ConflictError(f"trainee {event.trainee_id} is already registered", rule="trainee-exists")
        self.record(event)

    def erase(self, on: date) -> None:
        if self.erased:
            raise ConflictError(f"trainee {self.trainee_id}'s personal data is already erased", rule="trainee-erased")
        self.record(TraineeErased(occurred_on=on, trainee_id=self.trainee_id, key_id=self.key_id))
