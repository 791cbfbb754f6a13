"""Every Prometheus metric Sealflow exposes, defined once; each service's /metrics shows those it uses.

Labels are bounded: HTTP by route template (never the raw path), messages by subject and durable
consumer, tasks by matter type, seal uses by seal. Gauges that describe the system's state (open and
overdue tasks, seal uses) are computed from the owning service's store at scrape time, so every replica
reports the same truth; aggregate them with max(), not sum().
"""

from prometheus_client import Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

HTTP_REQUEST_SECONDS = Histogram(
    "sealflow_http_request_duration_seconds",
    "HTTP requests served, by method, route template and status code.",
    ["method", "route", "status"],
    buckets=LATENCY_BUCKETS,
)
MESSAGES_IN = Counter(
    "sealflow_messages_in_total",
    "NATS messages delivered to a handler, by subject and durable consumer ('core' for request/reply).",
    ["subject", "consumer"],
)
HANDLER_SECONDS = Histogram(
    "sealflow_handler_duration_seconds",
    "Time a message handler took, by subject, consumer and outcome (ok, retry, rejected, error).",
    ["subject", "consumer", "outcome"],
    buckets=LATENCY_BUCKETS,
)
REDELIVERIES = Counter(
    "sealflow_redeliveries_total",
    "JetStream deliveries after the first (a handler failed, timed out or its process died).",
    ["subject", "consumer"],
)
MESSAGES_OUT = Counter(
    "sealflow_messages_out_total",
    "Messages the outbox relay published to JetStream, by subject.",
    ["subject"],
)
DEAD_LETTERS = Counter(
    "sealflow_dead_letters_total",
    "Messages this process dead-lettered to the SEALFLOW_DLQ stream, by durable consumer.",
    ["consumer"],
)
OPEN_TASKS = Gauge(
    "sealflow_open_tasks",
    "Undecided assignments of open stages (a signer's task), by matter type; from intake's read model.",
    ["matter_type"],
)
OVERDUE_TASKS = Gauge(
    "sealflow_overdue_tasks",
    "Open tasks past their stage's deadline, by matter type; from intake's read model.",
    ["matter_type"],
)
SEAL_USES = Gauge(
    "sealflow_seal_uses",
    "Seal uses in signing's seal-use register (用印登记), by seal; never decreases.",
    ["seal_id"],
)
RECONCILER_REISSUES = Counter(
    "sealflow_reconciler_reissues_total",
    "Signing requests sent again by routing's reconciler for a matter approved but not completed in time, by kind"
    " (signature, seal, approval). Non-zero means something was lost or slow on the way: read the matter's trail.",
    ["kind"],
)
