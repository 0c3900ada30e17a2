"""All-or-nothing imports of enterprises and instruments: every row is registered in one transaction, or none is.

Each row is checked by the same models and domain rules as the HTTP commands, inside a savepoint; the errors of
all rows are collected, and any error rolls the whole import back.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any, TypeVar

from pydantic import BaseModel, Field, ValidationError

from metrology.eventkit.errors import DomainError, RuleViolationError
from metrology.eventkit.ids import new_id
from metrology.eventkit.unit_of_work import UnitOfWork
from metrology.registry.adapters.spreadsheets import Rows
from metrology.registry.application import handlers
from metrology.registry.application.queries import enterprise_by_tax_code
from metrology.registry.domain import events as ev
from metrology.servicekit.personal_data import PersonalDataVault

RowError = dict[str, Any]
M = TypeVar("M", bound=BaseModel)


class ImportRejectedError(RuleViolationError):
    """At least one row is bad: nothing was imported; `errors` lists each bad row and field."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(
            f"{len(errors)} error(s) in the file: nothing was imported", field="file", rule="import-rejected"
        )
        self.errors = errors


class EnterpriseRow(BaseModel):
    tax_code: str
    name: str = Field(min_length=2, max_length=300)
    sector: str = Field(min_length=2, max_length=64)
    address: str = Field(min_length=2, max_length=500)
    province_code: str = Field(pattern=r"^\d{2}$")
    commune_code: str = Field(pattern=r"^\d{5}$")
    contact_name: str | None = None
    contact_phone: str | None = None
    contact_email: str | None = None
    registered_on: date


class InstrumentRow(BaseModel):
    type_code: str = Field(min_length=1, max_length=16)
    serial: str = Field(min_length=1, max_length=100)
    manufacturer: str = Field(min_length=1, max_length=200)
    model: str | None = None
    type_approval_number: str | None = None
    owner_tax_code: str
    province_code: str = Field(pattern=r"^\d{2}$")
    commune_code: str = Field(pattern=r"^\d{5}$")
    registered_on: date


async def import_enterprises(uow: UnitOfWork, rows: Rows, vault: PersonalDataVault) -> list[str]:
    async def register(row: EnterpriseRow) -> str:
        enterprise_id = new_id()
        data = row.model_dump(exclude={"registered_on"})
        event = ev.EnterpriseRegistered(occurred_on=row.registered_on, enterprise_id=enterprise_id, **data)
        await handlers.register_enterprise(uow, event, vault)
        return enterprise_id

    return await _import_all(uow, rows, EnterpriseRow, register)


async def import_instruments(uow: UnitOfWork, rows: Rows) -> list[str]:
    async def register(row: InstrumentRow) -> str:
        owner = (await uow.session.execute(enterprise_by_tax_code(uow.context.tenant, row.owner_tax_code))).first()
        if owner is None:
            raise RuleViolationError(
                f"no enterprise with tax code {row.owner_tax_code} is registered", field="owner_tax_code"
            )
        instrument_id = new_id()
        data = row.model_dump(exclude={"registered_on", "owner_tax_code"})
        event = ev.InstrumentRegistered(
            occurred_on=row.registered_on, instrument_id=instrument_id, owner_enterprise_id=owner.enterprise_id, **data
        )
        await handlers.register_instrument(uow, event)
        return instrument_id

    return await _import_all(uow, rows, InstrumentRow, register)


async def _import_all(
    uow: UnitOfWork, rows: Rows, model: type[M], register: Callable[[M], Awaitable[str]]
) -> list[str]:
    if not rows:
        raise RuleViolationError("the file has no data rows", field="file", rule="import-empty")
    errors: list[RowError] = []
    ids: list[str] = []
    for number, cells in rows:
        try:
            parsed = model.model_validate({k: v for k, v in cells.items() if v != ""})
        except ValidationError as error:
            errors += [{"row": number, "field": str(e["loc"][0]), "reason": e["msg"]} for e in error.errors()]
            continue
        try:
            async with uow.session.begin_nested():
                ids.append(await register(parsed))
        except DomainError as error:
            errors.append({"row": number, "field": error.field or "row", "reason": error.detail, "rule": error.rule})
    if errors:
        raise ImportRejectedError(errors)
    return ids
