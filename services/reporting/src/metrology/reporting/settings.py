"""Settings of the reporting service (REPORTING_* in the environment, then the shared names)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from pydantic import Field

from metrology.servicekit.settings import ServiceSettings


class ReportingSettings(ServiceSettings):
    http_port: int = 8005
    plan_files: str = Field(
        "", description="Plan YAML files, separated by ',' (one plan per tenant); empty: the shipped Bến Tre plan"
    )
    public_dashboard: bool = Field(True, description="KPI reads, dashboard and exports open to anonymous users")
    evaluation_date: date | None = Field(None, description="Evaluate target statuses as of this date (default today)")
    evaluation_interval: float = Field(
        0.0,
        ge=0,
        description="Seconds between status evaluations (0: after each batch; otherwise what the batches inside the "
        "interval touched is evaluated when it has passed)",
    )
    answer_computations: int = Field(
        4,
        ge=1,
        description="Uncached answers computed at once (each holds one connection, a progress page `progress_lanes`); "
        "keep their connections below the pool size",
    )
    progress_lanes: int = Field(
        2,
        ge=1,
        description="Connections an uncached plan progress page is computed on at once, each taking the plan's next "
        "target (1: the targets one after another; PostgreSQL only)",
    )
    answer_wait_seconds: float = Field(
        5.0, gt=0, description="How long a request waits for a computation slot before 503 with Retry-After"
    )

    def plan_paths(self) -> list[Path]:
        return [Path(p.strip()) for p in self.plan_files.split(",") if p.strip()]

    def today(self) -> date:
        return self.evaluation_date or date.today()
