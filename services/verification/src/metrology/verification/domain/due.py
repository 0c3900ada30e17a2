"""Due dates, derived only from real verifications (never edited by hand).

An instrument is first due on its registration date (its initial verification). Each verification moves the due
date: a pass to its certificate's valid-until date, a failure to the day itself (unfit until verified after
repair), a revoked certificate to its revocation date. Calibration and testing do not move it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from metrology.refdata.group2 import Group2List


@dataclass(frozen=True, slots=True)
class VerificationOutcome:
    performed_on: date
    passed: bool
    valid_until: date | None = None
    revoked_on: date | None = None
    provider_local: bool = True


def due_on(registered_on: date, verifications: Iterable[VerificationOutcome]) -> date | None:
    """The next due date after the latest verification (None: initial verification only, and done)."""
    latest = max(verifications, key=lambda v: v.performed_on, default=None)
    if latest is None:
        return registered_on
    if not latest.passed:
        return latest.performed_on
    if latest.revoked_on is not None:
        return latest.revoked_on
    return latest.valid_until


def is_overdue(due: date | None, day: date) -> bool:
    return due is not None and due < day


def due_dates(
    type_code: str, registered_on: date, verifications: Iterable[VerificationOutcome], intervals: Group2List
) -> list[date]:
    """Every date the instrument fell due (demand): registration, then each passed verification + its interval
    in force on that date."""
    dates = [registered_on]
    for outcome in verifications:
        if outcome.passed:
            following = intervals.next_due(type_code, outcome.performed_on)
            if following is not None:
                dates.append(following)
    return dates


@dataclass(frozen=True, slots=True)
class DemandLine:
    instrument_id: str
    due_in_period: bool
    verified_in_period: bool
    verified_by_local: bool


def demand_line(
    instrument_id: str,
    type_code: str,
    registered_on: date,
    retired_on: date | None,
    verifications: list[VerificationOutcome],
    period: tuple[date, date],
    intervals: Group2List,
) -> DemandLine:
    """Whether the instrument is part of the period's demand, and whether that demand was met (by whom)."""
    start, end = period
    due = [
        d
        for d in due_dates(type_code, registered_on, verifications, intervals)
        if start <= d <= end and (retired_on is None or retired_on >= d)
    ]
    in_period = [v for v in verifications if start <= v.performed_on <= end]
    return DemandLine(
        instrument_id=instrument_id,
        due_in_period=bool(due),
        verified_in_period=bool(in_period),
        verified_by_local=any(v.provider_local for v in in_period),
    )
