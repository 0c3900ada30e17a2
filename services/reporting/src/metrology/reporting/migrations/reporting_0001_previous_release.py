"""The reporting read model as the release before migrations created it.

Revision ID: reporting_0001
Revises:
Create Date: 2025-07-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "reporting_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("reporting",)
depends_on: str | Sequence[str] | None = None

# A database that already has these tables (and no alembic_version) is stamped here instead of upgraded.
previous_release_tables = (
    "kpi_accreditations",
    "kpi_assessments",
    "kpi_designation_renewals",
    "kpi_designation_revocations",
    "kpi_designations",
    "kpi_due_dates",
    "kpi_enrolments",
    "kpi_enterprise_jobs",
    "kpi_enterprises",
    "kpi_instruments",
    "kpi_laboratories",
    "kpi_providers",
    "kpi_retirements",
    "kpi_training_completions",
    "kpi_verifications",
    "kpi_withdrawals",
    "reporting_read_model_versions",
    "reporting_target_statuses",
)


def upgrade() -> None:
    op.create_table(
        "kpi_accreditations",
        sa.Column("tenant", sa.String(length=16), nullable=False),
        sa.Column("laboratory_id", sa.String(length=100), nullable=False),
        sa.Column("accreditation_number", sa.String(length=100), nullable=False),
        sa.Column("recorded_on", sa.Date(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "laboratory_id", "accreditation_number"),
    )
    op.create_table(
        "kpi_assessments",
        sa.Column("tenant", sa.String(length=16), nullable=False),
        sa.Column("event_id", sa.String(length=100), nullable=False),
        sa.Column("laboratory_id", sa.String(length=100), nullable=False),
        sa.Column("criteria", sa.String(length=100), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("assessed_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "event_id"),
    )
    op.create_table(
        "kpi_designation_renewals",
        sa.Column("tenant", sa.String(length=16), nullable=False),
        sa.Column("designation_id", sa.String(length=100), nullable=False),
        sa.Column("renewed_on", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "designation_id", "renewed_on", "valid_until"),
    )
    op.create_table(
        "kpi_designation_revocations",
        sa.Column("tenant", sa.String(length=16), nullable=False),
        sa.Column("designation_id", sa.String(length=100), nullable=False),
        sa.Column("revoked_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "designation_id"),
    )
    op.create_table(
        "kpi_designations",
        sa.Column("tenant", sa.String(length=16), nullable=False),
        sa.Column("designation_id", sa.String(length=100), nullable=False),
        sa.Column("provider_id", sa.String(length=100), nullable=False),
        sa.Column("instrument_types", sa.JSON(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "designation_id"),
    )
    op.create_table(
        "kpi_due_dates",
        sa.Column("tenant", sa.String(length=16), nullable=False),
        sa.Column("instrument_id", sa.String(length=100), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "instrument_id", "source"),
    )
    op.create_index("ix_kpi_due_day_instrument", "kpi_due_dates", ["tenant", "due_on", "instrument_id"], unique=False)
    op.create_table(
        "kpi_enrolments",
        sa.Column("tenant", sa.String(length=16), nullable=False),
        sa.Column("participation_id", sa.String(length=100), nullable=False),
        sa.Column("enterprise_id", sa.String(length=100), nullable=False),
        sa.Column("enrolled_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "participation_id"),
    )
    op.create_index("ix_kpi_enrolments_enterprise", "kpi_enrolments", ["tenant", "enterprise_id"], unique=False)
    op.create_table(
        "kpi_enterprise_jobs",
        sa.Column("tenant", sa.String(length=16), nullable=False),
        sa.Column("job_key", sa.String(length=100), nullable=False),
        sa.Column("enterprise_id", sa.String(length=100), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "job_key"),
    )
    op.create_index("ix_kpi_jobs_day", "kpi_enterprise_jobs", ["tenant", "occurred_on"], unique=False)
    op.create_table(
        "kpi_enterprises",
        sa.Column("tenant", sa.String(length=16), nullable=False),
        sa.Column("enterprise_id", sa.String(length=100), nullable=False),
        sa.Column("sector", sa.String(length=100), nullable=True),
        sa.Column("commune_code", sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint("tenant", "enterprise_id"),
    )
    op.create_table(
        "kpi_instruments",
        sa.Column("tenant", sa.String(length=16), nullable=False),
        sa.Column("instrument_id", sa.String(length=100), nullable=False),
        sa.Column("type_code", sa.String(length=32), nullable=False),
        sa.Column("commune_code", sa.String(length=16), nullable=True),
        sa.Column("registered_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "instrument_id"),
    )
    op.create_table(
        "kpi_laboratories",
        sa.Column("tenant", sa.String(length=16), nullable=False),
        sa.Column("laboratory_id", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("commune_code", sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint("tenant", "laboratory_id"),
    )
    op.create_table(
        "kpi_providers",
        sa.Column("tenant", sa.String(length=16), nullable=False),
        sa.Column("provider_id", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("ownership", sa.String(length=16), nullable=False),
        sa.Column("province_code", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "provider_id"),
    )
    op.create_table(
        "kpi_retirements",
        sa.Column("tenant", sa.String(length=16), nullable=False),
        sa.Column("instrument_id", sa.String(length=100), nullable=False),
        sa.Column("retired_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "instrument_id"),
    )
    op.create_table(
        "kpi_training_completions",
        sa.Column("tenant", sa.String(length=16), nullable=False),
        sa.Column("course_id", sa.String(length=100), nullable=False),
        sa.Column("trainee_id", sa.String(length=100), nullable=False),
        sa.Column("completed_on", sa.Date(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "course_id", "trainee_id"),
    )
    op.create_index("ix_kpi_completions_day", "kpi_training_completions", ["tenant", "completed_on"], unique=False)
    op.create_table(
        "kpi_verifications",
        sa.Column("tenant", sa.String(length=16), nullable=False),
        sa.Column("job_id", sa.String(length=100), nullable=False),
        sa.Column("instrument_id", sa.String(length=100), nullable=False),
        sa.Column("provider_id", sa.String(length=100), nullable=False),
        sa.Column("provider_province_code", sa.String(length=8), nullable=True),
        sa.Column("verified_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "job_id"),
    )
    op.create_index("ix_kpi_verifications_day", "kpi_verifications", ["tenant", "verified_on"], unique=False)
    op.create_index(
        "ix_kpi_verifications_instrument_day",
        "kpi_verifications",
        ["tenant", "instrument_id", "verified_on"],
        unique=False,
    )
    op.create_table(
        "kpi_withdrawals",
        sa.Column("tenant", sa.String(length=16), nullable=False),
        sa.Column("participation_id", sa.String(length=100), nullable=False),
        sa.Column("withdrawn_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "participation_id"),
    )
    op.create_table(
        "reporting_read_model_versions",
        sa.Column("tenant", sa.String(length=16), nullable=False),
        sa.Column("epoch", sa.String(length=32), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant"),
    )
    op.create_table(
        "reporting_target_statuses",
        sa.Column("plan_id", sa.String(length=100), nullable=False),
        sa.Column("target_id", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("plan_id", "target_id"),
    )


def downgrade() -> None:
    op.drop_table("reporting_target_statuses")
    op.drop_table("reporting_read_model_versions")
    op.drop_table("kpi_withdrawals")
    op.drop_index("ix_kpi_verifications_instrument_day", table_name="kpi_verifications")
    op.drop_index("ix_kpi_verifications_day", table_name="kpi_verifications")
    op.drop_table("kpi_verifications")
    op.drop_index("ix_kpi_completions_day", table_name="kpi_training_completions")
    op.drop_table("kpi_training_completions")
    op.drop_table("kpi_retirements")
    op.drop_table("kpi_providers")
    op.drop_table("kpi_laboratories")
    op.drop_table("kpi_instruments")
    op.drop_table("kpi_enterprises")
    op.drop_index("ix_kpi_jobs_day", table_name="kpi_enterprise_jobs")
    op.drop_table("kpi_enterprise_jobs")
    op.drop_index("ix_kpi_enrolments_enterprise", table_name="kpi_enrolments")
    op.drop_table("kpi_enrolments")
    op.drop_index("ix_kpi_due_day_instrument", table_name="kpi_due_dates")
    op.drop_table("kpi_due_dates")
    op.drop_table("kpi_designations")
    op.drop_table("kpi_designation_revocations")
    op.drop_table("kpi_designation_renewals")
    op.drop_table("kpi_assessments")
    op.drop_table("kpi_accreditations")
