"""Services to any registered enterprise: record one (checked against the replica), import many, list them.

A service is its own stream, `enterprise-service-<id>`: one event, then a row in `enterprise_services`, in the
command's transaction. The client's `external_reference` names one service per provider and province.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from metrology.eventkit.database import DatabaseSession
from metrology.eventkit.errors import ConflictError, ForbiddenError, NotFoundError
from metrology.eventkit.unit_of_work import UnitOfWork
from metrology.verification.adapters.tables import enterprise_services, replica_enterprises, replica_providers
from metrology.verification.application.handlers import Actor
from metrology.verification.domain.events import EnterpriseServiceRecorded
from metrology.verification.domain.service import EnterpriseService, ServedEnterprise, record_service


class ServiceReferenceTakenError(ConflictError):
    """The provider already recorded a service under this reference."""

    def __init__(self, reference: str, service_id: str) -> None:
        super().__init__(
            f"external reference {reference} already names service {service_id}",
            field="external_reference",
            rule="external-reference-taken",
        )
        self.service_id = service_id


def service_stream(service_id: str) -> str:
    return f"enterprise-service-{service_id}"


async def record_enterprise_service(
    uow: UnitOfWork, service_id: str, service: EnterpriseService, actor: Actor, today: date
) -> EnterpriseServiceRecorded:
    if not actor.may_act_for(service.provider_id):
        raise ForbiddenError(
            f"a provider records services only for itself ({actor.provider_id})",
            field="provider_id",
            rule="other-provider",
        )
    tenant = uow.context.tenant
    provider_province = await _provider_province(uow.session, tenant, service.provider_id)
    await _refuse_known_reference(uow.session, tenant, service)
    enterprise = await served_enterprise(uow.session, tenant, service.enterprise_id)
    event = record_service(service_id, service, enterprise, provider_province, today)
    await uow.append(service_stream(service_id), 0, [event])
    await _insert_row(uow.session, _row(tenant, event, enterprise))
    return event


async def served_enterprise(session: DatabaseSession, tenant: str, enterprise_id: str) -> ServedEnterprise | None:
    e = replica_enterprises
    query = sa.select(e).where(e.c.tenant == tenant, e.c.enterprise_id == enterprise_id)
    row = (await session.execute(query)).first()
    if row is None:
        return None
    return ServedEnterprise(row.enterprise_id, row.name, row.province_code, row.commune_code, row.closed_on)


async def enterprise_by_tax_code(session: DatabaseSession, tenant: str, tax_code: str) -> str | None:
    e = replica_enterprises
    query = sa.select(e.c.enterprise_id).where(e.c.tenant == tenant, e.c.tax_code == tax_code)
    return (await session.execute(query)).scalars().first()


async def _provider_province(session: DatabaseSession, tenant: str, provider_id: str) -> str:
    """The provider must be registered by the caller's province (outside providers included)."""
    p = replica_providers
    row = (
        await session.execute(sa.select(p.c.tenant, p.c.province_code).where(p.c.provider_id == provider_id))
    ).first()
    if row is None or row.tenant != tenant:
        raise NotFoundError(
            f"no provider {provider_id} registered in this province", field="provider_id", rule="provider-unknown"
        )
    return str(row.province_code)


async def _service_by_reference(session: DatabaseSession, tenant: str, provider_id: str, reference: str) -> str | None:
    s = enterprise_services
    query = sa.select(s.c.service_id).where(
        s.c.tenant == tenant, s.c.provider_id == provider_id, s.c.external_reference == reference
    )
    return (await session.execute(query)).scalar_one_or_none()


async def _refuse_known_reference(session: DatabaseSession, tenant: str, service: EnterpriseService) -> None:
    if service.external_reference is None:
        return
    known = await _service_by_reference(session, tenant, service.provider_id, service.external_reference)
    if known is not None:
        raise ServiceReferenceTakenError(service.external_reference, known)


async def _insert_row(session: DatabaseSession, row: dict[str, Any]) -> None:
    """Two requests racing past the read are told apart by the unique index."""
    try:
        async with session.begin_nested():
            await session.execute(sa.insert(enterprise_services), row)
    except IntegrityError:
        reference = row["external_reference"]
        known = await _service_by_reference(session, row["tenant"], row["provider_id"], reference)
        raise ServiceReferenceTakenError(reference, known or "(being recorded)") from None


def _row(tenant: str, event: EnterpriseServiceRecorded, enterprise: ServedEnterprise | None) -> dict[str, Any]:
    return {
        "service_id": event.service_id,
        "tenant": tenant,
        "kind": event.kind,
        "enterprise_id": event.enterprise_id,
        "enterprise_name": enterprise.name if enterprise else "",
        "provider_id": event.provider_id,
        "performed_on": event.occurred_on,
        "description": event.description,
        "external_reference": event.external_reference,
    }


# --- queries ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ServiceFilter:
    tenant: str
    enterprise_id: str | None = None
    provider_id: str | None = None
    kind: str | None = None
    performed_from: date | None = None
    performed_to: date | None = None


async def list_services(connection: AsyncConnection, where: ServiceFilter, limit: int, offset: int) -> dict[str, Any]:
    s = enterprise_services
    query = sa.select(s).where(s.c.tenant == where.tenant)
    for column, value in (("enterprise_id", where.enterprise_id), ("provider_id", where.provider_id)):
        if value is not None:
            query = query.where(s.c[column] == value)
    if where.kind is not None:
        query = query.where(s.c.kind == where.kind)
    if where.performed_from is not None:
        query = query.where(s.c.performed_on >= where.performed_from)
    if where.performed_to is not None:
        query = query.where(s.c.performed_on <= where.performed_to)
    total = (await connection.execute(sa.select(sa.func.count()).select_from(query.subquery()))).scalar_one()
    rows = await connection.execute(query.order_by(s.c.performed_on.desc(), s.c.service_id).limit(limit).offset(offset))
    return {"items": [dict(r._mapping) for r in rows], "total": total, "limit": limit, "offset": offset}
