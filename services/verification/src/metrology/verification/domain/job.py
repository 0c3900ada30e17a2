"""The Job aggregate: work recorded once, then a certificate (passed) or a failure record, then maybe revoked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from metrology.eventkit.aggregate import Aggregate
from metrology.eventkit.errors import ConflictError, RuleViolationError
from metrology.eventkit.events import DomainEvent
from metrology.refdata.group2 import Group2List
from metrology.verification.domain import certificates
from metrology.verification.domain.events import (
    CertificateIssued,
    CertificateRevoked,
    InstrumentMarkedUnfit,
    WorkRecorded,
)
from metrology.verification.domain.facts import Facts
from metrology.verification.domain.traceability import TraceabilityLink
from metrology.verification.domain.work import Work, check_work


@dataclass(frozen=True, slots=True)
class Context:
    """What the write side brings beside the registry facts: today, the tenant's province, the Group 2 list."""

    today: date
    province_code: str
    intervals: Group2List
    signer: certificates.QrSigner
    traceability: tuple[TraceabilityLink, ...] = ()  # the working standard's chain on the date performed


class Job(Aggregate):
    def __init__(self) -> None:
        super().__init__()
        self.job_id = ""
        self.subject_id = ""
        self.performed_on: date | None = None
        self.certificate_number: str | None = None
        self.revoked = False

    def when(self, event: DomainEvent) -> None:
        match event:
            case WorkRecorded():
                self.job_id, self.subject_id, self.performed_on = event.job_id, event.subject_id, event.occurred_on
            case CertificateIssued():
                self.certificate_number = event.certificate_number
            case CertificateRevoked():
                self.revoked = True

    def record_work(self, job_id: str, work: Work, facts: Facts, context: Context) -> None:
        if self.exists:
            raise ConflictError(f"job {job_id} is already recorded", rule="job-recorded")
        check_work(work, facts, context.today)
        self.record(self._work_recorded(job_id, work, facts, context.province_code))
        if work.result == "pass":
            self._issue_certificate(work, facts, context)
        elif work.is_instrument_verification:
            self.record(
                InstrumentMarkedUnfit(
                    occurred_on=work.performed_on,
                    job_id=job_id,
                    subject_id=work.subject_id,
                    record_number=certificates.record_number(work.performed_on, job_id),
                    findings=work.findings,
                )
            )

    def revoke(self, reason: str, on: date) -> None:
        if self.certificate_number is None:
            raise RuleViolationError("this job issued no certificate", rule="no-certificate")
        if self.revoked:
            raise ConflictError(f"certificate {self.certificate_number} is already revoked", rule="already-revoked")
        if self.performed_on and on < self.performed_on:
            raise RuleViolationError(
                "a certificate cannot be revoked before it was issued", field="revoked_on", rule="revoked-before-issue"
            )
        self.record(
            CertificateRevoked(
                occurred_on=on,
                certificate_number=self.certificate_number,
                job_id=self.job_id,
                subject_id=self.subject_id,
                reason=reason,
            )
        )

    def _issue_certificate(self, work: Work, facts: Facts, context: Context) -> None:
        until = certificates.valid_until(work, facts, context.intervals)
        number = certificates.certificate_number(work.kind, work.performed_on, self.job_id)
        self.record(
            CertificateIssued(
                occurred_on=work.performed_on,
                certificate_number=number,
                job_id=self.job_id,
                kind=work.kind,
                subject_id=work.subject_id,
                valid_until=until,
                sticker_serial=work.sticker_serial or certificates.sticker_serial(work.performed_on, self.job_id),
                qr_payload=context.signer.payload(number, until),
                traceability=list(context.traceability) or None,
            )
        )

    @staticmethod
    def _work_recorded(job_id: str, work: Work, facts: Facts, province_code: str) -> WorkRecorded:
        instrument, provider = facts.instrument, facts.provider
        assert provider is not None  # checked
        owner = instrument.owner_enterprise_id if instrument else None
        if facts.standard_subject is not None:
            owner = facts.standard_subject.owner_id
        return WorkRecorded(
            occurred_on=work.performed_on,
            job_id=job_id,
            kind=work.kind,
            mode=work.mode,
            subject=work.subject,
            subject_id=work.subject_id,
            type_code=instrument.type_code if instrument else None,
            serial=instrument.serial if instrument else None,
            owner_enterprise_id=owner,
            province_code=instrument.province_code if instrument else None,
            commune_code=instrument.commune_code if instrument else None,
            provider_id=work.provider_id,
            provider_province_code=provider.province_code,
            provider_local=provider.is_local_to(province_code),
            verifier_id=work.verifier_id,
            procedure=work.procedure,
            working_standard_id=work.working_standard_id,
            field=work.field,
            result=work.result,
            measurements=list(work.measurements),
            notes=work.notes,
            external_reference=work.external_reference,
        )
