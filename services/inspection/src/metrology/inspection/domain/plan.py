"""The InspectionPlan and Campaign aggregates: a year's plan, then campaigns under it (each launched once).

A campaign falls within its plan's year, ends no earlier than it starts, and covers at least one kind of
venue and something to inspect: instrument types (Group 2 codes) or prepackaged goods.
"""

from __future__ import annotations

from datetime import date

from metrology.eventkit.aggregate import Aggregate
from metrology.eventkit.errors import ConflictError, RuleViolationError
from metrology.eventkit.events import DomainEvent
from metrology.inspection.domain.events import CampaignLaunched, InspectionPlanApproved, VenueKind


class InspectionPlan(Aggregate):
    def __init__(self) -> None:
        super().__init__()
        self.plan_id = ""
        self.year = 0

    def when(self, event: DomainEvent) -> None:
        if isinstance(event, InspectionPlanApproved):
            self.plan_id, self.year = event.plan_id, event.year

    def approve(self, event: InspectionPlanApproved) -> None:
        if self.exists:
            raise ConflictError(f"plan {event.plan_id} is already approved", rule="plan-exists")
        self.record(event)


class Campaign(Aggregate):
    def __init__(self) -> None:
        super().__init__()
        self.campaign_id = ""
        self.starts_on = date.min
        self.ends_on = date.max
        self.venue_kinds: set[VenueKind] = set()
        self.instrument_types: set[str] = set()
        self.prepackaged_goods = False

    def when(self, event: DomainEvent) -> None:
        if isinstance(event, CampaignLaunched):
            self.campaign_id, self.starts_on, self.ends_on = event.campaign_id, event.starts_on, event.ends_on
            self.venue_kinds = set(event.venue_kinds)
            self.instrument_types = set(event.instrument_types)
            self.prepackaged_goods = event.prepackaged_goods

    def launch(self, plan: InspectionPlan, event: CampaignLaunched) -> None:
        if self.exists:
            raise ConflictError(f"campaign {event.campaign_id} is already launched", rule="campaign-exists")
        if event.ends_on < event.starts_on:
            raise RuleViolationError("a campaign cannot end before it starts", field="ends_on", rule="campaign-dates")
        if not (event.starts_on.year == plan.year == event.ends_on.year):
            raise RuleViolationError(
                f"a campaign falls within its plan's year ({plan.year})",
                field="starts_on",
                rule="campaign-in-plan-year",
            )
        if not event.venue_kinds:
            raise RuleViolationError("a campaign covers at least one kind of venue", field="venue_kinds",
                                     rule="campaign-scope")  # fmt: skip
        if not event.instrument_types and not event.prepackaged_goods:
            raise RuleViolationError(
                "a campaign inspects instrument types, prepackaged goods or both",
                field="instrument_types",
                rule="campaign-scope",
            )
        self.record(event)

    def covers_day(self, day: date) -> bool:
        return self.starts_on <= day <= self.ends_on

    def covers_type(self, type_code: str) -> bool:
        return type_code in self.instrument_types
