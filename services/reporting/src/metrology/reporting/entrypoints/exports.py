"""The progress report a province sends upward: CSV (one row per target) and XLSX (one sheet per target)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date
from enum import StrEnum

from openpyxl import Workbook
from openpyxl.styles import Font

from metrology.reporting.application.progress import TargetProgress
from metrology.reporting.domain.plan import Plan

CSV = "text/csv; charset=utf-8"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

COLUMNS = [
    "plan_id",
    "target_id",
    "title_vi",
    "title_en",
    "metric",
    "comparison",
    "threshold",
    "deadline",
    "window_from",
    "window_to",
    "as_of",
    "value",
    "progress",
    "status",
    "forecast",
    "forecast_low",
    "forecast_high",
]


class Format(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


def summary_row(plan: Plan, result: TargetProgress) -> list[object]:
    t, f = result.target, result.forecast
    return [
        plan.id,
        t.id,
        t.title.vi,
        t.title.en,
        t.metric.value,
        t.comparison.value,
        t.threshold,
        t.deadline.isoformat(),
        t.window.start.isoformat(),
        t.window.end.isoformat(),
        result.reading.as_of.isoformat(),
        round(result.reading.value, 6),
        round(result.progress, 6),
        result.status.value,
        _round(f.value if f else None),
        _round(f.low if f else None),
        _round(f.high if f else None),
    ]


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def render(fmt: Format, plan: Plan, as_of: date, results: Sequence[TargetProgress]) -> tuple[bytes, str]:
    if fmt is Format.CSV:
        return render_csv(plan, results), CSV
    return render_xlsx(plan, as_of, results), XLSX


def render_csv(plan: Plan, results: Sequence[TargetProgress]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for result in results:
        writer.writerow(summary_row(plan, result))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")  # the BOM lets spreadsheet programs read Vietnamese


def render_xlsx(plan: Plan, as_of: date, results: Sequence[TargetProgress]) -> bytes:
    book = Workbook()
    summary = book.active
    assert summary is not None
    summary.title = "summary"
    summary.append([f"{plan.title.vi} — {as_of.isoformat()}"])
    summary.append(COLUMNS)
    for result in results:
        summary.append(summary_row(plan, result))
    for cell in summary[2]:
        cell.font = Font(bold=True)
    for result in results:
        _target_sheet(book, plan, result)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _target_sheet(book: Workbook, plan: Plan, result: TargetProgress) -> None:
    sheet = book.create_sheet(result.target.id[:31])
    for name, value in zip(COLUMNS, summary_row(plan, result), strict=True):
        sheet.append([name, value])
    for key, value in result.reading.details.items():
        sheet.append([key, value if isinstance(value, int | float | str) else str(value)])
    sheet.append([])
    sheet.append(["month", "value"])
    for day, value in result.series:
        sheet.append([day.isoformat(), value])
    for name, rows in result.reading.breakdowns.items():
        sheet.append([])
        sheet.append([f"by {name}", "value"])
        for row in rows:
            sheet.append([str(row.get("label") or row["key"]), row["value"]])
