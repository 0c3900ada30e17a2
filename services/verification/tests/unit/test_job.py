"""What a job issues: a certificate valid for the interval in force on its date, or a failure record."""

from datetime import date

import pytest

from metrology.eventkit.errors import ConflictError, RuleViolationError
from metrology.refdata.group2 import Group2List, InstrumentType
from metrology.verification.domain.certificates import InvalidQrError
from metrology.verification.domain.events import (
    CertificateIssued,
    CertificateRevoked,
    InstrumentMarkedUnfit,
    WorkRecorded,
)
from metrology.verification.domain.job import Job

from .builders import SIGNER, context, facts, work


def recorded(work_=None, facts_=None, ctx=None) -> Job:
    job = Job()
    job.record_work("job-1", work_ or work(), facts_ or facts(), ctx or context())
    return job


def of_type(job: Job, cls):
    return [e for e in job.pending if isinstance(e, cls)]


def test_a_passed_verification_issues_a_certificate_valid_for_the_types_interval():
    job = recorded()
    [certificate] = of_type(job, CertificateIssued)
    assert certificate.valid_until == date(2026, 5, 14)  # 2.8b: 12 months
    assert certificate.certificate_number.startswith("KD-2025-")
    assert not of_type(job, InstrumentMarkedUnfit)


def test_the_interval_is_the_one_in_force_on_the_date_performed():
    def row(months: int, start: date, end: date | None) -> InstrumentType:
        return InstrumentType("2.8b", "scale", "cân", months, False, start, end, "test", "")

    amended = Group2List([row(12, date(2019, 1, 1), date(2025, 6, 30)), row(24, date(2025, 7, 1), None)])
    before = recorded(work(performed_on=date(2025, 6, 30)), ctx=context(intervals=amended))
    after = recorded(work(performed_on=date(2025, 7, 1)), ctx=context(intervals=amended))
    assert of_type(before, CertificateIssued)[0].valid_until == date(2026, 6, 30)
    assert of_type(after, CertificateIssued)[0].valid_until == date(2027, 7, 1)


def test_a_type_not_yet_on_the_list_on_the_job_date_is_refused():
    amended = Group2List([InstrumentType("2.8b", "s", "c", 12, False, date(2025, 7, 1), None, "t", "")])
    with pytest.raises(RuleViolationError) as refused:
        recorded(ctx=context(intervals=amended))
    assert refused.value.rule == "type-not-in-group2"


def test_a_failed_verification_marks_the_instrument_unfit_and_issues_no_certificate():
    job = recorded(work(result="fail", findings="error beyond MPE"))
    [unfit] = of_type(job, InstrumentMarkedUnfit)
    assert unfit.subject_id == "i-1"
    assert unfit.record_number.startswith("BB-2025-")
    assert not of_type(job, CertificateIssued)


def test_the_work_recorded_names_the_provider_as_local_or_outside():
    assert of_type(recorded(), WorkRecorded)[0].provider_local is True
    assert of_type(recorded(ctx=context(province_code="86")), WorkRecorded)[0].provider_local is False


def test_the_certificate_carries_a_signed_qr_payload():
    [certificate] = of_type(recorded(), CertificateIssued)
    assert SIGNER.verify(certificate.qr_payload) == (certificate.certificate_number, certificate.valid_until)


def test_a_job_is_recorded_once():
    job = Job.replay(recorded().pending)
    with pytest.raises(ConflictError):
        job.record_work("job-1", work(), facts(), context())


def test_a_certificate_is_revoked_with_a_reason_and_stays_in_history():
    job = Job.replay(recorded().pending)
    job.revoke("sticker on another instrument", date(2025, 6, 1))
    [revoked] = of_type(job, CertificateRevoked)
    assert revoked.reason == "sticker on another instrument"
    assert job.version == 2  # the work and the certificate are still there


def test_a_revoked_certificate_cannot_be_revoked_again():
    job = Job.replay(recorded().pending)
    job.revoke("reason one", date(2025, 6, 1))
    with pytest.raises(ConflictError):
        job.revoke("reason two", date(2025, 6, 2))


def test_a_certificate_cannot_be_revoked_before_it_was_issued():
    job = Job.replay(recorded().pending)
    with pytest.raises(RuleViolationError) as refused:
        job.revoke("backdated", date(2025, 5, 1))
    assert refused.value.rule == "revoked-before-issue"


def test_a_failure_record_has_no_certificate_to_revoke():
    job = Job.replay(recorded(work(result="fail")).pending)
    with pytest.raises(RuleViolationError) as refused:
        job.revoke("nothing to revoke", date(2025, 6, 1))
    assert refused.value.rule == "no-certificate"


def test_a_forged_or_altered_qr_payload_fails():
    payload = SIGNER.payload("KD-2025-ABC", date(2026, 5, 14))
    with pytest.raises(InvalidQrError):
        SIGNER.verify(payload.replace("2026-05-14", "2030-05-14"))
    with pytest.raises(InvalidQrError):
        SIGNER.verify("MTRL1|KD-2025-ABC|2026-05-14|AAAAAAAAAAAAAAAA")
    with pytest.raises(InvalidQrError):
        SIGNER.verify("not a payload")
