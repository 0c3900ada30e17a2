"""The training service's query tables as the release before migrations created them.

Revision ID: training_0001
Revises:
Create Date: 2025-07-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "training_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("training",)
depends_on: str | Sequence[str] | None = None

# A database that already has these tables (and no alembic_version) is stamped here instead of upgraded.
previous_release_tables = ("attendance", "courses", "enrolments", "trainee_keys", "trainees")


def upgrade() -> None:
    op.create_table(
        "attendance",
        sa.Column("course_id", sa.String(length=64), nullable=False),
        sa.Column("trainee_id", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("present", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("course_id", "trainee_id", "day"),
    )
    op.create_table(
        "courses",
        sa.Column("course_id", sa.String(length=64), nullable=False),
        sa.Column("tenant", sa.String(length=16), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("field", sa.String(length=100), nullable=True),
        sa.Column("audience", sa.String(length=200), nullable=True),
        sa.Column("organiser", sa.String(length=200), nullable=False),
        sa.Column("trainer", sa.String(length=200), nullable=True),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("pass_mark", sa.Integer(), nullable=False),
        sa.Column("enrolled", sa.Integer(), nullable=False),
        sa.Column("completed", sa.Integer(), nullable=False),
        sa.Column("passed", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("course_id"),
    )
    op.create_index(op.f("ix_courses_tenant"), "courses", ["tenant"], unique=False)
    op.create_table(
        "enrolments",
        sa.Column("course_id", sa.String(length=64), nullable=False),
        sa.Column("trainee_id", sa.String(length=64), nullable=False),
        sa.Column("enrolled_on", sa.Date(), nullable=False),
        sa.Column("days_present", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("passed", sa.Boolean(), nullable=True),
        sa.Column("certificate_number", sa.String(length=64), nullable=True),
        sa.Column("completed_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("course_id", "trainee_id"),
    )
    op.create_table(
        "trainee_keys",
        sa.Column("key_id", sa.String(length=36), nullable=False),
        sa.Column("trainee_id", sa.String(length=64), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key_id"),
    )
    op.create_index(op.f("ix_trainee_keys_trainee_id"), "trainee_keys", ["trainee_id"], unique=False)
    op.create_table(
        "trainees",
        sa.Column("trainee_id", sa.String(length=64), nullable=False),
        sa.Column("tenant", sa.String(length=16), nullable=False),
        sa.Column("organisation_kind", sa.String(length=20), nullable=False),
        sa.Column("organisation_id", sa.String(length=64), nullable=True),
        sa.Column("organisation_name", sa.String(length=300), nullable=True),
        sa.Column("key_id", sa.String(length=36), nullable=False),
        sa.Column("sealed", sa.JSON(), nullable=True),
        sa.Column("id_digest", sa.String(length=64), nullable=True),
        sa.Column("registered_on", sa.Date(), nullable=False),
        sa.Column("erased_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("trainee_id"),
    )
    op.create_index(op.f("ix_trainees_id_digest"), "trainees", ["id_digest"], unique=False)
    op.create_index(op.f("ix_trainees_tenant"), "trainees", ["tenant"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_trainees_tenant"), table_name="trainees")
    op.drop_index(op.f("ix_trainees_id_digest"), table_name="trainees")
    op.drop_table("trainees")
    op.drop_index(op.f("ix_trainee_keys_trainee_id"), table_name="trainee_keys")
    op.drop_table("trainee_keys")
    op.drop_table("enrolments")
    op.drop_index(op.f("ix_courses_tenant"), table_name="courses")
    op.drop_table("courses")
    op.drop_table("attendance")
