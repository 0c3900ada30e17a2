"""The KPI projection: folds the other services' events into reporting's facts, each event exactly once.

The projector applies a batch and records the event ids in one transaction (the kit's ProjectorRunner); every
write here is keyed by the fact's identity, so the same fact delivered under two event ids is stored once.
After each batch, an optional evaluation step compares each target's status with the last one published.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from metrology.eventkit.envelope import Envelope
from metrology.eventkit.events import DomainEvent, EventRegistry
from metrology.refdata.group2 import UnknownInstrumentTypeError, group2
from metrology.reporting.adapters import readmodel as rm
from metrology.reporting.adapters.sql import insert_once, upsert
from metrology.reporting.domain import consumed as ev

Evaluation = Callable[[AsyncSession], Awaitable[None]]


class KpiProjection:
    name = "reporting.kpis"

    def __init__(self, registry: EventRegistry, evaluation: Evaluation | None = None) -> None:
        self.registry = registry
        self.evaluation = evaluation

    async def apply(self, session: AsyncSession, envelope: Envelope, event: DomainEvent) -> None:
        handler = FOLDS.get(type(event))
        if handler is not None:
            await handler(session, envelope.tenant, envelope, event)

    async def after_batch(self, session: AsyncSession) -> None:
        if self.evaluation is not None:
            await self.evaluation(session)

    async def reset(self, session: AsyncSession) -> None:
        for table in reversed(rm.FACT_TABLES):
            await session.execute(sa.delete(table))


async def trainee_completed(session: AsyncSession, tenant: str, _: Envelope, e: ev.TraineeCompleted) -> None:
    if e.passed:  # a failed trainee never counts
        await insert_once(
            session,
            rm.completions,
            tenant=tenant,
            course_id=e.course_id,
            trainee_id=e.trainee_id,
            completed_on=e.occurred_on,
            passed=True,
        )


async def enterprise_registered(session: AsyncSession, tenant: str, _: Envelope, e: Any) -> None:
    await upsert(
        session,
        rm.enterprises,
        ["sector", "commune_code"],
        tenant=tenant,
        enterprise_id=e.enterprise_id,
        sector=e.sector,
        commune_code=e.commune_code,
    )


async def enterprise_enrolled(session: AsyncSession, tenant: str, _: Envelope, e: ev.EnterpriseEnrolled) -> None:
    await insert_once(
        session,
        rm.enrolments,
        tenant=tenant,
        participation_id=e.participation_id,
        enterprise_id=e.enterprise_id,
        enrolled_on=e.occurred_on,
    )


async def enterprise_withdrawn(session: AsyncSession, tenant: str, _: Envelope, e: ev.EnterpriseWithdrawn) -> None:
    await insert_once(
        session, rm.withdrawals, tenant=tenant, participation_id=e.participation_id, withdrawn_on=e.occurred_on
    )


async def access_recorded(session: AsyncSession, tenant: str, _: Envelope, e: ev.AccessRecorded) -> None:
    """One job counts once, whether it reaches us as the verification work or as the access recorded for it."""
    await insert_once(
        session,
        rm.enterprise_jobs,
        tenant=tenant,
        job_key=e.source_job_id or f"access-{e.access_id}",
        enterprise_id=e.enterprise_id,
        channel=e.channel,
        occurred_on=e.occurred_on,
    )


async def work_recorded(session: AsyncSession, tenant: str, _: Envelope, e: ev.WorkRecorded) -> None:
    if e.owner_enterprise_id:
        await insert_once(
            session,
            rm.enterprise_jobs,
            tenant=tenant,
            job_key=e.job_id,
            enterprise_id=e.owner_enterprise_id,
            channel=e.kind,
            occurred_on=e.occurred_on,
        )
    if e.kind != "verification" or e.subject != "instrument":
        return
    await insert_once(
        session,
        rm.verifications,
        tenant=tenant,
        job_id=e.job_id,
        instrument_id=e.subject_id,
        provider_id=e.provider_id,
        provider_province_code=e.provider_province_code,
        verified_on=e.occurred_on,
    )
    due = _next_due(e)
    if e.result == "pass" and due is not None:
        await insert_once(session, rm.due_dates, tenant=tenant, instrument_id=e.subject_id, source=e.job_id, due_on=due)


def _next_due(e: ev.WorkRecorded) -> Any:
    """The verification's date plus the interval in force for the type (clamped to the month's end)."""
    if not e.type_code:
        return None
    try:
        return group2().next_due(e.type_code, e.occurred_on)
    except UnknownInstrumentTypeError:
        return None


async def certificate_issued(session: AsyncSession, tenant: str, _: Envelope, e: ev.CertificateIssued) -> None:
    """The certificate's valid_until is the next due date of a passed verification: it replaces the computed one."""
    if e.valid_until is not None:
        await upsert(
            session,
            rm.due_dates,
            ["due_on"],
            tenant=tenant,
            instrument_id=e.subject_id,
            source=e.job_id,
            due_on=e.valid_until,
        )


