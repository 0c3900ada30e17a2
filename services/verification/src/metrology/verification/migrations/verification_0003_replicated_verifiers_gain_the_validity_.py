"""Replicated verifiers gain the validity of their card (verifier-certified v2); null: no end date on record.

Revision ID: verification_0003
Revises: verification_0002
Create Date: 2026-11-30 14:08:59.943541
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "verification_0003"
down_revision: str | Sequence[str] | None = "verification_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("replica_verifiers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("card_valid_until", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("replica_verifiers", schema=None) as batch_op:
        batch_op.drop_column("card_valid_until")
