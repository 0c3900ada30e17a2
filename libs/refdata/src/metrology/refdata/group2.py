"""The Group 2 list (Circular 23/2013/TT-BKHCN as amended): instrument types and their verification intervals.

Each row applies from `valid_from` until `valid_until` (open when empty). A later amendment is added as new rows
with its own dates; the old rows get a `valid_until`, so a verification is always computed with the interval in
force for its type on its date. The base list carries `valid_from` 2019-01-01 as the date from which this
consolidated version is taken to apply (the list in the shared data has no per-row dates); rows added by
Circular 03/2024 apply from 2024-10-15.
"""

from __future__ import annotations

import calendar
import csv
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources


@dataclass(frozen=True, slots=True)
class InstrumentType:
    code: str
    name_en: str
    name_vi: str
    cycle_months: int | None
    type_approval_required: bool
    valid_from: date
    valid_until: date | None
    source: str
    note: str

    def in_force_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_until is None or day <= self.valid_until)

    @property
    def initial_verification_only(self) -> bool:
        return self.cycle_months is None


class UnknownInstrumentTypeError(LookupError):
    pass


class Group2List:
    def __init__(self, rows: list[InstrumentType]) -> None:
        self.rows = rows

    def codes(self, on: date) -> list[str]:
        return [row.code for row in self.rows if row.in_force_on(on)]

    def type_on(self, code: str, on: date) -> InstrumentType:
        for row in self.rows:
            if row.code == code and row.in_force_on(on):
                return row
        raise UnknownInstrumentTypeError(f"'{code}' is not a Group 2 instrument type in force on {on.isoformat()}")

    def next_due(self, code: str, verified_on: date) -> date | None:
        """The date a verification passed on `verified_on` stays valid until (None: no periodic verification)."""
        months = self.type_on(code, verified_on).cycle_months
        return None if months is None else add_months(verified_on, months)


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@cache
def group2() -> Group2List:
    """The shipped list (loaded once, on first use)."""
    text = resources.files("metrology.refdata").joinpath("data/group2_instruments.csv").read_text(encoding="utf-8")
    return Group2List([_row(r) for r in csv.DictReader(text.splitlines())])


def _row(raw: dict[str, str]) -> InstrumentType:
    return InstrumentType(
        code=raw["code"],
        name_en=raw["name_en"],
        name_vi=raw["name_vi"],
        cycle_months=int(raw["cycle_months"]) if raw["cycle_months"] else None,
        type_approval_required=raw["type_approval_required"] == "yes",
        valid_from=date.fromisoformat(raw["valid_from"]),
        valid_until=date.fromisoformat(raw["valid_until"]) if raw["valid_until"] else None,
        source=raw["source"],
        note=raw["note"],
    )
