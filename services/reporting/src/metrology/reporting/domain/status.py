"""A target's status from its value today and its forecast at the deadline."""

from __future__ import annotations

from datetime import date

from metrology.reporting.domain.forecast import Forecast
from metrology.reporting.domain.plan import Metric, Status, Target

CUMULATIVE = {Metric.PERSON_TIMES_TRAINED, Metric.ENTERPRISE_TIMES}


def target_status(target: Target, value: float, projected: Forecast | None, as_of: date) -> Status:
    """Met: a cumulative count has reached the threshold, or any other metric holds it at the deadline.

    Missed: the as-of date is after the deadline and the target is not met. Otherwise on-track when the
    forecast at the deadline meets the threshold, at-risk when it does not (on the deadline day itself: at-risk
    unless already met). Before its window opens a target is not started (nothing to judge yet).
    """
    if as_of < target.window.start:
        return Status.NOT_STARTED
    holds_now = target.comparison.holds(value, target.threshold)
    if holds_now and (target.metric in CUMULATIVE or as_of >= target.deadline):
        return Status.MET
    if as_of > target.deadline:
        return Status.MISSED
    if as_of == target.deadline:
        return Status.AT_RISK
    expected = projected.value if projected else value
    return Status.ON_TRACK if target.comparison.holds(expected, target.threshold) else Status.AT_RISK


def progress(target: Target, value: float) -> float:
    """The share of the threshold reached (1.0 and above: reached)."""
    return value / target.threshold if target.threshold else 1.0
