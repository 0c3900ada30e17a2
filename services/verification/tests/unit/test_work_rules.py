"""The rules a job must meet against the registry as it stood on the job's date."""

from dataclasses import replace
from datetime import date

import pytest

from metrology.eventkit.errors import RuleViolationError
from metrology.verification.domain.events import Measurement
from metrology.verification.domain.work import check_work

from .builders import DESIGNATION, INSTRUMENT, PROVIDER, STANDARD, TODAY, VERIFIER, facts, work


def violated_rule(work_, facts_) -> str | None:
    try:
        check_work(work_, facts_, TODAY)
    except RuleViolationError as error:
        return error.rule
    return None


def with_designation(**changes):
    return replace(PROVIDER, designations=(replace(DESIGNATION, **changes),))


def test_work_meeting_every_rule_is_accepted():
    assert violated_rule(work(), facts()) is None


@pytest.mark.parametrize("day", [date(2024, 1, 1), date(2025, 12, 31)])
def test_the_designation_window_is_inclusive_at_both_ends(day):
    assert violated_rule(work(performed_on=day), facts(working_standard=replace(STANDARD, due_on=day))) is None


@pytest.mark.parametrize("day", [date(2023, 12, 31), date(2026, 1, 1)])
def test_work_outside_the_designation_window_is_refused(day):
    assert violated_rule(work(performed_on=day), facts()) == "provider-not-designated"


def test_a_designation_revoked_on_the_job_date_no_longer_covers_it():
    provider = with_designation(revoked_on=date(2025, 5, 14))
    assert violated_rule(work(), facts(provider=provider)) == "provider-not-designated"


def test_a_designation_revoked_after_the_job_date_still_covers_it():
    provider = with_designation(revoked_on=date(2025, 5, 15))
    assert violated_rule(work(), facts(provider=provider)) is None


def test_a_designation_for_other_types_does_not_cover_the_instrument():
    provider = with_designation(instrument_types=frozenset({"2.43a"}))
    assert violated_rule(work(), facts(provider=provider)) == "provider-not-designated"


def test_a_renewal_extends_the_window_from_its_decision_date_on():
    provider = with_designation(renewals=((date(2025, 12, 20), date(2030, 12, 31)),))
    later = work(performed_on=date(2026, 1, 5))
    assert violated_rule(later, facts(provider=provider, working_standard=replace(STANDARD, due_on=TODAY))) is None
    decided_late = with_designation(renewals=((date(2026, 1, 10), date(2030, 12, 31)),))
    assert violated_rule(later, facts(provider=decided_late)) == "provider-not-designated"


def test_a_provider_missing_from_the_replica_is_refused():
    assert violated_rule(work(), facts(provider=None)) == "provider-unknown"


def test_a_suspended_verifier_may_not_verify():
    verifier = replace(VERIFIER, suspensions=((date(2025, 4, 1), True),))
    assert violated_rule(work(), facts(verifier=verifier)) == "verifier-suspended"


def test_a_reinstated_verifier_may_verify_again():
    verifier = replace(VERIFIER, suspensions=((date(2025, 4, 1), True), (date(2025, 5, 1), False)))
    assert violated_rule(work(), facts(verifier=verifier)) is None


def test_a_suspension_after_the_job_date_does_not_reach_back():
    verifier = replace(VERIFIER, suspensions=((date(2025, 6, 1), True),))
    assert violated_rule(work(), facts(verifier=verifier)) is None


def test_a_verifier_whose_card_covers_another_field_is_refused():
    verifier = replace(VERIFIER, fields=frozenset({"electricity"}))
    assert violated_rule(work(), facts(verifier=verifier)) == "verifier-field-not-covered"


def test_a_verifier_of_another_provider_is_refused():
    verifier = replace(VERIFIER, provider_id="p-2")
    assert violated_rule(work(), facts(verifier=verifier)) == "verifier-unknown"


