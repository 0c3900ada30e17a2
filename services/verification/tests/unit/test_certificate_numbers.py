"""A certificate number taken is told apart from other refusals of the database, as SQLite words it (PostgreSQL's
driver names the constraint: see the integration tests)."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from metrology.verification.adapters.tables import certificate_number_taken, certificates, metadata

ROW = {
    "number": "KD-2025-0123456789",
    "tenant": "83",
    "job_id": "job-1",
    "kind": "verification",
    "subject": "instrument",
    "subject_id": "inst-1",
    "provider_id": "prov-1",
    "provider_name": "Trung tâm",
    "procedure": "ĐLVN 14:2009",
    "performed_on": date(2025, 5, 14),
    "sticker_serial": "TEM-1",
    "qr_payload": "qr",
    "measurements": [],
}


def refusal_of(second: dict) -> Exception:
    engine = sa.create_engine("sqlite://")
    metadata.create_all(engine, tables=[certificates])
    with engine.begin() as connection:
        connection.execute(sa.insert(certificates), ROW)
    try:
        with engine.begin() as connection:
            connection.execute(sa.insert(certificates), second)
    except sa.exc.IntegrityError as error:
        return error
    raise AssertionError("the second row was not refused")


def test_a_second_certificate_of_one_number_is_a_taken_number():
    assert certificate_number_taken(refusal_of(ROW | {"job_id": "job-2"}))


def test_a_second_certificate_of_one_job_is_not_a_taken_number():
    assert not certificate_number_taken(refusal_of(ROW | {"number": "KD-2025-9876543210"}))
