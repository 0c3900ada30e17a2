"""The task view: one row per progress record on a plan's task, written with its event in the command's
transaction (reporting's own facts, never reset by a rebuild of the KPI read model)."""

from __future__ import annotations

import sqlalchemy as sa

from metrology.reporting.adapters.readmodel import metadata

task_progress = sa.Table(
    "task_progress",
    metadata,
    sa.Column("progress_id", sa.String(64), primary_key=True),
    sa.Column("tenant", sa.String(16), nullable=False),
    sa.Column("plan_id", sa.String(100), nullable=False),
    sa.Column("task_id", sa.String(100), nullable=False),
    sa.Column("progress_on", sa.Date, nullable=False),
    sa.Column("activity_id", sa.String(100), nullable=True),
    sa.Column("done", sa.String(2000), nullable=False),
    sa.Column("budget_spent", sa.Float, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("evidence", sa.JSON, nullable=False),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_task_progress_plan", "tenant", "plan_id", "task_id", "progress_on"),
)
