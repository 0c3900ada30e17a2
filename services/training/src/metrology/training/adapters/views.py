"""Query tables the training service keeps beside its events (updated in the same transaction)."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

courses = sa.Table(
    "courses",
    metadata,
    sa.Column("course_id", sa.String(64), primary_key=True),
    sa.Column("title", sa.String(300), nullable=False),
    sa.Column("topic", sa.String(200), nullable=False),
    sa.Column("organiser", sa.String(200), nullable=False),
    sa.Column("starts_on", sa.Date, nullable=False),
    sa.Column("ends_on", sa.Date, nullable=False),
    sa.Column("completed", sa.Integer, nullable=False, default=0),
    sa.Column("passed", sa.Integer, nullable=False, default=0),
)
