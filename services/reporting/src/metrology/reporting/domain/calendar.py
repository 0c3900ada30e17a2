"""Month arithmetic for monthly series and rolling periods."""

from __future__ import annotations

import calendar
from datetime import date, timedelta


def month_end(day: date) -> date:
    return date(day.year, day.month, calendar.monthrange(day.year, day.month)[1])


def add_months(day: date, months: int) -> date:
    """`day` moved by `months`, clamped to the end of the target month (31 Jan + 1 month = 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def months_between(start: date, end: date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month


def month_ends(start: date, end: date) -> list[date]:
    """The end of every month from `start`'s to `end`'s; the last point is `end` itself when mid-month."""
    points = [month_end(add_months(start, i)) for i in range(months_between(start, end) + 1)]
    if points:
        points[-1] = end
    return points


def rolling_year_start(end: date) -> date:
    """The first day of the twelve months that end on `end`."""
    return add_months(end, -12) + timedelta(days=1)
