from datetime import date

import pytest

from metrology.eventkit.errors import RuleViolationError
from metrology.registry.domain import events as ev
from metrology.registry.domain.standard import HigherStandard, Standard


def standard(**overrides: object) -> ev.StandardRegistered:
    data = {
        "occurred_on": date(2024, 1, 1),
        "standard_id": "s2",
        "owner_id": "lab",
        "name": "Bình chuẩn 20 L",
        "quantity": "volume",
        "measuring_range": "20 L",
        "accuracy": "±0.05 %",
        "level": "working",
        "calibrated_against": "s1",
        "certificate_number": "C1",
        "calibrated_on": date(2024, 1, 1),
        "due_on": date(2025, 1, 1),
    }
    return ev.StandardRegistered.model_validate(data | overrides)


REFERENCE = HigherStandard("s1", "volume", "reference")


def rule_of(event: ev.StandardRegistered, higher: HigherStandard | None) -> str | None:
    with pytest.raises(RuleViolationError) as caught:
        Standard().register(event, higher)
    return caught.value.rule


def test_a_working_standard_is_calibrated_against_a_reference_standard_of_the_same_quantity():
    Standard().register(standard(), REFERENCE)
    assert rule_of(standard(), HigherStandard("s1", "mass", "reference")) == "traceability-quantity"
    assert rule_of(standard(), HigherStandard("s1", "volume", "working")) == "traceability-level"
    assert rule_of(standard(), None) == "standard-unknown"


def test_only_a_reference_standard_may_sit_under_a_named_national_standard():
    top = standard(level="reference", calibrated_against=None, national_standard="VMI volume")
    Standard().register(top, None)
    assert rule_of(standard(calibrated_against=None, national_standard="VMI"), None) == "traceability-missing"
    assert rule_of(standard(level="reference", calibrated_against=None), None) == "traceability-missing"


def test_the_due_date_follows_the_calibration():
    assert rule_of(standard(due_on=date(2024, 1, 1)), REFERENCE) == "standard-dates"
