"""Reading the lists provinces keep today: CSV (UTF-8, with or without BOM) and XLSX (first sheet, header row 1)."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

from openpyxl import load_workbook

from metrology.eventkit.errors import RuleViolationError

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# (spreadsheet row number, {header: text}); the header is row 1, so data starts at row 2.
Rows = list[tuple[int, dict[str, str]]]


def read_rows(content: bytes, content_type: str | None = None) -> Rows:
    if content.startswith(b"PK") or (content_type or "").startswith(XLSX):
        return _xlsx_rows(content)
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RuleViolationError("the file is neither UTF-8 CSV nor XLSX", field="file", rule="file-format") from None
    reader = csv.DictReader(io.StringIO(text))
    return [
        (number, _clean(row))
        for number, row in enumerate(reader, start=2)
        if any((v or "").strip() for v in row.values())
    ]


def _xlsx_rows(content: bytes) -> Rows:
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as error:
        raise RuleViolationError(f"the XLSX file cannot be read: {error}", field="file", rule="file-format") from None
    sheet = workbook.worksheets[0]
    lines = sheet.iter_rows(values_only=True)
    header = [str(cell).strip() if cell is not None else "" for cell in next(lines, ())]
    rows: Rows = []
    for number, values in enumerate(lines, start=2):
        cells = {name: _text(value) for name, value in zip(header, values, strict=False) if name}
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


def _clean(row: dict[str | None, str | None]) -> dict[str, str]:
    return {key.strip(): (value or "").strip() for key, value in row.items() if key}


def write_xlsx(header: list[str], rows: list[list[str]]) -> bytes:
    """An XLSX file with every cell as text (tax codes keep their leading zero)."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for line in [header, *rows]:
        sheet.append(line)
    for row in sheet.iter_rows():
        for cell in row:
            cell.number_format = "@"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
