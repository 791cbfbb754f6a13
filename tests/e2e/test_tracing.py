"""One matter, followed across every service: the stack exports to a real OTLP/gRPC endpoint (an
in-process TraceService server), and the spans it receives must join up across HTTP, NATS (including
the outbox hop) and gRPC, from all five services, each carrying the matter id."""

import threading
import time
from collections import defaultdict
from concurrent import futures
from pathlib import Path

import grpc
import pytest
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from sealflow_cli.stack import Stack, free_port
from sealflow_contracts import subjects

from tests.e2e.test_seed_case import ROUTE, approve, get_matter, submit
from tests.support.api import Api, wait_for

pytestmark = pytest.mark.e2e

MATTER_ID = "sealflow.matter_id"
SERVICES = {"sealflow-intake", "sealflow-routing", "sealflow-signing", "sealflow-sla-monitor", "sealflow-notify"}


def _value(any_value) -> object:
    return getattr(any_value, any_value.WhichOneof("value")) if any_value.WhichOneof("value") else None


class Receiver(trace_service_pb2_grpc.TraceServiceServicer):
    """An OTLP/gRPC trace endpoint that keeps what it is sent, flattened to one dict per span."""

    def __init__(self) -> None:
        self.spans: list[dict] = []
        self._lock = threading.Lock()

    def Export(self, request, context):  # noqa: N802 - the protobuf service's method name
        received = []
        for resource_spans in request.resource_spans:
            resource = {a.key: _value(a.value) for a in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    received.append(
                        {
                            "service": resource.get("service.name"),
                            "trace_id": span.trace_id.hex(),
                            "span_id": span.span_id.hex(),
                            "parent_id": span.parent_span_id.hex() or None,
                            "name": span.name,
                            "kind": span.kind,
                            "attributes": {a.key: _value(a.value) for a in span.attributes},
                        }
                    )
        with self._lock:
            self.spans.extend(received)
        return trace_service_pb2.ExportTraceServiceResponse()

    def snapshot(self) -> list[dict]:
        with self._lock:
            return list(self.spans)

    def quiet(self, seconds: float) -> list[dict] | None:
        """All spans, once none arrived for `seconds` (services export every 200 ms here)."""
        before = len(self.snapshot())
        time.sleep(seconds)
        spans = self.snapshot()
        return spans if len(spans) == before else None


@pytest.fixture(scope="session")
def receiver():
    collector = Receiver()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(collector, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    collector.endpoint = f"http://127.0.0.1:{port}"
    yield collector
    server.stop(grace=None)


@pytest.fixture(scope="session")
def traced_stack(tmp_path_factory: pytest.TempPathFactory, receiver: Receiver):
    """A second stack, exporting every span to the receiver (short batch delay so the test need not wait)."""
    data_dir: Path = tmp_path_factory.mktemp("sealflow-traced")
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
        "OTEL_EXPORTER_OTLP_INSECURE": "true",
        "OTEL_BSP_SCHEDULE_DELAY": "200",
    }
    running = Stack(data_dir=data_dir, http_port=free_port(), ready_timeout=120, extra_env=env)
    running.start()
    yield running
    running.stop()


def run_matter_to_completion(api: Api) -> dict:
    matter = submit(api, title="村级保洁服务招标呈报表 (traced)")
    for stage, people in ROUTE:
        # The next stage opens once the previous one closed (and its seal, if any, was applied).
        wait_for(lambda s=stage: get_matter(api, matter["id"])["current_stage"] == s, timeout=90, what=f"stage {stage} open")
        for person in people:
            approve(api, person, matter, stage)
    done = wait_for(lambda: (m := get_matter(api, matter["id"]))["status"] == "completed" and m, timeout=90, what="completion")
    with api.anonymous() as anyone:
        verified = anyone.post("/v1/verify", json={"approval_number": done["approval_number"], "digest": done["digest"]}).json()
    assert verified["valid"] is True, verified
    return done


def _trace_of(spans: list[dict], **match) -> str:
    found = [s for s in spans if all(s[k] == v for k, v in match.items())]
    assert found, f"no span matching {match}"
    return found[0]["trace_id"]


def _connected(trace: list[dict]) -> bool:
    """Every span's parent is in the trace too: one tree, nothing dangling."""
    ids = {s["span_id"] for s in trace}
    return sum(s["parent_id"] is None for s in trace) == 1 and all(s["parent_id"] in ids for s in trace if s["parent_id"])


def test_one_matter_is_traced_across_all_five_services(traced_stack: Stack, receiver: Receiver) -> None:
    api = Api(traced_stack.base_url, traced_stack.jwt_secret)
    matter = run_matter_to_completion(api)
    matter_id = matter["id"]

    def with_matter() -> list[dict]:
        spans = [s for s in receiver.snapshot() if s["attributes"].get(MATTER_ID) == matter_id]
        grpc_server = [s for s in spans if s["service"] == "sealflow-signing" and s["attributes"].get("rpc.system") == "grpc"]
        return spans if {s["service"] for s in spans} == SERVICES and grpc_server else None

    wait_for(with_matter, timeout=60, what="spans carrying the matter id from all five services")

    def settled() -> list[dict] | None:
        # A span is exported when it ends: a long handler (PDF work in signing) sends its children
        # first and itself seconds later. Wait until every span's parent has arrived too.
        spans = receiver.quiet(seconds=2.0) or []
        ids = {s["span_id"] for s in spans}
        matter_traces = {s["trace_id"] for s in spans if s["attributes"].get(MATTER_ID) == matter_id}
        dangling = [s for s in spans if s["trace_id"] in matter_traces and s["parent_id"] and s["parent_id"] not in ids]
        return spans if spans and not dangling else None

    spans = wait_for(settled, timeout=120, what="the last spans to arrive (every parent present)")
    by_id = {s["span_id"]: s for s in spans}
    traces: dict[str, list[dict]] = defaultdict(list)
    for span in spans:
        traces[span["trace_id"]].append(span)

    # Submission: HTTP into intake → request/reply over NATS to routing → outbox → JetStream to
    # sla-monitor and notify, all one trace.
    submission = traces[_trace_of(spans, service="sealflow-intake", name="POST /v1/matters")]
    assert {"sealflow-intake", "sealflow-routing", "sealflow-sla-monitor", "sealflow-notify"} <= {s["service"] for s in submission}
    submit_rpc = [s for s in submission if s["service"] == "sealflow-routing" and s["name"] == f"{subjects.RPC_SUBMIT_MATTER} process"]
    assert submit_rpc and by_id[submit_rpc[0]["parent_id"]]["service"] == "sealflow-intake", "NATS hop intake → routing"
    stage_opened = [s for s in submission if s["service"] == "sealflow-sla-monitor" and s["name"] == f"{subjects.STAGE_OPENED} process"]
    assert stage_opened, "the outbox hop routing → sla-monitor continues the submission's trace"
    assert by_id[stage_opened[0]["parent_id"]]["service"] == "sealflow-routing"  # published by routing's relay
    assert any(s["attributes"].get("db.system") == "mongodb" for s in submission), "MongoDB calls are in the trace"

    # The secretary's decision: routing asks signing for the signature and the seal; signing answers.
    decision = traces[_trace_of(spans, service="sealflow-signing", name=f"{subjects.REQUEST_SEAL} process")]
    assert {s["service"] for s in decision} >= {"sealflow-intake", "sealflow-routing", "sealflow-signing"}
    assert any(s["name"] == "POST /v1/matters/{matter_id}/decisions" for s in decision)
    assert any(s["service"] == "sealflow-routing" and s["name"] == f"{subjects.SEAL_APPLIED} process" for s in decision)

    # Verification: intake's gRPC client span is the parent of signing's gRPC server span.
    server = next(s for s in spans if s["service"] == "sealflow-signing" and s["attributes"].get("rpc.system") == "grpc" and s["kind"] == 2)
    client = by_id[server["parent_id"]]
    assert client["service"] == "sealflow-intake" and client["attributes"].get("rpc.system") == "grpc"
    assert server["attributes"].get(MATTER_ID) == matter_id

    # Each journey is one connected tree, and every span in it names the matter — except the bearer
    # token's lookup (whois) and reads of the town's reference data. (A verification names an approval
    # number: the matter is known once signing has found it, so only the spans from then on carry it.)
    journeys = [
        t
        for t in traces.values()
        if any(s["attributes"].get(MATTER_ID) == matter_id and s["parent_id"] is None and s["name"] != "POST /v1/verify" for s in t)
    ]
    assert len(journeys) >= 1 + sum(len(people) for _, people in ROUTE), "one trace per request: the submission and each decision"
    for trace in journeys:
        ids = {s["span_id"] for s in trace}
        assert _connected(trace), (
            f"roots: {[(s['service'], s['name']) for s in trace if s['parent_id'] is None]}; "
            f"dangling: {[(s['service'], s['name']) for s in trace if s['parent_id'] and s['parent_id'] not in ids]}"
        )

        def reference_lookup(span: dict) -> bool:
            """Under a read of who someone is or of the town's reference data (villages, matter types, asked by
            the integrity rules as a matter changes): about the town, not about this matter."""
            while span is not None:
                if subjects.RPC_WHOIS in span["name"] or subjects.RPC_ADMIN in span["name"]:
                    return True
                span = by_id.get(span["parent_id"])
            return False

        unnamed = [(s["service"], s["name"]) for s in trace if s["attributes"].get(MATTER_ID) != matter_id and not reference_lookup(s)]
        assert not unnamed, f"spans without the matter id: {unnamed}"
