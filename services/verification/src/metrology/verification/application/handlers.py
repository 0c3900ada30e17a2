"""Command handlers: read the replica, let the Job decide, append its events, then update the query tables."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from metrology.eventkit.database import DatabaseSession, dialect_of
from metrology.eventkit.envelope import Envelope
from metrology.eventkit.errors import ConflictError, ForbiddenError, NotFoundError
from metrology.eventkit.ids import new_id
from metrology.eventkit.store import driver_for_a_read
from metrology.eventkit.unit_of_work import UnitOfWork
from metrology.refdata.group2 import group2
from metrology.verification.adapters import postgres_jobs
from metrology.verification.adapters.tables import certificate_number_taken, certificates, jobs, replica_providers
from metrology.verification.application import due_dates, traceability
from metrology.verification.application.facts import read_facts
from metrology.verification.domain.certificates import QrSigner
from metrology.verification.domain.events import (
    CertificateIssued,
    InstrumentMarkedUnfit,
    WorkRecorded,
)
from metrology.verification.domain.facts import Facts
from metrology.verification.domain.job import Context, Job
from metrology.verification.domain.traceability import TraceabilityLink
from metrology.verification.domain.work import Work


@dataclass(frozen=True, slots=True)
class Actor:
    """Who records: a province admin (for any provider its province registered) or a provider (its own id only).

    Either way the provider named must be registered in the caller's province (see `record_work`)."""

    is_admin: bool
    provider_id: str | None = None

    def may_act_for(self, provider_id: str) -> bool:
        return self.is_admin or self.provider_id == provider_id


class ExternalReferenceTakenError(ConflictError):
    """The provider already recorded a job under this reference: the client's id names one job, never two."""

    def __init__(self, reference: str, job_id: str) -> None:
        super().__init__(
            f"external reference {reference} already names job {job_id}",
            field="external_reference",
            rule="external-reference-taken",
        )
        self.job_id = job_id


class CertificateNumberTakenError(Exception):
    """The certificate number cut from a new job's id is already a certificate's: nothing was written."""


T = TypeVar("T")
NUMBER_ATTEMPTS = 3


async def under_a_free_number(record: Callable[[str], Awaitable[T]]) -> T:
    """`record` a new job under a new id, and under another while the certificate number cut from the id is taken.

    A number keeps 40 random bits of the id within its kind and year, so in a large register two jobs meet at
    times (at 100,000 jobs of a kind a year, about one year in two hundred; at a national register's millions,
    a few times a year). The job then takes another id rather than fail: its first attempt wrote nothing."""
    for _ in range(NUMBER_ATTEMPTS - 1):
        try:
            return await record(new_id())
        except CertificateNumberTakenError:
            continue
    return await record(new_id())


def job_stream(job_id: str) -> str:
    return f"job-{job_id}"


async def job_by_reference(session: DatabaseSession, tenant: str, provider_id: str, reference: str) -> str | None:
    query = sa.select(jobs.c.job_id).where(
        jobs.c.tenant == tenant, jobs.c.provider_id == provider_id, jobs.c.external_reference == reference
    )
    return (await session.execute(query)).scalar_one_or_none()


async def record_work(uow: UnitOfWork, job_id: str, work: Work, actor: Actor, signer: QrSigner, today: date) -> Job:
    if not actor.may_act_for(work.provider_id):
        raise ForbiddenError(
            f"a provider records work only for itself ({actor.provider_id})", field="provider_id", rule="other-provider"
        )
    try:
        if dialect_of(uow.session) == "postgresql":
            return await record_work_on_postgres(uow, job_id, work, signer, today)
        return await record_work_portable(uow, job_id, work, signer, today)
    except Exception as error:
        if certificate_number_taken(error):
            raise CertificateNumberTakenError(f"job {job_id}: its certificate number is taken") from error
        raise


async def record_work_portable(uow: UnitOfWork, job_id: str, work: Work, signer: QrSigner, today: date) -> Job:
    """Any database: each registry fact and each row by its own SQLAlchemy statement."""
    await _require_provider_of_tenant(uow, work.provider_id)
    await _refuse_known_reference(uow, work)
    # The HTTP layer names every job with a fresh UUID, so its stream is new: no history to read, and the events
    # take versions 1.. directly (the store's unique (stream, version) still refuses a second writer).
    job = Job()
    facts, instrument_tenant = await read_facts(uow.session, work)
    chain = await _traceability(uow, work)
    job.record_work(job_id, work, facts, Context(today, uow.context.tenant, group2(), signer, chain))
    await _append_new(uow, job_id, job)
    await _write_views(uow, job, facts, instrument_tenant)
    return job


