"""Read-side queries over the registry's query tables: paginated lists, details, the traceability chain."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from metrology.eventkit.errors import NotFoundError, RuleViolationError
from metrology.registry.adapters.views import (
    accreditations,
    assessments,
    designations,
    enterprises,
    instruments,
    standards,
    verifiers,
)
from metrology.registry.domain.provider import Designation

Row = dict[str, Any]


@dataclass(frozen=True)
class PageRequest:
    limit: int = 50
    offset: int = 0


def _filtered(query: sa.Select, table: sa.Table, filters: dict[str, Any]) -> sa.Select:
    for name, value in filters.items():
        if value is not None:
            query = query.where(table.c[name] == value)
    return query


async def page(
    connection: AsyncConnection, table: sa.Table, filters: dict[str, Any], request: PageRequest, order: sa.Column
) -> dict[str, Any]:
    """One page of `table` rows matching `filters` (None values are ignored), with the total count."""
    query = _filtered(sa.select(table), table, filters)
    total = (await connection.execute(sa.select(sa.func.count()).select_from(query.subquery()))).scalar_one()
    rows = await connection.execute(
        query.order_by(order, *table.primary_key.columns).limit(request.limit).offset(request.offset)
    )
    items = [dict(row._mapping) for row in rows]
    return {"items": items, "total": total, "limit": request.limit, "offset": request.offset}


async def one(
    connection: AsyncConnection, table: sa.Table, filters: dict[str, Any], what: str, field: str | None = None
) -> Row:
    """The row matching `filters`, or a 404 naming the first filter's value and `field` (`<what>_id` by default)."""
    row = (await connection.execute(_filtered(sa.select(table), table, filters))).first()
    if row is None:
        raise NotFoundError(f"no {what} {next(iter(filters.values()))}", field=field or f"{what}_id")
    return dict(row._mapping)


async def instrument_by_serial(connection: AsyncConnection, filters: dict[str, Any]) -> Row:
    """The one instrument of a type carrying a serial (the manufacturer tells apart two that share both)."""
    query = _filtered(sa.select(instruments), instruments, filters).order_by(instruments.c.instrument_id).limit(2)
    rows = [dict(row._mapping) for row in await connection.execute(query)]
    if not rows:
        raise NotFoundError(
            f"no instrument of type {filters['type_code']} with serial {filters['serial']}", field="serial"
        )
    if len(rows) > 1:
        raise RuleViolationError(
            "instruments of several manufacturers share this type and serial: give the manufacturer",
            field="manufacturer",
            rule="manufacturer-needed",
        )
    return rows[0]


async def with_provider_details(connection: AsyncConnection, items: list[Row], as_of: date) -> list[Row]:
    """Each provider with its designations (status derived on `as_of`) and verifiers."""
    ids = [item["provider_id"] for item in items]
    grouped: dict[str, dict[str, list[Row]]] = defaultdict(lambda: {"designations": [], "verifiers": []})
    query = sa.select(designations).where(designations.c.provider_id.in_(ids)).order_by(designations.c.valid_from)
    for row in await connection.execute(query):
        grouped[row.provider_id]["designations"].append(designation_view(dict(row._mapping), as_of))
    query = sa.select(verifiers).where(verifiers.c.provider_id.in_(ids)).order_by(verifiers.c.card_number)
    for row in await connection.execute(query):
        grouped[row.provider_id]["verifiers"].append(dict(row._mapping))
    return [item | grouped[item["provider_id"]] for item in items]


def designation_view(row: Row, as_of: date) -> Row:
    designation = Designation(
        row["designation_id"], row["instrument_types"], row["valid_from"], row["valid_until"], row["revoked_on"]
    )
    return row | {"status": designation.status_on(as_of)}


async def with_laboratory_details(connection: AsyncConnection, items: list[Row]) -> list[Row]:
    ids = [item["laboratory_id"] for item in items]
    grouped: dict[str, dict[str, list[Row]]] = defaultdict(lambda: {"accreditations": [], "assessments": []})
    query = (
        sa.select(accreditations).where(accreditations.c.laboratory_id.in_(ids)).order_by(accreditations.c.valid_from)
    )
    for row in await connection.execute(query):
        grouped[row.laboratory_id]["accreditations"].append(dict(row._mapping))
    query = sa.select(assessments).where(assessments.c.laboratory_id.in_(ids)).order_by(assessments.c.assessed_on)
    for row in await connection.execute(query):
        grouped[row.laboratory_id]["assessments"].append(dict(row._mapping))
    return [item | grouped[item["laboratory_id"]] for item in items]


async def traceability_chain(connection: AsyncConnection, tenant: str, standard_id: str) -> dict[str, Any]:
    """The standard, the one it was calibrated against, and so on up to the national standard."""
    chain: list[Row] = []
    next_id: str | None = standard_id
    while next_id is not None and all(s["standard_id"] != next_id for s in chain):
        chain.append(await one(connection, standards, {"standard_id": next_id, "tenant": tenant}, "standard"))
        next_id = chain[-1]["calibrated_against"]
    top = chain[-1]
    national = top["national_standard"] if top["calibrated_against"] is None else None
    return {"standard_id": standard_id, "chain": chain, "national_standard": national, "complete": bool(national)}


def enterprise_by_tax_code(tenant: str, tax_code: str) -> sa.Select:
    return sa.select(enterprises.c.enterprise_id).where(
        enterprises.c.tenant == tenant, enterprises.c.tax_code == tax_code
    )
