"""The outreach service's tables (participations, campaigns, replicas) as the release before migrations created them.

Revision ID: outreach_0001
Revises:
Create Date: 2025-07-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "outreach_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("outreach",)
depends_on: str | Sequence[str] | None = None

# A database that already has these tables (and no alembic_version) is stamped here instead of upgraded.
previous_release_tables = ("accesses", "campaigns", "participations", "replica_enterprises", "replica_owned_subjects")


def upgrade() -> None:
    op.create_table(
        "accesses",
        sa.Column("access_id", sa.String(length=64), nullable=False),
        sa.Column("tenant", sa.String(length=16), nullable=False),
        sa.Column("participation_id", sa.String(length=64), nullable=False),
        sa.Column("enterprise_id", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("source_job_id", sa.String(length=64), nullable=True),
        sa.Column("note", sa.String(length=1000), nullable=True),
        sa.PrimaryKeyConstraint("access_id"),
        sa.UniqueConstraint("tenant", "source_job_id", name="uq_accesses_job"),
    )
    op.create_index(op.f("ix_accesses_enterprise_id"), "accesses", ["enterprise_id"], unique=False)
    op.create_index(op.f("ix_accesses_occurred_on"), "accesses", ["occurred_on"], unique=False)
    op.create_index(op.f("ix_accesses_participation_id"), "accesses", ["participation_id"], unique=False)
    op.create_table(
        "campaigns",
        sa.Column("campaign_id", sa.String(length=64), nullable=False),
        sa.Column("tenant", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("audience", sa.String(length=300), nullable=False),
        sa.Column("channel", sa.String(length=100), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("enterprises_reached", sa.Integer(), nullable=False),
        sa.Column("enterprise_ids", sa.JSON(), nullable=False),
        sa.Column("people_reached", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("campaign_id"),
    )
    op.create_index(op.f("ix_campaigns_held_on"), "campaigns", ["held_on"], unique=False)
    op.create_index(op.f("ix_campaigns_tenant"), "campaigns", ["tenant"], unique=False)
    op.create_table(
        "participations",
        sa.Column("participation_id", sa.String(length=64), nullable=False),
        sa.Column("tenant", sa.String(length=16), nullable=False),
        sa.Column("enterprise_id", sa.String(length=64), nullable=False),
        sa.Column("enterprise_name", sa.String(length=300), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("contact_name", sa.String(length=200), nullable=False),
        sa.Column("enrolled_on", sa.Date(), nullable=False),
        sa.Column("assessed_on", sa.Date(), nullable=True),
        sa.Column("assessment", sa.JSON(), nullable=True),
        sa.Column("plan_approved_on", sa.Date(), nullable=True),
        sa.Column("objectives", sa.JSON(), nullable=True),
        sa.Column("supports", sa.Integer(), nullable=False),
        sa.Column("evaluations", sa.JSON(), nullable=True),
        sa.Column("completed_on", sa.Date(), nullable=True),
        sa.Column("withdrawn_on", sa.Date(), nullable=True),
        sa.Column("accesses", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("participation_id"),
    )
    op.create_index(op.f("ix_participations_enterprise_id"), "participations", ["enterprise_id"], unique=False)
    op.create_index(op.f("ix_participations_status"), "participations", ["status"], unique=False)
    op.create_index(op.f("ix_participations_tenant"), "participations", ["tenant"], unique=False)
    op.create_table(
        "replica_enterprises",
        sa.Column("tenant", sa.String(length=16), nullable=False),
        sa.Column("enterprise_id", sa.String(length=64), nullable=False),
        sa.Column("tax_code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("sector", sa.String(length=200), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("tenant", "enterprise_id"),
    )
    op.create_table(
        "replica_owned_subjects",
        sa.Column("tenant", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=20), nullable=False),
        sa.Column("owner_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "subject_id"),
    )


def downgrade() -> None:
    op.drop_table("replica_owned_subjects")
    op.drop_table("replica_enterprises")
    op.drop_index(op.f("ix_participations_tenant"), table_name="participations")
    op.drop_index(op.f("ix_participations_status"), table_name="participations")
    op.drop_index(op.f("ix_participations_enterprise_id"), table_name="participations")
    op.drop_table("participations")
    op.drop_index(op.f("ix_campaigns_tenant"), table_name="campaigns")
    op.drop_index(op.f("ix_campaigns_held_on"), table_name="campaigns")
    op.drop_table("campaigns")
    op.drop_index(op.f("ix_accesses_participation_id"), table_name="accesses")
    op.drop_index(op.f("ix_accesses_occurred_on"), table_name="accesses")
    op.drop_index(op.f("ix_accesses_enterprise_id"), table_name="accesses")
    op.drop_table("accesses")
