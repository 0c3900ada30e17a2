"""Event types for tests of the kit itself."""

from metrology.eventkit.events import DomainEvent, EventRegistry


class ThingCounted(DomainEvent):
    """A thing was counted."""

    event_type = "vn.metrology.test.thing-counted"
    event_version = 2
    thing: str
    amount: int


def registry() -> EventRegistry:
    reg = EventRegistry().register_all([ThingCounted])

    @reg.upcaster("vn.metrology.test.thing-counted", 1)
    def amount_defaults_to_one(data: dict) -> dict:
        return data | {"amount": 1}

    return reg
