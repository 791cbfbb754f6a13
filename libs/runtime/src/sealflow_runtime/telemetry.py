"""OpenTelemetry for every service, configured here and nowhere else.

Context travels through HTTP (FastAPI), NATS headers (FastStream's telemetry middleware, wired in
`bus.make_broker`), gRPC (client and server interceptors) and MongoDB calls (pymongo command events),
and across the outbox hop (`outbox.py` stores the `traceparent` with each entry). Every span started
while a matter is in scope carries `sealflow.matter_id`, so Jaeger finds a matter's whole journey by
that tag.

Export follows the standard `OTEL_*` variables and is off unless they ask for it:
`OTEL_TRACES_EXPORTER=otlp|console|none`; unset, OTLP/gRPC is used only when
`OTEL_EXPORTER_OTLP_ENDPOINT` (or `..._TRACES_ENDPOINT`) is set. `OTEL_SDK_DISABLED=true` turns it
all off. Spans are made either way, so logs carry trace ids and incoming trace context is continued.
"""

import json
import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import structlog
from fastapi import Request
from faststream import BaseMiddleware
from faststream.exceptions import NackMessage, RejectMessage
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_ON, Decision, ParentBased, Sampler, SamplingResult
from sealflow_contracts.subjects import DEAD_LETTER_PREFIX

from sealflow_runtime import metrics

MATTER_ID = "sealflow.matter_id"
_matter: ContextVar[str | None] = ContextVar("sealflow_matter_id", default=None)
_provider: TracerProvider | None = None


class _MatterIdProcessor(SpanProcessor):
    """Stamps the matter in scope on every span as it starts (MongoDB calls, publishes, gRPC...)."""

    def on_start(self, span: Span, parent_context: otel_context.Context | None = None) -> None:
        if (matter_id := _matter.get()) is not None:
            span.set_attribute(MATTER_ID, matter_id)

    def on_end(self, span: ReadableSpan) -> None:
        pass


class _NoOrphanClientCalls(Sampler):
    """A client call with no parent is housekeeping (the outbox relay's polling, readiness pings): it
    would put a one-span trace in Jaeger every half second, so it is not sampled. Everything else is."""

    def should_sample(self, parent_context, trace_id, name, kind=None, attributes=None, links=None, trace_state=None) -> SamplingResult:
        if kind == trace.SpanKind.CLIENT:
            return SamplingResult(Decision.DROP)
        return ALWAYS_ON.should_sample(parent_context, trace_id, name, kind, attributes, links, trace_state)

    def get_description(self) -> str:
        return "NoOrphanClientCalls"


def _exporter_from_env() -> SpanExporter | None:
    choice = os.environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if not choice:
        endpoint = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        choice = "otlp" if endpoint else "none"
    if choice == "none":
        return None
    if choice == "console":
        return ConsoleSpanExporter()
    if choice == "otlp":
        protocol = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL") or "grpc"
        if protocol != "grpc":
            raise SystemExit(f"OTEL_EXPORTER_OTLP_PROTOCOL={protocol}: only grpc is installed (Jaeger and collectors accept it on 4317)")
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()  # endpoint, headers, insecure, timeout: from OTEL_EXPORTER_OTLP_*
    raise SystemExit(f"OTEL_TRACES_EXPORTER={choice}: use otlp, console or none")


def setup_tracing(service: str) -> TracerProvider:
    """Install the process's tracer provider and instrument pymongo and gRPC. Call before any MongoDB
    client or gRPC channel/server is made (pymongo captures listeners at client creation). Idempotent."""
    global _provider
    if _provider is not None:
        return _provider
    disabled = os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true"
    resource = Resource.create({} if os.environ.get("OTEL_SERVICE_NAME") else {SERVICE_NAME: f"sealflow-{service}"})
    provider = TracerProvider(resource=resource, sampler=ParentBased(root=_NoOrphanClientCalls()))
    provider.add_span_processor(_MatterIdProcessor())
    exporter = None if disabled else _exporter_from_env()
    if exporter is not None:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    if not disabled:
        from opentelemetry.instrumentation.grpc import GrpcAioInstrumentorClient, GrpcAioInstrumentorServer
        from opentelemetry.instrumentation.pymongo import PymongoInstrumentor

        PymongoInstrumentor().instrument(tracer_provider=provider)
        GrpcAioInstrumentorClient().instrument(tracer_provider=provider)
        GrpcAioInstrumentorServer().instrument(tracer_provider=provider)
    _provider = provider
    return provider


