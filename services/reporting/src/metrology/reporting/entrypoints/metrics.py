"""Every target's KPI as Prometheus gauges, labelled by plan, target and tenant: served on `/metrics` after the
kit's pipeline metrics."""

from __future__ import annotations

from datetime import date

from fastapi import Request
from prometheus_client import CollectorRegistry, Gauge, generate_latest

from metrology.reporting.domain.plan import Status
from metrology.reporting.entrypoints.access import plans_of
from metrology.reporting.entrypoints.http import cached_plan_progress

LABELS = ["plan", "target", "tenant", "metric"]


async def kpi_metrics(request: Request) -> bytes:
    registry = CollectorRegistry()
    gauges = {
        "value": Gauge("metrology_kpi_value", "KPI value as of today", LABELS, registry=registry),
        "threshold": Gauge("metrology_kpi_threshold", "The target's threshold", LABELS, registry=registry),
        "progress": Gauge("metrology_kpi_progress_ratio", "value / threshold", LABELS, registry=registry),
        "forecast": Gauge("metrology_kpi_forecast", "Forecast value at the deadline", LABELS, registry=registry),
        "deadline": Gauge(
            "metrology_kpi_deadline_timestamp_seconds", "Deadline (Unix time)", LABELS, registry=registry
        ),
    }
    status = Gauge("metrology_kpi_status", "1 for the target's current status", [*LABELS, "status"], registry=registry)
    settings = request.app.state.runtime.settings
    today = settings.today() if hasattr(settings, "today") else date.today()
    for plan in plans_of(request):
        for result in await cached_plan_progress(request, plan, today, breakdowns=False):
            t = result.target
            labels = [plan.id, t.id, plan.tenant, t.metric.value]
            gauges["value"].labels(*labels).set(result.reading.value)
            gauges["threshold"].labels(*labels).set(t.threshold)
            gauges["progress"].labels(*labels).set(result.progress)
            gauges["deadline"].labels(*labels).set(_timestamp(t.deadline))
            if result.forecast:
                gauges["forecast"].labels(*labels).set(result.forecast.value)
            for name in Status:
                status.labels(*labels, name.value).set(1 if result.status is name else 0)
    return generate_latest(registry)


def _timestamp(day: date) -> float:
    from datetime import UTC, datetime

    return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()
