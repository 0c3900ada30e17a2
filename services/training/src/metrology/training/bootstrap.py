"""The one place that wires the training service."""

from __future__ import annotations

from metrology.servicekit.runtime import ServiceRuntime, new_runtime
from metrology.servicekit.settings import ServiceSettings
from metrology.training.adapters.views import metadata
from metrology.training.domain.events import registry
from metrology.training.entrypoints import http
from metrology.training.settings import TrainingSettings


def bootstrap(settings: ServiceSettings) -> ServiceRuntime:
    if not isinstance(settings, TrainingSettings):
        settings = TrainingSettings(**settings.model_dump())
    runtime = new_runtime(settings, registry(), [metadata])
    runtime.routers.append(http.router)
    runtime.title = "metrology training"
    runtime.description = (
        "Metrology training: courses, trainees, attendance, assessment, certification (đào tạo nghiệp vụ đo lường). "
        "Trainees' personal data is encrypted per person and erasable (Law 91/2025/QH15)."
    )
    return runtime
