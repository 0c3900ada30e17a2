"""The rules a service to an enterprise meets before it is recorded (pure domain, no storage)."""

from __future__ import annotations

from datetime import date

import pytest

from metrology.eventkit.errors import RuleViolationError
from metrology.verification.domain.service import EnterpriseService, ServedEnterprise, record_service

TODAY = date(2025, 6, 1)
ENTERPRISE = ServedEnterprise("ent-1", "Công ty Dừa Bến Tre", "83", "28756")


def service(on: date = date(2025, 5, 14), kind: str = "consultation") -> EnterpriseService:
    return EnterpriseService(kind, "ent-1", "prov-1", on, "Tư vấn đo lường", "REF-1")  # type: ignore[arg-type]


def test_a_service_to_a_registered_open_enterprise_becomes_its_event_with_the_enterprises_place():
    event = record_service("s-1", service(), ENTERPRISE, "83", TODAY)

    assert (event.service_id, event.kind, event.occurred_on) == ("s-1", "consultation", date(2025, 5, 14))
    assert (event.enterprise_province_code, event.enterprise_commune_code) == ("83", "28756")
    assert (event.provider_province_code, event.external_reference) == ("83", "REF-1")


@pytest.mark.parametrize(
    ("enterprise", "on", "rule"),
    [
        (None, date(2025, 5, 14), "enterprise-unknown"),
        (ENTERPRISE, date(2025, 6, 2), "performed-in-future"),
        (
            ServedEnterprise("ent-1", "X", "83", "28756", closed_on=date(2025, 5, 14)),
            date(2025, 5, 14),
            "enterprise-closed",
        ),
    ],
)
def test_a_service_is_refused_for_an_unknown_or_closed_enterprise_or_a_future_date(enterprise, on, rule):
    with pytest.raises(RuleViolationError) as refused:
        record_service("s-1", service(on), enterprise, "83", TODAY)

    assert refused.value.rule == rule


def test_a_service_before_the_enterprise_closed_is_still_recorded():
    closed_later = ServedEnterprise("ent-1", "X", "83", "28756", closed_on=date(2025, 5, 15))

    assert record_service("s-1", service(), closed_later, "83", TODAY).enterprise_id == "ent-1"
