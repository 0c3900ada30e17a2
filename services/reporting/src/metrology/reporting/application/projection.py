"""The KPI projection: folds the other services' events into reporting's facts, each event exactly once.

The projector applies a batch and records the event ids in one transaction (the kit's ProjectorRunner); every
write here is keyed by the fact's identity, so the same fact delivered under two event ids is stored once.
`apply` only collects the batch's rows (adapters.sql.PendingWrites); `after_batch` writes them, a multi-row
statement per table, in the batch's transaction, then an optional evaluation step compares the status of each
target whose facts the batch touched with the last one published.

The aggregates kept beside the facts (adapters.aggregates) are recomputed for the keys each batch wrote. A
replay from the start (`rebuild`) leaves them alone batch by batch and derives them once from every fact at its
end (`derivations_after_replay`, side by side): a few set-based statements instead of one recomputation per batch.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC
from typing import Any

import sqlalchemy as sa

from metrology.eventkit.database import DatabaseSession, dialect_of
from metrology.eventkit.envelope import Envelope
from metrology.eventkit.events import DomainEvent, EventRegistry
from metrology.eventkit.projector import replaying
from metrology.refdata.group2 import UnknownInstrumentTypeError, group2
from metrology.reporting.adapters import readmodel as rm
from metrology.reporting.adapters.aggregates import (
    DERIVATIONS,
    refresh_course_days,
    refresh_demand_dates,
    refresh_enrolled_jobs,
    refresh_enterprise_days,
    refresh_first_completions,
    serialise_aggregates,
    tenants_of_the_read_model,
)
from metrology.reporting.adapters.sql import PendingWrites, bump_versions
from metrology.reporting.domain import consumed as ev
from metrology.reporting.domain.plan import Metric

Evaluation = Callable[[DatabaseSession, set[Metric]], Awaitable[None]]


class KpiProjection:
    name = "reporting.kpis"

    def __init__(self, registry: EventRegistry, evaluation: Evaluation | None = None) -> None:
        self.registry = registry
        self.evaluation = evaluation

    async def apply(self, session: DatabaseSession, envelope: Envelope, event: DomainEvent) -> None:
        handler = FOLDS.get(type(event))
        if handler is not None:
            writes = PendingWrites.of(session)
            writes.recorded_at = envelope.time.astimezone(UTC)  # the recording time, beside each business date
            handler(writes, envelope.tenant, envelope, event)

    async def after_batch(self, session: DatabaseSession) -> None:
        """Write the batch's facts (a few multi-row statements per table) and the aggregates they move, then evaluate
        what they touched; in a replay, only the facts."""
        writes = PendingWrites.of(session)
        tenants = writes.tenants()
        if replaying(session):
            touched = await writes.flush(session)
        else:
            await serialise_aggregates(session, tenants)
            touched = await _write_with_aggregates(session, writes)
        if touched:
            await bump_versions(session, tenants)
        if self.evaluation is not None and not replaying(session):
            await self.evaluation(session, {metric for table in touched for metric in rm.METRICS_OF[table]})

    def derivations_after_replay(self) -> Sequence[Callable[[DatabaseSession], Awaitable[None]]]:
        """Every aggregate from the facts the replay stored (its batches left them alone): three independent
        derivations, which the runner runs side by side."""
        return DERIVATIONS

    async def after_replay(self, session: DatabaseSession) -> None:
        """Once the aggregates are derived: a new read-model version, so that no answer cached before is served."""
        tenants = await tenants_of_the_read_model(session)
        if tenants:
            await bump_versions(session, tenants)

    async def reset(self, session: DatabaseSession) -> None:
        """Empty the facts and aggregates: on PostgreSQL one TRUNCATE (no dead rows left for a vacuum to clear
        while the replay refills them)."""
        if dialect_of(session) == "postgresql":
            await session.execute(sa.text(f"TRUNCATE {', '.join(table.name for table in rm.FACT_TABLES)}"))
        else:
            for table in reversed(rm.FACT_TABLES):
                await session.execute(sa.delete(table))
        await session.execute(sa.delete(rm.read_model_versions))  # the next batch starts a new epoch


async def _write_with_aggregates(session: DatabaseSession, writes: PendingWrites) -> set[sa.Table]:
    """Write the pending facts, then recompute the aggregates of the keys they name; returns the tables written."""
    trainees = writes.keys_of(rm.completions, "tenant", "trainee_id")
    courses = writes.keys_of(rm.completions, "tenant", "course_id")
    instruments = set().union(
        *(
            writes.keys_of(table, "tenant", "instrument_id")
            for table in (rm.due_dates, rm.instruments, rm.retirements, rm.verifications)
        )
    )
    jobs = writes.keys_of(rm.enterprise_jobs, "tenant", "job_key")
    job_days = writes.keys_of(rm.enterprise_jobs, "tenant", "enterprise_id", "occurred_on")
    enrolments = writes.keys_of(rm.enrolments, "tenant", "enterprise_id")
    withdrawals = writes.keys_of(rm.withdrawals, "tenant", "participation_id")
    registered = writes.keys_of(rm.enterprises, "tenant", "enterprise_id")
    touched = await writes.flush(session)
    flagged = (
        await refresh_enrolled_jobs(session, jobs, enrolments, withdrawals)
        if jobs or enrolments or withdrawals
        else set()
    )
    if job_days or flagged or registered:
        await refresh_enterprise_days(session, job_days, flagged | registered)
    if trainees:
        await refresh_first_completions(session, trainees)
        await refresh_course_days(session, courses)
    if instruments:
        await refresh_demand_dates(session, instruments)
    return touched


def trainee_completed(writes: PendingWrites, tenant: str, _: Envelope, e: ev.TraineeCompleted) -> None:
    if e.passed:  # a failed trainee never counts
        writes.insert_once(
            rm.completions,
            tenant=tenant,
            course_id=e.course_id,
            trainee_id=e.trainee_id,
            completed_on=e.occurred_on,
            passed=True,
        )


def course_scheduled(writes: PendingWrites, tenant: str, _: Envelope, e: ev.CourseScheduled) -> None:
    writes.upsert(rm.courses, ["topic", "field"], tenant=tenant, course_id=e.course_id, topic=e.topic, field=e.field)


def enterprise_registered(writes: PendingWrites, tenant: str, _: Envelope, e: Any) -> None:
    writes.upsert(
        rm.enterprises,
        ["sector", "commune_code"],
        tenant=tenant,
        enterprise_id=e.enterprise_id,
        sector=e.sector,
        commune_code=e.commune_code,
    )


def enterprise_enrolled(writes: PendingWrites, tenant: str, _: Envelope, e: ev.EnterpriseEnrolled) -> None:
    writes.insert_once(
        rm.enrolments,
        tenant=tenant,
        participation_id=e.participation_id,
        enterprise_id=e.enterprise_id,
        enrolled_on=e.occurred_on,
    )


def enterprise_withdrawn(writes: PendingWrites, tenant: str, _: Envelope, e: ev.EnterpriseWithdrawn) -> None:
    writes.insert_once(rm.withdrawals, tenant=tenant, participation_id=e.participation_id, withdrawn_on=e.occurred_on)


def access_recorded(writes: PendingWrites, tenant: str, _: Envelope, e: ev.AccessRecorded) -> None:
    """One job counts once, whether it reaches us as the verification work or as the access recorded for it."""
    writes.insert_once(
        rm.enterprise_jobs,
        tenant=tenant,
        job_key=e.source_job_id or f"access-{e.access_id}",
        enterprise_id=e.enterprise_id,
        channel=e.channel,
        occurred_on=e.occurred_on,
        enrolled=False,
    )


def work_recorded(writes: PendingWrites, tenant: str, _: Envelope, e: ev.WorkRecorded) -> None:
    if e.owner_enterprise_id:
        writes.insert_once(
            rm.enterprise_jobs,
            tenant=tenant,
            job_key=e.job_id,
            enterprise_id=e.owner_enterprise_id,
            channel=e.kind,
            occurred_on=e.occurred_on,
            enrolled=False,
        )
    if e.kind != "verification" or e.subject != "instrument":
        return
    writes.insert_once(
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
        writes.insert_once(rm.due_dates, tenant=tenant, instrument_id=e.subject_id, source=e.job_id, due_on=due)


SERVICE_CHANNELS = {"measurement-method": "method"}  # the access channel of each kind where the names differ


def enterprise_service_recorded(
    writes: PendingWrites, tenant: str, _: Envelope, e: ev.EnterpriseServiceRecorded
) -> None:
    """A service to any enterprise; T4 counts it only when the enterprise took part on its date, and once, whether
    it reaches us as the service or as the access outreach recorded for it (same key: the service id)."""
    writes.insert_once(
        rm.enterprise_jobs,
        tenant=tenant,
        job_key=e.service_id,
        enterprise_id=e.enterprise_id,
        channel=SERVICE_CHANNELS.get(e.kind, e.kind),
        occurred_on=e.occurred_on,
        enrolled=False,
    )


def _next_due(e: ev.WorkRecorded) -> Any:
    """The verification's date plus the interval in force for the type (clamped to the month's end)."""
    if not e.type_code:
        return None
    try:
        return group2().next_due(e.type_code, e.occurred_on)
    except UnknownInstrumentTypeError:
        return None


def certificate_issued(writes: PendingWrites, tenant: str, _: Envelope, e: ev.CertificateIssued) -> None:
    """The certificate's valid_until is the next due date of a passed verification: it replaces the computed one."""
    if e.valid_until is not None:
        writes.upsert(
            rm.due_dates,
            ["due_on"],
            tenant=tenant,
            instrument_id=e.subject_id,
            source=e.job_id,
            due_on=e.valid_until,
        )


