"""Reading the lists provinces keep today: CSV (UTF-8, with or without BOM) and XLSX (first sheet, header row 1)."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import date, datetime

from openpyxl import load_workbook

from metrology.eventkit.errors import RuleViolationError
from metrology.servicekit.cells import neutralised
from metrology.servicekit.limits import SpreadsheetLimits, bounded_rows, check_xlsx_archive

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# (spreadsheet row number, {header: text}); the header is row 1, so data starts at row 2.
Rows = list[tuple[int, dict[str, str]]]


LIMITS = SpreadsheetLimits()


async def read_upload(content: bytes, content_type: str | None = None, limits: SpreadsheetLimits = LIMITS) -> Rows:
    """`read_rows` in a worker thread: parsing never holds the event loop."""
    return await asyncio.to_thread(read_rows, content, content_type, limits)


def read_rows(content: bytes, content_type: str | None = None, limits: SpreadsheetLimits = LIMITS) -> Rows:
    if content.startswith(b"PK") or (content_type or "").startswith(XLSX):
        return _xlsx_rows(content, limits)
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RuleViolationError("the file is neither UTF-8 CSV nor XLSX", field="file", rule="file-format") from None
    lines = bounded_rows(csv.reader(io.StringIO(text)), limits)
    header = [cell.strip() for cell in next(lines, [])]
    return [
        (number, _clean(dict(zip(header, [*values, *[""] * (len(header) - len(values))], strict=False))))
        for number, values in enumerate(lines, start=2)
        if any((v or "").strip() for v in values)
    ]


def _xlsx_rows(content: bytes, limits: SpreadsheetLimits) -> Rows:
    check_xlsx_archive(content, limits)
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as error:
        raise RuleViolationError(f"the XLSX file cannot be read: {error}", field="file", rule="file-format") from None
    sheet = workbook.worksheets[0]
    sheet.reset_dimensions()  # type: ignore[union-attr]  # a declared dimension would pad every row to it
    lines = bounded_rows(sheet.iter_rows(values_only=True), limits)
    header = [str(cell).strip() if cell is not None else "" for cell in next(lines, [])]
    rows: Rows = []
    for number, values in enumerate(lines, start=2):
        padded = [*values, *[None] * (len(header) - len(values))]
        cells = {name: _text(value) for name, value in zip(header, padded, strict=False) if name}
        if any(cells.values()):
            rows.append((number, cells))
    workbook.close()
    return rows


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _clean(row: dict[str, str]) -> dict[str, str]:
    return {key.strip(): (value or "").strip() for key, value in row.items() if key}


def write_xlsx(header: list[str], rows: list[list[str]]) -> bytes:
    """An XLSX file with every cell as text (tax codes keep their leading zero)."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for line in [header, *rows]:
        sheet.append(neutralised(line))
    for row in sheet.iter_rows():
        for cell in row:
            cell.number_format = "@"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
