"""HTTP API of the registry service: parse, build the event the command asks for, hand it to the handlers, answer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Annotated, Any, Literal, NoReturn

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from metrology.eventkit.aggregate import Aggregate
from metrology.eventkit.errors import ForbiddenError, NotFoundError
from metrology.eventkit.ids import new_id
from metrology.eventkit.unit_of_work import UnitOfWork
from metrology.registry.adapters.spreadsheets import read_upload
from metrology.registry.adapters.views import designations, enterprises, instruments, laboratories, providers, standards
from metrology.registry.application import handlers, imports, queries
from metrology.registry.domain import events as ev
from metrology.registry.domain.provider import default_valid_until
from metrology.servicekit.auth import Principal, Role, require
from metrology.servicekit.commands import Commands
from metrology.servicekit.personal_data import Vault
from metrology.servicekit.problems import problem
from metrology.servicekit.validation import Day, Limit, Offset

router = APIRouter()
Admin = Annotated[Principal, Depends(require(Role.PROVINCE_ADMIN))]
Reader = Annotated[Principal, Depends(require(Role.PROVINCE_ADMIN, Role.VIEWER, Role.PROVIDER, Role.ENTERPRISE))]

ProvinceCode = Annotated[str, Field(pattern=r"^\d{2}$", examples=["83"])]
CommuneCode = Annotated[str, Field(pattern=r"^\d{5}$", examples=["28756"])]


class Accepted(BaseModel):
    id: str
    stream_version: int


def accepted(aggregate_id: str, aggregate: Aggregate) -> Accepted:
    return Accepted(id=aggregate_id, stream_version=aggregate.version + len(aggregate.pending))


async def run(
    commands: Commands, aggregate_id: str, step: Callable[[UnitOfWork], Awaitable[Aggregate]], status: int = 201
) -> JSONResponse:
    async def handle(uow: UnitOfWork) -> Accepted:
        return accepted(aggregate_id, await step(uow))

    return await commands.run(handle, status)


def tenant_of(request: Request, principal: Principal) -> str:
    """The caller's province: every read is limited to it (a token without one is refused at sign-in)."""
    return principal.tenant


def connect(request: Request) -> Any:
    return request.app.state.runtime.engine.connect()


# --- enterprises ---------------------------------------------------------------------------------------------


class Contact(BaseModel):
    contact_name: str | None = Field(None, max_length=200, examples=["Nguyễn Văn An"])
    contact_phone: str | None = Field(None, max_length=32, examples=["0275 3822 123"])
    contact_email: str | None = Field(None, max_length=200, examples=["lienhe@example.vn"])


class EnterpriseIn(Contact):
    tax_code: str = Field(
        max_length=14, examples=["1300588566", "1300588566-001"], description="mã số thuế (check digit verified)"
    )
    name: str = Field(min_length=2, max_length=300, examples=["Công ty TNHH Xăng dầu Bến Tre"])
    sector: str = Field(min_length=2, max_length=64, examples=["fuel-retail"])
    address: str = Field(min_length=2, max_length=500, examples=["12 Đồng Khởi, phường An Hội, Bến Tre"])
    province_code: ProvinceCode
    commune_code: CommuneCode
    registered_on: Day = Field(default_factory=date.today)


class EnterpriseChanges(Contact):
    name: str | None = Field(None, min_length=2, max_length=300)
    sector: str | None = Field(None, min_length=2, max_length=64)
    address: str | None = Field(None, min_length=2, max_length=500)
    province_code: ProvinceCode | None = None
    commune_code: CommuneCode | None = None
    changed_on: Day = Field(default_factory=date.today)


class ClosureIn(BaseModel):
    closed_on: Day = Field(default_factory=date.today)
    reason: str | None = Field(None, max_length=500, examples=["dissolved"])