async def record_work_on_postgres(uow: UnitOfWork, job_id: str, work: Work, signer: QrSigner, today: date) -> Job:
    """The same checks, events and rows as the portable path, in two statements: every registry fact at once (a
    reference already taken with them), then the events with the job, certificate and due-date rows (see
    `adapters.postgres_jobs`). Without an idempotency record to write after them, each stands alone (no BEGIN or
    COMMIT): at READ COMMITTED a transaction around them would see no more, since each statement takes its own
    snapshot and the unique indexes decide the races (a reference taken meanwhile, a stream written meanwhile)."""
    driver = await driver_for_a_read(uow.session)
    with_chain = work.result == "pass" and work.working_standard_id is not None
    tenant = uow.context.tenant
    reads = await postgres_jobs.read_job_facts(driver, tenant, work, with_chain, _updates_due_date(work))
    if reads.provider_tenant != tenant:
        raise _provider_unknown(work.provider_id)
    if reads.known_job is not None and work.external_reference is not None:
        raise ExternalReferenceTakenError(work.external_reference, reads.known_job)
    job = Job()
    job.record_work(job_id, work, reads.facts, Context(today, uow.context.tenant, group2(), signer, reads.chain))
    recorded = _recorded_work(job)
    issued = _issued(job)
    certificate = None if issued is None else _certificate_row(uow, recorded, issued, reads.facts)
    due = None
    if _updates_due_date(work) and reads.facts.instrument and reads.instrument_tenant:
        new = postgres_jobs.Outcome(
            recorded.job_id,
            recorded.occurred_on,
            recorded.result,
            recorded.provider_local,
            None if issued is None else issued.valid_until,
            None,
        )
        history = sorted([*reads.outcomes, new], key=lambda o: o.performed_on)
        due = due_dates.due_row(reads.instrument_tenant, reads.facts.instrument, history)
    row = _job_row(uow, job)
    writes = postgres_jobs.job_writes(row, certificate, due)
    if not await uow.append_with_views(job_stream(job_id), 0, job.pending, writes):
        known = await job_by_reference(uow.session, row["tenant"], row["provider_id"], row["external_reference"])
        raise ExternalReferenceTakenError(row["external_reference"], known or "(being recorded)")
    return job


def _updates_due_date(work: Work) -> bool:
    return work.subject == "instrument" and work.kind == "verification"


async def _append_new(uow: UnitOfWork, job_id: str, job: Job) -> None:
    envelopes = [
        Envelope.wrap(
            event, source=uow.store.source, stream_id=job_stream(job_id), stream_version=n, context=uow.context
        )
        for n, event in enumerate(job.pending, start=1)
    ]
    await uow.store.insert(uow.session, envelopes)
    uow.appended += envelopes


def _provider_unknown(provider_id: str) -> NotFoundError:
    return NotFoundError(
        f"no provider {provider_id} registered in this province", field="provider_id", rule="provider-unknown"
    )


async def _traceability(uow: UnitOfWork, work: Work) -> tuple[TraceabilityLink, ...]:
    """Passed work with a working standard: its chain as it stood on the date performed (frozen into the
    certificate)."""
    if work.result != "pass" or work.working_standard_id is None:
        return ()
    return tuple(await traceability.chain_on(uow.session, work.working_standard_id, work.performed_on))


async def _require_provider_of_tenant(uow: UnitOfWork, provider_id: str) -> None:
    """Work is recorded only in the name of a provider the caller's province registered (outside providers
    included): one registered by another province, or by none, is not known here."""
    query = sa.select(replica_providers.c.tenant).where(replica_providers.c.provider_id == provider_id)
    if (await uow.session.execute(query)).scalar_one_or_none() != uow.context.tenant:
        raise _provider_unknown(provider_id)


async def _refuse_known_reference(uow: UnitOfWork, work: Work) -> None:
    """A read before the append; two requests racing past it are told apart by the unique index on insert."""
    if work.external_reference is None:
        return
    known = await job_by_reference(uow.session, uow.context.tenant, work.provider_id, work.external_reference)
    if known is not None:
        raise ExternalReferenceTakenError(work.external_reference, known)