def test_a_working_standard_due_on_the_job_date_may_still_be_used():
    standard = replace(STANDARD, due_on=date(2025, 5, 14))
    assert violated_rule(work(), facts(working_standard=standard)) is None


def test_a_working_standard_past_its_calibration_due_date_is_refused():
    standard = replace(STANDARD, due_on=date(2025, 5, 13))
    assert violated_rule(work(), facts(working_standard=standard)) == "standard-calibration-expired"


def test_a_verification_must_name_its_working_standard():
    assert violated_rule(work(working_standard_id=None), facts()) == "working-standard-required"


def test_an_instrument_out_of_use_on_the_job_date_is_refused():
    instrument = replace(INSTRUMENT, status_changes=((date(2025, 2, 1), "out-of-use"),))
    assert violated_rule(work(), facts(instrument=instrument)) == "instrument-not-in-use"


def test_an_instrument_back_in_use_may_be_verified():
    changes = ((date(2025, 2, 1), "out-of-use"), (date(2025, 5, 1), "in-use"))
    assert violated_rule(work(), facts(instrument=replace(INSTRUMENT, status_changes=changes))) is None


def test_an_unknown_instrument_is_refused():
    assert violated_rule(work(), facts(instrument=None)) == "instrument-unknown"


def test_work_dated_in_the_future_is_refused():
    assert violated_rule(work(performed_on=date(2026, 2, 1)), facts()) == "performed-in-future"


def test_calibration_needs_measured_values_stated_with_k_2():
    calibration = work(kind="calibration", subject="standard", subject_id="s-1", working_standard_id=None)
    the_facts = facts(instrument=None, standard_subject=STANDARD)
    assert violated_rule(calibration, the_facts) == "calibration-needs-measurements"
    point = Measurement(quantity="mass", nominal=1, measured=1.0001, unit="kg", expanded_uncertainty=0.0002)
    assert violated_rule(replace(calibration, measurements=(point,)), the_facts) is None
    k3 = point.model_copy(update={"coverage_factor": 3.0})
    assert violated_rule(replace(calibration, measurements=(k3,)), the_facts) == "coverage-factor-k2"


def test_calibration_needs_no_designation():
    calibration = work(kind="calibration", mode="periodic", performed_on=date(2023, 6, 1))
    point = Measurement(quantity="mass", nominal=1, measured=1.0, unit="kg", expanded_uncertainty=0.0002)
    standard = replace(STANDARD, due_on=date(2024, 1, 1))
    result = violated_rule(replace(calibration, measurements=(point,)), facts(working_standard=standard))
    assert result is None


def test_a_recalibration_recorded_here_extends_the_standards_due_date_from_its_own_date():
    recalibrated = replace(STANDARD, due_on=date(2025, 3, 1), recalibrations=((date(2025, 2, 20), date(2026, 2, 20)),))
    assert violated_rule(work(), facts(working_standard=recalibrated)) is None
    recalibrated_late = replace(recalibrated, recalibrations=((date(2025, 6, 1), date(2026, 6, 1)),))
    assert violated_rule(work(), facts(working_standard=recalibrated_late)) == "standard-calibration-expired"


def test_a_verifier_whose_card_expired_before_the_job_date_cannot_sign():
    expired = replace(VERIFIER, card_valid_until=date(2025, 5, 13))
    assert violated_rule(work(performed_on=date(2025, 5, 14)), facts(verifier=expired)) == "verifier-card-expired"


def test_a_card_is_valid_through_its_last_day():
    last_day = replace(VERIFIER, card_valid_until=date(2025, 5, 14))
    assert violated_rule(work(performed_on=date(2025, 5, 14)), facts(verifier=last_day)) is None


def test_a_card_with_no_end_date_on_record_does_not_expire():
    assert VERIFIER.card_valid_until is None
    assert violated_rule(work(performed_on=date(2025, 5, 14)), facts()) is None
