"""A visit's record: findings judged against the registry replica, violations on findings, decisions on
violations, follow-up verifications due after the visit."""

from __future__ import annotations

from datetime import date

import pytest

from metrology.eventkit.errors import ConflictError, RuleViolationError
from metrology.inspection.domain.events import DecisionIssued, FindingRecorded, VisitRecorded
from metrology.inspection.domain.visit import Sighting, Visit

from .builders import VISIT_DAY, campaign, dispenser, visit

BY_ID = Sighting("instrument", instrument_id="inst-1")
UNREGISTERED = Sighting("instrument", type_code="2.19", serial="CD-9", defects=("no-stamp",))


def types(v: Visit) -> list[str]:
    return [e.type_name().split(".")[-2] for e in v.pending]


def decision(violation_ids: list[str], sanction: str = "fine", fine_vnd: int = 7_500_000, **changes: object):
    fields = {"occurred_on": VISIT_DAY, "visit_id": "v1", "decision_id": "d1", "decision_number": "15/QĐ-XPVPHC",
              "violation_ids": violation_ids, "sanction": sanction, "fine_vnd": fine_vnd, "remedies": [],
              "issued_by": "Chánh Thanh tra"}  # fmt: skip
    return DecisionIssued.model_validate(fields | changes)


def test_a_registered_instrument_with_a_valid_certificate_is_found_compliant():
    v = visit()
    finding = v.record_finding("f1", BY_ID, dispenser(), campaign())
    assert (finding.registry_status, finding.verification_status, finding.defects) == ("registered", "valid", [])
    assert finding.type_code == "2.19" and finding.owner_enterprise_id == "ent-1"
    assert types(v) == ["finding-recorded"]


def test_a_registered_instrument_past_its_certificate_is_found_overdue_and_counted_as_demand_not_met():
    v = visit()
    finding = v.record_finding("f1", BY_ID, dispenser(valid_until=date(2026, 3, 31)), campaign())
    assert finding.verification_status == "overdue" and finding.defects == ["overdue"]
    assert types(v) == ["finding-recorded", "overdue-instrument-found"]
    overdue = v.pending[1]
    assert overdue.instrument_id == "inst-1" and overdue.valid_until == date(2026, 3, 31)  # type: ignore[attr-defined]


def test_a_registered_instrument_never_verified_is_overdue_and_one_with_no_periodic_cycle_is_not():
    never = visit().record_finding("f1", BY_ID, dispenser(verified=False, valid_until=None), campaign())
    assert never.verification_status == "overdue" and never.valid_until is None
    initial_only = visit().record_finding("f1", BY_ID, dispenser(valid_until=None), campaign())
    assert initial_only.verification_status == "valid"


def test_an_instrument_unknown_to_the_registry_is_found_unregistered_for_the_registry_to_act_on():
    v = visit()
    finding = v.record_finding("f1", UNREGISTERED, None, campaign())
    assert (finding.registry_status, finding.defects) == ("unregistered", ["no-stamp", "not-registered"])
    assert types(v) == ["finding-recorded", "instrument-found-unregistered"]
    found = v.pending[1]
    assert (found.type_code, found.serial, found.enterprise_id) == ("2.19", "CD-9", "ent-1")  # type: ignore[attr-defined]


def test_an_instrument_is_named_by_registry_id_or_by_type_and_serial_never_both_or_neither():
    for sighting in [
        Sighting("instrument"),
        Sighting("instrument", instrument_id="inst-1", serial="CD-1"),
        Sighting("instrument", type_code="2.19"),
        Sighting("prepackaged-goods", instrument_id="inst-1"),
    ]:
        with pytest.raises(RuleViolationError) as refused:
            visit().record_finding("f1", sighting, None, campaign())
        assert refused.value.rule == "finding-identity"


def test_a_registry_id_the_replica_does_not_know_is_refused():
    with pytest.raises(RuleViolationError) as refused:
        visit().record_finding("f1", BY_ID, None, campaign())
    assert refused.value.rule == "instrument-unknown"


def test_an_instrument_type_outside_the_campaign_is_refused():
    with pytest.raises(RuleViolationError) as refused:
        visit().record_finding("f1", Sighting("instrument", type_code="2.2", serial="T-1"), None, campaign())
    assert refused.value.rule == "type-outside-campaign"


