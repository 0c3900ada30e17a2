"""The inspection service's tables beside its events: query tables (same transaction as the events) and the
local replica of the registry and of certificates (fed by the registry and verification topics)."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

inspection_plans = sa.Table(
    "inspection_plans",
    metadata,
    sa.Column("plan_id", sa.String(64), primary_key=True),
    sa.Column("tenant", sa.String(16), nullable=False, index=True),
    sa.Column("year", sa.Integer, nullable=False),
    sa.Column("title", sa.String(300), nullable=False),
    sa.Column("decision_number", sa.String(64), nullable=False),
    sa.Column("approved_by", sa.String(200), nullable=False),
    sa.Column("approved_on", sa.Date, nullable=False),
)

campaigns = sa.Table(
    "inspection_campaigns",
    metadata,
    sa.Column("campaign_id", sa.String(64), primary_key=True),
    sa.Column("tenant", sa.String(16), nullable=False, index=True),
    sa.Column("plan_id", sa.String(64), nullable=False, index=True),
    sa.Column("title", sa.String(300), nullable=False),
    sa.Column("decision_number", sa.String(64), nullable=False),
    sa.Column("venue_kinds", sa.JSON, nullable=False),
    sa.Column("instrument_types", sa.JSON, nullable=False),
    sa.Column("prepackaged_goods", sa.Boolean, nullable=False),
    sa.Column("starts_on", sa.Date, nullable=False),
    sa.Column("ends_on", sa.Date, nullable=False),
    sa.Column("visits", sa.Integer, nullable=False, default=0),
)

visits = sa.Table(
    "inspection_visits",
    metadata,
    sa.Column("visit_id", sa.String(64), primary_key=True),
    sa.Column("tenant", sa.String(16), nullable=False, index=True),
    sa.Column("campaign_id", sa.String(64), nullable=False, index=True),
    sa.Column("record_number", sa.String(64), nullable=False),
    sa.Column("venue_kind", sa.String(20), nullable=False),
    sa.Column("venue_name", sa.String(300), nullable=False),
    sa.Column("enterprise_id", sa.String(64), nullable=True),
    sa.Column("commune_code", sa.String(5), nullable=False),
    sa.Column("visited_on", sa.Date, nullable=False, index=True),
    sa.Column("inspectors", sa.JSON, nullable=False),
    sa.Column("findings", sa.Integer, nullable=False, default=0),
    sa.Column("violations", sa.Integer, nullable=False, default=0),
)

findings = sa.Table(
    "inspection_findings",
    metadata,
    sa.Column("finding_id", sa.String(64), primary_key=True),
    sa.Column("tenant", sa.String(16), nullable=False, index=True),
    sa.Column("visit_id", sa.String(64), nullable=False, index=True),
    sa.Column("subject", sa.String(20), nullable=False),
    sa.Column("instrument_id", sa.String(64), nullable=True, index=True),
    sa.Column("type_code", sa.String(16), nullable=True),
    sa.Column("serial", sa.String(100), nullable=True),
    sa.Column("owner_enterprise_id", sa.String(64), nullable=True),
    sa.Column("product", sa.String(300), nullable=True),
    sa.Column("defects", sa.JSON, nullable=False),
    sa.Column("registry_status", sa.String(20), nullable=False),
    sa.Column("verification_status", sa.String(20), nullable=False),
    sa.Column("valid_until", sa.Date, nullable=True),
    sa.Column("found_on", sa.Date, nullable=False),
    sa.Column("note", sa.String(1000), nullable=True),
)

violations = sa.Table(
    "inspection_violations",
    metadata,
    sa.Column("violation_id", sa.String(64), primary_key=True),
    sa.Column("tenant", sa.String(16), nullable=False, index=True),
    sa.Column("visit_id", sa.String(64), nullable=False, index=True),
    sa.Column("finding_ids", sa.JSON, nullable=False),
    sa.Column("legal_basis", sa.String(300), nullable=False),
    sa.Column("description", sa.String(1000), nullable=False),
    sa.Column("recorded_on", sa.Date, nullable=False),
    sa.Column("decision_id", sa.String(64), nullable=True),
)

decisions = sa.Table(
    "inspection_decisions",
    metadata,
    sa.Column("decision_id", sa.String(64), primary_key=True),
    sa.Column("tenant", sa.String(16), nullable=False, index=True),
    sa.Column("visit_id", sa.String(64), nullable=False, index=True),
    sa.Column("decision_number", sa.String(64), nullable=False),
    sa.Column("violation_ids", sa.JSON, nullable=False),
    sa.Column("sanction", sa.String(20), nullable=False),
    sa.Column("fine_vnd", sa.BigInteger, nullable=False, default=0),
    sa.Column("remedies", sa.JSON, nullable=False),
    sa.Column("issued_by", sa.String(200), nullable=False),
    sa.Column("issued_on", sa.Date, nullable=False),
)

follow_ups = sa.Table(
    "inspection_follow_ups",
    metadata,
    sa.Column("order_id", sa.String(64), primary_key=True),
    sa.Column("tenant", sa.String(16), nullable=False, index=True),
    sa.Column("visit_id", sa.String(64), nullable=False, index=True),
    sa.Column("finding_id", sa.String(64), nullable=False),
    sa.Column("instrument_id", sa.String(64), nullable=True),
    sa.Column("type_code", sa.String(16), nullable=False),
    sa.Column("serial", sa.String(100), nullable=True),
    sa.Column("owner_enterprise_id", sa.String(64), nullable=True),
    sa.Column("ordered_on", sa.Date, nullable=False),
    sa.Column("due_on", sa.Date, nullable=False, index=True),
)

# -- local replica of the registry and of certificates -------------------------------------------

replica_instruments = sa.Table(
    "replica_instruments",
    metadata,
    sa.Column("instrument_id", sa.String(64), primary_key=True),
    sa.Column("tenant", sa.String(16), nullable=False),
    sa.Column("type_code", sa.String(16), nullable=False),
    sa.Column("serial", sa.String(100), nullable=False),
    sa.Column("owner_enterprise_id", sa.String(64), nullable=False),
    sa.Column("commune_code", sa.String(5), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Index("ix_replica_instruments_serial", "tenant", "type_code", "serial"),
)

replica_enterprises = sa.Table(
    "replica_enterprises",
    metadata,
    sa.Column("enterprise_id", sa.String(64), primary_key=True),
    sa.Column("tenant", sa.String(16), nullable=False, index=True),
    sa.Column("tax_code", sa.String(20), nullable=False),
    sa.Column("name", sa.String(300), nullable=False),
)

replica_certificates = sa.Table(
    "replica_certificates",
    metadata,
    sa.Column("certificate_number", sa.String(64), primary_key=True),
    sa.Column("tenant", sa.String(16), nullable=False),
    sa.Column("subject_id", sa.String(64), nullable=False, index=True),
    sa.Column("issued_on", sa.Date, nullable=False),
    sa.Column("valid_until", sa.Date, nullable=True),
    sa.Column("revoked_on", sa.Date, nullable=True),
)

replica_alerts = sa.Table(
    "replica_alerts",
    metadata,
    sa.Column("instrument_id", sa.String(64), primary_key=True),
    sa.Column("reason", sa.String(16), primary_key=True),  # "overdue" or "unfit"
    sa.Column("tenant", sa.String(16), nullable=False, index=True),
    sa.Column("since", sa.Date, nullable=False),
    sa.Column("due_on", sa.Date, nullable=True),
    sa.Column("job_id", sa.String(64), nullable=True),
)
