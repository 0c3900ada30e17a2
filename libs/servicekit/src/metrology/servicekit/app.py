"""The FastAPI app factory every service uses: problems, auth, health, OpenAPI, optional in-process workers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.telemetry import TelemetryConfig
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from metrology.eventkit.tracing import tracing_enabled
from metrology.servicekit import health
from metrology.servicekit.asyncapi import asyncapi_document
from metrology.servicekit.auth import token_verifier
from metrology.servicekit.limits import BodyLimit
from metrology.servicekit.observability import instrument
from metrology.servicekit.problems import install_problem_handlers
from metrology.servicekit.responses import document_problem_responses
from metrology.servicekit.runtime import ServiceRuntime
from metrology.servicekit.validation import InputGuard
from metrology.servicekit.workers import Workers

log = logging.getLogger(__name__)
asyncapi_router = APIRouter(tags=["events"])


@asyncapi_router.get(
    "/asyncapi.json",
    summary="The AsyncAPI 3.0 document of the service's events",
    description="Public. The topics the service writes and reads, every event type with its JSON Schema, "
    "the CloudEvents Kafka headers and the record key.",
    response_model=dict[str, Any],
)
def asyncapi(request: Request) -> dict[str, Any]:
    return asyncapi_document(request.app.state.runtime)


# Spans come from OpenTelemetry's FastAPI instrumentation (`observability.instrument`, when tracing is configured)
# and metrics from `/metrics`; FastAPI's own telemetry stays off rather than look up the global providers on every
# request.
_NATIVE_TELEMETRY_OFF: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}


def create_app(runtime: ServiceRuntime, *, with_workers: bool = False, schema_ready: bool = False) -> FastAPI:
    """The service's HTTP API; with `with_workers`, its relay and consumers run in the same process. It brings the
    schema up to date as it starts, unless its caller did (`schema_ready`)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not schema_ready:
            await runtime.migrate()
        workers = Workers(runtime, relay=runtime.settings.run_relay, consumers=runtime.settings.run_consumers)
        stop = asyncio.Event()
        task = asyncio.create_task(workers.run(stop)) if with_workers else None
        if task:
            task.add_done_callback(_report_worker_failure)
        app.state.workers = workers
        try:
            yield
        finally:
            stop.set()
            if task:
                await task
            await runtime.dispose()

    app = FastAPI(
        title=runtime.title or f"metrology {runtime.name}",
        description=runtime.description,
        version="0.1.0",
        lifespan=lifespan,
        telemetry=_NATIVE_TELEMETRY_OFF,
    )
    app.state.runtime = runtime
    app.state.token_verifier = token_verifier(runtime.settings)
    install_problem_handlers(app)
    app.include_router(health.router)
    app.include_router(asyncapi_router)
    for router in runtime.routers:
        app.include_router(router)
    document_problem_responses(app)
    if runtime.subscriptions:
        app.add_middleware(FreshnessHeader, runtime=runtime)  # innermost: it sees the route's own answer
    app.add_middleware(InputGuard)  # inside the body limit: it reads bodies the limit has counted
    app.add_middleware(
        BodyLimit,
        fastapi=app,
        body_bytes=runtime.settings.http_max_body_bytes,
        upload_bytes=runtime.settings.http_max_upload_bytes,
    )
    if tracing_enabled():  # without a tracer provider every span would be dropped, after costing each request
        instrument(app, runtime.engine)
    return app


_OPERATIONS = ("/health", "/ready", "/metrics", "/freshness", "/asyncapi.json", "/openapi.json", "/docs")


class FreshnessHeader:
    """Read answers say how fresh they are: per read model, the newest event folded and when it was recorded
    (`Read-Model-Freshness`). Plain ASGI, so commands and operations pass straight through at no cost.

    Concurrent answers share one read of the progress rows: an answer joins a read in flight when that read began
    after the request arrived (so the header is never older than the request), else it begins the next one. A crowd
    of readers therefore costs one or two short reads at a time, not a pooled connection each."""

    def __init__(self, app: ASGIApp, runtime: ServiceRuntime) -> None:
        self.app = app
        self.runtime = runtime
        self._latest: tuple[float, asyncio.Future[str]] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or scope["path"].startswith(_OPERATIONS):
            await self.app(scope, receive, send)
            return
        arrived = asyncio.get_running_loop().time()

        async def send_with_freshness(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] < 400:
                with contextlib.suppress(Exception):
                    MutableHeaders(scope=message).append("Read-Model-Freshness", await self._freshness_since(arrived))
            await send(message)

        await self.app(scope, receive, send_with_freshness)

    async def _freshness_since(self, arrived: float) -> str:
        """The header's value from a read begun at or after `arrived`: the one in flight if it qualifies."""
        latest = self._latest
        if latest is None or latest[0] < arrived or (latest[1].done() and latest[1].exception() is not None):
            loop = asyncio.get_running_loop()
            latest = self._latest = (loop.time(), asyncio.ensure_future(self._read()))
        return await asyncio.shield(latest[1])

    async def _read(self) -> str:
        return freshness_value(await health.read_model_freshness(self.runtime))


def freshness_value(entries: list[dict[str, Any]]) -> str:
    return ", ".join(
        f'{e["projection"]};recorded-at="{e["last_event_recorded_at"] or ""}";applied={e["events_applied"]}'
        for e in entries
    )


def _report_worker_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("background workers stopped", exc_info=task.exception())
