"""The registry's query tables as the release before migrations created them.

Revision ID: registry_0001
Revises:
Create Date: 2025-07-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "registry_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("registry",)
depends_on: str | Sequence[str] | None = None

# A database that already has these tables (and no alembic_version) is stamped here instead of upgraded.
previous_release_tables = (
    "accreditations",
    "assessments",
    "designations",
    "enterprises",
    "instruments",
    "laboratories",
    "providers",
    "standards",
    "verifiers",
)


def upgrade() -> None:
    op.create_table(
        "accreditations",
        sa.Column("laboratory_id", sa.String(length=64), nullable=False),
        sa.Column("accreditation_number", sa.String(length=64), nullable=False),
        sa.Column("standard", sa.String(length=64), nullable=False),
        sa.Column("accreditation_body", sa.String(length=200), nullable=True),
        sa.Column("scope", sa.JSON(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("laboratory_id", "accreditation_number"),
    )
    op.create_table(
        "assessments",
        sa.Column("assessment_id", sa.String(length=64), nullable=False),
        sa.Column("laboratory_id", sa.String(length=64), nullable=False),
        sa.Column("criteria", sa.String(length=64), nullable=False),
        sa.Column("assessed_on", sa.Date(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("assessor", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("assessment_id"),
    )
    op.create_index(op.f("ix_assessments_laboratory_id"), "assessments", ["laboratory_id"], unique=False)
    op.create_table(
        "designations",
        sa.Column("designation_id", sa.String(length=64), nullable=False),
        sa.Column("provider_id", sa.String(length=64), nullable=False),
        sa.Column("decision_number", sa.String(length=64), nullable=False),
        sa.Column("instrument_types", sa.JSON(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("designated_on", sa.Date(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("revoked_on", sa.Date(), nullable=True),
        sa.Column("revocation_reason", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("designation_id"),
    )
    op.create_index(op.f("ix_designations_provider_id"), "designations", ["provider_id"], unique=False)
    op.create_table(
        "enterprises",
        sa.Column("enterprise_id", sa.String(length=64), nullable=False),
        sa.Column("tenant", sa.String(length=16), nullable=False),
        sa.Column("tax_code", sa.String(length=14), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("sector", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=500), nullable=False),
        sa.Column("province_code", sa.String(length=2), nullable=False),
        sa.Column("commune_code", sa.String(length=5), nullable=True),
        sa.Column("contact_name", sa.String(length=200), nullable=True),
        sa.Column("contact_phone", sa.String(length=32), nullable=True),
        sa.Column("contact_email", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("registered_on", sa.Date(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("enterprise_id"),
        sa.UniqueConstraint("tenant", "tax_code", name="uq_enterprises_tenant_tax_code"),
    )
    op.create_index(op.f("ix_enterprises_sector"), "enterprises", ["sector"], unique=False)
    op.create_table(
        "instruments",
        sa.Column("instrument_id", sa.String(length=64), nullable=False),
        sa.Column("tenant", sa.String(length=16), nullable=False),
        sa.Column("type_code", sa.String(length=16), nullable=False),
        sa.Column("serial", sa.String(length=100), nullable=False),
        sa.Column("manufacturer", sa.String(length=200), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=True),
        sa.Column("type_approval_number", sa.String(length=100), nullable=True),
        sa.Column("owner_enterprise_id", sa.String(length=64), nullable=False),
        sa.Column("province_code", sa.String(length=2), nullable=False),
        sa.Column("commune_code", sa.String(length=5), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("registered_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("instrument_id"),
        sa.UniqueConstraint("tenant", "type_code", "manufacturer", "serial", name="uq_instruments_identity"),
    )
    op.create_index(op.f("ix_instruments_owner_enterprise_id"), "instruments", ["owner_enterprise_id"], unique=False)
    op.create_index(op.f("ix_instruments_type_code"), "instruments", ["type_code"], unique=False)
    op.create_table(
        "laboratories",
        sa.Column("laboratory_id", sa.String(length=64), nullable=False),
        sa.Column("tenant", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("owner", sa.String(length=300), nullable=False),
        sa.Column("address", sa.String(length=500), nullable=True),
        sa.Column("province_code", sa.String(length=2), nullable=False),
        sa.Column("commune_code", sa.String(length=5), nullable=True),
        sa.Column("registered_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("laboratory_id"),
    )
    op.create_table(
        "providers",
        sa.Column("provider_id", sa.String(length=64), nullable=False),
        sa.Column("tenant", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("ownership", sa.String(length=16), nullable=False),
        sa.Column("tax_code", sa.String(length=14), nullable=True),
        sa.Column("address", sa.String(length=500), nullable=True),
        sa.Column("province_code", sa.String(length=2), nullable=False),
        sa.Column("commune_code", sa.String(length=5), nullable=True),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("registration_certificate_number", sa.String(length=64), nullable=False),
        sa.Column("registration_certificate_date", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("provider_id"),
    )
    op.create_table(
        "standards",
        sa.Column("standard_id", sa.String(length=64), nullable=False),
        sa.Column("tenant", sa.String(length=16), nullable=False),
        sa.Column("owner_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("quantity", sa.String(length=100), nullable=False),
        sa.Column("measuring_range", sa.String(length=200), nullable=False),
        sa.Column("accuracy", sa.String(length=200), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("calibrated_against", sa.String(length=64), nullable=True),
        sa.Column("national_standard", sa.String(length=300), nullable=True),
        sa.Column("certificate_number", sa.String(length=64), nullable=False),
        sa.Column("calibrated_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("standard_id"),
    )
    op.create_table(
        "verifiers",
        sa.Column("verifier_id", sa.String(length=64), nullable=False),
        sa.Column("provider_id", sa.String(length=64), nullable=False),
        sa.Column("card_number", sa.String(length=64), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("certified_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("verifier_id"),
    )
    op.create_index(op.f("ix_verifiers_provider_id"), "verifiers", ["provider_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_verifiers_provider_id"), table_name="verifiers")
    op.drop_table("verifiers")
    op.drop_table("standards")
    op.drop_table("providers")
    op.drop_table("laboratories")
    op.drop_index(op.f("ix_instruments_type_code"), table_name="instruments")
    op.drop_index(op.f("ix_instruments_owner_enterprise_id"), table_name="instruments")
    op.drop_table("instruments")
    op.drop_index(op.f("ix_enterprises_sector"), table_name="enterprises")
    op.drop_table("enterprises")
    op.drop_index(op.f("ix_designations_provider_id"), table_name="designations")
    op.drop_table("designations")
    op.drop_index(op.f("ix_assessments_laboratory_id"), table_name="assessments")
    op.drop_table("assessments")
    op.drop_table("accreditations")
