"""The Campaign aggregate: a communication campaign (tuyên truyền) held once."""

from __future__ import annotations

from metrology.eventkit.aggregate import Aggregate
from metrology.eventkit.errors import ConflictError, RuleViolationError
from metrology.eventkit.events import DomainEvent
from metrology.outreach.domain.events import CampaignHeld


class Campaign(Aggregate):
    def when(self, event: DomainEvent) -> None:
        pass

    def hold(self, event: CampaignHeld) -> None:
        if self.exists:
            raise ConflictError(f"campaign {event.campaign_id} is already recorded", rule="campaign-exists")
        if event.enterprise_ids and len(set(event.enterprise_ids)) > event.enterprises_reached:
            raise RuleViolationError(
                "enterprises_reached cannot be less than the enterprises listed",
                field="enterprises_reached",
                rule="campaign-reach",
            )
        self.record(event)
