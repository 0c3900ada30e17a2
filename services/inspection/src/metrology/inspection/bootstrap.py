"""The one place that wires the inspection service."""

from __future__ import annotations

from metrology.inspection.adapters.tables import metadata
from metrology.inspection.application.replica import Replica
from metrology.inspection.domain.events import registry
from metrology.inspection.entrypoints import http, watchlist
from metrology.servicekit.runtime import ServiceRuntime, new_runtime
from metrology.servicekit.settings import ServiceSettings


def bootstrap(settings: ServiceSettings) -> ServiceRuntime:
    runtime = new_runtime(settings, registry(), [metadata])
    runtime.subscribe(Replica(), ["registry", "verification"], group="replica")
    runtime.routers += [http.router, watchlist.router]
    runtime.title = "metrology inspection"
    runtime.description = (
        "State metrological inspection (kiểm tra nhà nước về đo lường): plans, campaigns, visits and their "
        "records (biên bản), findings per instrument, violations, decisions (quyết định xử phạt) and follow-up "
        "verifications. Findings are judged against a local replica of the registry and of certificates."
    )
    return runtime
