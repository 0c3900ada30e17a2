"""The one place that wires the registry service."""

from __future__ import annotations

from metrology.registry.adapters.views import metadata
from metrology.registry.domain.events import registry
from metrology.registry.entrypoints import http
from metrology.servicekit.runtime import ServiceRuntime, new_runtime
from metrology.servicekit.settings import ServiceSettings


def bootstrap(settings: ServiceSettings) -> ServiceRuntime:
    runtime = new_runtime(settings, registry(), [metadata])
    runtime.routers.append(http.router)
    runtime.title = "metrology registry"
    runtime.description = (
        "Registry of enterprises, verification/calibration providers (designations, verifiers), laboratories, "
        "measurement standards and Group 2 measuring instruments (đăng ký quản lý đo lường)."
    )
    return runtime
