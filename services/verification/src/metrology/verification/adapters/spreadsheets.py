"""Reading the lists providers keep: CSV (UTF-8, with or without BOM) and XLSX (first sheet, header row 1).

The same reading as the registry's importers, so one file shape serves both services.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

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
        (number, {key.strip(): (value or "").strip() for key, value in row.items() if key})
        for number, row in enumerate(reader, start=2)
        if any((v or "").strip() for v in row.values())
    ]


def _xlsx_rows(content: bytes) -> Rows:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as error:
        raise RuleViolationError(f"the XLSX file cannot be read: {error}", field="file", rule="file-format") from None
    lines = workbook.worksheets[0].iter_rows(values_only=True)
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
