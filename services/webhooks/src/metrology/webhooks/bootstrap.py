"""The one place that wires the webhook bridge."""

from __future__ import annotations

from metrology.servicekit.runtime import ServiceRuntime, new_runtime
from metrology.servicekit.settings import ServiceSettings
from metrology.webhooks.adapters.tables import metadata
from metrology.webhooks.domain.events import registry
from metrology.webhooks.entrypoints import http
from metrology.webhooks.entrypoints.worker import DeliveryWorker
from metrology.webhooks.settings import WebhooksSettings


def bootstrap(settings: ServiceSettings) -> ServiceRuntime:
    if not isinstance(settings, WebhooksSettings):
        settings = WebhooksSettings(**settings.model_dump())
    runtime = new_runtime(settings, registry(), [metadata])
    runtime.routers.append(http.router)
    runtime.background.append(DeliveryWorker(runtime, settings).run)
    runtime.title = "metrology webhooks"
    runtime.description = (
        "Webhook bridge: the platform's events delivered to systems that cannot run a Kafka client, as signed "
        "HTTP POSTs (Standard Webhooks; the body is the CloudEvent in structured JSON), retried with backoff, "
        "in order per stream, with a dead-letter list per subscription."
    )
    return runtime
