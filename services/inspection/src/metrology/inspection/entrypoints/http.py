"""HTTP API of the inspection service: parse, build a command, hand it to the handlers, answer."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from metrology.eventkit.ids import new_id
from metrology.eventkit.unit_of_work import UnitOfWork
from metrology.inspection.adapters.tables import campaigns, inspection_plans
from metrology.inspection.application import handlers, queries
from metrology.inspection.domain.events import (
    CampaignLaunched,
    DecisionIssued,
    Defect,
    InspectionPlanApproved,
    RegistryStatus,
    Sanction,
    Subject,
    VenueKind,
    VisitRecorded,
)
from metrology.inspection.domain.visit import Sighting, Visit
from metrology.servicekit.auth import Principal, Role, require
from metrology.servicekit.commands import Commands
from metrology.servicekit.validation import Day, Limit, Offset

router = APIRouter()
Inspector = Annotated[Principal, Depends(require(Role.PROVINCE_ADMIN))]
Reader = Annotated[Principal, Depends(require(Role.PROVINCE_ADMIN, Role.VIEWER))]
Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]
Text = Annotated[str, Field(min_length=1, max_length=300)]


class PlanIn(BaseModel):
    year: int = Field(ge=2000, le=2100, examples=[2026])
    title: str = Field(min_length=3, max_length=300, examples=["Kế hoạch kiểm tra nhà nước về đo lường năm 2026"])
    decision_number: str = Field(min_length=1, max_length=64, examples=["125/QĐ-SKHCN"])
    approved_by: str = Field(min_length=2, max_length=200, examples=["Sở Khoa học và Công nghệ"])
    approved_on: Day = Field(examples=["2026-01-15"])


class CampaignIn(BaseModel):
    plan_id: Id
    title: str = Field(min_length=3, max_length=300, examples=["Kiểm tra cột đo xăng dầu quý II"])
    decision_number: str = Field(min_length=1, max_length=64, examples=["42/QĐ-TĐC"])
    venue_kinds: list[VenueKind] = Field(max_length=7, examples=[["fuel-station"]])
    instrument_types: list[Annotated[str, Field(max_length=16)]] = Field(
        default_factory=list, max_length=100, examples=[["2.19"]], description="Group 2 codes"
    )
    prepackaged_goods: bool = Field(False, description="Whether prepackaged goods (hàng đóng gói sẵn) are inspected")
    starts_on: Day = Field(examples=["2026-04-01"])
    ends_on: Day = Field(examples=["2026-06-30"])


class VisitIn(BaseModel):
    campaign_id: Id
    record_number: str = Field(min_length=1, max_length=64, examples=["BB-07/2026"], description="Số biên bản")
    venue_kind: VenueKind = Field(examples=["fuel-station"])
    venue_name: Text = Field(examples=["Cửa hàng xăng dầu số 5"])
    enterprise_id: Id | None = Field(None, description="The registry's id of the enterprise inspected, if any")
    commune_code: str = Field(pattern=r"^\d{5}$", examples=["28756"])
    inspectors: list[Annotated[str, Field(min_length=2, max_length=200)]] = Field(min_length=1, max_length=20)
    visited_on: Day = Field(examples=["2026-04-14"])


class FindingIn(BaseModel):
    subject: Subject = Field("instrument", examples=["instrument"])
    instrument_id: Id | None = Field(None, description="The registry's id of the instrument, when registered")
    type_code: str | None = Field(None, max_length=16, examples=["2.19"], description="With serial: unregistered")
    serial: str | None = Field(None, min_length=1, max_length=100, examples=["CD-2291"])
    product: str | None = Field(None, min_length=1, max_length=300, description="Prepackaged goods: the product")
    defects: list[Defect] = Field(default_factory=list, max_length=7, examples=[["seal-broken"]])
    note: str | None = Field(None, max_length=1000)


class ViolationIn(BaseModel):
    finding_ids: list[Id] = Field(min_length=1, max_length=100)
    legal_basis: Text = Field(examples=["Nghị định 119/2017/NĐ-CP, Điều 8"])
    description: str = Field(min_length=1, max_length=1000)


class DecisionIn(BaseModel):
    decision_number: str = Field(min_length=1, max_length=64, examples=["15/QĐ-XPVPHC"])
    violation_ids: list[Id] = Field(min_length=1, max_length=100)
    sanction: Sanction = Field(examples=["fine"])
    fine_vnd: int = Field(0, ge=0, le=1_000_000_000, examples=[7_500_000])
    remedies: list[Annotated[str, Field(min_length=1, max_length=300)]] = Field(default_factory=list, max_length=20)
    issued_by: str = Field(min_length=2, max_length=200, examples=["Chánh Thanh tra Sở KH&CN"])
    issued_on: Day = Field(examples=["2026-04-20"])


class FollowUpIn(BaseModel):
    finding_id: Id
    ordered_on: Day = Field(examples=["2026-04-14"])
    due_on: Day = Field(examples=["2026-05-14"])


class Accepted(BaseModel):
    id: str
    stream_version: int
    events: list[dict[str, Any]] = []


def _accepted(id_: str, aggregate: Any) -> Accepted:
    events = [{"type": e.type_name(), **e.model_dump(mode="json")} for e in aggregate.pending]
    return Accepted(id=id_, stream_version=aggregate.version + len(aggregate.pending), events=events)


# -- plans and campaigns ---------------------------------------------------------------------------


@router.post("/plans", status_code=201, response_model=Accepted, tags=["plans"], summary="Approve a year's plan")
async def approve_plan(body: PlanIn, commands: Commands, _: Inspector) -> JSONResponse:
    plan_id = new_id()

    async def handle(uow: UnitOfWork) -> Accepted:
        fields = body.model_dump(exclude={"approved_on"})
        event = InspectionPlanApproved(occurred_on=body.approved_on, plan_id=plan_id, **fields)
        return _accepted(plan_id, await handlers.approve_plan(uow, event))

    return await commands.run(handle)


@router.get("/plans", tags=["plans"], summary="Inspection plans, newest year first (paginated)")
async def list_plans(request: Request, principal: Reader, limit: Limit = 50, offset: Offset = 0) -> dict[str, Any]:
    async with request.app.state.runtime.engine.connect() as connection:
        return await queries.plans_page(connection, principal.tenant, queries.Page(limit, offset))


@router.get("/plans/{plan_id}", tags=["plans"], summary="One inspection plan")
async def get_plan(plan_id: str, request: Request, principal: Reader) -> dict[str, Any]:
    async with request.app.state.runtime.engine.connect() as connection:
        return await queries.one(connection, inspection_plans, "plan_id", plan_id, principal.tenant)


@router.post("/campaigns", status_code=201, response_model=Accepted, tags=["campaigns"], summary="Launch a campaign")
async def launch_campaign(body: CampaignIn, commands: Commands, _: Inspector) -> JSONResponse:
    campaign_id = new_id()

    async def handle(uow: UnitOfWork) -> Accepted:
        event = CampaignLaunched(occurred_on=body.starts_on, campaign_id=campaign_id, **body.model_dump())
        return _accepted(campaign_id, await handlers.launch_campaign(uow, event))

    return await commands.run(handle)


@router.get("/campaigns", tags=["campaigns"], summary="Campaigns, with their visit counts (paginated)")
async def list_campaigns(
    request: Request, principal: Reader, plan_id: str | None = None, limit: Limit = 50, offset: Offset = 0
) -> dict[str, Any]:
    async with request.app.state.runtime.engine.connect() as connection:
        return await queries.campaigns_page(connection, principal.tenant, queries.Page(limit, offset), plan_id)


@router.get("/campaigns/{campaign_id}", tags=["campaigns"], summary="One campaign")
async def get_campaign(campaign_id: str, request: Request, principal: Reader) -> dict[str, Any]:
    async with request.app.state.runtime.engine.connect() as connection:
        return await queries.one(connection, campaigns, "campaign_id", campaign_id, principal.tenant)


# -- visits and their record -----------------------------------------------------------------------


@router.post("/visits", status_code=201, response_model=Accepted, tags=["visits"], summary="Record a visit")
async def record_visit(body: VisitIn, commands: Commands, _: Inspector) -> JSONResponse:
    visit_id = new_id()

    async def handle(uow: UnitOfWork) -> Accepted:
        event = VisitRecorded(occurred_on=body.visited_on, visit_id=visit_id, **body.model_dump(exclude={"visited_on"}))
        return _accepted(visit_id, await handlers.record_visit(uow, event))

    return await commands.run(handle)


@router.get("/visits", tags=["visits"], summary="Visits, by date (paginated)")
async def list_visits(
    request: Request, principal: Reader, campaign_id: str | None = None, limit: Limit = 50, offset: Offset = 0
) -> dict[str, Any]:
    async with request.app.state.runtime.engine.connect() as connection:
        return await queries.visits_page(connection, principal.tenant, queries.Page(limit, offset), campaign_id)


@router.get("/visits/{visit_id}", tags=["visits"], summary="A visit's record: findings, violations, decisions")
async def get_visit(visit_id: str, request: Request, principal: Reader) -> dict[str, Any]:
    async with request.app.state.runtime.engine.connect() as connection:
        return await queries.visit_record(connection, principal.tenant, visit_id)


@router.post(
    "/visits/{visit_id}/findings",
    status_code=201,
    response_model=Accepted,
    tags=["visits"],
    summary="Record a finding on an instrument (by registry id, or type and serial) or a lot of goods",
)
async def record_finding(visit_id: str, body: FindingIn, commands: Commands, _: Inspector) -> JSONResponse:
    finding_id = new_id()
    sighting = Sighting(**body.model_dump(exclude={"defects"}), defects=tuple(body.defects))

    async def handle(uow: UnitOfWork) -> Accepted:
        return _accepted(finding_id, await handlers.record_finding(uow, visit_id, finding_id, sighting))

    return await commands.run(handle)


@router.post(
    "/visits/{visit_id}/violations",
    status_code=201,
    response_model=Accepted,
    tags=["visits"],
    summary="Record a violation resting on findings of the visit",
)
async def record_violation(visit_id: str, body: ViolationIn, commands: Commands, _: Inspector) -> JSONResponse:
    command = handlers.RecordViolation(visit_id=visit_id, violation_id=new_id(), **body.model_dump())

    async def handle(uow: UnitOfWork) -> Accepted:
        return _accepted(command.violation_id, await handlers.record_violation(uow, command))

    return await commands.run(handle)


@router.post(
    "/visits/{visit_id}/decisions",
    status_code=201,
    response_model=Accepted,
    tags=["visits"],
    summary="Issue a decision on violations of the visit (a fine, a warning or no sanction)",
)
async def issue_decision(visit_id: str, body: DecisionIn, commands: Commands, _: Inspector) -> JSONResponse:
    decision_id = new_id()

    async def handle(uow: UnitOfWork) -> Accepted:
        fields = body.model_dump(exclude={"issued_on"})
        decision = DecisionIssued(occurred_on=body.issued_on, visit_id=visit_id, decision_id=decision_id, **fields)
        return _accepted(decision_id, await handlers.issue_decision(uow, decision))

    return await commands.run(handle)


@router.post(
    "/visits/{visit_id}/follow-ups",
    status_code=201,
    response_model=Accepted,
    tags=["visits"],
    summary="Order a follow-up verification of an instrument found at the visit",
)
async def order_follow_up(visit_id: str, body: FollowUpIn, commands: Commands, _: Inspector) -> JSONResponse:
    command = handlers.OrderFollowUp(visit_id=visit_id, order_id=new_id(), **body.model_dump())

    async def handle(uow: UnitOfWork) -> Accepted:
        visit: Visit = await handlers.order_follow_up(uow, command)
        return _accepted(command.order_id, visit)

    return await commands.run(handle)


# -- across visits ---------------------------------------------------------------------------------


@router.get("/findings", tags=["findings"], summary="Findings, filtered by defect or registry status (paginated)")
async def list_findings(
    request: Request,
    principal: Reader,
    defect: Defect | None = None,
    registry_status: RegistryStatus | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    async with request.app.state.runtime.engine.connect() as connection:
        p = queries.Page(limit, offset)
        return await queries.findings_page(connection, principal.tenant, p, defect, registry_status)


@router.get("/follow-ups", tags=["findings"], summary="Follow-up verifications ordered, by due date (paginated)")
async def list_follow_ups(
    request: Request, principal: Reader, due_by: Day | None = None, limit: Limit = 50, offset: Offset = 0
) -> dict[str, Any]:
    async with request.app.state.runtime.engine.connect() as connection:
        return await queries.follow_ups_page(connection, principal.tenant, queries.Page(limit, offset), due_by)


@router.get("/summary", tags=["findings"], summary="A year of inspection in figures (for the yearly report)")
async def get_summary(
    request: Request, principal: Reader, year: Annotated[int, Query(ge=2000, le=2100)]
) -> dict[str, Any]:
    async with request.app.state.runtime.engine.connect() as connection:
        return await queries.summary(connection, principal.tenant, year)
