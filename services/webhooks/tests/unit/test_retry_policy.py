"""Retries back off exponentially with jitter, up to a bound; answers map to delivered, retry or gone."""

import pytest

from metrology.webhooks.domain.retries import Outcome, RetryPolicy, outcome_of


def test_the_waits_double_from_the_base_up_to_the_cap():
    policy = RetryPolicy(max_attempts=8, base_seconds=1, cap_seconds=30)
    assert policy.schedule() == [1, 2, 4, 8, 16, 30, 30]


def test_jitter_takes_off_at_most_its_share_of_each_wait():
    policy = RetryPolicy(base_seconds=10, jitter=0.2)
    assert policy.delay(1, rand=lambda: 0.0) == 10
    assert policy.delay(1, rand=lambda: 1.0) == pytest.approx(8)
    assert policy.delay(2, rand=lambda: 0.5) == pytest.approx(18)


def test_the_policy_gives_up_after_the_last_attempt_only():
    policy = RetryPolicy(max_attempts=3)
    assert [policy.gives_up_after(n) for n in (1, 2, 3)] == [False, False, True]


def test_a_policy_needs_an_attempt_and_a_sensible_jitter():
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError):
        RetryPolicy(jitter=1.5)


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, Outcome.DELIVERED),
        (204, Outcome.DELIVERED),
        (299, Outcome.DELIVERED),
        (410, Outcome.GONE),
        (301, Outcome.RETRY),
        (400, Outcome.RETRY),
        (429, Outcome.RETRY),
        (500, Outcome.RETRY),
        (503, Outcome.RETRY),
        (None, Outcome.RETRY),
    ],
)
def test_only_2xx_counts_as_delivered_and_410_as_gone(status, outcome):
    assert outcome_of(status) is outcome
