"""Command handlers: load the aggregate, let the domain decide, append its events, update the query tables."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

import sqlalchemy as sa

from metrology.eventkit.database import DatabaseSession
from metrology.eventkit.envelope import EventContext
from metrology.eventkit.errors import ConflictError, NotFoundError, RuleViolationError
from metrology.eventkit.events import DomainEvent
from metrology.outreach.adapters.tables import accesses, campaigns, known_enterprises, participations
from metrology.outreach.domain.campaign import Campaign
from metrology.outreach.domain.events import (
    AccessRecorded,
    AnnualEvaluationRecorded,
    AreaRating,
    CampaignHeld,
    Channel,
    CurrentStateAssessed,
    EnterpriseEnrolled,
    EnterpriseWithdrawn,
    Objective,
    ParticipationCompleted,
    ParticipationContactErased,
    PlanApproved,
    SupportDelivered,
)
from metrology.outreach.domain.participation import CLOSED, Participation, Status
from metrology.servicekit.personal_data import ERASED, PersonalDataVault

JOB_ACCESS_NAMESPACE = uuid.UUID("6f1d3c1e-5b7a-4c55-9a63-0c7e8f6d2b10")


class Unit(Protocol):
    """What a handler needs of its transaction (the HTTP unit of work, or a projector's session)."""

    context: EventContext

    @property
    def session(self) -> DatabaseSession: ...

    async def history(self, stream_id: str) -> list[DomainEvent]: ...

    async def append(self, stream_id: str, expected_version: int | None, events: Sequence[DomainEvent]) -> None: ...


def participation_stream(participation_id: str) -> str:
    return f"participation-{participation_id}"


def campaign_stream(campaign_id: str) -> str:
    return f"campaign-{campaign_id}"


def access_id_for_job(tenant: str, job_id: str) -> str:
    """The same job always gives the same access id, whoever records it and however often."""
    return str(uuid.uuid5(JOB_ACCESS_NAMESPACE, f"{tenant}:{job_id}"))


CONTACT_FIELDS = ("contact_name", "contact_role", "contact_phone", "contact_email")

# -- commands ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Enrol:
    participation_id: str
    enterprise_id: str
    enrolled_on: date
    consent: bool
    contact_name: str
    contact_role: str | None = None
    contact_phone: str | None = None
    contact_email: str | None = None


@dataclass(frozen=True)
class RecordAccess:
    participation_id: str
    access_id: str
    occurred_on: date
    channel: Channel
    note: str | None = None
    source_job_id: str | None = None


@dataclass(frozen=True)
class JobPerformed:
    """A verification job as the saga sees it: whose subject it served, and when."""

    tenant: str
    job_id: str
    kind: Channel
    performed_on: date
    enterprise_id: str


# -- participation lifecycle ----------------------------------------------------------------------


def contact_subject(participation_id: str) -> str:
    """Whose data key seals a participation's contact person."""
    return f"participation-contact-{participation_id}"


async def enrol_enterprise(uow: Unit, command: Enrol, vault: PersonalDataVault) -> Participation:
    """The contact person travels sealed under their own key; the participation's row names them until erasure."""
    enterprise = await _known_enterprise(uow, command.enterprise_id)
    if enterprise.closed_on is not None:
        raise RuleViolationError(
            f"enterprise {command.enterprise_id} is closed", field="enterprise_id", rule="enterprise-closed"
        )
    if await _open_participation(uow, command.enterprise_id) is not None:
        raise ConflictError(
            f"enterprise {command.enterprise_id} already takes part in the programme",
            field="enterprise_id",
            rule="already-enrolled",
        )
    stream = participation_stream(command.participation_id)
    participation = Participation.replay(await uow.history(stream))
    key = await vault.key(uow.session, contact_subject(command.participation_id))
    contact = {name: getattr(command, name) for name in CONTACT_FIELDS if getattr(command, name) is not None}
    participation.enrol(
        EnterpriseEnrolled(
            occurred_on=command.enrolled_on,
            participation_id=command.participation_id,
            enterprise_id=command.enterprise_id,
            enterprise_name=enterprise.name,
            consent=command.consent,
            contact=vault.seal(key, contact),
        )
    )
    await uow.append(stream, participation.version, participation.pending)
    await vault.keep(uow.session, key)
    await uow.session.execute(
        sa.insert(participations).values(
            participation_id=command.participation_id,
            tenant=uow.context.tenant,
            enterprise_id=command.enterprise_id,
            enterprise_name=enterprise.name,
            status=Status.ENROLLED.value,
            contact_name=command.contact_name,
            enrolled_on=command.enrolled_on,
            supports=0,
            accesses=0,
        )
    )
    return participation


async def assess_current_state(
    uow: Unit, participation_id: str, on: date, assessor: str, areas: list[AreaRating]
) -> Participation:
    participation = await _load(uow, participation_id)
    participation.assess(on, assessor, areas)
    return await _save(uow, participation)


@dataclass(frozen=True)
class ApprovePlan:
    participation_id: str
    approved_on: date
    approved_by: str
    objectives: list[Objective]
    budget_vnd: int | None = None


async def approve_plan(uow: Unit, command: ApprovePlan, vault: PersonalDataVault) -> Participation:
    """The approver (the enterprise's head) travels sealed under the key of the participation's contact persons."""
    participation = await _load(uow, command.participation_id)
    key = await vault.key(uow.session, contact_subject(command.participation_id))
    approver = vault.seal(key, {"approved_by": command.approved_by})
    participation.approve_plan(command.approved_on, approver, command.objectives, command.budget_vnd)
    await _save(uow, participation)
    await vault.keep(uow.session, key)
    return participation


async def deliver_support(uow: Unit, participation_id: str, on: date, kind: str, description: str) -> Participation:
    participation = await _load(uow, participation_id)
    participation.deliver_support(on, kind, description)
    return await _save(uow, participation)


async def evaluate(
    uow: Unit, participation_id: str, on: date, year: int, objectives_met: int, findings: str
) -> Participation:
    participation = await _load(uow, participation_id)
    participation.evaluate(on, year, objectives_met, findings)
    return await _save(uow, participation)


async def complete(uow: Unit, participation_id: str, on: date, summary: str | None) -> Participation:
    participation = await _load(uow, participation_id)
    participation.complete(on, summary)
    return await _save(uow, participation)


async def erase_contact(uow: Unit, participation_id: str, on: date, vault: PersonalDataVault) -> Participation:
    """The contact person's key is destroyed; the participation and its counts stay."""
    participation = await _load(uow, participation_id)
    participation.erase_contact(on)
    await _save(uow, participation)
    await vault.erase(uow.session, contact_subject(participation_id))
    return participation


async def withdraw(uow: Unit, participation_id: str, on: date, reason: str | None) -> Participation:
    participation = await _load(uow, participation_id)
    participation.withdraw(on, reason)
    return await _save(uow, participation)


# -- accesses ------------------------------------------------------------------------------------


async def record_access(uow: Unit, command: RecordAccess) -> AccessRecorded | None:
    """Record an access by hand (or for a job); None when that job was already counted."""
    if command.source_job_id and await _job_counted(uow, command.source_job_id):
        return None
    participation = await _load(uow, command.participation_id)
    event = participation.record_access(
        command.access_id, command.occurred_on, command.channel, command.source_job_id, command.note
    )
    await _save(uow, participation)
    return event


async def record_access_for_job(uow: Unit, job: JobPerformed) -> AccessRecorded | None:
    """The saga's step: a job for an enterprise in the programme on the job's date counts once as an access."""
    if await _job_counted(uow, job.job_id):
        return None
    participation_id = await _participation_covering(uow, job.enterprise_id, job.performed_on)
    if participation_id is None:
        return None
    command = RecordAccess(
        participation_id=participation_id,
        access_id=access_id_for_job(job.tenant, job.job_id),
        occurred_on=job.performed_on,
        channel=job.kind,
        source_job_id=job.job_id,
    )
    return await record_access(uow, command)


# -- campaigns -----------------------------------------------------------------------------------


async def hold_campaign(uow: Unit, event: CampaignHeld) -> Campaign:
    stream = campaign_stream(event.campaign_id)
    campaign = Campaign.replay(await uow.history(stream))
    await _refuse_unknown_enterprises(uow, event.enterprise_ids)
    campaign.hold(event)
    await uow.append(stream, campaign.version, campaign.pending)
    await uow.session.execute(
        sa.insert(campaigns).values(
            campaign_id=event.campaign_id,
            tenant=uow.context.tenant,
            title=event.title,
            audience=event.audience,
            channel=event.channel,
            held_on=event.occurred_on,
            enterprises_reached=event.enterprises_reached,
            enterprise_ids=list(event.enterprise_ids),
            people_reached=event.people_reached,
        )
    )
    return campaign


# -- helpers -------------------------------------------------------------------------------------


async def _refuse_unknown_enterprises(uow: Unit, enterprise_ids: Sequence[str]) -> None:
    """A campaign names only enterprises of the caller's province (another province's ids are not known here)."""
    if not enterprise_ids:
        return
    query = sa.select(known_enterprises.c.enterprise_id).where(
        known_enterprises.c.tenant == uow.context.tenant, known_enterprises.c.enterprise_id.in_(set(enterprise_ids))
    )
    unknown = sorted(set(enterprise_ids) - set((await uow.session.execute(query)).scalars()))
    if unknown:
        raise RuleViolationError(
            f"enterprise {unknown[0]} is not in the registry", field="enterprise_ids", rule="enterprise-unknown"
        )


async def _known_enterprise(uow: Unit, enterprise_id: str) -> sa.Row[Any]:
    query = sa.select(known_enterprises).where(
        known_enterprises.c.tenant == uow.context.tenant, known_enterprises.c.enterprise_id == enterprise_id
    )
    row = (await uow.session.execute(query)).first()
    if row is None:
        raise RuleViolationError(
            f"enterprise {enterprise_id} is not in the registry", field="enterprise_id", rule="enterprise-unknown"
        )
    return row


async def _open_participation(uow: Unit, enterprise_id: str) -> str | None:
    query = sa.select(participations.c.participation_id).where(
        participations.c.tenant == uow.context.tenant,
        participations.c.enterprise_id == enterprise_id,
        participations.c.status.not_in([s.value for s in CLOSED]),
    )
    return (await uow.session.execute(query)).scalars().first()


async def _participation_covering(uow: Unit, enterprise_id: str, on: date) -> str | None:
    p = participations.c
    query = (
        sa.select(p.participation_id)
        .where(
            p.tenant == uow.context.tenant,
            p.enterprise_id == enterprise_id,
            p.enrolled_on <= on,
            sa.or_(p.withdrawn_on.is_(None), p.withdrawn_on > on),
            sa.or_(p.completed_on.is_(None), p.completed_on >= on),
        )
        .order_by(p.enrolled_on.desc())
    )
    return (await uow.session.execute(query)).scalars().first()


async def _job_counted(uow: Unit, job_id: str) -> bool:
    query = sa.select(accesses.c.access_id).where(
        accesses.c.tenant == uow.context.tenant, accesses.c.source_job_id == job_id
    )
    return (await uow.session.execute(query)).first() is not None


async def _load(uow: Unit, participation_id: str) -> Participation:
    query = sa.select(participations.c.tenant).where(participations.c.participation_id == participation_id)
    tenant = (await uow.session.execute(query)).scalar_one_or_none()
    if tenant != uow.context.tenant:
        raise NotFoundError(
            f"no participation {participation_id}", field="participation_id", rule="participation-unknown"
        )
    return Participation.replay(await uow.history(participation_stream(participation_id)))


async def _save(uow: Unit, participation: Participation) -> Participation:
    pending = list(participation.pending)
    if not pending:
        return participation
    await uow.append(participation_stream(participation.participation_id), participation.version, pending)
    for event in pending:
        await _update_views(uow, event)
    return participation


async def _update_views(uow: Unit, event: DomainEvent) -> None:
    row = participations.c.participation_id == getattr(event, "participation_id", None)
    changes: dict[str, Any] = {}
    match event:
        case CurrentStateAssessed():
            changes = {
                "assessed_on": event.occurred_on,
                "assessment": [a.model_dump(mode="json") for a in event.areas],
                "status": sa.case((participations.c.status == "enrolled", "assessed"), else_=participations.c.status),
            }
        case PlanApproved():
            objectives = [o.model_dump(mode="json") for o in event.objectives]
            changes = {"plan_approved_on": event.occurred_on, "objectives": objectives, "status": "planned"}
        case SupportDelivered():
            changes = {"supports": participations.c.supports + 1}
        case AnnualEvaluationRecorded():
            await _append_evaluation(uow, event)
        case ParticipationCompleted():
            changes = {"status": "completed", "completed_on": event.occurred_on}
        case EnterpriseWithdrawn():
            changes = {"status": "withdrawn", "withdrawn_on": event.occurred_on}
        case ParticipationContactErased():
            changes = {"contact_name": ERASED}
        case AccessRecorded():
            await _insert_access(uow, event)
            changes = {"accesses": participations.c.accesses + 1}
    if changes:
        await uow.session.execute(sa.update(participations).where(row).values(**changes))


async def _append_evaluation(uow: Unit, event: AnnualEvaluationRecorded) -> None:
    row = participations.c.participation_id == event.participation_id
    current = (await uow.session.execute(sa.select(participations.c.evaluations).where(row))).scalar_one()
    entry = {"year": event.year, "evaluated_on": event.occurred_on.isoformat(), "objectives_met": event.objectives_met}
    await uow.session.execute(sa.update(participations).where(row).values(evaluations=[*(current or []), entry]))


async def _insert_access(uow: Unit, event: AccessRecorded) -> None:
    await uow.session.execute(
        sa.insert(accesses).values(
            access_id=event.access_id,
            tenant=uow.context.tenant,
            participation_id=event.participation_id,
            enterprise_id=event.enterprise_id,
            channel=event.channel,
            occurred_on=event.occurred_on,
            source_job_id=event.source_job_id,
            note=event.note,
        )
    )
