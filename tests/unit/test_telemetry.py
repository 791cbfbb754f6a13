"""Tracing is off unless the standard OTEL_* variables ask for it; logs carry the trace and the matter."""

import json
import logging

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter
from sealflow_runtime.logs import configure_logging
from sealflow_runtime.telemetry import _exporter_from_env, continued_trace, current_trace_context, matter_scope

OTEL_VARS = ("OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL")


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in OTEL_VARS:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_no_exporter_unless_configured(clean_env: pytest.MonkeyPatch) -> None:
    assert _exporter_from_env() is None
    clean_env.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://jaeger:4317")
    assert type(_exporter_from_env()).__name__ == "OTLPSpanExporter"
    clean_env.setenv("OTEL_TRACES_EXPORTER", "none")
    assert _exporter_from_env() is None
    clean_env.setenv("OTEL_TRACES_EXPORTER", "console")
    assert isinstance(_exporter_from_env(), ConsoleSpanExporter)
    clean_env.setenv("OTEL_TRACES_EXPORTER", "zipkin")
    with pytest.raises(SystemExit, match="OTEL_TRACES_EXPORTER"):
        _exporter_from_env()


def test_log_lines_carry_trace_and_matter_ids(capsys: pytest.CaptureFixture) -> None:
    log = configure_logging("unit-test")
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("handling") as span, matter_scope("m-123"):
        log.warning("structlog line")
        logging.getLogger("some.library").warning("stdlib line")
    log.warning("outside")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    inside = [line for line in lines if line["event"] in ("structlog line", "stdlib line")]
    assert len(inside) == 2
    for line in inside:
        assert line["trace_id"] == format(span.get_span_context().trace_id, "032x")
        assert line["matter_id"] == "m-123" and line["service"] == "unit-test"
    outside = next(line for line in lines if line["event"] == "outside")
    assert "matter_id" not in outside and "trace_id" not in outside


def test_a_stored_trace_context_is_continued_later() -> None:
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("staging") as staging:
        stored = current_trace_context()
    assert stored["traceparent"].split("-")[1] == format(staging.get_span_context().trace_id, "032x")
    with continued_trace(stored), tracer.start_as_current_span("publishing") as publishing:
        assert publishing.get_span_context().trace_id == staging.get_span_context().trace_id
        assert publishing.parent.span_id == staging.get_span_context().span_id
