"""The progress report a province sends upward: CSV (one row per target) and XLSX (one sheet per target).

Each row says both dates it answers for: `as_of` (the business date the facts are counted up to) and `known_at`
(the recording time after which facts were left out; empty: everything recorded when the report was made), so
a report that was sent can be made again, exactly, after late facts arrive."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date, datetime
from enum import StrEnum

from openpyxl import Workbook
from openpyxl.styles import Font

from metrology.reporting.application.progress import TargetProgress
from metrology.reporting.domain.plan import Plan
from metrology.servicekit.cells import neutralised

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
    "known_at",
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


def summary_row(plan: Plan, result: TargetProgress, known_at: datetime | None = None) -> list[object]:
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
        known_at.isoformat() if known_at else None,
        round(result.reading.value, 6),
        round(result.progress, 6),
        result.status.value,
        _round(f.value if f else None),
        _round(f.low if f else None),
        _round(f.high if f else None),
    ]


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def render(
    fmt: Format, plan: Plan, as_of: date, results: Sequence[TargetProgress], *, known_at: datetime | None = None
) -> tuple[bytes, str]:
    if fmt is Format.CSV:
        return render_csv(plan, results, known_at), CSV
    return render_xlsx(plan, as_of, results, known_at), XLSX


def render_csv(plan: Plan, results: Sequence[TargetProgress], known_at: datetime | None = None) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for result in results:
        writer.writerow(neutralised(summary_row(plan, result, known_at)))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")  # the BOM lets spreadsheet programs read Vietnamese


def render_xlsx(plan: Plan, as_of: date, results: Sequence[TargetProgress], known_at: datetime | None = None) -> bytes:
    book = Workbook()
    summary = book.active
    assert summary is not None
    summary.title = "summary"
    known = f" — theo dữ liệu ghi nhận đến / as known on {known_at.isoformat()}" if known_at else ""
    summary.append(neutralised([f"{plan.title.vi} — {as_of.isoformat()}{known}"]))
    summary.append(COLUMNS)
    for result in results:
        summary.append(neutralised(summary_row(plan, result, known_at)))
    for cell in summary[2]:
        cell.font = Font(bold=True)
    for result in results:
        _target_sheet(book, plan, result, known_at)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _target_sheet(book: Workbook, plan: Plan, result: TargetProgress, known_at: datetime | None) -> None:
    sheet = book.create_sheet(result.target.id[:31])

    def append(row: list[object]) -> None:
        sheet.append(neutralised(row))

    for name, value in zip(COLUMNS, summary_row(plan, result, known_at), strict=True):
        append([name, value])
    for key, value in result.reading.details.items():
        append([key, value if isinstance(value, int | float | str) else str(value)])
    append([])
    append(["month", "value"])
    for day, value in result.series:
        append([day.isoformat(), value])
    for name, rows in result.reading.breakdowns.items():
        append([])
        append([f"by {name}", "value"])
        for row in rows:
            append([str(row.get("label") or row["key"]), row["value"]])
