"""The reporting read model: one table of facts per KPI family, keyed so a fact is stored once."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

completions = sa.Table(
    "kpi_training_completions",
    metadata,
    sa.Column("tenant", sa.String(16), primary_key=True),
    sa.Column("course_id", sa.String(64), primary_key=True),
    sa.Column("trainee_id", sa.String(64), primary_key=True),
    sa.Column("completed_on", sa.Date, nullable=False, index=True),
    sa.Column("passed", sa.Boolean, nullable=False),
)
