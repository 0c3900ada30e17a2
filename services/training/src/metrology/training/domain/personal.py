"""A trainee's personal data in the clear, and its validation (only ever held in memory)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from metrology.eventkit.errors import RuleViolationError

ERASED = "erased"
ID_NUMBER = re.compile(r"^(\d{9}|\d{12})$")


@dataclass(frozen=True, slots=True)
class PersonalData:
    full_name: str
    date_of_birth: date
    id_number: str
    phone: str | None = None

    def __post_init__(self) -> None:
        if not ID_NUMBER.match(self.id_number):
            raise RuleViolationError(
                "an ID number has 12 digits (citizen ID) or 9 (old ID card)", field="id_number", rule="id-number"
            )
        if self.date_of_birth >= date.today():
            raise RuleViolationError("a date of birth lies in the past", field="date_of_birth", rule="date-of-birth")
