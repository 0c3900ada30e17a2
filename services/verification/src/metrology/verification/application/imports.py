"""All-or-nothing import of enterprise services: every row is recorded in one transaction, or none is.

Each row is checked by the same model and rules as `POST /enterprise-services`, inside a savepoint; the errors of
all rows are collected (row number, field, reason, rule), and any error rolls the whole import back. The
enterprise is named by its registry id (`enterprise_id`) or by its tax code (`enterprise_tax_code`).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, Field, ValidationError, model_validator

from metrology.eventkit.errors import DomainError, RuleViolationError
from metrology.eventkit.ids import new_id
from metrology.eventkit.unit_of_work import UnitOfWork
from metrology.verification.adapters.spreadsheets import Rows
from metrology.verification.application.enterprise_services import enterprise_by_tax_code, record_enterprise_service
from metrology.verification.application.handlers import Actor
from metrology.verification.domain.events import ServiceKind
from metrology.verification.domain.service import EnterpriseService

RowError = dict[str, Any]


class ImportRejectedError(RuleViolationError):
    """At least one row is bad: nothing was imported; `errors` lists each bad row and field."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(
            f"{len(errors)} error(s) in the file: nothing was imported", field="file", rule="import-rejected"
        )
        self.errors = errors


class ServiceRow(BaseModel):
    kind: ServiceKind
    enterprise_id: str | None = Field(None, min_length=1, max_length=64)
    enterprise_tax_code: str | None = Field(None, min_length=10, max_length=14)
    provider_id: str = Field(min_length=1, max_length=64)
    performed_on: date
    description: str = Field(min_length=3, max_length=2000)
    external_reference: str | None = Field(None, min_length=1, max_length=100)

    @model_validator(mode="after")
    def _names_the_enterprise(self) -> ServiceRow:
        if self.enterprise_id is None and self.enterprise_tax_code is None:
            raise ValueError("give enterprise_id or enterprise_tax_code")
        return self


async def import_enterprise_services(uow: UnitOfWork, rows: Rows, actor: Actor, today: date) -> list[str]:
    if not rows:
        raise RuleViolationError("the file has no data rows", field="file", rule="import-empty")
    errors: list[RowError] = []
    ids: list[str] = []
    for number, cells in rows:
        try:
            row = ServiceRow.model_validate({k: v for k, v in cells.items() if v != ""})
        except ValidationError as error:
            errors += [{"row": number, "field": _field(e["loc"]), "reason": e["msg"]} for e in error.errors()]
            continue
        try:
            async with uow.session.begin_nested():
                ids.append(await _record(uow, row, actor, today))
        except DomainError as error:
            errors.append({"row": number, "field": error.field or "row", "reason": error.detail, "rule": error.rule})
    if errors:
        raise ImportRejectedError(errors)
    return ids


async def _record(uow: UnitOfWork, row: ServiceRow, actor: Actor, today: date) -> str:
    enterprise_id = row.enterprise_id
    if enterprise_id is None and row.enterprise_tax_code is not None:
        enterprise_id = await enterprise_by_tax_code(uow.session, uow.context.tenant, row.enterprise_tax_code)
        if enterprise_id is None:
            raise RuleViolationError(
                f"no enterprise with tax code {row.enterprise_tax_code} in the registry",
                field="enterprise_tax_code",
                rule="enterprise-unknown",
            )
    assert enterprise_id is not None
    service = EnterpriseService(
        kind=row.kind,
        enterprise_id=enterprise_id,
        provider_id=row.provider_id,
        performed_on=row.performed_on,
        description=row.description,
        external_reference=row.external_reference,
    )
    service_id = new_id()
    await record_enterprise_service(uow, service_id, service, actor, today)
    return service_id


def _field(location: tuple[int | str, ...]) -> str:
    return str(location[0]) if location else "row"
