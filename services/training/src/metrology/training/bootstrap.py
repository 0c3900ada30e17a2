"""The one place that wires the training service."""

from __future__ import annotations

from metrology.servicekit.runtime import ServiceRuntime, new_runtime
from metrology.servicekit.settings import ServiceSettings
from metrology.training.adapters.views import metadata
from metrology.training.domain.events import registry
from metrology.training.entrypoints import http


def bootstrap(settings: ServiceSettings) -> ServiceRuntime:
    runtime = new_runtime(settings, registry(), [metadata])
    runtime.routers.append(http.router)
    runtime.title = "metrology training"
    runtime.description = "Metrology training: courses, trainees, certification (đào tạo nghiệp vụ đo lường)."
    return runtime
