"""On PostgreSQL a job is checked and written in four statements (`adapters.postgres_jobs`); the portable path
reads and writes table by table. Given the same database and the same job, both decide alike and leave the same
events and rows."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa

from metrology.eventkit.envelope import EventContext
from metrology.eventkit.errors import DomainError
from metrology.verification.adapters.tables import certificate_number_taken, certificates, instrument_due, jobs
from metrology.verification.application import handlers
from metrology.verification.bootstrap_support import signer_of
from metrology.verification.entrypoints.http import JobIn

from .conftest import Service
from .world import CENTRE, METER, OUTSIDE, OUTSIDE_VERIFIER, SCALE, STANDARD, VERIFIER, twin_of

pytestmark = [pytest.mark.integration]

TODAY = date(2026, 1, 15)
PASSED = {
    "kind": "verification",
    "mode": "periodic",
    "subject": "instrument",
    "subject_id": SCALE,
    "provider_id": CENTRE,
    "verifier_id": VERIFIER,
    "procedure": "ĐLVN 14:2009",
    "working_standard_id": STANDARD,
    "performed_on": "2025-05-14",
    "result": "pass",
}
MEASURED = {"quantity": "mass", "nominal": 10.0, "measured": 10.0003, "unit": "kg", "expanded_uncertainty": 0.0005}
CASES = {
    "passed, after an earlier verification": PASSED,
    "failed": PASSED | {"subject_id": METER, "result": "fail", "findings": "error beyond the limit"},
    "by an outside provider": PASSED | {"provider_id": OUTSIDE, "verifier_id": OUTSIDE_VERIFIER},
    "with a reference of its own": PASSED | {"external_reference": "LIMS-2"},
    "a reference already used": PASSED | {"external_reference": "LIMS-1"},
    "an unknown provider": PASSED | {"provider_id": "prov-nowhere"},
    "a verifier of another provider": PASSED | {"verifier_id": OUTSIDE_VERIFIER},
    "an unknown instrument": PASSED | {"subject_id": "inst-nowhere"},
    "an unknown standard": PASSED | {"working_standard_id": "std-nowhere"},
    "before the instrument was registered": PASSED | {"performed_on": "2024-01-10"},
    "a calibration without measurements": PASSED | {"kind": "calibration", "valid_until": "2026-05-01"},
    "a calibration": PASSED | {"kind": "calibration", "valid_until": "2026-05-01", "measurements": [MEASURED]},
    "a calibration of the standard": PASSED
    | {"kind": "calibration", "subject": "standard", "subject_id": STANDARD, "valid_until": "2026-06-01"}
    | {"working_standard_id": None, "measurements": [MEASURED]},
}


class _Undo(Exception):
    pass


async def outcome(service: Service, path: Any, job_id: str, body: dict[str, Any]) -> Any:
    """What `path` decides and writes for the job (then rolled back): its error, or its events and rows."""
    runtime = service.runtime
    seen: Any = None
    try:
        async with runtime.unit_of_work(EventContext(tenant="83")) as uow:
            try:
                job = await path(uow, job_id, JobIn(**body).work(), signer_of(runtime), TODAY)
            except DomainError as error:
                seen = (type(error).__name__, error.rule, str(error))
                raise _Undo from None
            seen = {
                "events": [e.model_dump() for e in job.pending],
                "job": await rows(uow.session, jobs, jobs.c.job_id == job_id),
                "certificate": await rows(uow.session, certificates, certificates.c.job_id == job_id),
                "due": await rows(uow.session, instrument_due, instrument_due.c.instrument_id == body["subject_id"]),
            }
            raise _Undo
    except _Undo:
        return seen


async def rows(session: Any, table: sa.Table, where: Any) -> list[dict[str, Any]]:
    return [dict(row._mapping) for row in await session.execute(sa.select(table).where(where))]


async def test_both_paths_decide_and_write_alike(service: Service):
    admin = service.token("province-admin")
    earlier = PASSED | {"performed_on": "2024-05-14", "external_reference": "LIMS-1"}
    recalibrated = CASES["a calibration of the standard"] | {"performed_on": "2025-03-01", "valid_until": "2026-03-01"}
    for body in (earlier, recalibrated):
        assert (await service.http.post("/jobs", json=body, headers=admin)).status_code == 201
    decided = {}
    for case, body in CASES.items():
        job_id = str(uuid.uuid4())
        portable = await outcome(service, handlers.record_work_portable, job_id, body)
        postgres = await outcome(service, handlers.record_work_on_postgres, job_id, body)
        assert postgres == portable, case
        decided[case] = postgres
    passed = decided["passed, after an earlier verification"]
    assert passed["certificate"][0]["traceability"][0]["calibrated_on"] == "2025-03-01" and passed["due"][0][
        "due_on"
    ] == date(2026, 5, 14)
    assert decided["failed"]["due"][0]["unfit"] and not decided["failed"]["certificate"]
    assert decided["a reference already used"][1] == "external-reference-taken"
    assert decided["an unknown provider"][1] == "provider-unknown"
    assert decided["a calibration"]["certificate"] and decided["a calibration of the standard"]["certificate"]


async def test_both_paths_refuse_a_certificate_number_already_issued_and_write_nothing(service: Service):
    admin = service.token("province-admin")
    first = (await service.http.post("/jobs", json=PASSED, headers=admin)).json()
    twin = twin_of(first["job_id"])
    work = JobIn(**PASSED | {"performed_on": "2025-05-20"}).work()

    for path in (handlers.record_work_portable, handlers.record_work_on_postgres):
        with pytest.raises(Exception) as refused:
            async with service.runtime.unit_of_work(EventContext(tenant="83")) as uow:
                await path(uow, twin, work, signer_of(service.runtime), TODAY)
        assert certificate_number_taken(refused.value), path.__name__
    with pytest.raises(handlers.CertificateNumberTakenError):
        async with service.runtime.unit_of_work(EventContext(tenant="83")) as uow:
            actor, signer = handlers.Actor(is_admin=True), signer_of(service.runtime)
            await handlers.record_work(uow, twin, work, actor, signer, TODAY)

    async with service.runtime.engine.connect() as connection:
        assert (await connection.execute(sa.select(jobs.c.job_id).where(jobs.c.job_id == twin))).first() is None
