"""The one place that wires the reporting service."""

from __future__ import annotations

from metrology.reporting.adapters.readmodel import metadata
from metrology.reporting.application.projection import KpiProjection
from metrology.reporting.domain.consumed import registry
from metrology.reporting.entrypoints import http
from metrology.servicekit.runtime import ServiceRuntime, new_runtime
from metrology.servicekit.settings import ServiceSettings

FOLDED_SERVICES = ("training",)


def bootstrap(settings: ServiceSettings) -> ServiceRuntime:
    runtime = new_runtime(settings, registry(), [metadata])
    projection = KpiProjection(runtime.registry)
    runtime.subscribe(projection, FOLDED_SERVICES, group="projector")
    runtime.routers.append(http.router)
    runtime.publishes = False
    runtime.title = "metrology reporting"
    runtime.description = "KPIs of the provincial metrology plan, as of any date."
    return runtime
