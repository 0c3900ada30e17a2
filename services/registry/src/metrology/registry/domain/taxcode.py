"""Vietnamese tax codes (mã số thuế): 10 digits, or 10 digits + `-` + 3 digits for a branch, with a check digit."""

from __future__ import annotations

import re

from metrology.eventkit.errors import RuleViolationError

WEIGHTS = (31, 29, 23, 19, 17, 13, 7, 5, 3)
_FORM = re.compile(r"^\d{10}(-\d{3})?$")


def check_digit(first_nine: str) -> int | None:
    """The tenth digit for `first_nine`, or None when the remainder is 0 (such prefixes are never issued)."""
    remainder = sum(w * int(d) for w, d in zip(WEIGHTS, first_nine, strict=True)) % 11
    if remainder == 0:
        return None
    return 10 - remainder


def complete(first_nine: str) -> str | None:
    """The valid ten-digit code starting with `first_nine`, if one can be issued."""
    digit = check_digit(first_nine)
    return None if digit is None else first_nine + str(digit)


def is_valid(code: str) -> bool:
    if not _FORM.match(code):
        return False
    digit = check_digit(code[:9])
    return digit is not None and digit == int(code[9])


def validate(code: str, field: str = "tax_code") -> str:
    """The normalised code, or a RuleViolationError naming the field and the reason."""
    code = code.strip()
    if not _FORM.match(code):
        raise RuleViolationError(
            f"'{code}' is not a tax code: 10 digits, or 10 digits, '-' and 3 digits for a branch",
            field=field,
            rule="tax-code-format",
        )
    if not is_valid(code):
        raise RuleViolationError(f"'{code}' fails the tax code check digit", field=field, rule="tax-code-check-digit")
    return code