def instrument_http(app: Any) -> None:
    """Server spans for a service's FastAPI app; probes and scrapes are not traced."""
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(
        app, tracer_provider=_provider, excluded_urls="/healthz,/readyz,/metrics", exclude_spans=["receive", "send"]
    )


def shutdown_tracing() -> None:
    """Flush buffered spans (called last when a service stops)."""
    if _provider is not None:
        _provider.force_flush(timeout_millis=5000)


@contextmanager
def matter_scope(matter_id: str | None) -> Iterator[None]:
    """Within this block, every new span and log line carries the matter id; the current span gets it too."""
    if not matter_id:
        yield
        return
    token = _matter.set(matter_id)
    trace.get_current_span().set_attribute(MATTER_ID, matter_id)
    try:
        with structlog.contextvars.bound_contextvars(matter_id=matter_id):
            yield
    finally:
        _matter.reset(token)


def bind_matter(matter_id: str | None) -> None:
    """For an entry point that learns the matter id part-way (an HTTP request's task ends with it):
    the rest of the request's spans and logs carry it."""
    if matter_id:
        _matter.set(matter_id)
        trace.get_current_span().set_attribute(MATTER_ID, matter_id)
        structlog.contextvars.bind_contextvars(matter_id=matter_id)


def current_trace_context() -> dict[str, str]:
    """The current span's W3C trace context (`traceparent`, `tracestate`), to store beside a message."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


@contextmanager
def continued_trace(carrier: Mapping[str, str] | None) -> Iterator[None]:
    """Make a stored trace context current, so work done later (the outbox relay's publish) joins it."""
    token = otel_context.attach(propagate.extract(dict(carrier or {})))
    try:
        yield
    finally:
        otel_context.detach(token)


def add_trace_ids(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    """structlog processor: the current trace and span ids, so a log line leads to its trace in Jaeger."""
    span_context = trace.get_current_span().get_span_context()
    if span_context.is_valid:
        event.setdefault("trace_id", format(span_context.trace_id, "032x"))
        event.setdefault("span_id", format(span_context.span_id, "016x"))
    return event


def _matter_id_of(body: bytes) -> str | None:
    try:
        decoded = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    matter_id = decoded.get("matter_id") if isinstance(decoded, dict) else None
    return matter_id if isinstance(matter_id, str) else None


def _consumer_of(raw: Any) -> str:
    """The JetStream durable consumer's name; request/reply and other core-NATS messages have none."""
    try:
        return raw.metadata.consumer or "core"
    except Exception:  # not a JetStream message
        return "core"


class EnvelopeMiddleware(BaseMiddleware):
    """The outermost broker middleware, at every handler's entry: puts the envelope's matter id in scope
    for the whole delivery (FastStream's process span, the handler, its reply) and records the message
    metrics (messages in, handler latency, redeliveries, dead letters published)."""

    async def on_receive(self) -> None:
        self._scope = matter_scope(_matter_id_of(getattr(self.msg, "data", b"")))
        self._scope.__enter__()

    async def after_processed(self, exc_type=None, exc_val=None, exc_tb=None) -> bool | None:
        if (scope := getattr(self, "_scope", None)) is not None:
            scope.__exit__(exc_type, exc_val, exc_tb)
        return False

    async def consume_scope(self, call_next, msg):
        raw = msg.raw_message
        subject, consumer = getattr(raw, "subject", ""), _consumer_of(raw)
        metrics.MESSAGES_IN.labels(subject=subject, consumer=consumer).inc()
        try:
            if raw.metadata.num_delivered > 1:
                metrics.REDELIVERIES.labels(subject=subject, consumer=consumer).inc()
        except Exception:  # core NATS: no delivery count
            pass
        outcome = "ok"
        started = time.perf_counter()
        try:
            return await call_next(msg)
        except NackMessage:
            outcome = "retry"
            raise
        except RejectMessage:
            outcome = "rejected"
            raise
        except BaseException:
            outcome = "error"
            raise
        finally:
            metrics.HANDLER_SECONDS.labels(subject=subject, consumer=consumer, outcome=outcome).observe(time.perf_counter() - started)

    async def publish_scope(self, call_next, cmd):
        destination = getattr(cmd, "destination", "")
        if destination.startswith(DEAD_LETTER_PREFIX + "."):
            metrics.DEAD_LETTERS.labels(consumer=destination[len(DEAD_LETTER_PREFIX) + 1 :]).inc()
        return await call_next(cmd)


async def matter_from_path(request: Request) -> None:
    """FastAPI dependency: a route under /matters/{matter_id} puts that matter in scope before any other
    dependency (authentication) runs."""
    bind_matter(request.path_params.get("matter_id"))
