"""Import of attendance lists (CSV or XLSX): all rows or none, with row-level errors.

One row per trainee and day: `full_name, date_of_birth, id_number, phone, organisation_kind, organisation_id,
organisation_name, day, present`. A person is found by ID number (through a keyed digest); someone new is
registered, enrolled if not yet, and their attendance on `day` recorded. Row numbers are the sheet's (the header
is row 1).
"""

from __future__ import annotations

import asyncio
import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from openpyxl import load_workbook
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from metrology.eventkit.errors import DomainError, RuleViolationError
from metrology.eventkit.ids import new_id
from metrology.eventkit.unit_of_work import UnitOfWork
from metrology.servicekit.limits import SpreadsheetLimits, bounded_rows, check_xlsx_archive
from metrology.training.adapters.crypto import PersonalDataCipher
from metrology.training.application import handlers
from metrology.training.domain.events import OrganisationKind
from metrology.training.domain.personal import PersonalData

LIMITS = SpreadsheetLimits(rows=5_000, columns=32, cell_chars=500)
COLUMNS = (
    "full_name",
    "date_of_birth",
    "id_number",
    "phone",
    "organisation_kind",
    "organisation_id",
    "organisation_name",
    "day",
    "present",
)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
YES = {"1", "true", "yes", "y", "x", "có", "co"}
NO = {"0", "false", "no", "n", "", "không", "khong", "vắng"}


class ImportRow(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    full_name: str = Field(min_length=2, max_length=200)
    date_of_birth: date
    id_number: str = Field(pattern=r"^(\d{9}|\d{12})$")
    phone: str | None = Field(None, pattern=r"^\+?\d[\d .-]{6,18}$")
    organisation_kind: OrganisationKind
    organisation_id: str | None = Field(None, max_length=64)
    organisation_name: str | None = Field(None, max_length=300)
    day: date
    present: bool

    @field_validator("date_of_birth", "day", mode="before")
    @classmethod
    def _date_cell(cls, value: Any) -> Any:
        return value.date() if isinstance(value, datetime) else value

    @field_validator("phone", "organisation_id", "organisation_name", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if value is None or str(value).strip() == "" else str(value)

    @field_validator("id_number", mode="before")
    @classmethod
    def _id_as_text(cls, value: Any) -> Any:
        return str(value).strip() if value is not None else value

    @field_validator("present", mode="before")
    @classmethod
    def _yes_no(cls, value: Any) -> Any:
        text = str(value if value is not None else "").strip().lower()
        if text in YES:
            return True
        if text in NO:
            return False
        return value


@dataclass
class ImportRejectedError(Exception):
    errors: list[dict[str, Any]]


@dataclass
class ImportSummary:
    rows: int = 0
    trainees_registered: int = 0
    trainees_enrolled: int = 0
    attendance_recorded: int = 0
    trainee_ids: list[str] = field(default_factory=list)


async def read_upload(content: bytes, content_type: str) -> list[tuple[int, dict[str, Any]]]:
    """`read_rows` in a worker thread: parsing never holds the event loop."""
    return await asyncio.to_thread(read_rows, content, content_type)


def read_rows(
    content: bytes, content_type: str, limits: SpreadsheetLimits = LIMITS
) -> list[tuple[int, dict[str, Any]]]:
    """The sheet's data rows with their row numbers; a file that cannot be read, or is too large, is one error."""
    try:
        table = _read_xlsx(content, limits) if content_type.startswith(XLSX) else _read_csv(content, limits)
    except RuleViolationError:
        raise
    except Exception as error:
        raise RuleViolationError(f"the file cannot be read: {error}", field="body", rule="import-file") from error
    if not table:
        raise RuleViolationError("the file is empty", field="body", rule="import-file")
    header = [str(h or "").strip().lower() for h in table[0]]
    missing = [c for c in COLUMNS if c not in header and c not in {"phone", "organisation_id", "organisation_name"}]
    if missing:
        raise RuleViolationError(f"missing columns: {', '.join(missing)}", field="body", rule="import-columns")
    return [
        (number, dict(zip(header, [*values, *[None] * (len(header) - len(values))], strict=False)))
        for number, values in enumerate(table[1:], start=2)
        if any(v not in (None, "") for v in values)
    ]


def validate(rows: list[tuple[int, dict[str, Any]]]) -> list[tuple[int, ImportRow]]:
    valid, errors = [], []
    for number, raw in rows:
        try:
            valid.append((number, ImportRow.model_validate(raw)))
        except ValidationError as error:
            errors += [
                {"row": number, "field": ".".join(str(p) for p in e["loc"]), "reason": e["msg"]} for e in error.errors()
            ]
    if errors:
        raise ImportRejectedError(errors)
    return valid


async def import_attendance(
    uow: UnitOfWork, cipher: PersonalDataCipher, course_id: str, rows: list[tuple[int, ImportRow]], today: date
) -> ImportSummary:
    """Apply every row in the caller's transaction; any refused row rejects the whole file."""
    course = await handlers.load_course(uow, course_id)
    summary, errors = ImportSummary(rows=len(rows)), []
    known: dict[str, str] = {}
    for number, row in rows:
        try:
            trainee_id = await _trainee_for(uow, cipher, row, known, today, summary)
            if trainee_id not in course.enrolled:
                await handlers.require_enrollable(uow, trainee_id)
                course.enrol(trainee_id, today)
                summary.trainees_enrolled += 1
            course.record_attendance(trainee_id, row.day, row.present)
            summary.attendance_recorded += 1
        except DomainError as error:
            errors.append({"row": number, "field": error.field or "row", "reason": error.detail})
    if errors:
        raise ImportRejectedError(errors)
    await handlers.save_course(uow, course)
    summary.trainee_ids = sorted(set(known.values()))
    return summary


async def _trainee_for(
    uow: UnitOfWork,
    cipher: PersonalDataCipher,
    row: ImportRow,
    known: dict[str, str],
    today: date,
    summary: ImportSummary,
) -> str:
    if row.id_number in known:
        return known[row.id_number]
    trainee_id = await handlers.find_by_id_number(uow, cipher.id_digest(row.id_number))
    if trainee_id is None:
        trainee_id = new_id()
        personal = PersonalData(row.full_name, row.date_of_birth, row.id_number, row.phone)
        command = handlers.RegisterTrainee(
            trainee_id, personal, row.organisation_kind, today, row.organisation_id, row.organisation_name
        )
        await handlers.register_trainee(uow, cipher, command)
        summary.trainees_registered += 1
    known[row.id_number] = trainee_id
    return trainee_id


def _read_csv(content: bytes, limits: SpreadsheetLimits) -> list[list[Any]]:
    text = content.decode("utf-8-sig")
    return list(bounded_rows(csv.reader(io.StringIO(text)), limits))


def _read_xlsx(content: bytes, limits: SpreadsheetLimits) -> list[list[Any]]:
    check_xlsx_archive(content, limits)
    workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    try:
        sheet = workbook.active
        sheet.reset_dimensions()  # type: ignore[union-attr]  # a declared dimension would pad every row to it
        return list(bounded_rows(sheet.iter_rows(values_only=True), limits))  # type: ignore[union-attr]
    finally:
        workbook.close()
