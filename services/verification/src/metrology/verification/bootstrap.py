"""The one place that wires the verification service."""

from __future__ import annotations

from metrology.servicekit.runtime import ServiceRuntime, new_runtime
from metrology.servicekit.settings import ServiceSettings
from metrology.verification.adapters.tables import metadata
from metrology.verification.application.overdue import daily_sweep
from metrology.verification.application.replica import RegistryReplica
from metrology.verification.domain.events import registry
from metrology.verification.entrypoints import certificate_documents, enterprise_services, http
from metrology.verification.settings import VerificationSettings


def bootstrap(settings: ServiceSettings) -> ServiceRuntime:
    runtime = new_runtime(settings, registry(), [metadata])
    runtime.subscribe(RegistryReplica(), ["registry"], group="registry-replica")
    if isinstance(settings, VerificationSettings) and settings.due_sweep_seconds > 0:
        runtime.background.append(daily_sweep(runtime, settings.due_sweep_seconds))
    runtime.routers += [http.router, http.public, enterprise_services.router, certificate_documents.router]
    runtime.title = "metrology verification"
    runtime.description = (
        "Verification, calibration and testing jobs (kiểm định, hiệu chuẩn, thử nghiệm), certificates, services to "
        "any registered enterprise, "
        "due dates and the public certificate check. Every job is checked against a local replica of the registry."
    )
    return runtime
