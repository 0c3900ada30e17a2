"""Natural keys: laboratories gain a registration number; registration numbers are unique per tenant.

A database holding two providers of one tenant under one registration certificate number cannot take the
unique constraint: the upgrade stops there, and the duplicates are to be resolved first (a correction event).

Revision ID: registry_0002
Revises: registry_0001
Create Date: 2026-11-30 14:03:51.603568
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "registry_0002"
down_revision: str | Sequence[str] | None = "registry_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("laboratories", schema=None) as batch_op:
        batch_op.add_column(sa.Column("registration_number", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint("uq_laboratories_tenant_registration", ["tenant", "registration_number"])

    with op.batch_alter_table("providers", schema=None) as batch_op:
        batch_op.create_unique_constraint(
            "uq_providers_tenant_registration", ["tenant", "registration_certificate_number"]
        )


def downgrade() -> None:
    with op.batch_alter_table("providers", schema=None) as batch_op:
        batch_op.drop_constraint("uq_providers_tenant_registration", type_="unique")

    with op.batch_alter_table("laboratories", schema=None) as batch_op:
        batch_op.drop_constraint("uq_laboratories_tenant_registration", type_="unique")
        batch_op.drop_column("registration_number")