def test_prepackaged_goods_are_found_short_only_in_a_campaign_that_covers_them():
    goods = Sighting("prepackaged-goods", product="Nước mắm 500 ml", defects=("quantity-short",))
    finding = visit().record_finding("f1", goods, None, campaign())
    assert (finding.subject, finding.registry_status, finding.defects) == (
        "prepackaged-goods", "not-applicable", ["quantity-short"],
    )  # fmt: skip
    with pytest.raises(RuleViolationError) as refused:
        visit().record_finding("f1", goods, None, campaign(prepackaged_goods=False))
    assert refused.value.rule == "goods-outside-campaign"
    with pytest.raises(RuleViolationError) as wrong:
        visit().record_finding("f1", Sighting("instrument", instrument_id="inst-1", defects=("quantity-short",)),
                               dispenser(), campaign())  # fmt: skip
    assert wrong.value.rule == "finding-defects"


def test_the_same_instrument_is_found_once_per_visit():
    v = visit()
    v.record_finding("f1", BY_ID, dispenser(), campaign())
    with pytest.raises(ConflictError):
        v.record_finding("f2", BY_ID, dispenser(), campaign())


def test_a_violation_rests_on_findings_with_defects():
    v = visit()
    v.record_finding("ok", BY_ID, dispenser(), campaign())
    v.record_finding("bad", UNREGISTERED, None, campaign())
    with pytest.raises(RuleViolationError) as compliant:
        v.record_violation("x1", ["ok"], "NĐ 119/2017", "…")
    assert compliant.value.rule == "finding-compliant"
    with pytest.raises(RuleViolationError) as unknown:
        v.record_violation("x1", ["nowhere"], "NĐ 119/2017", "…")
    assert unknown.value.rule == "finding-unknown"
    v.record_violation("x1", ["bad"], "NĐ 119/2017/NĐ-CP, Điều 8", "cột đo chưa đăng ký, không có tem")
    assert types(v)[-1] == "violation-recorded"


def test_a_decision_settles_violations_of_the_visit_once_and_a_fine_names_its_amount():
    v = visit()
    v.record_finding("bad", UNREGISTERED, None, campaign())
    v.record_violation("x1", ["bad"], "NĐ 119/2017", "…")
    for wrong, rule in [
        (decision(["x9"]), "violation-unknown"),
        (decision(["x1"], fine_vnd=0), "decision-fine"),
        (decision(["x1"], sanction="warning", fine_vnd=100), "decision-fine"),
        (decision(["x1"], occurred_on=date(2026, 4, 1)), "dated-before-visit"),
    ]:
        with pytest.raises(RuleViolationError) as refused:
            v.issue_decision(wrong)
        assert refused.value.rule == rule
    v.issue_decision(decision(["x1"]))
    with pytest.raises(ConflictError) as again:
        v.issue_decision(decision(["x1"], decision_id="d2", decision_number="16/QĐ-XPVPHC"))
    assert again.value.rule == "violation-decided"


def test_a_follow_up_verification_is_due_after_it_is_ordered_and_ordered_once():
    v = visit()
    v.record_finding("f1", BY_ID, dispenser(valid_until=date(2026, 3, 31)), campaign())
    with pytest.raises(RuleViolationError) as refused:
        v.order_follow_up("o1", "f1", VISIT_DAY, VISIT_DAY)
    assert refused.value.rule == "follow-up-due-date"
    v.order_follow_up("o1", "f1", VISIT_DAY, date(2026, 5, 14))
    ordered = v.pending[-1]
    assert (ordered.instrument_id, ordered.type_code, ordered.due_on) == ("inst-1", "2.19", date(2026, 5, 14))  # type: ignore[attr-defined]
    with pytest.raises(ConflictError):
        v.order_follow_up("o2", "f1", VISIT_DAY, date(2026, 6, 1))


def test_a_replayed_visit_keeps_its_findings_and_refuses_the_same_instrument_again():
    v = visit()
    v.record_finding("f1", UNREGISTERED, None, campaign())
    found = [e for e in v.pending if isinstance(e, FindingRecorded)]
    replayed = Visit.replay([*_recorded_visit(), *found])
    assert replayed.version == 2 and "f1" in replayed.findings
    with pytest.raises(ConflictError):
        replayed.record_finding("f2", UNREGISTERED, None, campaign())


def _recorded_visit() -> list[VisitRecorded]:
    return [
        VisitRecorded(
            occurred_on=VISIT_DAY, visit_id="v1", campaign_id="c1", record_number="BB-07/2026",
            venue_kind="fuel-station", venue_name="Cửa hàng xăng dầu số 5", enterprise_id="ent-1",
            commune_code="28756", inspectors=["Nguyễn Văn A"],
        )
    ]  # fmt: skip
