"""The passed completions of each day, every course summed, kept beside the completions per course and day
(person-times without breakdowns and its series sum a row a day); filled here from the completions per course and
day already kept.

Revision ID: reporting_0012
Revises: reporting_0011
Create Date: 2026-12-02 05:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "reporting_0012"
down_revision: str | Sequence[str] | None = "reporting_0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "kpi_training_days",
        sa.Column("tenant", sa.String(length=16), nullable=False),
        sa.Column("completed_on", sa.Date(), nullable=False),
        sa.Column("completions", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "completed_on"),
    )
    op.execute(
        "INSERT INTO kpi_training_days (tenant, completed_on, completions) "
        "SELECT tenant, completed_on, sum(completions) FROM kpi_training_course_days GROUP BY tenant, completed_on"
    )


def downgrade() -> None:
    op.drop_table("kpi_training_days")
