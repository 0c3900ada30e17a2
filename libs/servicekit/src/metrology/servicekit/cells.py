"""Exported spreadsheet cells that a spreadsheet program would run as a formula are neutralised (OWASP CSV
injection): text beginning with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading apostrophe."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """The value as a spreadsheet should show it: text that could start a formula is prefixed with `'`."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def neutralised(row: Iterable[Any]) -> list[Any]:
    return [neutralise(value) for value in row]
