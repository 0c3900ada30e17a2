"""A campaign sits within its plan's year and says where it goes and what it inspects."""

from __future__ import annotations

from datetime import date

import pytest

from metrology.eventkit.errors import ConflictError, RuleViolationError
from metrology.inspection.domain.plan import Campaign

from .builders import campaign, launched, plan


def test_a_campaign_within_its_plans_year_is_launched():
    new = Campaign()
    new.launch(plan(), launched())
    assert [e.type_name() for e in new.pending] == ["vn.metrology.inspection.campaign-launched.v1"]
    assert new.covers_day(date(2026, 5, 1)) and not new.covers_day(date(2026, 7, 1))


def test_a_campaign_outside_its_plans_year_is_refused():
    with pytest.raises(RuleViolationError) as refused:
        Campaign().launch(plan(2025), launched())
    assert refused.value.rule == "campaign-in-plan-year"


def test_a_campaign_cannot_end_before_it_starts():
    with pytest.raises(RuleViolationError) as refused:
        Campaign().launch(plan(), launched(ends_on=date(2026, 3, 1)))
    assert refused.value.rule == "campaign-dates"


def test_a_campaign_inspects_instrument_types_or_goods():
    with pytest.raises(RuleViolationError) as refused:
        Campaign().launch(plan(), launched(instrument_types=[], prepackaged_goods=False))
    assert refused.value.rule == "campaign-scope"
    Campaign().launch(plan(), launched(instrument_types=[], prepackaged_goods=True))


def test_a_campaign_is_launched_once():
    with pytest.raises(ConflictError):
        campaign().launch(plan(), launched())