def instrument_registered(writes: PendingWrites, tenant: str, _: Envelope, e: ev.InstrumentRegistered) -> None:
    writes.insert_once(
        rm.instruments,
        tenant=tenant,
        instrument_id=e.instrument_id,
        type_code=e.type_code,
        commune_code=e.commune_code,
        registered_on=e.occurred_on,
    )
    writes.insert_once(
        rm.due_dates,
        tenant=tenant,
        instrument_id=e.instrument_id,
        source="registration",
        due_on=e.occurred_on,
    )


def instrument_status_changed(writes: PendingWrites, tenant: str, _: Envelope, e: ev.InstrumentStatusChanged) -> None:
    if e.status == "retired":
        writes.insert_once(rm.retirements, tenant=tenant, instrument_id=e.instrument_id, retired_on=e.occurred_on)


def provider_registered(writes: PendingWrites, tenant: str, _: Envelope, e: ev.ProviderRegistered) -> None:
    writes.upsert(
        rm.providers,
        ["name", "ownership", "province_code"],
        tenant=tenant,
        provider_id=e.provider_id,
        name=e.name,
        ownership=e.ownership,
        province_code=e.province_code,
    )


def provider_designated(writes: PendingWrites, tenant: str, _: Envelope, e: ev.ProviderDesignated) -> None:
    writes.insert_once(
        rm.designations,
        tenant=tenant,
        designation_id=e.designation_id,
        provider_id=e.provider_id,
        instrument_types=list(e.instrument_types),
        valid_from=e.valid_from,
        valid_until=e.valid_until,
    )


