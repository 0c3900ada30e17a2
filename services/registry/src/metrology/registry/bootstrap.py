"""The one place that wires the registry service."""

from __future__ import annotations

from metrology.registry.adapters.views import metadata
from metrology.registry.application.registration_requests import RegistrationRequests
from metrology.registry.domain.events import registry
from metrology.registry.entrypoints import http, registration_requests
from metrology.servicekit.runtime import ServiceRuntime, new_runtime
from metrology.servicekit.settings import ServiceSettings


def bootstrap(settings: ServiceSettings) -> ServiceRuntime:
    runtime = new_runtime(settings, registry(), [metadata])
    runtime.subscribe(RegistrationRequests(), ["inspection"], group="registration-requests")
    runtime.routers += [http.router, registration_requests.router]
    runtime.title = "metrology registry"
    runtime.description = (
        "Registry of enterprises, verification/calibration providers (designations, verifiers), laboratories, "
        "measurement standards and Group 2 measuring instruments (đăng ký quản lý đo lường)."
    )
    return runtime
