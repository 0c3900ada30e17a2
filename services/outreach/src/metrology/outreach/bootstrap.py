"""The one place that wires the outreach service."""

from __future__ import annotations

from metrology.outreach.adapters.tables import metadata
from metrology.outreach.application.replica import RegistryReplica
from metrology.outreach.application.saga import AccessSaga
from metrology.outreach.domain.events import registry
from metrology.outreach.entrypoints import http
from metrology.servicekit.runtime import ServiceRuntime, new_runtime
from metrology.servicekit.settings import ServiceSettings


def bootstrap(settings: ServiceSettings) -> ServiceRuntime:
    runtime = new_runtime(settings, registry(), [metadata])
    runtime.subscribe(RegistryReplica(), ["registry"], group="registry-replica")
    runtime.subscribe(
        AccessSaga(runtime.store, runtime.registry, runtime.signal), ["verification"], group="access-saga"
    )
    runtime.routers.append(http.router)
    runtime.title = "metrology outreach"
    runtime.description = (
        "The Measurement Assurance Programme (Chương trình đảm bảo đo lường): participations, accesses, campaigns."
    )
    return runtime
