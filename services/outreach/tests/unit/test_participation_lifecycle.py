"""The programme's lifecycle rules, in memory."""

from datetime import date

import pytest

from metrology.eventkit.errors import ConflictError, RuleViolationError
from metrology.eventkit.sealed import SealedPersonalData
from metrology.outreach.domain.events import AreaRating, EnterpriseEnrolled, Objective, registry
from metrology.outreach.domain.participation import Participation, Status

ENROLLED_ON = date(2025, 2, 1)


def enrolled() -> Participation:
    participation = Participation()
    participation.enrol(
        EnterpriseEnrolled(
            occurred_on=ENROLLED_ON, participation_id="p1", enterprise_id="e1", consent=True, contact=None
        )
    )
    return Participation.replay(participation.pending)


def planned() -> Participation:
    participation = enrolled()
    participation.assess(date(2025, 3, 1), "TĐC", [AreaRating(area="staff", rating=2)])
    participation.approve_plan(date(2025, 4, 1), None, [Objective(objective="verify on time")], None)
    return Participation.replay(_history(participation))


def _history(participation: Participation) -> list:
    return [
        EnterpriseEnrolled(
            occurred_on=ENROLLED_ON, participation_id="p1", enterprise_id="e1", consent=True, contact=None
        ),
        *participation.pending,
    ]


def test_enrolment_needs_the_enterprises_consent():
    with pytest.raises(RuleViolationError) as refused:
        Participation().enrol(
            EnterpriseEnrolled(
                occurred_on=ENROLLED_ON, participation_id="p", enterprise_id="e", consent=False, contact=None
            )
        )
    assert refused.value.field == "consent"


def test_no_plan_before_the_current_state_assessment():
    with pytest.raises(RuleViolationError) as refused:
        enrolled().approve_plan(date(2025, 4, 1), None, [Objective(objective="x")], None)
    assert refused.value.rule == "plan-before-assessment"


def test_an_assessment_rates_each_area_once():
    areas = [AreaRating(area="staff", rating=2), AreaRating(area="staff", rating=3)]
    with pytest.raises(RuleViolationError) as refused:
        enrolled().assess(date(2025, 3, 1), "TĐC", areas)
    assert refused.value.field == "areas"


def test_nothing_is_dated_before_the_enrolment():
    with pytest.raises(RuleViolationError) as refused:
        enrolled().assess(date(2025, 1, 1), "TĐC", [AreaRating(area="staff", rating=2)])
    assert refused.value.rule == "date-order"


def test_support_and_evaluation_need_an_approved_plan():
    with pytest.raises(RuleViolationError):
        enrolled().deliver_support(date(2025, 5, 1), "visit", "advice")
    with pytest.raises(RuleViolationError):
        enrolled().evaluate(date(2025, 12, 1), 2025, 0, "none")


def test_a_planned_participation_moves_to_completed_after_an_evaluation():
    participation = planned()
    assert participation.status == Status.PLANNED
    with pytest.raises(RuleViolationError) as refused:
        participation.complete(date(2025, 12, 31), None)
    assert refused.value.rule == "completion-before-evaluation"
    participation.evaluate(date(2025, 12, 15), 2025, 1, "done")
    participation.complete(date(2025, 12, 31), None)
    assert participation.status == Status.COMPLETED


def test_one_evaluation_per_year_and_no_more_objectives_met_than_planned():
    participation = planned()
    with pytest.raises(RuleViolationError):
        participation.evaluate(date(2025, 12, 15), 2025, 2, "too many")
    participation.evaluate(date(2025, 12, 15), 2025, 1, "ok")
    with pytest.raises(ConflictError):
        participation.evaluate(date(2025, 12, 20), 2025, 1, "again")


def test_nothing_is_recorded_after_withdrawal():
    participation = planned()
    participation.withdraw(date(2025, 6, 1), "closed line")
    with pytest.raises(RuleViolationError) as refused:
        participation.deliver_support(date(2025, 6, 2), "visit", "advice")
    assert refused.value.rule == "participation-closed"
    with pytest.raises(RuleViolationError):
        participation.withdraw(date(2025, 6, 3), None)


def test_an_access_counts_only_while_the_enterprise_is_enrolled():
    participation = enrolled()
    participation.withdraw(date(2025, 6, 1), None)
    assert not participation.covers(date(2025, 1, 31)), "before enrolment"
    assert participation.covers(ENROLLED_ON), "on the enrolment day"
    assert participation.covers(date(2025, 5, 31))
    assert not participation.covers(date(2025, 6, 1)), "withdrawn on or before the job's date"
    with pytest.raises(RuleViolationError) as refused:
        participation.record_access("a", date(2025, 6, 2), "verification", "job-1")
    assert refused.value.rule == "access-not-covered"


def test_a_job_recorded_before_a_withdrawal_still_counts_after_it():
    participation = enrolled()
    participation.withdraw(date(2025, 6, 1), None)
    assert participation.record_access("a", date(2025, 5, 20), "calibration", "job-late") is not None


def test_a_job_counts_once_however_often_it_is_recorded():
    participation = enrolled()
    assert participation.record_access("a1", date(2025, 3, 1), "verification", "job-1") is not None
    assert participation.record_access("a2", date(2025, 3, 1), "verification", "job-1") is None
    replayed = Participation.replay(_history(participation))
    assert replayed.record_access("a3", date(2025, 3, 2), "verification", "job-1") is None
    assert len(participation.pending) == 1


def test_a_sealed_contact_is_erased_once_and_the_participation_goes_on():
    participation = Participation()
    sealed = SealedPersonalData(key_id="k1", ciphertext="c2VhbGVk")
    participation.enrol(
        EnterpriseEnrolled(
            occurred_on=ENROLLED_ON, participation_id="p1", enterprise_id="e1", consent=True, contact=sealed
        )
    )
    participation = Participation.replay(participation.pending)
    participation.erase_contact(date(2025, 3, 1))
    with pytest.raises(ConflictError) as refused:
        Participation.replay([*_history_with(sealed), *participation.pending]).erase_contact(date(2025, 3, 2))
    assert refused.value.rule == "contact-erased"
    participation.assess(date(2025, 3, 1), "TĐC", [AreaRating(area="staff", rating=2)])


def _history_with(contact: SealedPersonalData) -> list:
    return [
        EnterpriseEnrolled(
            occurred_on=ENROLLED_ON, participation_id="p1", enterprise_id="e1", consent=True, contact=contact
        )
    ]


def test_an_enrolment_published_as_v1_is_read_without_its_contact_in_clear():
    v1 = {
        "occurred_on": "2025-02-01",
        "participation_id": "p1",
        "enterprise_id": "e1",
        "consent": True,
        "contact_name": "Nguyễn Văn An",
        "contact_phone": "0918 000 111",
    }
    event = registry().load("vn.metrology.outreach.enterprise-enrolled.v1", v1)
    assert isinstance(event, EnterpriseEnrolled)
    assert event.contact is None and "Nguyễn" not in event.model_dump_json()


def test_a_plan_published_as_v1_is_read_without_its_approver_in_clear():
    v1 = {
        "occurred_on": "2025-04-01",
        "participation_id": "p1",
        "enterprise_id": "e1",
        "approved_by": "Trần Thị Bích, Giám đốc",
        "objectives": [{"objective": "verify on time"}],
    }
    event = registry().load("vn.metrology.outreach.plan-approved.v1", v1)
    assert event.approver is None and "Bích" not in event.model_dump_json()  # type: ignore[attr-defined]
