"""HTTP API of the verification service: parse, build a command, hand it to the handlers, answer."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from metrology.eventkit.envelope import Envelope
from metrology.eventkit.errors import ForbiddenError, NotFoundError, RuleViolationError
from metrology.eventkit.unit_of_work import UnitOfWork
from metrology.refdata.group2 import UnknownInstrumentTypeError, group2
from metrology.servicekit.auth import Authenticated, Principal, Role, require
from metrology.servicekit.commands import Commands
from metrology.servicekit.problems import problem
from metrology.servicekit.runtime import ServiceRuntime
from metrology.servicekit.validation import Day, Finite, Limit, Offset
from metrology.verification.application import handlers, queries
from metrology.verification.bootstrap_support import signer_of
from metrology.verification.domain.certificates import InvalidQrError
from metrology.verification.domain.events import Kind, Measurement, Mode, Result, Subject
from metrology.verification.domain.work import Work

router = APIRouter(tags=["verification"])
public = APIRouter(prefix="/public", tags=["public certificate check"])
Recorder = Annotated[Principal, Depends(require(Role.PROVINCE_ADMIN, Role.PROVIDER))]
Reader = Annotated[Principal, Depends(require(Role.PROVINCE_ADMIN, Role.VIEWER, Role.PROVIDER, Role.ENTERPRISE))]


class MeasurementIn(BaseModel):
    quantity: str = Field(min_length=1, max_length=100, examples=["mass"])
    nominal: Finite = Field(examples=[10.0])
    measured: Finite = Field(examples=[10.0003])
    unit: str = Field(min_length=1, max_length=20, examples=["kg"])
    expanded_uncertainty: Finite = Field(gt=0, examples=[0.0005])
    coverage_factor: Finite = Field(2.0, examples=[2.0])


class JobIn(BaseModel):
    kind: Kind = Field(examples=["verification"])
    mode: Mode = Field(examples=["periodic"])
    subject: Subject = Field("instrument", examples=["instrument"])
    subject_id: str = Field(min_length=1, max_length=64, examples=["0b9c7c1e-6a55-4a51-9d0e-2f1b2b7f1a10"])
    provider_id: str = Field(min_length=1, max_length=64, examples=["4d1c7a52-1c1e-4f44-8e0b-6d1f0a3e9b21"])
    verifier_id: str = Field(min_length=1, max_length=64, examples=["verifier-0007"])
    procedure: str = Field(min_length=3, max_length=100, examples=["ĐLVN 39:2012"])
    working_standard_id: str | None = Field(None, max_length=64, examples=["standard-mass-m1-01"])
    field: str | None = Field(None, max_length=100, examples=["mass"])
    performed_on: Day = Field(examples=["2025-05-14"])
    result: Result = Field(examples=["pass"])
    measurements: list[MeasurementIn] = Field(default_factory=list, max_length=200)
    sticker_serial: str | None = Field(None, max_length=100, examples=["TEM-83-0012345"])
    valid_until: Day | None = Field(None, description="Calibration/testing only: the validity the provider states")
    findings: str | None = Field(None, max_length=2000, examples=["error exceeds the maximum permissible error"])
    notes: str | None = Field(None, max_length=2000)
    external_reference: str | None = Field(
        None,
        min_length=1,
        max_length=100,
        pattern=r"^[^\x00-\x1f]+$",
        examples=["LIMS-2025-000123"],
        description="the client's own id for this job: one job per provider and province, ever "
        "(sent again under another Idempotency-Key: 409 naming the existing job)",
    )

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "kind": "verification",
                    "mode": "periodic",
                    "subject": "instrument",
                    "subject_id": "0b9c7c1e-6a55-4a51-9d0e-2f1b2b7f1a10",
                    "provider_id": "4d1c7a52-1c1e-4f44-8e0b-6d1f0a3e9b21",
                    "verifier_id": "verifier-0007",
                    "procedure": "ĐLVN 39:2012",
                    "working_standard_id": "standard-mass-m1-01",
                    "performed_on": "2025-05-14",
                    "result": "pass",
                }
            ]
        }
    }

    def work(self) -> Work:
        data = self.model_dump(exclude={"measurements"})
        return Work(**data, measurements=tuple(Measurement(**m.model_dump()) for m in self.measurements))


class RevocationIn(BaseModel):
    reason: str = Field(min_length=3, max_length=500, examples=["sticker found on a different instrument"])
    revoked_on: Day = Field(examples=["2025-06-01"])


def _runtime(request: Request) -> ServiceRuntime:
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime


def _actor(principal: Principal) -> handlers.Actor:
    return handlers.Actor(is_admin=principal.has_any([Role.PROVINCE_ADMIN]), provider_id=principal.provider_id)


def _scope(principal: Principal, runtime: ServiceRuntime) -> queries.Scope:
    tenant = principal.tenant
    if principal.has_any([Role.PROVINCE_ADMIN, Role.VIEWER]):
        return queries.Scope(tenant)
    if principal.has_any([Role.PROVIDER]) and principal.provider_id:
        return queries.Scope(tenant, provider_id=principal.provider_id)
    if principal.has_any([Role.ENTERPRISE]) and principal.enterprise_id:
        return queries.Scope(tenant, owner_enterprise_id=principal.enterprise_id)
    raise ForbiddenError("this token names no provider_id or enterprise_id to scope the answer", rule="no-scope")


def _instrument_scope(principal: Principal, runtime: ServiceRuntime) -> queries.Scope:
    """Due dates: a provider sees the whole tenant (it plans its work), an enterprise only its own."""
    scope = _scope(principal, runtime)
    return queries.Scope(scope.tenant, owner_enterprise_id=scope.owner_enterprise_id)


def _job_answer(job_id: str, job: Any, appended: list[Envelope]) -> dict[str, Any]:
    """The job's new events as the answer gives them: each one's data (dumped once, when its envelope was made)
    with its type."""
    recorded = appended[len(appended) - len(job.pending) :]
    events = [envelope.data | {"type": envelope.type} for envelope in recorded]
    return {"job_id": job_id, "stream_version": job.version + len(job.pending), "events": events}


@router.post(
    "/jobs",
    status_code=201,
    summary="Record verification, calibration or testing work (checked against the registry replica)",
    responses={
        404: {"description": "the provider named in the body is not registered in this province"},
        409: {"description": "`external_reference` already names a job of this provider (its id in `job_id`)"},
        422: {"description": "a rule is violated (its name in `rule`); nothing is stored"},
    },
)
async def record_job(body: JobIn, commands: Commands, principal: Recorder, request: Request) -> JSONResponse:
    runtime = _runtime(request)
    work, actor, signer = body.work(), _actor(principal), signer_of(runtime)

    async def record(job_id: str) -> JSONResponse:
        async def handle(uow: UnitOfWork) -> dict[str, Any]:
            job = await handlers.record_work(uow, job_id, work, actor, signer, date.today())
            return _job_answer(job_id, job, uow.appended)

        return await commands.run(handle)

    try:
        return await handlers.under_a_free_number(record)
    except handlers.ExternalReferenceTakenError as error:
        return problem(
            409,
            error.title,
            error.detail,
            type=f"urn:metrology:problem:{error.rule}",
            rule=error.rule,
            instance=request.url.path,
            errors=[{"field": "external_reference", "reason": error.detail}],
            job_id=error.job_id,
            location=f"/jobs/{error.job_id}",
        )


@router.get("/jobs", summary="Jobs, newest first (a provider sees its own, an enterprise its instruments')")
async def list_jobs(
    request: Request, principal: Reader, subject_id: str | None = None, limit: Limit = 50, offset: Offset = 0
) -> dict[str, Any]:
    runtime = _runtime(request)
    async with runtime.engine.connect() as connection:
        return await queries.list_jobs(connection, _scope(principal, runtime), subject_id, queries.Page(limit, offset))


@router.get(
    "/jobs/by-reference/{external_reference:path}",
    summary="One job by the client's external reference (give provider_id when several providers used it)",
    responses={422: {"description": "several providers' jobs carry this reference: give `provider_id`"}},
)
async def get_job_by_reference(
    external_reference: str, request: Request, principal: Reader, provider_id: str | None = None
) -> dict[str, Any]:
    runtime = _runtime(request)
    async with runtime.engine.connect() as connection:
        found = await queries.jobs_by_reference(connection, external_reference, provider_id, _scope(principal, runtime))
    if not found:
        raise NotFoundError(f"no job with external reference {external_reference}", field="external_reference")
    if len(found) > 1:
        raise RuleViolationError(
            "jobs of several providers carry this reference: give provider_id",
            field="provider_id",
            rule="provider-needed",
        )
    return found[0]


@router.get("/jobs/{job_id}", summary="One job")
async def get_job(job_id: str, request: Request, principal: Reader) -> dict[str, Any]:
    runtime = _runtime(request)
    async with runtime.engine.connect() as connection:
        found = await queries.job(connection, job_id, _scope(principal, runtime))
    if found is None:
        raise NotFoundError(f"no job {job_id}", field="job_id")
    return found


@router.get("/certificates", summary="Certificates with their status (valid / expired / revoked), newest first")
async def list_certificates(
    request: Request, principal: Reader, subject_id: str | None = None, limit: Limit = 50, offset: Offset = 0
) -> dict[str, Any]:
    runtime = _runtime(request)
    async with runtime.engine.connect() as connection:
        return await queries.list_certificates(
            connection, _scope(principal, runtime), subject_id, queries.Page(limit, offset), date.today()
        )


@router.get("/certificates/{number}", summary="One certificate, with measured values and its QR payload")
async def get_certificate(number: str, request: Request, principal: Reader) -> dict[str, Any]:
    runtime = _runtime(request)
    async with runtime.engine.connect() as connection:
        found = await queries.certificate(connection, number, _scope(principal, runtime), date.today())
    if found is None:
        raise NotFoundError(f"no certificate {number}", field="number")
    return found


@router.post("/certificates/{number}/revocations", status_code=201, summary="Revoke a certificate, with a reason")
async def revoke_certificate(number: str, body: RevocationIn, commands: Commands, principal: Recorder) -> JSONResponse:
    actor = _actor(principal)

    async def handle(uow: UnitOfWork) -> dict[str, Any]:
        job = await handlers.revoke_certificate(uow, number, body.reason, body.revoked_on, actor)
        return {"certificate_number": number, "job_id": job.job_id, "status": "revoked"}

    return await commands.run(handle)


@router.get("/due-dates", summary="Instruments falling due in a period (from the last real verification)")
async def due_dates(
    request: Request,
    principal: Reader,
    due_from: Annotated[Day, Query(alias="from")],
    due_to: Annotated[Day, Query(alias="to")],
    commune_code: str | None = None,
    type_code: str | None = None,
    owner_enterprise_id: str | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    if due_to < due_from:
        raise RuleViolationError("the period ends before it starts", field="to", rule="period-order")
    runtime = _runtime(request)
    where = queries.InstrumentFilter(commune_code, type_code, owner_enterprise_id)
    async with runtime.engine.connect() as connection:
        return await queries.due_between(
            connection,
            _instrument_scope(principal, runtime),
            due_from,
            due_to,
            where,
            queries.Page(limit, offset),
            date.today(),
        )


@router.get("/due-dates/overdue", summary="Overdue instruments: flagged not to be used")
async def overdue(
    request: Request,
    principal: Reader,
    as_of: Day | None = None,
    commune_code: str | None = None,
    type_code: str | None = None,
    owner_enterprise_id: str | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    runtime = _runtime(request)
    where = queries.InstrumentFilter(commune_code, type_code, owner_enterprise_id)
    async with runtime.engine.connect() as connection:
        return await queries.overdue(
            connection,
            _instrument_scope(principal, runtime),
            as_of or date.today(),
            where,
            queries.Page(limit, offset),
        )


@router.get("/demand", summary="Instruments due in a period vs verified in it, by local and outside providers")
async def demand(
    request: Request,
    principal: Annotated[Principal, Depends(require(Role.PROVINCE_ADMIN, Role.VIEWER))],
    period_from: Annotated[Day, Query(alias="from")],
    period_to: Annotated[Day, Query(alias="to")],
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    if period_to < period_from:
        raise RuleViolationError("the period ends before it starts", field="to", rule="period-order")
    runtime = _runtime(request)
    async with runtime.sessions() as session:
        return await queries.demand(
            session, _scope(principal, runtime), period_from, period_to, queries.Page(limit, offset)
        )


@router.get("/replica", summary="How much of the registry the local replica holds (rows per table)")
async def replica_status(
    request: Request, _: Annotated[Principal, Depends(require(Role.PROVINCE_ADMIN, Role.VIEWER))]
) -> dict[str, int]:
    async with _runtime(request).engine.connect() as connection:
        return await queries.replica_counts(connection)


@router.get("/events/schemas", summary="JSON Schema of every event type this service publishes")
async def event_schemas(request: Request, _: Authenticated) -> dict[str, Any]:
    return _runtime(request).registry.json_schemas()


@public.get("/certificates/check", summary="Check a certificate from the QR payload on its sticker (no login)")
async def check_qr(qr: Annotated[str, Query(min_length=5, max_length=300)], request: Request) -> dict[str, Any]:
    runtime = _runtime(request)
    try:
        number, until = signer_of(runtime).verify(qr)
    except InvalidQrError as error:
        raise RuleViolationError(str(error), field="qr", rule="qr-invalid") from error
    found = await _public(runtime, number)
    if found["valid_until"] != until:
        raise RuleViolationError("the payload does not match the certificate", field="qr", rule="qr-invalid")
    return found


@public.get("/certificates/{number}", summary="Check a certificate by its number (no login; no owner data)")
async def check_number(number: str, request: Request) -> dict[str, Any]:
    return await _public(_runtime(request), number)


async def _public(runtime: ServiceRuntime, number: str) -> dict[str, Any]:
    async with runtime.engine.connect() as connection:
        found = await queries.public_certificate(connection, number, date.today())
    if found is None:
        raise NotFoundError(f"no certificate {number}", field="number")
    return found | {"type_name": _type_name(found["type_code"], found["performed_on"])}


def _type_name(code: str | None, on: date) -> dict[str, str] | None:
    if code is None:
        return None
    try:
        row = group2().type_on(code, on)
    except UnknownInstrumentTypeError:
        return None
    return {"en": row.name_en, "vi": row.name_vi}
