"""Where a monthly series lands by a deadline: a least-squares line through the last twelve months.

Method: fit value = a + b·month over the last `window` points of the series (month 0 = the first of them), project
the line to the deadline's month, and give a 95 % prediction interval ŷ ± 1.96·s·√(1 + 1/n + (x₀ − x̄)²/Sxx),
s being the residual standard error. With fewer than three points the forecast is the last value (no trend).
Cumulative counts never fall, so their forecast and interval are not below today's value; shares stay in [0, 1].
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from metrology.reporting.domain.calendar import months_between

METHOD = "least-squares linear trend over the last 12 monthly values, 95% prediction interval"
# The same note in each language the dashboard and the exports speak.
METHOD_TEXT = {
    "vi": "xu hướng tuyến tính bình phương tối thiểu trên 12 giá trị tháng gần nhất, khoảng dự báo 95%",
    "en": METHOD,
}
Z95 = 1.96


@dataclass(frozen=True, slots=True)
class Forecast:
    value: float
    low: float
    high: float
    slope_per_month: float
    points: int
    method: str = METHOD


def forecast(
    series: Sequence[tuple[date, float]],
    deadline: date,
    *,
    window: int = 12,
    floor: float | None = None,
    ceiling: float | None = None,
) -> Forecast | None:
    if not series:
        return None
    recent = list(series)[-window:]
    last_day, last_value = recent[-1]
    if len(recent) < 3 or deadline <= last_day:
        return _bounded(Forecast(last_value, last_value, last_value, 0.0, len(recent)), floor, ceiling)
    first_day = recent[0][0]
    xs = [float(months_between(first_day, day)) for day, _ in recent]
    ys = [value for _, value in recent]
    slope, intercept, spread = _least_squares(xs, ys)
    x0 = float(months_between(first_day, deadline))
    predicted = intercept + slope * x0
    n = len(xs)
    mean_x = sum(xs) / n
    sxx = sum((x - mean_x) ** 2 for x in xs)
    half_width = Z95 * spread * math.sqrt(1 + 1 / n + ((x0 - mean_x) ** 2 / sxx if sxx else 0.0))
    return _bounded(Forecast(predicted, predicted - half_width, predicted + half_width, slope, n), floor, ceiling)


def _least_squares(xs: list[float], ys: list[float]) -> tuple[float, float, float]:
    n = len(xs)
    mean_x, mean_y = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mean_x) ** 2 for x in xs)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / sxx if sxx else 0.0
    intercept = mean_y - slope * mean_x
    residuals = [y - (intercept + slope * x) for x, y in zip(xs, ys, strict=True)]
    spread = math.sqrt(sum(r * r for r in residuals) / (n - 2)) if n > 2 else 0.0
    return slope, intercept, spread


def _bounded(result: Forecast, floor: float | None, ceiling: float | None) -> Forecast:
    def clamp(value: float) -> float:
        if floor is not None:
            value = max(value, floor)
        if ceiling is not None:
            value = min(value, ceiling)
        return value

    return Forecast(
        clamp(result.value),
        clamp(result.low),
        clamp(result.high),
        result.slope_per_month,
        result.points,
        result.method,
    )
