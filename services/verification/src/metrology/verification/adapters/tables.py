"""The verification database beside its events: the registry replica and the service's own query tables.

Replica tables (`replica_*`) are written only by the registry replica projection; the others only by the
command handlers, in the same transaction as the events they reflect (and `instrument_due` by both).
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

# --- the local replica of registry events -------------------------------------------------------------------

replica_enterprises = sa.Table(
    "replica_enterprises",
    metadata,
    sa.Column("enterprise_id", sa.String(64), primary_key=True),
    sa.Column("tenant", sa.String(16), nullable=False),
    sa.Column("tax_code", sa.String(14), nullable=False, index=True),
    sa.Column("name", sa.String(300), nullable=False),
    sa.Column("province_code", sa.String(8), nullable=False),
    sa.Column("commune_code", sa.String(8), nullable=False),
    sa.Column("registered_on", sa.Date, nullable=False),
    sa.Column("closed_on", sa.Date, nullable=True),
)

replica_providers = sa.Table(
    "replica_providers",
    metadata,
    sa.Column("provider_id", sa.String(64), primary_key=True),
    sa.Column("tenant", sa.String(16), nullable=False),
    sa.Column("name", sa.String(300), nullable=False),
    sa.Column("ownership", sa.String(20), nullable=False),
    sa.Column("province_code", sa.String(8), nullable=False),
    sa.Column("commune_code", sa.String(8), nullable=False),
)

replica_designations = sa.Table(
    "replica_designations",
    metadata,
    sa.Column("designation_id", sa.String(64), primary_key=True),
    sa.Column("provider_id", sa.String(64), nullable=False, index=True),
    sa.Column("decision_number", sa.String(100), nullable=False),
    sa.Column("instrument_types", sa.JSON, nullable=False),
    sa.Column("fields", sa.JSON, nullable=False),
    sa.Column("valid_from", sa.Date, nullable=False),
    sa.Column("valid_until", sa.Date, nullable=False),
    sa.Column("renewals", sa.JSON, nullable=False),
    sa.Column("revoked_on", sa.Date, nullable=True),
)

replica_verifiers = sa.Table(
    "replica_verifiers",
    metadata,
    sa.Column("verifier_id", sa.String(64), primary_key=True),
    sa.Column("provider_id", sa.String(64), nullable=False, index=True),
    sa.Column("card_number", sa.String(100), nullable=False),
    sa.Column("fields", sa.JSON, nullable=False),
    sa.Column("certified_on", sa.Date, nullable=False),
    sa.Column("card_valid_until", sa.Date, nullable=True),
    sa.Column("suspensions", sa.JSON, nullable=False),
)

replica_standards = sa.Table(
    "replica_standards",
    metadata,
    sa.Column("standard_id", sa.String(64), primary_key=True),
    sa.Column("owner_id", sa.String(64), nullable=False),
    sa.Column("level", sa.String(20), nullable=False),
    sa.Column("quantity", sa.String(100), nullable=False),
    sa.Column("calibrated_on", sa.Date, nullable=False),
    sa.Column("due_on", sa.Date, nullable=False),
    # the traceability chain (null in rows folded before they were kept: rebuild the replica to fill them)
    sa.Column("name", sa.String(300), nullable=True),
    sa.Column("calibrated_against", sa.String(64), nullable=True),
    sa.Column("national_standard", sa.String(300), nullable=True),
    sa.Column("certificate_number", sa.String(100), nullable=True),
)

replica_instruments = sa.Table(
    "replica_instruments",
    metadata,
    sa.Column("instrument_id", sa.String(64), primary_key=True),
    sa.Column("tenant", sa.String(16), nullable=False),
    sa.Column("type_code", sa.String(16), nullable=False),
    sa.Column("serial", sa.String(100), nullable=False),
    sa.Column("manufacturer", sa.String(200), nullable=False),
    sa.Column("owner_enterprise_id", sa.String(64), nullable=False, index=True),
    sa.Column("province_code", sa.String(8), nullable=False),
    sa.Column("commune_code", sa.String(8), nullable=False),
    sa.Column("registered_on", sa.Date, nullable=False),
    sa.Column("status_changes", sa.JSON, nullable=False),
)

# --- the service's own query tables --------------------------------------------------------------------------

jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column("job_id", sa.String(64), primary_key=True),
    sa.Column("tenant", sa.String(16), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("mode", sa.String(20), nullable=False),
    sa.Column("subject", sa.String(20), nullable=False),
    sa.Column("subject_id", sa.String(64), nullable=False, index=True),
    sa.Column("type_code", sa.String(16), nullable=True),
    sa.Column("owner_enterprise_id", sa.String(64), nullable=True, index=True),
    sa.Column("provider_id", sa.String(64), nullable=False, index=True),
    sa.Column("provider_local", sa.Boolean, nullable=False),
    sa.Column("verifier_id", sa.String(64), nullable=False),
    sa.Column("procedure", sa.String(100), nullable=False),
    sa.Column("working_standard_id", sa.String(64), nullable=True),
    sa.Column("performed_on", sa.Date, nullable=False, index=True),
    sa.Column("result", sa.String(8), nullable=False),
    sa.Column("certificate_number", sa.String(64), nullable=True),
    sa.Column("record_number", sa.String(64), nullable=True),
    sa.Column("external_reference", sa.String(100), nullable=True),
    # the client's id for a job names one job per provider and tenant (NULLs never collide)
    sa.UniqueConstraint("tenant", "provider_id", "external_reference", name="uq_jobs_external_reference"),
)

certificates = sa.Table(
    "certificates",
    metadata,
    sa.Column("number", sa.String(64), primary_key=True),
    sa.Column("tenant", sa.String(16), nullable=False),
    sa.Column("job_id", sa.String(64), nullable=False, unique=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("subject", sa.String(20), nullable=False),
    sa.Column("subject_id", sa.String(64), nullable=False, index=True),
    sa.Column("type_code", sa.String(16), nullable=True),
    sa.Column("serial", sa.String(100), nullable=True),
    sa.Column("owner_enterprise_id", sa.String(64), nullable=True, index=True),
    sa.Column("provider_id", sa.String(64), nullable=False, index=True),
    sa.Column("provider_name", sa.String(300), nullable=False),
    sa.Column("procedure", sa.String(100), nullable=False),
    sa.Column("performed_on", sa.Date, nullable=False),
    sa.Column("valid_until", sa.Date, nullable=True),
    sa.Column("sticker_serial", sa.String(100), nullable=False),
    sa.Column("qr_payload", sa.String(200), nullable=False),
    sa.Column("measurements", sa.JSON, nullable=False),
    sa.Column("revoked_on", sa.Date, nullable=True),
    sa.Column("revocation_reason", sa.String(500), nullable=True),
    sa.Column("traceability", sa.JSON, nullable=True),  # the working standard's chain on the date performed
)

enterprise_services = sa.Table(
    "enterprise_services",
    metadata,
    sa.Column("service_id", sa.String(64), primary_key=True),
    sa.Column("tenant", sa.String(16), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("enterprise_id", sa.String(64), nullable=False, index=True),
    sa.Column("enterprise_name", sa.String(300), nullable=False),
    sa.Column("provider_id", sa.String(64), nullable=False, index=True),
    sa.Column("performed_on", sa.Date, nullable=False, index=True),
    sa.Column("description", sa.String(2000), nullable=False),
    sa.Column("external_reference", sa.String(100), nullable=True),
    # as for jobs: the client's id names one service per provider and tenant
    sa.UniqueConstraint("tenant", "provider_id", "external_reference", name="uq_enterprise_services_reference"),
)

instrument_due = sa.Table(
    "instrument_due",
    metadata,
    sa.Column("instrument_id", sa.String(64), primary_key=True),
    sa.Column("tenant", sa.String(16), nullable=False, index=True),
    sa.Column("type_code", sa.String(16), nullable=False),
    sa.Column("serial", sa.String(100), nullable=False),
    sa.Column("owner_enterprise_id", sa.String(64), nullable=False, index=True),
    sa.Column("commune_code", sa.String(8), nullable=False, index=True),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("registered_on", sa.Date, nullable=False),
    sa.Column("last_job_id", sa.String(64), nullable=True),
    sa.Column("last_verified_on", sa.Date, nullable=True),
    sa.Column("last_result", sa.String(8), nullable=True),
    sa.Column("unfit", sa.Boolean, nullable=False, default=False),
    sa.Column("due_on", sa.Date, nullable=True, index=True),
)


def certificate_number_taken(error: BaseException) -> bool:
    """Whether `error` is the database refusing a second certificate of one number: PostgreSQL's driver names the
    primary key, directly or under SQLAlchemy's wrapping; SQLite names the column."""
    wrapped = getattr(error, "orig", None)
    for each in (error, wrapped, getattr(wrapped, "__cause__", None)):
        if getattr(each, "constraint_name", None) == _CERTIFICATE_NUMBER_UNIQUE:
            return True
        if each is not None and "UNIQUE constraint failed: certificates.number" in str(each):
            return True
    return False


_CERTIFICATE_NUMBER_UNIQUE = "certificates_pkey"  # PostgreSQL's name for the table's primary key
