"""The enrolled jobs of each day per channel, sector and commune, and each enterprise's first enrolled job, kept
beside the jobs (enterprise-times, its series and its breakdowns sum these rows); filled here from the jobs and
enterprises already stored. The demand and verification dates' day indexes include the columns coverage reads, so
that PostgreSQL reads a year of them from the index alone.

Revision ID: reporting_0011
Revises: reporting_0010
Create Date: 2026-12-02 01:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "reporting_0011"
down_revision: str | Sequence[str] | None = "reporting_0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ENROLLED_JOBS = (
    "FROM kpi_enterprise_jobs j LEFT OUTER JOIN kpi_enterprises e "
    "ON e.tenant = j.tenant AND e.enterprise_id = j.enterprise_id WHERE j.enrolled"
)


DEMAND_READ = ["prev_due_on", "commune_code", "type_code"]
VERIFICATION_READ = [
    "instrument_id",
    "provider_id",
    "type_code",
    "commune_code",
    "prev_same_province_on",
    "prev_verified_on",
    "due_before_on",
    "due_after_on",
]


def upgrade() -> None:
    _index_coverage_reads(DEMAND_READ, VERIFICATION_READ)
    op.create_table(
        "kpi_enterprise_days",
        sa.Column("tenant", sa.String(length=16), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("dimension", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=True),
        sa.Column("jobs", sa.Integer(), nullable=False),
    )
    with op.batch_alter_table("kpi_enterprise_days", schema=None) as batch_op:
        batch_op.create_index("ix_kpi_enterprise_days_day", ["tenant", "dimension", "occurred_on"], unique=False)
    op.create_table(
        "kpi_enterprise_firsts",
        sa.Column("tenant", sa.String(length=16), nullable=False),
        sa.Column("enterprise_id", sa.String(length=100), nullable=False),
        sa.Column("first_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "enterprise_id"),
    )
    with op.batch_alter_table("kpi_enterprise_firsts", schema=None) as batch_op:
        batch_op.create_index("ix_kpi_enterprise_firsts_first", ["tenant", "first_on"], unique=False)
    for dimension, column in (("channel", "j.channel"), ("sector", "e.sector"), ("commune", "e.commune_code")):
        op.execute(
            "INSERT INTO kpi_enterprise_days (tenant, occurred_on, dimension, key, jobs) "
            f"SELECT j.tenant, j.occurred_on, '{dimension}', {column}, count(*) {ENROLLED_JOBS} "
            f"GROUP BY j.tenant, j.occurred_on, {column}"
        )
    op.execute(
        "INSERT INTO kpi_enterprise_firsts (tenant, enterprise_id, first_on) "
        f"SELECT j.tenant, j.enterprise_id, min(j.occurred_on) {ENROLLED_JOBS} GROUP BY j.tenant, j.enterprise_id"
    )


def downgrade() -> None:
    _index_coverage_reads([], [])
    with op.batch_alter_table("kpi_enterprise_firsts", schema=None) as batch_op:
        batch_op.drop_index("ix_kpi_enterprise_firsts_first")
    op.drop_table("kpi_enterprise_firsts")
    with op.batch_alter_table("kpi_enterprise_days", schema=None) as batch_op:
        batch_op.drop_index("ix_kpi_enterprise_days_day")
    op.drop_table("kpi_enterprise_days")


def _index_coverage_reads(demand: list[str], verification: list[str]) -> None:
    """The demand and verification dates' day indexes, with the columns coverage reads included (PostgreSQL)."""
    with op.batch_alter_table("kpi_demand_dates", schema=None) as batch_op:
        batch_op.drop_index("ix_kpi_demand_day")
        batch_op.create_index(
            "ix_kpi_demand_day", ["tenant", "due_on", "instrument_id"], unique=False, postgresql_include=demand
        )
    with op.batch_alter_table("kpi_verification_dates", schema=None) as batch_op:
        batch_op.drop_index("ix_kpi_verification_dates_province_day")
        batch_op.create_index(
            "ix_kpi_verification_dates_province_day",
            ["tenant", "provider_province_code", "verified_on"],
            unique=False,
            postgresql_include=verification,
        )
