"""Task progress: the view of the plan's tasks, one row per task-progress-recorded (written with its event).

Revision ID: reporting_0003
Revises: reporting_0002
Create Date: 2026-11-30 14:43:51.075463
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "reporting_0003"
down_revision: str | Sequence[str] | None = "reporting_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "task_progress",
        sa.Column("progress_id", sa.String(length=64), nullable=False),
        sa.Column("tenant", sa.String(length=16), nullable=False),
        sa.Column("plan_id", sa.String(length=100), nullable=False),
        sa.Column("task_id", sa.String(length=100), nullable=False),
        sa.Column("progress_on", sa.Date(), nullable=False),
        sa.Column("activity_id", sa.String(length=100), nullable=True),
        sa.Column("done", sa.String(length=2000), nullable=False),
        sa.Column("budget_spent", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("progress_id"),
    )
    with op.batch_alter_table("task_progress", schema=None) as batch_op:
        batch_op.create_index("ix_task_progress_plan", ["tenant", "plan_id", "task_id", "progress_on"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("task_progress", schema=None) as batch_op:
        batch_op.drop_index("ix_task_progress_plan")

    op.drop_table("task_progress")
