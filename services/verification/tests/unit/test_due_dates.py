"""Due dates come from the last real verification; demand counts each instrument once per period."""

from datetime import date

from metrology.refdata.group2 import group2
from metrology.verification.domain.certificates import status_on
from metrology.verification.domain.due import VerificationOutcome, demand_line, due_on, is_overdue

REGISTERED = date(2024, 3, 1)


def test_an_instrument_never_verified_is_due_on_its_registration_date():
    assert due_on(REGISTERED, []) == REGISTERED


def test_a_pass_moves_the_due_date_to_the_certificates_valid_until():
    history = [VerificationOutcome(date(2024, 3, 5), True, date(2025, 3, 5))]
    assert due_on(REGISTERED, history) == date(2025, 3, 5)


def test_only_the_latest_verification_counts():
    history = [
        VerificationOutcome(date(2025, 3, 1), True, date(2026, 3, 1)),
        VerificationOutcome(date(2024, 3, 5), True, date(2025, 3, 5)),
    ]
    assert due_on(REGISTERED, history) == date(2026, 3, 1)


def test_a_failure_makes_the_instrument_due_at_once():
    history = [
        VerificationOutcome(date(2024, 3, 5), True, date(2025, 3, 5)),
        VerificationOutcome(date(2024, 9, 1), False),
    ]
    assert due_on(REGISTERED, history) == date(2024, 9, 1)
    assert is_overdue(date(2024, 9, 1), date(2024, 9, 2))


def test_a_revoked_certificate_makes_the_instrument_due_on_the_revocation_date():
    history = [VerificationOutcome(date(2024, 3, 5), True, date(2025, 3, 5), revoked_on=date(2024, 6, 1))]
    assert due_on(REGISTERED, history) == date(2024, 6, 1)


def test_certificate_status_is_valid_expired_or_revoked():
    assert status_on(date(2025, 1, 1), date(2025, 1, 1), revoked=False) == "valid"
    assert status_on(date(2025, 1, 2), date(2025, 1, 1), revoked=False) == "expired"
    assert status_on(date(2024, 1, 2), date(2025, 1, 1), revoked=True) == "revoked"


def test_demand_counts_an_instrument_due_in_the_period_met_only_by_a_local_provider():
    passed = VerificationOutcome(date(2024, 3, 5), True, date(2025, 3, 5), provider_local=True)
    outside = VerificationOutcome(date(2025, 3, 2), True, date(2026, 3, 2), provider_local=False)
    year_2025 = (date(2025, 1, 1), date(2025, 12, 31))
    line = demand_line("i-1", "2.8b", REGISTERED, None, [passed, outside], year_2025, group2())
    assert line.due_in_period and line.verified_in_period and not line.verified_by_local
    local = VerificationOutcome(date(2025, 3, 2), False, provider_local=True)
    line = demand_line("i-1", "2.8b", REGISTERED, None, [passed, local], year_2025, group2())
    assert line.verified_by_local, "a failed verification by a local provider still meets the demand"


def test_an_instrument_retired_before_its_due_date_is_not_demand():
    passed = VerificationOutcome(date(2024, 3, 5), True, date(2025, 3, 5))
    year_2025 = (date(2025, 1, 1), date(2025, 12, 31))
    line = demand_line("i-1", "2.8b", REGISTERED, date(2025, 2, 1), [passed], year_2025, group2())
    assert not line.due_in_period


def test_the_registration_date_is_a_due_date_for_the_initial_verification():
    line = demand_line("i-1", "2.8b", REGISTERED, None, [], (date(2024, 1, 1), date(2024, 12, 31)), group2())
    assert line.due_in_period and not line.verified_in_period
