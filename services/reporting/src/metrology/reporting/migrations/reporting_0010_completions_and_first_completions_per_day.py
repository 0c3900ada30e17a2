"""The passed completions of each course on each day, and the trainees whose first passed completion fell on each
day, kept beside the completions (person-times, their breakdowns and the people trained sum these rows); filled
here from the completions and first completions already stored.

Revision ID: reporting_0010
Revises: reporting_0009
Create Date: 2026-12-01 03:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "reporting_0010"
down_revision: str | Sequence[str] | None = "reporting_0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "kpi_training_first_days",
        sa.Column("tenant", sa.String(length=16), nullable=False),
        sa.Column("first_completed_on", sa.Date(), nullable=False),
        sa.Column("trainees", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "first_completed_on"),
    )
    op.execute(
        "INSERT INTO kpi_training_first_days (tenant, first_completed_on, trainees) "
        "SELECT tenant, first_completed_on, count(*) FROM kpi_training_trainees GROUP BY tenant, first_completed_on"
    )
    op.create_table(
        "kpi_training_course_days",
        sa.Column("tenant", sa.String(length=16), nullable=False),
        sa.Column("course_id", sa.String(length=100), nullable=False),
        sa.Column("completed_on", sa.Date(), nullable=False),
        sa.Column("completions", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "course_id", "completed_on"),
    )
    with op.batch_alter_table("kpi_training_course_days", schema=None) as batch_op:
        batch_op.create_index("ix_kpi_course_days_day", ["tenant", "completed_on"], unique=False)
    op.execute(
        "INSERT INTO kpi_training_course_days (tenant, course_id, completed_on, completions) "
        "SELECT tenant, course_id, completed_on, count(*) FROM kpi_training_completions WHERE passed "
        "GROUP BY tenant, course_id, completed_on"
    )


def downgrade() -> None:
    with op.batch_alter_table("kpi_training_course_days", schema=None) as batch_op:
        batch_op.drop_index("ix_kpi_course_days_day")
    op.drop_table("kpi_training_course_days")
    op.drop_table("kpi_training_first_days")