def designation_renewed(writes: PendingWrites, tenant: str, _: Envelope, e: ev.DesignationRenewed) -> None:
    writes.insert_once(
        rm.renewals,
        tenant=tenant,
        designation_id=e.designation_id,
        renewed_on=e.occurred_on,
        valid_until=e.valid_until,
    )


def designation_revoked(writes: PendingWrites, tenant: str, _: Envelope, e: ev.DesignationRevoked) -> None:
    writes.insert_once(rm.revocations, tenant=tenant, designation_id=e.designation_id, revoked_on=e.occurred_on)


def laboratory_registered(writes: PendingWrites, tenant: str, _: Envelope, e: ev.LaboratoryRegistered) -> None:
    writes.upsert(
        rm.laboratories,
        ["name", "commune_code"],
        tenant=tenant,
        laboratory_id=e.laboratory_id,
        name=e.name,
        commune_code=e.commune_code,
    )


def laboratory_accredited(writes: PendingWrites, tenant: str, _: Envelope, e: ev.LaboratoryAccredited) -> None:
    writes.insert_once(
        rm.accreditations,
        tenant=tenant,
        laboratory_id=e.laboratory_id,
        accreditation_number=e.accreditation_number,
        recorded_on=e.occurred_on,
        valid_from=e.valid_from,
        valid_until=e.valid_until,
    )


def laboratory_assessed(writes: PendingWrites, tenant: str, envelope: Envelope, e: ev.LaboratoryAssessed) -> None:
    writes.insert_once(
        rm.assessments,
        tenant=tenant,
        event_id=envelope.id,
        laboratory_id=e.laboratory_id,
        criteria=e.criteria,
        passed=e.passed,
        assessed_on=e.occurred_on,
    )


def overdue_instrument_found(writes: PendingWrites, tenant: str, _: Envelope, e: ev.OverdueInstrumentFound) -> None:
    writes.insert_once(
        rm.found_overdue,
        tenant=tenant,
        finding_id=e.finding_id,
        instrument_id=e.instrument_id,
        type_code=e.type_code,
        found_on=e.occurred_on,
    )


FOLDS: dict[type[DomainEvent], Callable[[PendingWrites, str, Envelope, Any], None]] = {
    ev.TraineeCompleted: trainee_completed,
    ev.CourseScheduled: course_scheduled,
    ev.EnterpriseRegistered: enterprise_registered,
    ev.EnterpriseUpdated: enterprise_registered,
    ev.EnterpriseEnrolled: enterprise_enrolled,
    ev.EnterpriseWithdrawn: enterprise_withdrawn,
    ev.AccessRecorded: access_recorded,
    ev.WorkRecorded: work_recorded,
    ev.EnterpriseServiceRecorded: enterprise_service_recorded,
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
    ev.OverdueInstrumentFound: overdue_instrument_found,
}
