"""The verification tables (registry replica, jobs, certificates, due dates) as the previous release made them.

Revision ID: verification_0001
Revises:
Create Date: 2025-07-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "verification_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("verification",)
depends_on: str | Sequence[str] | None = None

# A database that already has these tables (and no alembic_version) is stamped here instead of upgraded.
previous_release_tables = (
    "certificates",
    "instrument_due",
    "jobs",
    "replica_designations",
    "replica_instruments",
    "replica_providers",
    "replica_standards",
    "replica_verifiers",
)


def upgrade() -> None:
    op.create_table(
        "certificates",
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("tenant", sa.String(length=16), nullable=False),
        sa.Column("job_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("subject", sa.String(length=20), nullable=False),
        sa.Column("subject_id", sa.String(length=64), nullable=False),
        sa.Column("type_code", sa.String(length=16), nullable=True),
        sa.Column("serial", sa.String(length=100), nullable=True),
        sa.Column("owner_enterprise_id", sa.String(length=64), nullable=True),
        sa.Column("provider_id", sa.String(length=64), nullable=False),
        sa.Column("provider_name", sa.String(length=300), nullable=False),
        sa.Column("procedure", sa.String(length=100), nullable=False),
        sa.Column("performed_on", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("sticker_serial", sa.String(length=100), nullable=False),
        sa.Column("qr_payload", sa.String(length=200), nullable=False),
        sa.Column("measurements", sa.JSON(), nullable=False),
        sa.Column("revoked_on", sa.Date(), nullable=True),
        sa.Column("revocation_reason", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("number"),
        sa.UniqueConstraint("job_id"),
    )
    op.create_index(op.f("ix_certificates_owner_enterprise_id"), "certificates", ["owner_enterprise_id"], unique=False)
    op.create_index(op.f("ix_certificates_provider_id"), "certificates", ["provider_id"], unique=False)
    op.create_index(op.f("ix_certificates_subject_id"), "certificates", ["subject_id"], unique=False)
    op.create_table(
        "instrument_due",
        sa.Column("instrument_id", sa.String(length=64), nullable=False),
        sa.Column("tenant", sa.String(length=16), nullable=False),
        sa.Column("type_code", sa.String(length=16), nullable=False),
        sa.Column("serial", sa.String(length=100), nullable=False),
        sa.Column("owner_enterprise_id", sa.String(length=64), nullable=False),
        sa.Column("commune_code", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("registered_on", sa.Date(), nullable=False),
        sa.Column("last_job_id", sa.String(length=64), nullable=True),
        sa.Column("last_verified_on", sa.Date(), nullable=True),
        sa.Column("last_result", sa.String(length=8), nullable=True),
        sa.Column("unfit", sa.Boolean(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("instrument_id"),
    )
    op.create_index(op.f("ix_instrument_due_commune_code"), "instrument_due", ["commune_code"], unique=False)
    op.create_index(op.f("ix_instrument_due_due_on"), "instrument_due", ["due_on"], unique=False)
    op.create_index(
        op.f("ix_instrument_due_owner_enterprise_id"), "instrument_due", ["owner_enterprise_id"], unique=False
    )
    op.create_index(op.f("ix_instrument_due_tenant"), "instrument_due", ["tenant"], unique=False)
    op.create_table(
        "jobs",
        sa.Column("job_id", sa.String(length=64), nullable=False),
        sa.Column("tenant", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("mode", sa.String(length=20), nullable=False),
        sa.Column("subject", sa.String(length=20), nullable=False),
        sa.Column("subject_id", sa.String(length=64), nullable=False),
        sa.Column("type_code", sa.String(length=16), nullable=True),
        sa.Column("owner_enterprise_id", sa.String(length=64), nullable=True),
        sa.Column("provider_id", sa.String(length=64), nullable=False),
        sa.Column("provider_local", sa.Boolean(), nullable=False),
        sa.Column("verifier_id", sa.String(length=64), nullable=False),
        sa.Column("procedure", sa.String(length=100), nullable=False),
        sa.Column("working_standard_id", sa.String(length=64), nullable=True),
        sa.Column("performed_on", sa.Date(), nullable=False),
        sa.Column("result", sa.String(length=8), nullable=False),
        sa.Column("certificate_number", sa.String(length=64), nullable=True),
        sa.Column("record_number", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("job_id"),
    )
    op.create_index(op.f("ix_jobs_owner_enterprise_id"), "jobs", ["owner_enterprise_id"], unique=False)
    op.create_index(op.f("ix_jobs_performed_on"), "jobs", ["performed_on"], unique=False)
    op.create_index(op.f("ix_jobs_provider_id"), "jobs", ["provider_id"], unique=False)
    op.create_index(op.f("ix_jobs_subject_id"), "jobs", ["subject_id"], unique=False)
    op.create_table(
        "replica_designations",
        sa.Column("designation_id", sa.String(length=64), nullable=False),
        sa.Column("provider_id", sa.String(length=64), nullable=False),
        sa.Column("decision_number", sa.String(length=100), nullable=False),
        sa.Column("instrument_types", sa.JSON(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("renewals", sa.JSON(), nullable=False),
        sa.Column("revoked_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("designation_id"),
    )
    op.create_index(op.f("ix_replica_designations_provider_id"), "replica_designations", ["provider_id"], unique=False)
    op.create_table(
        "replica_instruments",
        sa.Column("instrument_id", sa.String(length=64), nullable=False),
        sa.Column("tenant", sa.String(length=16), nullable=False),
        sa.Column("type_code", sa.String(length=16), nullable=False),
        sa.Column("serial", sa.String(length=100), nullable=False),
        sa.Column("manufacturer", sa.String(length=200), nullable=False),
        sa.Column("owner_enterprise_id", sa.String(length=64), nullable=False),
        sa.Column("province_code", sa.String(length=8), nullable=False),
        sa.Column("commune_code", sa.String(length=8), nullable=False),
        sa.Column("registered_on", sa.Date(), nullable=False),
        sa.Column("status_changes", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("instrument_id"),
    )
    op.create_index(
        op.f("ix_replica_instruments_owner_enterprise_id"), "replica_instruments", ["owner_enterprise_id"], unique=False
    )
    op.create_table(
        "replica_providers",
        sa.Column("provider_id", sa.String(length=64), nullable=False),
        sa.Column("tenant", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("ownership", sa.String(length=20), nullable=False),
        sa.Column("province_code", sa.String(length=8), nullable=False),
        sa.Column("commune_code", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("provider_id"),
    )
    op.create_table(
        "replica_standards",
        sa.Column("standard_id", sa.String(length=64), nullable=False),
        sa.Column("owner_id", sa.String(length=64), nullable=False),
        sa.Column("level", sa.String(length=20), nullable=False),
        sa.Column("quantity", sa.String(length=100), nullable=False),
        sa.Column("calibrated_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("standard_id"),
    )
    op.create_table(
        "replica_verifiers",
        sa.Column("verifier_id", sa.String(length=64), nullable=False),
        sa.Column("provider_id", sa.String(length=64), nullable=False),
        sa.Column("card_number", sa.String(length=100), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("certified_on", sa.Date(), nullable=False),
        sa.Column("suspensions", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("verifier_id"),
    )
    op.create_index(op.f("ix_replica_verifiers_provider_id"), "replica_verifiers", ["provider_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_replica_verifiers_provider_id"), table_name="replica_verifiers")
    op.drop_table("replica_verifiers")
    op.drop_table("replica_standards")
    op.drop_table("replica_providers")
    op.drop_index(op.f("ix_replica_instruments_owner_enterprise_id"), table_name="replica_instruments")
    op.drop_table("replica_instruments")
    op.drop_index(op.f("ix_replica_designations_provider_id"), table_name="replica_designations")
    op.drop_table("replica_designations")
    op.drop_index(op.f("ix_jobs_subject_id"), table_name="jobs")
    op.drop_index(op.f("ix_jobs_provider_id"), table_name="jobs")
    op.drop_index(op.f("ix_jobs_performed_on"), table_name="jobs")
    op.drop_index(op.f("ix_jobs_owner_enterprise_id"), table_name="jobs")
    op.drop_table("jobs")
    op.drop_index(op.f("ix_instrument_due_tenant"), table_name="instrument_due")
    op.drop_index(op.f("ix_instrument_due_owner_enterprise_id"), table_name="instrument_due")
    op.drop_index(op.f("ix_instrument_due_due_on"), table_name="instrument_due")
    op.drop_index(op.f("ix_instrument_due_commune_code"), table_name="instrument_due")
    op.drop_table("instrument_due")
    op.drop_index(op.f("ix_certificates_subject_id"), table_name="certificates")
    op.drop_index(op.f("ix_certificates_provider_id"), table_name="certificates")
    op.drop_index(op.f("ix_certificates_owner_enterprise_id"), table_name="certificates")
    op.drop_table("certificates")
