"""Outreach's tables beside its events: query tables (same transaction as the events) and the local
replica of registry facts it needs (fed by the registry topic)."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

participations = sa.Table(
    "participations",
    metadata,
    sa.Column("participation_id", sa.String(64), primary_key=True),
    sa.Column("tenant", sa.String(16), nullable=False, index=True),
    sa.Column("enterprise_id", sa.String(64), nullable=False, index=True),
    sa.Column("enterprise_name", sa.String(300), nullable=True),
    sa.Column("status", sa.String(20), nullable=False, index=True),
    sa.Column("contact_name", sa.String(200), nullable=False),
    sa.Column("enrolled_on", sa.Date, nullable=False),
    sa.Column("assessed_on", sa.Date, nullable=True),
    sa.Column("assessment", sa.JSON, nullable=True),
    sa.Column("plan_approved_on", sa.Date, nullable=True),
    sa.Column("objectives", sa.JSON, nullable=True),
    sa.Column("supports", sa.Integer, nullable=False, default=0),
    sa.Column("evaluations", sa.JSON, nullable=True),
    sa.Column("completed_on", sa.Date, nullable=True),
    sa.Column("withdrawn_on", sa.Date, nullable=True),
    sa.Column("accesses", sa.Integer, nullable=False, default=0),
)

accesses = sa.Table(
    "accesses",
    metadata,
    sa.Column("access_id", sa.String(64), primary_key=True),
    sa.Column("tenant", sa.String(16), nullable=False),
    sa.Column("participation_id", sa.String(64), nullable=False, index=True),
    sa.Column("enterprise_id", sa.String(64), nullable=False, index=True),
    sa.Column("channel", sa.String(20), nullable=False),
    sa.Column("occurred_on", sa.Date, nullable=False, index=True),
    sa.Column("source_job_id", sa.String(64), nullable=True),
    sa.Column("note", sa.String(1000), nullable=True),
    sa.UniqueConstraint("tenant", "source_job_id", name="uq_accesses_job"),
)

campaigns = sa.Table(
    "campaigns",
    metadata,
    sa.Column("campaign_id", sa.String(64), primary_key=True),
    sa.Column("tenant", sa.String(16), nullable=False, index=True),
    sa.Column("title", sa.String(300), nullable=False),
    sa.Column("audience", sa.String(300), nullable=False),
    sa.Column("channel", sa.String(100), nullable=False),
    sa.Column("held_on", sa.Date, nullable=False, index=True),
    sa.Column("enterprises_reached", sa.Integer, nullable=False),
    sa.Column("enterprise_ids", sa.JSON, nullable=False),
    sa.Column("people_reached", sa.Integer, nullable=True),
)

# -- local replica of the registry ---------------------------------------------------------------

known_enterprises = sa.Table(
    "replica_enterprises",
    metadata,
    sa.Column("tenant", sa.String(16), primary_key=True),
    sa.Column("enterprise_id", sa.String(64), primary_key=True),
    sa.Column("tax_code", sa.String(20), nullable=False),
    sa.Column("name", sa.String(300), nullable=False),
    sa.Column("sector", sa.String(200), nullable=True),
    sa.Column("closed_on", sa.Date, nullable=True),
)

owned_subjects = sa.Table(
    "replica_owned_subjects",
    metadata,
    sa.Column("tenant", sa.String(16), primary_key=True),
    sa.Column("subject_id", sa.String(64), primary_key=True),
    sa.Column("subject", sa.String(20), nullable=False),
    sa.Column("owner_id", sa.String(64), nullable=False),
)
