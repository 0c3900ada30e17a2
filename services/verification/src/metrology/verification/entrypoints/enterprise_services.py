"""HTTP API for services to any registered enterprise: record one, import a file of them, list them."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from metrology.eventkit.errors import ForbiddenError
from metrology.eventkit.ids import new_id
from metrology.eventkit.unit_of_work import UnitOfWork
from metrology.servicekit.auth import Principal, Role, require
from metrology.servicekit.commands import Commands
from metrology.servicekit.problems import problem
from metrology.servicekit.runtime import ServiceRuntime
from metrology.servicekit.validation import Day, Limit, Offset
from metrology.verification.adapters.spreadsheets import XLSX, read_rows
from metrology.verification.application import enterprise_services as services
from metrology.verification.application import imports
from metrology.verification.application.handlers import Actor
from metrology.verification.domain.events import ServiceKind
from metrology.verification.domain.service import EnterpriseService

router = APIRouter(tags=["enterprise services"])
Recorder = Annotated[Principal, Depends(require(Role.PROVINCE_ADMIN, Role.PROVIDER))]
Reader = Annotated[Principal, Depends(require(Role.PROVINCE_ADMIN, Role.VIEWER, Role.PROVIDER, Role.ENTERPRISE))]


class EnterpriseServiceIn(BaseModel):
    kind: ServiceKind = Field(examples=["measurement-method"])
    enterprise_id: str = Field(min_length=1, max_length=64, examples=["7f0c2a9e-3b1d-4e57-9a41-0c5f8e2d6b13"])
    provider_id: str = Field(min_length=1, max_length=64, examples=["4d1c7a52-1c1e-4f44-8e0b-6d1f0a3e9b21"])
    performed_on: Day = Field(examples=["2025-05-14"])
    description: str = Field(
        min_length=3, max_length=2000, examples=["Tư vấn phương pháp đo khối lượng tịnh hàng đóng gói sẵn"]
    )
    external_reference: str | None = Field(
        None,
        min_length=1,
        max_length=100,
        pattern=r"^[^\x00-\x1f]+$",
        examples=["LIMS-2025-S-0042"],
        description="the client's own id for this service: one service per provider and province, ever",
    )

    def service(self) -> EnterpriseService:
        return EnterpriseService(**self.model_dump())


def _runtime(request: Request) -> ServiceRuntime:
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime


def _actor(principal: Principal) -> Actor:
    return Actor(is_admin=principal.has_any([Role.PROVINCE_ADMIN]), provider_id=principal.provider_id)


def _taken(error: services.ServiceReferenceTakenError, request: Request) -> JSONResponse:
    return problem(
        409,
        error.title,
        error.detail,
        type=f"urn:metrology:problem:{error.rule}",
        rule=error.rule,
        instance=request.url.path,
        errors=[{"field": "external_reference", "reason": error.detail}],
        service_id=error.service_id,
    )


@router.post(
    "/enterprise-services",
    status_code=201,
    summary="Record calibration, testing, a measurement method or a consultation for any registered enterprise",
    responses={
        404: {"description": "the provider named in the body is not registered in this province"},
        409: {"description": "`external_reference` already names a service of this provider (its id in `service_id`)"},
        422: {"description": "a rule is violated (its name in `rule`); nothing is stored"},
    },
)
async def record_enterprise_service(
    body: EnterpriseServiceIn, commands: Commands, principal: Recorder, request: Request
) -> JSONResponse:
    service_id, service, actor = new_id(), body.service(), _actor(principal)

    async def handle(uow: UnitOfWork) -> dict[str, Any]:
        event = await services.record_enterprise_service(uow, service_id, service, actor, date.today())
        return {"service_id": service_id, "events": [event.model_dump(mode="json") | {"type": event.type_name()}]}

    try:
        return await commands.run(handle)
    except services.ServiceReferenceTakenError as error:
        return _taken(error, request)


@router.get("/enterprise-services", summary="Services to enterprises, newest first (paged)")
async def list_enterprise_services(
    request: Request,
    principal: Reader,
    enterprise_id: str | None = None,
    provider_id: str | None = None,
    kind: ServiceKind | None = None,
    performed_from: Annotated[Day | None, Query(alias="from")] = None,
    performed_to: Annotated[Day | None, Query(alias="to")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    if not principal.has_any([Role.PROVINCE_ADMIN, Role.VIEWER]):
        provider_id, enterprise_id = _own_scope(principal, provider_id, enterprise_id)
    where = services.ServiceFilter(principal.tenant, enterprise_id, provider_id, kind, performed_from, performed_to)
    async with _runtime(request).engine.connect() as connection:
        return await services.list_services(connection, where, limit, offset)


def _own_scope(
    principal: Principal, provider_id: str | None, enterprise_id: str | None
) -> tuple[str | None, str | None]:
    """A provider sees its own services, an enterprise the services it received."""
    if principal.has_any([Role.PROVIDER]) and principal.provider_id:
        return principal.provider_id, enterprise_id
    if principal.has_any([Role.ENTERPRISE]) and principal.enterprise_id:
        return provider_id, principal.enterprise_id
    raise ForbiddenError("this token names no provider_id or enterprise_id to scope the answer", rule="no-scope")


@router.post(
    "/imports/enterprise-services",
    status_code=201,
    tags=["imports"],
    summary="Import services to enterprises from CSV or XLSX (all or nothing; row-level errors)",
    description="Columns: kind, enterprise_id or enterprise_tax_code, provider_id, performed_on, description, "
    "external_reference (optional).",
    openapi_extra={"requestBody": {"content": {"text/csv": {}, XLSX: {}}}},
    responses={422: {"description": "the file is unreadable or a row is bad: nothing imported, `errors` per row"}},
)
async def import_enterprise_services(request: Request, commands: Commands, principal: Recorder) -> JSONResponse:
    rows = read_rows(await request.body(), request.headers.get("content-type"))
    actor = _actor(principal)

    async def handle(uow: UnitOfWork) -> dict[str, Any]:
        ids = await imports.import_enterprise_services(uow, rows, actor, date.today())
        return {"imported": len(ids), "ids": ids}

    try:
        return await commands.run(handle)
    except imports.ImportRejectedError as error:
        return problem(
            422,
            "Import rejected",
            error.detail,
            type="urn:metrology:problem:import-rejected",
            rule=error.rule,
            instance=request.url.path,
            errors=error.errors,
        )
