"""Command handlers: load the aggregate, decide, append its events and update the query tables."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from metrology.eventkit.errors import NotFoundError, RuleViolationError
from metrology.eventkit.events import DomainEvent
from metrology.eventkit.unit_of_work import UnitOfWork
from metrology.inspection.adapters.tables import (
    campaigns,
    decisions,
    findings,
    follow_ups,
    inspection_plans,
    violations,
    visits,
)
from metrology.inspection.application import replica
from metrology.inspection.domain.events import (
    CampaignLaunched,
    DecisionIssued,
    FindingRecorded,
    FollowUpVerificationOrdered,
    InspectionPlanApproved,
    ViolationRecorded,
    VisitRecorded,
)
from metrology.inspection.domain.plan import Campaign, InspectionPlan
from metrology.inspection.domain.visit import Registration, Sighting, Visit
from metrology.refdata.group2 import UnknownInstrumentTypeError, group2


@dataclass(frozen=True)
class RecordViolation:
    visit_id: str
    violation_id: str
    finding_ids: list[str]
    legal_basis: str
    description: str


@dataclass(frozen=True)
class OrderFollowUp:
    visit_id: str
    order_id: str
    finding_id: str
    ordered_on: date
    due_on: date


def plan_stream(plan_id: str) -> str:
    return f"plan-{plan_id}"


def campaign_stream(campaign_id: str) -> str:
    return f"campaign-{campaign_id}"


def visit_stream(visit_id: str) -> str:
    return f"visit-{visit_id}"


# -- plans and campaigns ---------------------------------------------------------------------------


async def approve_plan(uow: UnitOfWork, event: InspectionPlanApproved) -> InspectionPlan:
    plan = InspectionPlan.replay(await uow.history(plan_stream(event.plan_id)))
    plan.approve(event)
    await uow.append(plan_stream(event.plan_id), plan.version, plan.pending)
    await uow.session.execute(
        sa.insert(inspection_plans).values(
            plan_id=event.plan_id, tenant=uow.context.tenant, year=event.year, title=event.title,
            decision_number=event.decision_number, approved_by=event.approved_by, approved_on=event.occurred_on,
        )
    )  # fmt: skip
    return plan


async def launch_campaign(uow: UnitOfWork, event: CampaignLaunched) -> Campaign:
    campaign = Campaign.replay(await uow.history(campaign_stream(event.campaign_id)))
    plan = InspectionPlan.replay(await uow.history(plan_stream(event.plan_id)))
    if not plan.exists or not await _owned(uow, inspection_plans, "plan_id", event.plan_id):
        raise RuleViolationError(f"no inspection plan {event.plan_id}", field="plan_id", rule="plan-unknown")
    for code in event.instrument_types:
        _require_group2(code, event.starts_on, "instrument_types")
    campaign.launch(plan, event)
    await uow.append(campaign_stream(event.campaign_id), campaign.version, campaign.pending)
    await uow.session.execute(
        sa.insert(campaigns).values(
            campaign_id=event.campaign_id, tenant=uow.context.tenant, plan_id=event.plan_id, title=event.title,
            decision_number=event.decision_number, venue_kinds=list(event.venue_kinds),
            instrument_types=list(event.instrument_types), prepackaged_goods=event.prepackaged_goods,
            starts_on=event.starts_on, ends_on=event.ends_on, visits=0,
        )
    )  # fmt: skip
    return campaign


# -- visits ----------------------------------------------------------------------------------------


async def record_visit(uow: UnitOfWork, event: VisitRecorded) -> Visit:
    visit = Visit.replay(await uow.history(visit_stream(event.visit_id)))
    campaign = await _campaign(uow, event.campaign_id, field="campaign_id", rule="campaign-unknown", status=422)
    visit.record_visit(campaign, event)
    return await _save(uow, visit)


async def record_finding(uow: UnitOfWork, visit_id: str, finding_id: str, sighting: Sighting) -> Visit:
    visit = await load_visit(uow, visit_id)
    campaign = await _campaign(uow, await _campaign_of(uow, visit_id))
    sighting.check_identity()
    if sighting.type_code:
        _require_group2(sighting.type_code, visit.visited_on, "type_code")
    visit.record_finding(finding_id, sighting, await _registration(uow, sighting, visit.visited_on), campaign)
    return await _save(uow, visit)


async def record_violation(uow: UnitOfWork, command: RecordViolation) -> Visit:
    visit = await load_visit(uow, command.visit_id)
    visit.record_violation(command.violation_id, command.finding_ids, command.legal_basis, command.description)
    return await _save(uow, visit)


async def issue_decision(uow: UnitOfWork, decision: DecisionIssued) -> Visit:
    visit = await load_visit(uow, decision.visit_id)
    visit.issue_decision(decision)
    return await _save(uow, visit)


async def order_follow_up(uow: UnitOfWork, command: OrderFollowUp) -> Visit:
    visit = await load_visit(uow, command.visit_id)
    visit.order_follow_up(command.order_id, command.finding_id, command.ordered_on, command.due_on)
    return await _save(uow, visit)


async def load_visit(uow: UnitOfWork, visit_id: str) -> Visit:
    visit = Visit.replay(await uow.history(visit_stream(visit_id)))
    if not visit.exists or not await _owned(uow, visits, "visit_id", visit_id):
        raise NotFoundError(f"no visit {visit_id}", field="visit_id", rule="visit-unknown")
    return visit


async def _save(uow: UnitOfWork, visit: Visit) -> Visit:
    pending = list(visit.pending)
    await uow.append(visit_stream(visit.visit_id), visit.version, pending)
    for event in pending:
        await _update_views(uow, event)
    return visit


async def _registration(uow: UnitOfWork, sighting: Sighting, on: date) -> Registration | None:
    tenant = uow.context.tenant
    if sighting.instrument_id:
        return await replica.registration_by_id(uow.session, tenant, sighting.instrument_id, on)
    if sighting.type_code and sighting.serial:
        return await replica.registration_by_serial(uow.session, tenant, sighting.type_code, sighting.serial, on)
    return None


async def _campaign(
    uow: UnitOfWork, campaign_id: str, field: str = "campaign_id", rule: str = "campaign-unknown", status: int = 404
) -> Campaign:
    campaign = Campaign.replay(await uow.history(campaign_stream(campaign_id)))
    if not campaign.exists or not await _owned(uow, campaigns, "campaign_id", campaign_id):
        error = RuleViolationError if status == 422 else NotFoundError
        raise error(f"no campaign {campaign_id}", field=field, rule=rule)
    return campaign


async def _campaign_of(uow: UnitOfWork, visit_id: str) -> str:
    query = sa.select(visits.c.campaign_id).where(visits.c.visit_id == visit_id)
    return str((await uow.session.execute(query)).scalar_one())


async def _owned(uow: UnitOfWork, table: sa.Table, key: str, value: str) -> bool:
    """Whether the row is the caller's province's (another province's plan, campaign or visit is not known)."""
    query = sa.select(table.c.tenant).where(table.c[key] == value)
    return (await uow.session.execute(query)).scalar_one_or_none() == uow.context.tenant


def _require_group2(code: str, on: date, field: str) -> None:
    try:
        group2().type_on(code, on)
    except UnknownInstrumentTypeError as error:
        raise RuleViolationError(str(error), field=field, rule="instrument-type-unknown") from None


# -- query tables ----------------------------------------------------------------------------------


async def _update_views(uow: UnitOfWork, event: DomainEvent) -> None:
    tenant, execute = uow.context.tenant, uow.session.execute
    match event:
        case VisitRecorded():
            await execute(
                sa.insert(visits).values(
                    visit_id=event.visit_id, tenant=tenant, campaign_id=event.campaign_id,
                    record_number=event.record_number, venue_kind=event.venue_kind, venue_name=event.venue_name,
                    enterprise_id=event.enterprise_id, commune_code=event.commune_code, visited_on=event.occurred_on,
                    inspectors=list(event.inspectors), findings=0, violations=0,
                )
            )  # fmt: skip
            await execute(
                sa.update(campaigns)
                .where(campaigns.c.campaign_id == event.campaign_id)
                .values(visits=campaigns.c.visits + 1)
            )
        case FindingRecorded():
            await execute(
                sa.insert(findings).values(
                    finding_id=event.finding_id, tenant=tenant, visit_id=event.visit_id, subject=event.subject,
                    instrument_id=event.instrument_id, type_code=event.type_code, serial=event.serial,
                    owner_enterprise_id=event.owner_enterprise_id, product=event.product,
                    defects=list(event.defects), registry_status=event.registry_status,
                    verification_status=event.verification_status, valid_until=event.valid_until,
                    found_on=event.occurred_on, note=event.note,
                )
            )  # fmt: skip
            await _count(uow, event.visit_id, findings=visits.c.findings + 1)
        case ViolationRecorded():
            await execute(
                sa.insert(violations).values(
                    violation_id=event.violation_id, tenant=tenant, visit_id=event.visit_id,
                    finding_ids=list(event.finding_ids), legal_basis=event.legal_basis,
                    description=event.description, recorded_on=event.occurred_on,
                )
            )  # fmt: skip
            await _count(uow, event.visit_id, violations=visits.c.violations + 1)
        case DecisionIssued():
            await execute(
                sa.insert(decisions).values(
                    decision_id=event.decision_id, tenant=tenant, visit_id=event.visit_id,
                    decision_number=event.decision_number, violation_ids=list(event.violation_ids),
                    sanction=event.sanction, fine_vnd=event.fine_vnd, remedies=list(event.remedies),
                    issued_by=event.issued_by, issued_on=event.occurred_on,
                )
            )  # fmt: skip
            await execute(
                sa.update(violations)
                .where(violations.c.violation_id.in_(event.violation_ids))
                .values(decision_id=event.decision_id)
            )
        case FollowUpVerificationOrdered():
            await execute(
                sa.insert(follow_ups).values(
                    order_id=event.order_id, tenant=tenant, visit_id=event.visit_id, finding_id=event.finding_id,
                    instrument_id=event.instrument_id, type_code=event.type_code, serial=event.serial,
                    owner_enterprise_id=event.owner_enterprise_id, ordered_on=event.occurred_on,
                    due_on=event.due_on,
                )
            )  # fmt: skip


async def _count(uow: UnitOfWork, visit_id: str, **values: object) -> None:
    await uow.session.execute(sa.update(visits).where(visits.c.visit_id == visit_id).values(**values))