@router.post(
    "/enterprises", status_code=201, response_model=Accepted, tags=["enterprises"], summary="Register an enterprise"
)
async def register_enterprise(body: EnterpriseIn, commands: Commands, vault: Vault, _: Admin) -> JSONResponse:
    enterprise_id = new_id()
    data = body.model_dump(exclude={"registered_on"}) | {"tax_code": body.tax_code.strip()}
    event = ev.EnterpriseRegistered(occurred_on=body.registered_on, enterprise_id=enterprise_id, **data)
    return await run(commands, enterprise_id, lambda uow: handlers.register_enterprise(uow, event, vault))


@router.patch(
    "/enterprises/{enterprise_id}", response_model=Accepted, tags=["enterprises"], summary="Update an enterprise"
)
async def update_enterprise(
    enterprise_id: str, body: EnterpriseChanges, commands: Commands, vault: Vault, _: Admin
) -> JSONResponse:
    changes = body.model_dump(exclude={"changed_on"}, exclude_none=True)
    event = ev.EnterpriseUpdated(occurred_on=body.changed_on, enterprise_id=enterprise_id, **changes)
    return await run(commands, enterprise_id, lambda uow: handlers.update_enterprise(uow, event, vault), 200)


@router.delete(
    "/enterprises/{enterprise_id}/contact",
    response_model=Accepted,
    tags=["enterprises"],
    summary="Erase the contact person (crypto-shredding: counts stay, the details read 'erased' everywhere)",
)
async def erase_enterprise_contact(enterprise_id: str, commands: Commands, vault: Vault, _: Admin) -> JSONResponse:
    event = ev.EnterpriseContactErased(occurred_on=date.today(), enterprise_id=enterprise_id)
    return await run(commands, enterprise_id, lambda uow: handlers.erase_enterprise_contact(uow, event, vault), 200)


@router.post(
    "/enterprises/{enterprise_id}/closure", response_model=Accepted, tags=["enterprises"], summary="Close an enterprise"
)
async def close_enterprise(enterprise_id: str, body: ClosureIn, commands: Commands, _: Admin) -> JSONResponse:
    event = ev.EnterpriseClosed(occurred_on=body.closed_on, enterprise_id=enterprise_id, reason=body.reason)
    return await run(commands, enterprise_id, lambda uow: handlers.close_enterprise(uow, event), 200)


def own_enterprise(principal: Principal) -> str | None:
    """An enterprise principal is limited to its own enterprise (403 without the claim); others see all."""
    if not principal.has_any([Role.PROVINCE_ADMIN, Role.VIEWER, Role.PROVIDER]):
        if not principal.enterprise_id:
            raise_forbidden("an enterprise token needs an enterprise_id claim")
        return principal.enterprise_id
    return None


def raise_forbidden(detail: str) -> NoReturn:
    raise ForbiddenError(detail, rule="enterprise-scope")


