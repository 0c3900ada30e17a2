"""Trace context carried on events: captured when a command writes, continued where an event is applied."""

from __future__ import annotations

from contextlib import AbstractContextManager

from opentelemetry import propagate, trace

_tracer = trace.get_tracer("metrology.eventkit")


def current_traceparent() -> str | None:
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get("traceparent")


def span_continuing(name: str, traceparent: str | None, **attributes: str) -> AbstractContextManager[trace.Span]:
    """A span whose parent is the trace that wrote the event (or a new root without one)."""
    context = propagate.extract({"traceparent": traceparent}) if traceparent else None
    return _tracer.start_as_current_span(name, context=context, kind=trace.SpanKind.CONSUMER, attributes=attributes)


def tracing_enabled() -> bool:
    """Whether spans are recorded (a tracer provider is installed), so per-event spans are worth their cost."""
    return not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider | trace.NoOpTracerProvider)
