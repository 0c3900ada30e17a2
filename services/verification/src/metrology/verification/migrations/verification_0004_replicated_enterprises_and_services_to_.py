"""Replicated enterprises (the replica folds enterprise events; rebuild it to fill) and services to enterprises.

Revision ID: verification_0004
Revises: verification_0003
Create Date: 2026-11-30 14:26:55.537864
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "verification_0004"
down_revision: str | Sequence[str] | None = "verification_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "enterprise_services",
        sa.Column("service_id", sa.String(length=64), nullable=False),
        sa.Column("tenant", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("enterprise_id", sa.String(length=64), nullable=False),
        sa.Column("enterprise_name", sa.String(length=300), nullable=False),
        sa.Column("provider_id", sa.String(length=64), nullable=False),
        sa.Column("performed_on", sa.Date(), nullable=False),
        sa.Column("description", sa.String(length=2000), nullable=False),
        sa.Column("external_reference", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("service_id"),
        sa.UniqueConstraint("tenant", "provider_id", "external_reference", name="uq_enterprise_services_reference"),
    )
    with op.batch_alter_table("enterprise_services", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_enterprise_services_enterprise_id"), ["enterprise_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_enterprise_services_performed_on"), ["performed_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_enterprise_services_provider_id"), ["provider_id"], unique=False)

    op.create_table(
        "replica_enterprises",
        sa.Column("enterprise_id", sa.String(length=64), nullable=False),
        sa.Column("tenant", sa.String(length=16), nullable=False),
        sa.Column("tax_code", sa.String(length=14), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("province_code", sa.String(length=8), nullable=False),
        sa.Column("commune_code", sa.String(length=8), nullable=False),
        sa.Column("registered_on", sa.Date(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("enterprise_id"),
    )
    with op.batch_alter_table("replica_enterprises", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_replica_enterprises_tax_code"), ["tax_code"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("replica_enterprises", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_replica_enterprises_tax_code"))

    op.drop_table("replica_enterprises")
    with op.batch_alter_table("enterprise_services", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_enterprise_services_provider_id"))
        batch_op.drop_index(batch_op.f("ix_enterprise_services_performed_on"))
        batch_op.drop_index(batch_op.f("ix_enterprise_services_enterprise_id"))

    op.drop_table("enterprise_services")
