"""Query tables the training service keeps beside its events (updated in the same transaction), and the key
table of trainees' data keys (never published)."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

courses = sa.Table(
    "courses",
    metadata,
    sa.Column("course_id", sa.String(64), primary_key=True),
    sa.Column("tenant", sa.String(16), nullable=True, index=True),
    sa.Column("title", sa.String(300), nullable=False),
    sa.Column("topic", sa.String(200), nullable=False),
    sa.Column("field", sa.String(100), nullable=True),
    sa.Column("audience", sa.String(200), nullable=True),
    sa.Column("organiser", sa.String(200), nullable=False),
    sa.Column("trainer", sa.String(200), nullable=True),
    sa.Column("starts_on", sa.Date, nullable=False),
    sa.Column("ends_on", sa.Date, nullable=False),
    sa.Column("pass_mark", sa.Integer, nullable=False, default=50),
    sa.Column("enrolled", sa.Integer, nullable=False, default=0),
    sa.Column("completed", sa.Integer, nullable=False, default=0),
    sa.Column("passed", sa.Integer, nullable=False, default=0),
)

trainees = sa.Table(
    "trainees",
    metadata,
    sa.Column("trainee_id", sa.String(64), primary_key=True),
    sa.Column("tenant", sa.String(16), nullable=False, index=True),
    sa.Column("organisation_kind", sa.String(20), nullable=False),
    sa.Column("organisation_id", sa.String(64), nullable=True),
    sa.Column("organisation_name", sa.String(300), nullable=True),
    sa.Column("key_id", sa.String(36), nullable=False),
    sa.Column("sealed", sa.JSON, nullable=True),
    sa.Column("id_digest", sa.String(64), nullable=True, index=True),
    sa.Column("registered_on", sa.Date, nullable=False),
    sa.Column("erased_on", sa.Date, nullable=True),
)

enrolments = sa.Table(
    "enrolments",
    metadata,
    sa.Column("course_id", sa.String(64), primary_key=True),
    sa.Column("trainee_id", sa.String(64), primary_key=True),
    sa.Column("enrolled_on", sa.Date, nullable=False),
    sa.Column("days_present", sa.Integer, nullable=False, default=0),
    sa.Column("score", sa.Float, nullable=True),
    sa.Column("passed", sa.Boolean, nullable=True),
    sa.Column("certificate_number", sa.String(64), nullable=True),
    sa.Column("completed_on", sa.Date, nullable=True),
)

attendance = sa.Table(
    "attendance",
    metadata,
    sa.Column("course_id", sa.String(64), primary_key=True),
    sa.Column("trainee_id", sa.String(64), primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("present", sa.Boolean, nullable=False),
)

trainee_keys = sa.Table(
    "trainee_keys",
    metadata,
    sa.Column("key_id", sa.String(36), primary_key=True),
    sa.Column("trainee_id", sa.String(64), nullable=False, index=True),
    sa.Column("wrapped_key", sa.LargeBinary, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)
