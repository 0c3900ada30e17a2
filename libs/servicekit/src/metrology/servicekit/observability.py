"""Structured JSON logs carrying trace ids, and OpenTelemetry tracing from HTTP through the store to Kafka."""

from __future__ import annotations

import logging
import sys
from typing import TextIO

from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from pythonjsonlogger.json import JsonFormatter
from sqlalchemy.ext.asyncio import AsyncEngine

from metrology.servicekit.settings import ServiceSettings


class _TraceIds(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        context = trace.get_current_span().get_span_context()
        record.trace_id = format(context.trace_id, "032x") if context.is_valid else None
        record.span_id = format(context.span_id, "016x") if context.is_valid else None
        return True


class _StandardError(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is when a record is emitted, not to the stream it was when logging was set
    up: a command run inside another program (a CLI runner, a test) may have its stderr swapped and closed after."""

    def __init__(self) -> None:
        logging.Handler.__init__(self)

    @property  # type: ignore[override]
    def stream(self) -> TextIO:
        return sys.stderr


def configure_logging(settings: ServiceSettings) -> None:
    handler = _StandardError()
    if settings.log_json:
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s %(trace_id)s %(span_id)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
                static_fields={"service": settings.service_name},
            )
        )
    handler.addFilter(_TraceIds())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    for noisy in ("aiokafka", "kafka"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))


def configure_tracing(settings: ServiceSettings, exporter: SpanExporter | None = None) -> TracerProvider | None:
    """Install a tracer provider when spans have somewhere to go (an OTLP endpoint or a given exporter)."""
    if exporter is None and settings.otel_exporter_otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter(endpoint=settings.otel_exporter_otlp_endpoint.rstrip("/") + "/v1/traces")
    if exporter is None:
        return None
    provider = TracerProvider(resource=Resource.create({"service.name": f"metrology-{settings.service_name}"}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return provider


def instrument(app: FastAPI, engine: AsyncEngine) -> None:
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    FastAPIInstrumentor.instrument_app(app, excluded_urls="/health,/ready,/metrics")
    instrumentor = SQLAlchemyInstrumentor()
    if not instrumentor.is_instrumented_by_opentelemetry:
        # Traces this engine, and wraps engine creation so that every later engine is traced as well.
        instrumentor.instrument(engine=engine.sync_engine)
