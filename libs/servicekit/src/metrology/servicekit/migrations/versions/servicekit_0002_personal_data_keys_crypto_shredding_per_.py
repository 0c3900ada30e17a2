"""Personal data keys: one data key per person, wrapped under a KEK; erasure deletes the row (crypto-shredding).

Revision ID: servicekit_0002
Revises: servicekit_0001
Create Date: 2026-11-30 14:49:14.427544
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "servicekit_0002"
down_revision: str | Sequence[str] | None = "servicekit_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "personal_data_keys",
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("subject"),
        sa.UniqueConstraint("key_id"),
    )


def downgrade() -> None:
    op.drop_table("personal_data_keys")