@router.get("/enterprises", tags=["enterprises"], summary="Enterprises, filtered by sector, commune, status")
async def list_enterprises(
    request: Request,
    principal: Reader,
    sector: str | None = None,
    commune_code: str | None = None,
    status: Literal["active", "closed"] | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    filters = {
        "tenant": tenant_of(request, principal),
        "sector": sector,
        "commune_code": commune_code,
        "status": status,
        "enterprise_id": own_enterprise(principal),
    }
    async with connect(request) as connection:
        return await queries.page(
            connection, enterprises, filters, queries.PageRequest(limit, offset), enterprises.c.name
        )


@router.get(
    "/enterprises/by-tax-code/{tax_code}",
    tags=["enterprises", "natural keys"],
    summary="One enterprise by its tax code (mã số thuế); an enterprise finds only itself",
)
async def get_enterprise_by_tax_code(tax_code: str, request: Request, principal: Reader) -> dict[str, Any]:
    filters = {"tax_code": tax_code.strip(), "tenant": tenant_of(request, principal)}
    own = own_enterprise(principal)
    if own is not None:
        filters["enterprise_id"] = own
    async with connect(request) as connection:
        return await queries.one(connection, enterprises, filters, "enterprise", field="tax_code")


@router.get("/enterprises/{enterprise_id}", tags=["enterprises"], summary="One enterprise")
async def get_enterprise(enterprise_id: str, request: Request, principal: Reader) -> dict[str, Any]:
    own = own_enterprise(principal)
    if own is not None and own != enterprise_id:
        raise NotFoundError(f"no enterprise {enterprise_id}", field="enterprise_id")
    async with connect(request) as connection:
        filters = {"enterprise_id": enterprise_id, "tenant": tenant_of(request, principal)}
        return await queries.one(connection, enterprises, filters, "enterprise")


# --- providers -------------------------------------------------------------------------------------------------


class ProviderIn(BaseModel):
    name: str = Field(
        min_length=2, max_length=300, examples=["Trung tâm Kỹ thuật Tiêu chuẩn Đo lường Chất lượng Bến Tre"]
    )
    ownership: Literal["state", "socialised"]
    tax_code: str | None = Field(None, max_length=14, examples=["1300588566"])
    address: str | None = Field(None, max_length=500)
    province_code: ProvinceCode
    commune_code: CommuneCode
    fields: list[str] = Field(min_length=1, examples=[["mass", "volume", "electricity"]])
    registration_certificate_number: str = Field(min_length=1, max_length=64, examples=["12/ĐKDV"])
    registration_certificate_date: Day
    registered_on: Day = Field(default_factory=date.today)


class DesignationIn(BaseModel):
    decision_number: str = Field(min_length=1, max_length=64, examples=["245/QĐ-TĐC"])
    instrument_types: list[str] = Field(min_length=1, examples=[["2.19", "2.21a", "2.8b"]])
    fields: list[str] = Field(min_length=1, examples=[["volume", "flow", "mass"]])
    designated_on: Day = Field(examples=["2024-03-15"], description="decision date: types are checked on it")
    valid_from: Day | None = Field(None, description="defaults to designated_on")
    valid_until: Day | None = Field(None, description="defaults to five years from valid_from")


class RenewalIn(BaseModel):
    renewed_on: Day = Field(default_factory=date.today)
    valid_until: Day | None = Field(None, description="defaults to five years after the current valid_until")
    decision_number: str | None = Field(None, max_length=64)


class RevocationIn(BaseModel):
    revoked_on: Day = Field(default_factory=date.today)
    reason: str = Field(min_length=3, max_length=500, examples=["verification outside the designated scope"])


class VerifierIn(BaseModel):
    card_number: str = Field(min_length=1, max_length=64, examples=["KĐV-83-0012"])
    full_name: str = Field(min_length=2, max_length=200, examples=["Trần Thị Bích"])
    fields: list[str] = Field(min_length=1, examples=[["volume"]])
    certified_on: Day = Field(default_factory=date.today)
    card_valid_until: Day | None = Field(
        None, description="The last day the card may be used; none if the card has no end date", examples=["2030-02-28"]
    )


class SuspensionIn(BaseModel):
    on: Day = Field(default_factory=date.today)
    reason: str | None = Field(None, max_length=500)


@router.post("/providers", status_code=201, response_model=Accepted, tags=["providers"], summary="Register a provider")
async def register_provider(body: ProviderIn, commands: Commands, _: Admin) -> JSONResponse:
    provider_id = new_id()
    data = body.model_dump(exclude={"registered_on"})
    event = ev.ProviderRegistered(occurred_on=body.registered_on, provider_id=provider_id, **data)
    return await run(commands, provider_id, lambda uow: handlers.register_provider(uow, event))


@router.post(
    "/providers/{provider_id}/designations", status_code=201, tags=["providers"], summary="Designate for Group 2 types"
)
async def designate_provider(provider_id: str, body: DesignationIn, commands: Commands, _: Admin) -> JSONResponse:
    designation_id = new_id()
    valid_from = body.valid_from or body.designated_on
    event = ev.ProviderDesignated(
        occurred_on=body.designated_on,
        provider_id=provider_id,
        designation_id=designation_id,
        decision_number=body.decision_number,
        instrument_types=body.instrument_types,
        fields=body.fields,
        valid_from=valid_from,
        valid_until=body.valid_until or default_valid_until(valid_from),
    )

    async def handle(uow: UnitOfWork) -> dict[str, Any]:
        provider = await handlers.designate_provider(uow, event)
        return {"id": designation_id, "provider_id": provider_id, "valid_until": event.valid_until} | {
            "stream_version": accepted(provider_id, provider).stream_version
        }

    return await commands.run(handle)


@router.post("/providers/{provider_id}/designations/{designation_id}/renewals", tags=["providers"], summary="Renew")
async def renew_designation(
    provider_id: str, designation_id: str, body: RenewalIn, request: Request, commands: Commands, _: Admin
) -> JSONResponse:
    valid_until = body.valid_until
    if valid_until is None:
        async with connect(request) as connection:
            row = await queries.one(connection, designations, {"designation_id": designation_id}, "designation")
        valid_until = default_valid_until(row["valid_until"] + timedelta(days=1))
    event = ev.DesignationRenewed(
        occurred_on=body.renewed_on,
        provider_id=provider_id,
        designation_id=designation_id,
        valid_until=valid_until,
        decision_number=body.decision_number,
    )
    return await run(commands, designation_id, lambda uow: handlers.renew_designation(uow, event), 200)


@router.post("/providers/{provider_id}/designations/{designation_id}/revocation", tags=["providers"], summary="Revoke")
async def revoke_designation(
    provider_id: str, designation_id: str, body: RevocationIn, commands: Commands, _: Admin
) -> JSONResponse:
    event = ev.DesignationRevoked(
        occurred_on=body.revoked_on, provider_id=provider_id, designation_id=designation_id, reason=body.reason
    )
    return await run(commands, designation_id, lambda uow: handlers.revoke_designation(uow, event), 200)


@router.post("/providers/{provider_id}/verifiers", status_code=201, tags=["providers"], summary="Certify a verifier")
async def certify_verifier(
    provider_id: str, body: VerifierIn, commands: Commands, vault: Vault, _: Admin
) -> JSONResponse:
    verifier_id = new_id()
    data = body.model_dump(exclude={"certified_on", "full_name"})
    event = ev.VerifierCertified(
        occurred_on=body.certified_on, provider_id=provider_id, verifier_id=verifier_id, personal=None, **data
    )
    certify = handlers.certify_verifier
    return await run(commands, verifier_id, lambda uow: certify(uow, event, body.full_name, vault))


@router.delete(
    "/providers/{provider_id}/verifiers/{verifier_id}/personal-data",
    response_model=Accepted,
    tags=["providers"],
    summary="Erase a verifier's personal data (crypto-shredding: the verifier and their work stay)",
)
async def erase_verifier_personal_data(
    provider_id: str, verifier_id: str, commands: Commands, vault: Vault, _: Admin
) -> JSONResponse:
    event = ev.VerifierPersonalDataErased(occurred_on=date.today(), provider_id=provider_id, verifier_id=verifier_id)
    erase = handlers.erase_verifier_personal_data
    return await run(commands, verifier_id, lambda uow: erase(uow, event, vault), 200)


@router.post("/providers/{provider_id}/verifiers/{verifier_id}/suspension", tags=["providers"], summary="Suspend")
async def suspend_verifier(
    provider_id: str, verifier_id: str, body: SuspensionIn, commands: Commands, _: Admin
) -> JSONResponse:
    event = ev.VerifierSuspended(
        occurred_on=body.on, provider_id=provider_id, verifier_id=verifier_id, reason=body.reason
    )
    return await run(commands, verifier_id, lambda uow: handlers.suspend_verifier(uow, event), 200)


@router.post("/providers/{provider_id}/verifiers/{verifier_id}/reinstatement", tags=["providers"], summary="Reinstate")
async def reinstate_verifier(
    provider_id: str, verifier_id: str, body: SuspensionIn, commands: Commands, _: Admin
) -> JSONResponse:
    event = ev.VerifierReinstated(occurred_on=body.on, provider_id=provider_id, verifier_id=verifier_id)
    return await run(commands, verifier_id, lambda uow: handlers.reinstate_verifier(uow, event), 200)


@router.get(
    "/providers", tags=["providers"], summary="Providers with their designations (status on as_of) and verifiers"
)
async def list_providers(
    request: Request,
    principal: Reader,
    ownership: Literal["state", "socialised"] | None = None,
    commune_code: str | None = None,
    as_of: Day | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    filters = {"tenant": tenant_of(request, principal), "ownership": ownership, "commune_code": commune_code}
    async with connect(request) as connection:
        result = await queries.page(
            connection, providers, filters, queries.PageRequest(limit, offset), providers.c.name
        )
        result["items"] = await queries.with_provider_details(connection, result["items"], as_of or date.today())
    return result


@router.get(
    "/providers/by-registration/{number:path}",
    tags=["providers", "natural keys"],
    summary="One provider by its service registration certificate number (e.g. 01/ĐKDV-TĐC)",
)
async def get_provider_by_registration(
    number: str, request: Request, principal: Reader, as_of: Day | None = None
) -> dict[str, Any]:
    filters = {"registration_certificate_number": number, "tenant": tenant_of(request, principal)}
    async with connect(request) as connection:
        row = await queries.one(connection, providers, filters, "provider", field="registration_certificate_number")
        return (await queries.with_provider_details(connection, [row], as_of or date.today()))[0]


@router.get("/providers/{provider_id}", tags=["providers"], summary="One provider with designations and verifiers")
async def get_provider(
    provider_id: str, request: Request, principal: Reader, as_of: Day | None = None
) -> dict[str, Any]:
    async with connect(request) as connection:
        filters = {"provider_id": provider_id, "tenant": tenant_of(request, principal)}
        row = await queries.one(connection, providers, filters, "provider")
        return (await queries.with_provider_details(connection, [row], as_of or date.today()))[0]


# --- laboratories ----------------------------------------------------------------------------------------------


class LaboratoryIn(BaseModel):
    name: str = Field(min_length=2, max_length=300, examples=["Phòng thí nghiệm đo lường khối lượng"])
    owner: str = Field(min_length=2, max_length=300, examples=["Trung tâm Kỹ thuật TĐC Bến Tre"])
    address: str | None = Field(None, max_length=500)
    province_code: ProvinceCode
    commune_code: CommuneCode
    registration_number: str | None = Field(
        None, min_length=1, max_length=64, examples=["PTN-83-007"], description="unique in the province when given"
    )
    registered_on: Day = Field(default_factory=date.today)


class AccreditationIn(BaseModel):
    accreditation_number: str = Field(min_length=1, max_length=64, examples=["VILAS 1234"])
    standard: str = Field("ISO/IEC 17025", max_length=64)
    accreditation_body: str | None = Field(None, max_length=200, examples=["BoA"])
    scope: list[str] = Field(min_length=1, examples=[["mass", "volume"]])
    valid_from: Day
    valid_until: Day


class AssessmentIn(BaseModel):
    assessed_on: Day
    criteria: str = Field("TCVN 13187:2020", max_length=64)
    passed: bool
    assessor: str = Field(min_length=2, max_length=200, examples=["Sở KH&CN Bến Tre"])


@router.post("/laboratories", status_code=201, response_model=Accepted, tags=["laboratories"], summary="Register a lab")
async def register_laboratory(body: LaboratoryIn, commands: Commands, _: Admin) -> JSONResponse:
    laboratory_id = new_id()
    data = body.model_dump(exclude={"registered_on"})
    event = ev.LaboratoryRegistered(occurred_on=body.registered_on, laboratory_id=laboratory_id, **data)
    return await run(commands, laboratory_id, lambda uow: handlers.register_laboratory(uow, event))


@router.post("/laboratories/{laboratory_id}/accreditations", status_code=201, tags=["laboratories"], summary="Accredit")
async def accredit_laboratory(laboratory_id: str, body: AccreditationIn, commands: Commands, _: Admin) -> JSONResponse:
    event = ev.LaboratoryAccredited(occurred_on=body.valid_from, laboratory_id=laboratory_id, **body.model_dump())
    return await run(commands, laboratory_id, lambda uow: handlers.accredit_laboratory(uow, event))


@router.post("/laboratories/{laboratory_id}/assessments", status_code=201, tags=["laboratories"], summary="Assess")
async def assess_laboratory(laboratory_id: str, body: AssessmentIn, commands: Commands, _: Admin) -> JSONResponse:
    assessment_id = new_id()
    data = body.model_dump(exclude={"assessed_on"})
    event = ev.LaboratoryAssessed(
        occurred_on=body.assessed_on, laboratory_id=laboratory_id, assessment_id=assessment_id, **data
    )
    return await run(commands, assessment_id, lambda uow: handlers.assess_laboratory(uow, event))


@router.get("/laboratories", tags=["laboratories"], summary="Laboratories with accreditations and assessments")
async def list_laboratories(
    request: Request,
    principal: Reader,
    province_code: str | None = None,
    commune_code: str | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    filters = {"tenant": tenant_of(request, principal), "province_code": province_code, "commune_code": commune_code}
    async with connect(request) as connection:
        result = await queries.page(
            connection, laboratories, filters, queries.PageRequest(limit, offset), laboratories.c.name
        )
        result["items"] = await queries.with_laboratory_details(connection, result["items"])
    return result


@router.get(
    "/laboratories/by-registration/{number:path}",
    tags=["laboratories", "natural keys"],
    summary="One laboratory by its registration number",
)
async def get_laboratory_by_registration(number: str, request: Request, principal: Reader) -> dict[str, Any]:
    async with connect(request) as connection:
        filters = {"registration_number": number, "tenant": tenant_of(request, principal)}
        row = await queries.one(connection, laboratories, filters, "laboratory", field="registration_number")
        return (await queries.with_laboratory_details(connection, [row]))[0]


@router.get("/laboratories/{laboratory_id}", tags=["laboratories"], summary="One laboratory")
async def get_laboratory(laboratory_id: str, request: Request, principal: Reader) -> dict[str, Any]:
    async with connect(request) as connection:
        filters = {"laboratory_id": laboratory_id, "tenant": tenant_of(request, principal)}
        row = await queries.one(connection, laboratories, filters, "laboratory")
        return (await queries.with_laboratory_details(connection, [row]))[0]


# --- standards -------------------------------------------------------------------------------------------------


class StandardIn(BaseModel):
    owner_id: str = Field(min_length=1, max_length=64, description="the provider or laboratory holding it")
    name: str = Field(min_length=2, max_length=300, examples=["Bình chuẩn kim loại 20 L"])
    quantity: str = Field(min_length=1, max_length=100, examples=["volume"])
    measuring_range: str = Field(min_length=1, max_length=200, examples=["20 L"])
    accuracy: str = Field(min_length=1, max_length=200, examples=["±0.02 %"])
    level: Literal["reference", "working"]
    calibrated_against: str | None = Field(None, max_length=64, description="standard_id of the higher standard")
    national_standard: str | None = Field(None, max_length=300, description="for a reference standard at the top")
    certificate_number: str = Field(min_length=1, max_length=64, examples=["V12.345.24"])
    calibrated_on: Day
    due_on: Day
    registered_on: Day | None = Field(None, description="defaults to calibrated_on")


@router.post("/standards", status_code=201, response_model=Accepted, tags=["standards"], summary="Register a standard")
async def register_standard(body: StandardIn, commands: Commands, _: Admin) -> JSONResponse:
    standard_id = new_id()
    data = body.model_dump(exclude={"registered_on"})
    event = ev.StandardRegistered(occurred_on=body.registered_on or body.calibrated_on, standard_id=standard_id, **data)
    return await run(commands, standard_id, lambda uow: handlers.register_standard(uow, event))


@router.get("/standards", tags=["standards"], summary="Measurement standards")
async def list_standards(
    request: Request,
    principal: Reader,
    owner_id: str | None = None,
    quantity: str | None = None,
    level: Literal["reference", "working"] | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    filters = {"tenant": tenant_of(request, principal), "owner_id": owner_id, "quantity": quantity, "level": level}
    async with connect(request) as connection:
        return await queries.page(connection, standards, filters, queries.PageRequest(limit, offset), standards.c.name)


@router.get("/standards/{standard_id}", tags=["standards"], summary="One standard")
async def get_standard(standard_id: str, request: Request, principal: Reader) -> dict[str, Any]:
    async with connect(request) as connection:
        filters = {"standard_id": standard_id, "tenant": tenant_of(request, principal)}
        return await queries.one(connection, standards, filters, "standard")


@router.get(
    "/standards/{standard_id}/chain", tags=["standards"], summary="Traceability chain up to the national standard"
)
async def standard_chain(standard_id: str, request: Request, principal: Reader) -> dict[str, Any]:
    async with connect(request) as connection:
        return await queries.traceability_chain(connection, tenant_of(request, principal), standard_id)


# --- instruments -----------------------------------------------------------------------------------------------


class InstrumentIn(BaseModel):
    type_code: str = Field(min_length=1, max_length=16, examples=["2.19"], description="Group 2 type code")
    serial: str = Field(min_length=1, max_length=100, examples=["TK-2024-00123"])
    manufacturer: str = Field(min_length=1, max_length=200, examples=["Tatsuno"])
    model: str | None = Field(None, max_length=200)
    type_approval_number: str | None = Field(None, max_length=100, examples=["PDM 149-2019"])
    owner_enterprise_id: str = Field(min_length=1, max_length=64)
    province_code: ProvinceCode
    commune_code: CommuneCode
    registered_on: Day = Field(default_factory=date.today)


class StatusIn(BaseModel):
    status: Literal["in-use", "out-of-use", "retired"]
    changed_on: Day = Field(default_factory=date.today)
    reason: str | None = Field(None, max_length=500)


@router.post(
    "/instruments", status_code=201, response_model=Accepted, tags=["instruments"], summary="Register an instrument"
)
async def register_instrument(body: InstrumentIn, commands: Commands, _: Admin) -> JSONResponse:
    instrument_id = new_id()
    data = body.model_dump(exclude={"registered_on"})
    event = ev.InstrumentRegistered(occurred_on=body.registered_on, instrument_id=instrument_id, **data)
    return await run(commands, instrument_id, lambda uow: handlers.register_instrument(uow, event))


@router.post(
    "/instruments/{instrument_id}/status", response_model=Accepted, tags=["instruments"], summary="Change status"
)
async def change_instrument_status(instrument_id: str, body: StatusIn, commands: Commands, _: Admin) -> JSONResponse:
    event = ev.InstrumentStatusChanged(
        occurred_on=body.changed_on, instrument_id=instrument_id, status=body.status, reason=body.reason
    )
    return await run(commands, instrument_id, lambda uow: handlers.change_instrument_status(uow, event), 200)


@router.get("/instruments", tags=["instruments"], summary="Instruments (an enterprise sees only its own)")
async def list_instruments(
    request: Request,
    principal: Reader,
    owner_enterprise_id: str | None = None,
    type_code: str | None = None,
    status: Literal["in-use", "out-of-use", "retired"] | None = None,
    commune_code: str | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    own = own_enterprise(principal)
    if own is not None and owner_enterprise_id not in (None, own):
        raise_forbidden("an enterprise sees only its own instruments")
    filters = {
        "tenant": tenant_of(request, principal),
        "owner_enterprise_id": own or owner_enterprise_id,
        "type_code": type_code,
        "status": status,
        "commune_code": commune_code,
    }
    async with connect(request) as connection:
        order = instruments.c.registered_on
        return await queries.page(connection, instruments, filters, queries.PageRequest(limit, offset), order)


@router.get(
    "/instruments/by-serial",
    tags=["instruments", "natural keys"],
    summary="One instrument by its Group 2 type and serial number (an enterprise finds only its own)",
    responses={
        404: {"description": "no instrument of that type and serial (visible to the caller)"},
        422: {"description": "several manufacturers share the type and serial: give `manufacturer`"},
    },
)
async def get_instrument_by_serial(
    request: Request,
    principal: Reader,
    type_code: Annotated[str, Query(min_length=1, max_length=16, examples=["2.19"])],
    serial: Annotated[str, Query(min_length=1, max_length=100, examples=["TK-2024-00123"])],
    manufacturer: Annotated[str | None, Query(max_length=200)] = None,
) -> dict[str, Any]:
    filters = {
        "tenant": tenant_of(request, principal),
        "type_code": type_code,
        "serial": serial,
        "manufacturer": manufacturer,
        "owner_enterprise_id": own_enterprise(principal),
    }
    async with connect(request) as connection:
        return await queries.instrument_by_serial(connection, filters)


@router.get("/instruments/{instrument_id}", tags=["instruments"], summary="One instrument")
async def get_instrument(instrument_id: str, request: Request, principal: Reader) -> dict[str, Any]:
    filters = {"instrument_id": instrument_id, "tenant": tenant_of(request, principal)}
    own = own_enterprise(principal)
    if own is not None:
        filters["owner_enterprise_id"] = own
    async with connect(request) as connection:
        return await queries.one(connection, instruments, filters, "instrument")


# --- imports ---------------------------------------------------------------------------------------------------


async def _import(
    request: Request, commands: Commands, importer: Callable[[UnitOfWork, Any], Awaitable[list[str]]]
) -> JSONResponse:
    rows = await read_upload(await request.body(), request.headers.get("content-type"))

    async def handle(uow: UnitOfWork) -> dict[str, Any]:
        ids = await importer(uow, rows)
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


@router.post(
    "/imports/enterprises",
    status_code=201,
    tags=["imports"],
    summary="Import enterprises from CSV or XLSX (all or nothing)",
    openapi_extra={
        "requestBody": {
            "content": {"text/csv": {}, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}}
        }
    },
)
async def import_enterprises(request: Request, commands: Commands, vault: Vault, _: Admin) -> JSONResponse:
    return await _import(request, commands, lambda uow, rows: imports.import_enterprises(uow, rows, vault))


@router.post(
    "/imports/instruments",
    status_code=201,
    tags=["imports"],
    summary="Import instruments from CSV or XLSX (all or nothing; owners by tax code)",
    openapi_extra={
        "requestBody": {
            "content": {"text/csv": {}, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}}
        }
    },
)
async def import_instruments(request: Request, commands: Commands, _: Admin) -> JSONResponse:
    return await _import(request, commands, imports.import_instruments)


# --- event schemas ---------------------------------------------------------------------------------------------


@router.get("/events/schemas", tags=["events"], summary="JSON Schema of every event type the registry publishes")
async def event_schemas(request: Request) -> dict[str, Any]:
    return request.app.state.runtime.registry.json_schemas()
