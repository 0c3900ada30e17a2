"""Each demand date keeps the instrument's previous demand date, and each verification of an instrument is kept
with its neighbours (previous verification in the same province and in any, the demand dates on either side),
so demand coverage counts rows instead of hashing sets of instruments; filled here from the facts already stored.

Revision ID: reporting_0009
Revises: reporting_0008
Create Date: 2026-11-30 20:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "reporting_0009"
down_revision: str | Sequence[str] | None = "reporting_0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("kpi_demand_dates", schema=None) as batch_op:
        batch_op.add_column(sa.Column("prev_due_on", sa.Date(), nullable=True))
    op.create_table(
        "kpi_verification_dates",
        sa.Column("tenant", sa.String(length=16), nullable=False),
        sa.Column("instrument_id", sa.String(length=100), nullable=False),
        sa.Column("job_id", sa.String(length=100), nullable=False),
        sa.Column("provider_id", sa.String(length=100), nullable=False),
        sa.Column("provider_province_code", sa.String(length=8), nullable=True),
        sa.Column("verified_on", sa.Date(), nullable=False),
        sa.Column("type_code", sa.String(length=32), nullable=True),
        sa.Column("commune_code", sa.String(length=16), nullable=True),
        sa.Column("prev_same_province_on", sa.Date(), nullable=True),
        sa.Column("prev_verified_on", sa.Date(), nullable=True),
        sa.Column("due_before_on", sa.Date(), nullable=True),
        sa.Column("due_after_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("tenant", "instrument_id", "job_id"),
    )
    with op.batch_alter_table("kpi_verification_dates", schema=None) as batch_op:
        batch_op.create_index("ix_kpi_verification_dates_day", ["tenant", "verified_on"], unique=False)
        batch_op.create_index(
            "ix_kpi_verification_dates_province_day", ["tenant", "provider_province_code", "verified_on"], unique=False
        )

    op.execute("DELETE FROM kpi_demand_dates")
    op.execute(
        "INSERT INTO kpi_demand_dates (tenant, instrument_id, source, due_on, type_code, commune_code, prev_due_on) "
        "SELECT d.tenant, d.instrument_id, d.source, d.due_on, i.type_code, i.commune_code, "
        "lag(d.due_on) OVER (PARTITION BY d.tenant, d.instrument_id ORDER BY d.due_on, d.source) "
        "FROM kpi_due_dates d "
        "JOIN kpi_instruments i ON i.tenant = d.tenant AND i.instrument_id = d.instrument_id "
        "LEFT OUTER JOIN kpi_retirements r ON r.tenant = d.tenant AND r.instrument_id = d.instrument_id "
        "WHERE r.retired_on IS NULL OR r.retired_on >= d.due_on"
    )
    op.execute(
        "INSERT INTO kpi_verification_dates (tenant, instrument_id, job_id, provider_id, provider_province_code, "
        "verified_on, type_code, commune_code, prev_same_province_on, prev_verified_on, due_before_on, due_after_on) "
        "SELECT v.tenant, v.instrument_id, v.job_id, v.provider_id, v.provider_province_code, v.verified_on, "
        "i.type_code, i.commune_code, "
        "lag(v.verified_on) OVER (PARTITION BY v.tenant, v.instrument_id, v.provider_province_code "
        "ORDER BY v.verified_on, v.job_id), "
        "lag(v.verified_on) OVER (PARTITION BY v.tenant, v.instrument_id ORDER BY v.verified_on, v.job_id), "
        "(SELECT max(m.due_on) FROM kpi_demand_dates m WHERE m.tenant = v.tenant "
        "AND m.instrument_id = v.instrument_id AND m.due_on <= v.verified_on), "
        "(SELECT min(m.due_on) FROM kpi_demand_dates m WHERE m.tenant = v.tenant "
        "AND m.instrument_id = v.instrument_id AND m.due_on >= v.verified_on) "
        "FROM kpi_verifications v "
        "LEFT OUTER JOIN kpi_instruments i ON i.tenant = v.tenant AND i.instrument_id = v.instrument_id"
    )


def downgrade() -> None:
    with op.batch_alter_table("kpi_verification_dates", schema=None) as batch_op:
        batch_op.drop_index("ix_kpi_verification_dates_province_day")
        batch_op.drop_index("ix_kpi_verification_dates_day")
    op.drop_table("kpi_verification_dates")
    with op.batch_alter_table("kpi_demand_dates", schema=None) as batch_op:
        batch_op.drop_column("prev_due_on")
