from datetime import date

import pytest

from metrology.reporting.domain.calendar import add_months, month_end, month_ends
from metrology.reporting.domain.forecast import forecast


def monthly(values: list[float], start: date = date(2025, 1, 31)) -> list[tuple[date, float]]:
    return [(month_end(add_months(start, i)), v) for i, v in enumerate(values)]


def test_a_straight_line_is_projected_exactly_to_the_deadline_with_no_spread():
    series = monthly([2.0 * i for i in range(12)])  # Jan..Dec 2025, +2 a month
    result = forecast(series, date(2026, 12, 31))
    assert result is not None
    assert result.value == pytest.approx(22.0 + 24.0)
    assert result.low == pytest.approx(result.high) == pytest.approx(46.0)
    assert result.slope_per_month == pytest.approx(2.0)


def test_only_the_last_twelve_months_set_the_trend():
    series = monthly([0.0] * 12 + [float(i) for i in range(12)])
    result = forecast(series, date(2027, 12, 31))
    assert result is not None and result.slope_per_month == pytest.approx(1.0)


def test_a_noisy_series_gets_an_interval_around_the_forecast():
    series = monthly([0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13])
    result = forecast(series, date(2026, 6, 30))
    assert result is not None
    assert result.low < result.value < result.high


def test_cumulative_counts_are_not_forecast_below_today():
    series = monthly([10, 9, 8, 7, 6, 5])
    result = forecast(series, date(2026, 12, 31), floor=5)
    assert result is not None and result.value == result.low == 5


def test_shares_stay_between_zero_and_one():
    result = forecast(monthly([0.5, 0.7, 0.9]), date(2030, 12, 31), floor=0.0, ceiling=1.0)
    assert result is not None and result.value == 1.0


def test_fewer_than_three_months_forecast_the_last_value():
    result = forecast(monthly([1, 4]), date(2030, 12, 31))
    assert result is not None and (result.value, result.slope_per_month) == (4, 0.0)
    assert forecast([], date(2030, 12, 31)) is None


def test_month_ends_end_on_the_day_asked_and_clamp_to_short_months():
    assert month_ends(date(2025, 1, 15), date(2025, 3, 10)) == [date(2025, 1, 31), date(2025, 2, 28), date(2025, 3, 10)]
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
