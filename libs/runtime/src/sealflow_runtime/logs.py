"""Structured JSON logs, one line per event, carrying the service name, the trace and span ids, and the
matter id when a matter is in scope (`telemetry.matter_scope`). Libraries' standard-library log records
(FastStream, uvicorn, pymongo) are rendered the same way."""

import logging
import sys

import structlog

from sealflow_runtime.telemetry import add_trace_ids


def configure_logging(service: str, level: str = "INFO") -> structlog.stdlib.BoundLogger:
    shared = [
        structlog.contextvars.merge_contextvars,
        add_trace_ids,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.add_logger_name, structlog.stdlib.ExtraAdder(), *shared],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                structlog.processors.JSONRenderer(ensure_ascii=False, default=str),
            ],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    # FastStream's own logger (supervisor warnings, tracebacks) comes with a coloured handler: use ours.
    library = logging.getLogger("faststream")
    library.handlers, library.propagate = [], True
    structlog.configure(
        processors=[
            *shared,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
    )
    structlog.contextvars.bind_contextvars(service=service)
    return structlog.get_logger()