async def _insert_job(uow: UnitOfWork, row: dict[str, Any]) -> None:
    if row["external_reference"] is None:
        await uow.session.execute(_INSERT_JOB, row)
        return
    try:
        async with uow.session.begin_nested():
            await uow.session.execute(_INSERT_JOB, row)
    except IntegrityError:
        known = await job_by_reference(uow.session, row["tenant"], row["provider_id"], row["external_reference"])
        raise ExternalReferenceTakenError(row["external_reference"], known or "(being recorded)") from None


async def revoke_certificate(uow: UnitOfWork, number: str, reason: str, on: date, actor: Actor) -> Job:
    row = await certificate_row(uow, number)
    if not actor.may_act_for(row.provider_id):
        raise ForbiddenError("a provider revokes only its own certificates", rule="other-provider")
    job = Job.replay(await uow.history(job_stream(row.job_id)))
    job.revoke(reason, on)
    await uow.append(job_stream(row.job_id), job.version, job.pending)
    await uow.session.execute(
        sa.update(certificates).where(certificates.c.number == number).values(revoked_on=on, revocation_reason=reason)
    )
    if row.subject == "instrument":
        await due_dates.refresh(uow.session, row.subject_id)
    return job


async def certificate_row(uow: UnitOfWork, number: str) -> Any:
    query = sa.select(certificates).where(certificates.c.number == number, certificates.c.tenant == uow.context.tenant)
    row = (await uow.session.execute(query)).first()
    if row is None:
        raise NotFoundError(f"no certificate {number}", field="number", rule="certificate-unknown")
    return row


async def _write_views(uow: UnitOfWork, job: Job, facts: Facts, instrument_tenant: str | None) -> None:
    work = _recorded_work(job)
    await _insert_job(uow, _job_row(uow, job))
    issued = _issued(job)
    if issued is not None:
        await uow.session.execute(_INSERT_CERTIFICATE, _certificate_row(uow, work, issued, facts))
    if work.subject == "instrument" and work.kind == "verification" and facts.instrument and instrument_tenant:
        await due_dates.refresh_known(uow.session, [(instrument_tenant, facts.instrument)])


def _recorded_work(job: Job) -> WorkRecorded:
    return next(e for e in job.pending if isinstance(e, WorkRecorded))


def _issued(job: Job) -> CertificateIssued | None:
    return next((e for e in job.pending if isinstance(e, CertificateIssued)), None)


def _job_row(uow: UnitOfWork, job: Job) -> dict[str, Any]:
    work = _recorded_work(job)
    job_row: dict[str, Any] = {
        "job_id": work.job_id,
        "tenant": uow.context.tenant,
        "kind": work.kind,
        "mode": work.mode,
        "subject": work.subject,
        "subject_id": work.subject_id,
        "type_code": work.type_code,
        "owner_enterprise_id": work.owner_enterprise_id,
        "provider_id": work.provider_id,
        "provider_local": work.provider_local,
        "verifier_id": work.verifier_id,
        "procedure": work.procedure,
        "working_standard_id": work.working_standard_id,
        "performed_on": work.occurred_on,
        "result": work.result,
        "external_reference": work.external_reference,
        "certificate_number": None,
        "record_number": None,
    }
    for event in job.pending:
        if isinstance(event, CertificateIssued):
            job_row["certificate_number"] = event.certificate_number
        if isinstance(event, InstrumentMarkedUnfit):
            job_row["record_number"] = event.record_number
    return job_row


_INSERT_JOB = sa.insert(jobs)  # parameters bound per call: one compiled statement, cached
_INSERT_CERTIFICATE = sa.insert(certificates)


def _certificate_row(uow: UnitOfWork, work: WorkRecorded, issued: CertificateIssued, facts: Facts) -> dict[str, Any]:
    assert facts.provider is not None
    return {
        "number": issued.certificate_number,
        "tenant": uow.context.tenant,
        "job_id": work.job_id,
        "kind": work.kind,
        "subject": work.subject,
        "subject_id": work.subject_id,
        "type_code": work.type_code,
        "serial": work.serial,
        "owner_enterprise_id": work.owner_enterprise_id,
        "provider_id": work.provider_id,
        "provider_name": facts.provider.name,
        "procedure": work.procedure,
        "performed_on": work.occurred_on,
        "valid_until": issued.valid_until,
        "sticker_serial": issued.sticker_serial,
        "qr_payload": issued.qr_payload,
        "measurements": [m.model_dump(mode="json") for m in work.measurements],
        "revoked_on": None,
        "revocation_reason": None,
        "traceability": [link.model_dump(mode="json") for link in issued.traceability or []] or None,
    }
