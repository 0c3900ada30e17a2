"""HTTP API of the outreach service: parse, build a command, hand it to the handlers, answer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from metrology.eventkit.errors import ForbiddenError, NotFoundError
from metrology.eventkit.ids import new_id
from metrology.eventkit.unit_of_work import UnitOfWork
from metrology.outreach.application import handlers, queries
from metrology.outreach.domain.events import AreaRating, CampaignHeld, Channel, Objective
from metrology.outreach.domain.participation import Participation
from metrology.servicekit.auth import Authenticated, Principal, Role, require
from metrology.servicekit.commands import Commands
from metrology.servicekit.personal_data import Vault
from metrology.servicekit.validation import Count, Day, Limit, Offset

router = APIRouter()
Admin = Annotated[Principal, Depends(require(Role.PROVINCE_ADMIN))]
Reader = Annotated[Principal, Depends(require(Role.PROVINCE_ADMIN, Role.VIEWER, Role.ENTERPRISE, Role.TRAINER))]


# -- request models ------------------------------------------------------------------------------


class EnrolmentIn(BaseModel):
    enterprise_id: str = Field(min_length=1, max_length=64, examples=["2f0c6f5e-8d0b-4b1e-9a55-3c1d7e6a9b21"])
    enrolled_on: Day = Field(examples=["2025-02-10"])
    consent: bool = Field(examples=[True], description="The enterprise agreed in writing to take part")
    contact_name: str = Field(min_length=2, max_length=200, examples=["Nguyễn Văn An"])
    contact_role: str | None = Field(None, max_length=200, examples=["Phó giám đốc kỹ thuật"])
    contact_phone: str | None = Field(None, pattern=r"^\+?\d[\d .-]{6,18}$", examples=["0275 3822 123"])
    contact_email: str | None = Field(None, max_length=200, examples=["an.nguyen@example.vn"])


class AssessmentIn(BaseModel):
    assessed_on: Day = Field(examples=["2025-03-05"])
    assessor: str = Field(min_length=2, max_length=200, examples=["Chi cục TĐC Bến Tre"])
    areas: list[AreaRating] = Field(
        min_length=1,
        examples=[[{"area": "instruments-and-standards", "rating": 2, "notes": "3 of 12 scales overdue"}]],
    )


class PlanIn(BaseModel):
    approved_on: Day = Field(examples=["2025-04-01"])
    approved_by: str = Field(min_length=2, max_length=200, examples=["Trần Thị Bích, Giám đốc"])
    objectives: list[Objective] = Field(
        min_length=1, examples=[[{"objective": "All Group 2 scales verified on time", "due_on": "2025-12-31"}]]
    )
    budget_vnd: int | None = Field(None, ge=0, examples=[45_000_000])


class SupportIn(BaseModel):
    delivered_on: Day = Field(examples=["2025-05-12"])
    kind: str = Field(min_length=2, max_length=100, examples=["consultation visit"])
    description: str = Field(min_length=2, max_length=2000, examples=["Set up the instrument register and due dates"])


class EvaluationIn(BaseModel):
    evaluated_on: Day = Field(examples=["2025-12-15"])
    year: int = Field(ge=2018, le=2100, examples=[2025])
    objectives_met: Count = Field(ge=0, examples=[2])
    findings: str = Field(min_length=2, max_length=4000, examples=["Verification on time; records improved"])


class CompletionIn(BaseModel):
    completed_on: Day = Field(examples=["2026-01-20"])
    summary: str | None = Field(None, max_length=4000, examples=["Programme objectives met"])


class WithdrawalIn(BaseModel):
    withdrawn_on: Day = Field(examples=["2025-08-01"])
    reason: str | None = Field(None, max_length=2000, examples=["Production line closed"])


class AccessIn(BaseModel):
    occurred_on: Day = Field(examples=["2025-06-18"])
    channel: Channel = Field(examples=["consultation"])
    note: str | None = Field(None, max_length=1000, examples=["Advice on a measurement method for filling volume"])
    source_job_id: str | None = Field(None, max_length=64, description="A verification job, when there is one")


class CampaignIn(BaseModel):
    held_on: Day = Field(examples=["2025-03-15"])
    title: str = Field(min_length=3, max_length=300, examples=["Ngày đo lường thế giới 20/5"])
    audience: str = Field(min_length=2, max_length=300, examples=["enterprises of the Giao Long industrial park"])
    channel: str = Field(min_length=2, max_length=100, examples=["seminar"])
    enterprises_reached: Count = Field(ge=0, examples=[35])
    enterprise_ids: list[str] = Field(default_factory=list, max_length=5000)
    people_reached: Count | None = Field(None, ge=0, examples=[80])


class Accepted(BaseModel):
    id: str
    stream_version: int


class AccessAccepted(Accepted):
    recorded: bool


def _accepted(id_: str, participation: Participation) -> Accepted:
    return Accepted(id=id_, stream_version=participation.version + len(participation.pending))


# -- participations ------------------------------------------------------------------------------


@router.post(
    "/participations",
    status_code=201,
    response_model=Accepted,
    tags=["participations"],
    summary="Enrol an enterprise in the programme (it must exist, open, in the registry replica)",
)
async def enrol(body: EnrolmentIn, commands: Commands, vault: Vault, _: Admin) -> JSONResponse:
    command = handlers.Enrol(participation_id=new_id(), **body.model_dump())

    async def handle(uow: UnitOfWork) -> Accepted:
        return _accepted(command.participation_id, await handlers.enrol_enterprise(uow, command, vault))

    return await commands.run(handle)


def _step(
    participation_id: str, commands: Commands, act: Callable[[UnitOfWork], Awaitable[Participation]]
) -> Awaitable[JSONResponse]:
    async def handle(uow: UnitOfWork) -> Accepted:
        return _accepted(participation_id, await act(uow))

    return commands.run(handle)


@router.post(
    "/participations/{participation_id}/assessment",
    status_code=201,
    response_model=Accepted,
    tags=["participations"],
    summary="Record the current-state assessment, area by area",
)
async def assess(participation_id: str, body: AssessmentIn, commands: Commands, _: Admin) -> JSONResponse:
    return await _step(
        participation_id,
        commands,
        lambda uow: handlers.assess_current_state(uow, participation_id, body.assessed_on, body.assessor, body.areas),
    )


@router.post(
    "/participations/{participation_id}/plan",
    status_code=201,
    response_model=Accepted,
    tags=["participations"],
    summary="Record the plan approved by the enterprise's head",
)
async def plan(participation_id: str, body: PlanIn, commands: Commands, vault: Vault, _: Admin) -> JSONResponse:
    command = handlers.ApprovePlan(
        participation_id, body.approved_on, body.approved_by, body.objectives, body.budget_vnd
    )
    return await _step(participation_id, commands, lambda uow: handlers.approve_plan(uow, command, vault))


@router.post(
    "/participations/{participation_id}/support",
    status_code=201,
    response_model=Accepted,
    tags=["participations"],
    summary="Record support delivered under the plan",
)
async def support(participation_id: str, body: SupportIn, commands: Commands, _: Admin) -> JSONResponse:
    return await _step(
        participation_id,
        commands,
        lambda uow: handlers.deliver_support(uow, participation_id, body.delivered_on, body.kind, body.description),
    )


@router.post(
    "/participations/{participation_id}/evaluations",
    status_code=201,
    response_model=Accepted,
    tags=["participations"],
    summary="Record the annual evaluation",
)
async def evaluation(participation_id: str, body: EvaluationIn, commands: Commands, _: Admin) -> JSONResponse:
    return await _step(
        participation_id,
        commands,
        lambda uow: handlers.evaluate(
            uow, participation_id, body.evaluated_on, body.year, body.objectives_met, body.findings
        ),
    )


@router.post(
    "/participations/{participation_id}/completion",
    status_code=201,
    response_model=Accepted,
    tags=["participations"],
    summary="Complete the participation",
)
async def completion(participation_id: str, body: CompletionIn, commands: Commands, _: Admin) -> JSONResponse:
    return await _step(
        participation_id,
        commands,
        lambda uow: handlers.complete(uow, participation_id, body.completed_on, body.summary),
    )


@router.post(
    "/participations/{participation_id}/withdrawal",
    status_code=201,
    response_model=Accepted,
    tags=["participations"],
    summary="Withdraw the enterprise: nothing can be recorded afterwards",
)
async def withdrawal(participation_id: str, body: WithdrawalIn, commands: Commands, _: Admin) -> JSONResponse:
    return await _step(
        participation_id,
        commands,
        lambda uow: handlers.withdraw(uow, participation_id, body.withdrawn_on, body.reason),
    )


@router.delete(
    "/participations/{participation_id}/contact",
    response_model=Accepted,
    tags=["participations"],
    summary="Erase the contact person (crypto-shredding: the participation and its counts stay)",
)
async def erase_contact(participation_id: str, commands: Commands, vault: Vault, _: Admin) -> JSONResponse:
    async def handle(uow: UnitOfWork) -> Accepted:
        return _accepted(participation_id, await handlers.erase_contact(uow, participation_id, date.today(), vault))

    return await commands.run(handle, 200)


@router.get("/participations", tags=["participations"], summary="Participations, by status (paginated)")
async def list_participations(
    request: Request,
    principal: Reader,
    status: Annotated[str | None, Query(pattern="^(enrolled|assessed|planned|completed|withdrawn)$")] = None,
    enterprise_id: str | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    enterprise_id = _own_enterprise(principal, enterprise_id)
    async with request.app.state.runtime.engine.connect() as connection:
        return await queries.participations_page(
            connection, principal.tenant, queries.Page(limit, offset), status, enterprise_id
        )


@router.get("/participations/{participation_id}", tags=["participations"], summary="One participation")
async def get_participation(participation_id: str, request: Request, principal: Reader) -> dict[str, Any]:
    async with request.app.state.runtime.engine.connect() as connection:
        found = await queries.participation(connection, principal.tenant, participation_id)
    if found is None:
        raise NotFoundError(f"no participation {participation_id}", field="participation_id")
    _own_enterprise(principal, found["enterprise_id"])
    return found


# -- accesses ------------------------------------------------------------------------------------


@router.post(
    "/participations/{participation_id}/accesses",
    status_code=201,
    response_model=AccessAccepted,
    tags=["accesses"],
    summary="Record an access (lượt tiếp cận) by hand; a job already counted is not",
)
async def record_access(participation_id: str, body: AccessIn, commands: Commands, _: Admin) -> JSONResponse:
    command = handlers.RecordAccess(participation_id=participation_id, access_id=new_id(), **body.model_dump())

    async def handle(uow: UnitOfWork) -> AccessAccepted:
        event = await handlers.record_access(uow, command)
        access_id = (
            event.access_id if event else handlers.access_id_for_job(uow.context.tenant, body.source_job_id or "")
        )
        return AccessAccepted(id=access_id, stream_version=0, recorded=event is not None)

    return await commands.run(handle)


@router.get(
    "/accesses",
    tags=["accesses"],
    summary="Accesses by enterprise, channel and period, with unique enterprise counts (paginated)",
)
async def list_accesses(
    request: Request,
    principal: Reader,
    enterprise_id: str | None = None,
    channel: Channel | None = None,
    date_from: Annotated[Day | None, Query(alias="from")] = None,
    date_to: Annotated[Day | None, Query(alias="to")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    where = queries.AccessFilter(
        principal.tenant, _own_enterprise(principal, enterprise_id), channel, date_from, date_to
    )
    async with request.app.state.runtime.engine.connect() as connection:
        return await queries.accesses_page(connection, where, queries.Page(limit, offset))


# -- campaigns -----------------------------------------------------------------------------------


@router.post(
    "/campaigns",
    status_code=201,
    response_model=Accepted,
    tags=["campaigns"],
    summary="Record a communication campaign held",
)
async def hold_campaign(body: CampaignIn, commands: Commands, _: Admin) -> JSONResponse:
    campaign_id = new_id()
    data = body.model_dump()
    event = CampaignHeld(occurred_on=data.pop("held_on"), campaign_id=campaign_id, **data)

    async def handle(uow: UnitOfWork) -> Accepted:
        await handlers.hold_campaign(uow, event)
        return Accepted(id=campaign_id, stream_version=1)

    return await commands.run(handle)


@router.get("/campaigns", tags=["campaigns"], summary="Campaigns held, by period (paginated)")
async def list_campaigns(
    request: Request,
    principal: Reader,
    date_from: Annotated[Day | None, Query(alias="from")] = None,
    date_to: Annotated[Day | None, Query(alias="to")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    own = _own_enterprise(principal, None)
    async with request.app.state.runtime.engine.connect() as connection:
        page = await queries.campaigns_page(
            connection, principal.tenant, queries.Page(limit, offset), date_from, date_to
        )
    if own is not None:  # an enterprise learns that it was reached, never which others were
        for item in page["items"]:
            item["enterprise_ids"] = [e for e in item["enterprise_ids"] or [] if e == own]
    return page


# -- replica and schemas -------------------------------------------------------------------------


@router.get(
    "/enterprises",
    tags=["registry replica"],
    summary="Enterprises known from the registry's events (outreach's local replica, paginated)",
)
async def list_known_enterprises(
    request: Request, principal: Admin, limit: Limit = 50, offset: Offset = 0
) -> dict[str, Any]:
    async with request.app.state.runtime.engine.connect() as connection:
        return await queries.known_enterprises_page(connection, principal.tenant, queries.Page(limit, offset))


@router.get("/events/schemas", tags=["events"], summary="JSON Schemas of the events outreach publishes")
async def event_schemas(request: Request, _: Authenticated) -> dict[str, Any]:
    return dict(request.app.state.runtime.registry.json_schemas())


def _own_enterprise(principal: Principal, enterprise_id: str | None) -> str | None:
    """An enterprise principal sees only its own enterprise; others see what they ask for."""
    if principal.has_any([Role.PROVINCE_ADMIN, Role.VIEWER, Role.TRAINER]):
        return enterprise_id
    own = principal.enterprise_id
    if own is None or (enterprise_id is not None and enterprise_id != own):
        raise ForbiddenError("an enterprise sees only its own participation and accesses", field="enterprise_id")
    return own
