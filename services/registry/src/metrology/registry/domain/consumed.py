"""Other services' events as the registry reads them: only the fields it needs, the rest ignored."""

from __future__ import annotations

from metrology.eventkit.events import ConsumedEvent, EventRegistry


class InstrumentFoundUnregistered(ConsumedEvent):
    """An instrument in use that the registry does not know, found at a state inspection (occurred_on = visit)."""

    event_type = "vn.metrology.inspection.instrument-found-unregistered"
    visit_id: str
    finding_id: str
    type_code: str
    serial: str
    enterprise_id: str | None = None
    venue_name: str
    commune_code: str


def inspection_events() -> EventRegistry:
    return EventRegistry().register_all([InstrumentFoundUnregistered])
