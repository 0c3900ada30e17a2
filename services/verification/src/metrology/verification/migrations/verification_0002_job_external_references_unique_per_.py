"""Jobs carry the client's external reference, unique per tenant and provider (NULLs never collide).

Revision ID: verification_0002
Revises: verification_0001
Create Date: 2026-11-30 14:04:05.337178
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "verification_0002"
down_revision: str | Sequence[str] | None = "verification_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("external_reference", sa.String(length=100), nullable=True))
        batch_op.create_unique_constraint("uq_jobs_external_reference", ["tenant", "provider_id", "external_reference"])


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_constraint("uq_jobs_external_reference", type_="unique")
        batch_op.drop_column("external_reference")
