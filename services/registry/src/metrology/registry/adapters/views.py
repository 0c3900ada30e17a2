"""Query tables the registry keeps beside its events (updated in the same transaction as the append)."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()


def _id(name: str) -> sa.Column:
    return sa.Column(name, sa.String(64), primary_key=True)


def _place() -> list[sa.Column]:
    return [sa.Column("province_code", sa.String(2), nullable=False), sa.Column("commune_code", sa.String(5))]


enterprises = sa.Table(
    "enterprises",
    metadata,
    _id("enterprise_id"),
    sa.Column("tenant", sa.String(16), nullable=False),
    sa.Column("tax_code", sa.String(14), nullable=False),
    sa.Column("name", sa.String(300), nullable=False),
    sa.Column("sector", sa.String(64), nullable=False, index=True),
    sa.Column("address", sa.String(500), nullable=False),
    *_place(),
    sa.Column("contact_name", sa.String(200)),
    sa.Column("contact_phone", sa.String(32)),
    sa.Column("contact_email", sa.String(200)),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("registered_on", sa.Date, nullable=False),
    sa.Column("closed_on", sa.Date),
    sa.UniqueConstraint("tenant", "tax_code", name="uq_enterprises_tenant_tax_code"),
)

providers = sa.Table(
    "providers",
    metadata,
    _id("provider_id"),
    sa.Column("tenant", sa.String(16), nullable=False),
    sa.Column("name", sa.String(300), nullable=False),
    sa.Column("ownership", sa.String(16), nullable=False),
    sa.Column("tax_code", sa.String(14)),
    sa.Column("address", sa.String(500)),
    *_place(),
    sa.Column("fields", sa.JSON, nullable=False),
    sa.Column("registration_certificate_number", sa.String(64), nullable=False),
    sa.Column("registration_certificate_date", sa.Date, nullable=False),
    sa.UniqueConstraint("tenant", "registration_certificate_number", name="uq_providers_tenant_registration"),
)

designations = sa.Table(
    "designations",
    metadata,
    _id("designation_id"),
    sa.Column("provider_id", sa.String(64), nullable=False, index=True),
    sa.Column("decision_number", sa.String(64), nullable=False),
    sa.Column("instrument_types", sa.JSON, nullable=False),
    sa.Column("fields", sa.JSON, nullable=False),
    sa.Column("designated_on", sa.Date, nullable=False),
    sa.Column("valid_from", sa.Date, nullable=False),
    sa.Column("valid_until", sa.Date, nullable=False),
    sa.Column("revoked_on", sa.Date),
    sa.Column("revocation_reason", sa.String(500)),
)

verifiers = sa.Table(
    "verifiers",
    metadata,
    _id("verifier_id"),
    sa.Column("provider_id", sa.String(64), nullable=False, index=True),
    sa.Column("card_number", sa.String(64), nullable=False),
    sa.Column("full_name", sa.String(200), nullable=False),
    sa.Column("fields", sa.JSON, nullable=False),
    sa.Column("certified_on", sa.Date, nullable=False),
    sa.Column("card_valid_until", sa.Date, nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
)

laboratories = sa.Table(
    "laboratories",
    metadata,
    _id("laboratory_id"),
    sa.Column("tenant", sa.String(16), nullable=False),
    sa.Column("name", sa.String(300), nullable=False),
    sa.Column("owner", sa.String(300), nullable=False),
    sa.Column("address", sa.String(500)),
    *_place(),
    sa.Column("registered_on", sa.Date, nullable=False),
    sa.Column("registration_number", sa.String(64)),
    sa.UniqueConstraint("tenant", "registration_number", name="uq_laboratories_tenant_registration"),
)

accreditations = sa.Table(
    "accreditations",
    metadata,
    sa.Column("laboratory_id", sa.String(64), primary_key=True),
    sa.Column("accreditation_number", sa.String(64), primary_key=True),
    sa.Column("standard", sa.String(64), nullable=False),
    sa.Column("accreditation_body", sa.String(200)),
    sa.Column("scope", sa.JSON, nullable=False),
    sa.Column("valid_from", sa.Date, nullable=False),
    sa.Column("valid_until", sa.Date, nullable=False),
)

assessments = sa.Table(
    "assessments",
    metadata,
    _id("assessment_id"),
    sa.Column("laboratory_id", sa.String(64), nullable=False, index=True),
    sa.Column("criteria", sa.String(64), nullable=False),
    sa.Column("assessed_on", sa.Date, nullable=False),
    sa.Column("passed", sa.Boolean, nullable=False),
    sa.Column("assessor", sa.String(200), nullable=False),
)

standards = sa.Table(
    "standards",
    metadata,
    _id("standard_id"),
    sa.Column("tenant", sa.String(16), nullable=False),
    sa.Column("owner_id", sa.String(64), nullable=False),
    sa.Column("name", sa.String(300), nullable=False),
    sa.Column("quantity", sa.String(100), nullable=False),
    sa.Column("measuring_range", sa.String(200), nullable=False),
    sa.Column("accuracy", sa.String(200), nullable=False),
    sa.Column("level", sa.String(16), nullable=False),
    sa.Column("calibrated_against", sa.String(64)),
    sa.Column("national_standard", sa.String(300)),
    sa.Column("certificate_number", sa.String(64), nullable=False),
    sa.Column("calibrated_on", sa.Date, nullable=False),
    sa.Column("due_on", sa.Date, nullable=False),
)

instruments = sa.Table(
    "instruments",
    metadata,
    _id("instrument_id"),
    sa.Column("tenant", sa.String(16), nullable=False),
    sa.Column("type_code", sa.String(16), nullable=False, index=True),
    sa.Column("serial", sa.String(100), nullable=False),
    sa.Column("manufacturer", sa.String(200), nullable=False),
    sa.Column("model", sa.String(200)),
    sa.Column("type_approval_number", sa.String(100)),
    sa.Column("owner_enterprise_id", sa.String(64), nullable=False, index=True),
    *_place(),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("registered_on", sa.Date, nullable=False),
    sa.UniqueConstraint("tenant", "type_code", "manufacturer", "serial", name="uq_instruments_identity"),
)


# Fed by the inspection topic: instruments found in use that the registry did not know (to be registered).
registration_requests = sa.Table(
    "registration_requests",
    metadata,
    _id("finding_id"),
    sa.Column("tenant", sa.String(16), nullable=False, index=True),
    sa.Column("visit_id", sa.String(64), nullable=False),
    sa.Column("type_code", sa.String(16), nullable=False),
    sa.Column("serial", sa.String(100), nullable=False),
    sa.Column("enterprise_id", sa.String(64)),
    sa.Column("venue_name", sa.String(300), nullable=False),
    sa.Column("commune_code", sa.String(5), nullable=False),
    sa.Column("found_on", sa.Date, nullable=False),
)