async def instrument_registered(session: AsyncSession, tenant: str, _: Envelope, e: ev.InstrumentRegistered) -> None:
    await insert_once(
        session,
        rm.instruments,
        tenant=tenant,
        instrument_id=e.instrument_id,
        type_code=e.type_code,
        commune_code=e.commune_code,
        registered_on=e.occurred_on,
    )
    await insert_once(
        session,
        rm.due_dates,
        tenant=tenant,
        instrument_id=e.instrument_id,
        source="registration",
        due_on=e.occurred_on,
    )


async def instrument_status_changed(
    session: AsyncSession, tenant: str, _: Envelope, e: ev.InstrumentStatusChanged
) -> None:
    if e.status == "retired":
        await insert_once(
            session, rm.retirements, tenant=tenant, instrument_id=e.instrument_id, retired_on=e.occurred_on
        )


async def provider_registered(session: AsyncSession, tenant: str, _: Envelope, e: ev.ProviderRegistered) -> None:
    await upsert(
        session,
        rm.providers,
        ["name", "ownership", "province_code"],
        tenant=tenant,
        provider_id=e.provider_id,
        name=e.name,
        ownership=e.ownership,
        province_code=e.province_code,
    )


async def provider_designated(session: AsyncSession, tenant: str, _: Envelope, e: ev.ProviderDesignated) -> None:
    await insert_once(
        session,
        rm.designations,
        tenant=tenant,
        designation_id=e.designation_id,
        provider_id=e.provider_id,
        instrument_types=list(e.instrument_types),
        valid_from=e.valid_from,
        valid_until=e.valid_until,
    )


async def designation_renewed(session: AsyncSession, tenant: str, _: Envelope, e: ev.DesignationRenewed) -> None:
    await insert_once(
        session,
        rm.renewals,
        tenant=tenant,
        designation_id=e.designation_id,
        renewed_on=e.occurred_on,
        valid_until=e.valid_until,
    )


async def designation_revoked(session: AsyncSession, tenant: str, _: Envelope, e: ev.DesignationRevoked) -> None:
    await insert_once(session, rm.revocations, tenant=tenant, designation_id=e.designation_id, revoked_on=e.occurred_on)


async def laboratory_registered(session: AsyncSession, tenant: str, _: Envelope, e: ev.LaboratoryRegistered) -> None:
    await upsert(
        session,
        rm.laboratories,
        ["name", "commune_code"],
        tenant=tenant,
        laboratory_id=e.laboratory_id,
        name=e.name,
        commune_code=e.commune_code,
    )


async def laboratory_accredited(session: AsyncSession, tenant: str, _: Envelope, e: ev.LaboratoryAccredited) -> None:
    await insert_once(
        session,
        rm.accreditations,
        tenant=tenant,
        laboratory_id=e.laboratory_id,
        accreditation_number=e.accreditation_number,
        recorded_on=e.occurred_on,
        valid_from=e.valid_from,
        valid_until=e.valid_until,
    )


async def laboratory_assessed(session: AsyncSession, tenant: str, envelope: Envelope, e: ev.LaboratoryAssessed) -> None:
    await insert_once(
        session,
        rm.assessments,
        tenant=tenant,
        event_id=envelope.id,
        laboratory_id=e.laboratory_id,
        criteria=e.criteria,
        passed=e.passed,
        assessed_on=e.occurred_on,
    )


FOLDS: dict[type[DomainEvent], Callable[[AsyncSession, str, Envelope, Any], Awaitable[None]]] = {
    ev.TraineeCompleted: trainee_completed,
    ev.EnterpriseRegistered: enterprise_registered,
    ev.EnterpriseUpdated: enterprise_registered,
    ev.EnterpriseEnrolled: enterprise_enrolled,
    ev.EnterpriseWithdrawn: enterprise_withdrawn,
    ev.AccessRecorded: access_recorded,
    ev.WorkRecorded: work_recorded,
    ev.CertificateIssued: certificate_issued,
    ev.InstrumentRegistered: instrument_registered,
    ev.InstrumentStatusChanged: instrument_status_changed,
    ev.ProviderRegistered: provider_registered,
    ev.ProviderDesignated: provider_designated,
    ev.DesignationRenewed: designation_renewed,
    ev.DesignationRevoked: designation_revoked,
    ev.LaboratoryRegistered: laboratory_registered,
    ev.LaboratoryAccredited: laboratory_accredited,
    ev.LaboratoryAssessed: laboratory_assessed,
}
