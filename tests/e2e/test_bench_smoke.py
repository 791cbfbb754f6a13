"""The benchmark's smoke run: 3 matters through both systems (its own Sealflow stack and a Temporal dev
server), and the report has every figure, with counted work that is really there. The full benchmark
(`make bench`) is never run by the test suite."""

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench import run

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


def test_three_matters_through_both_systems_report_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "latest.json"
    command = [sys.executable, "-m", "bench.run", "--matters", "3", "--concurrency", "3",
               "--grpc-seconds", "1", "--idle-seconds", "1", "--out", str(out)]  # fmt: skip
    finished = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]
    assert "Sealflow ÷ Temporal throughput (matters sealed per second)" in finished.stdout
    assert out.with_suffix(".png").stat().st_size > 10_000

    report = json.loads(out.read_text())
    assert report["machine"]["nproc"] >= 1 and report["machine"]["cpu_model"]
    for system in ("sealflow", "temporal"):
        figures = report[system]
        assert figures["matters"] == 3
        assert figures["matters_per_second"] > 0
        # Sealed PDFs follow completion on both sides; the headline counts matters through to their sealed PDF.
        assert 0 < figures["sealed_matters_per_second"] <= figures["matters_per_second"]
        assert figures["handoff_ms"]["n"] == 3 * 4  # four stage hand-offs per matter
        assert figures["submission_to_completed_ms"]["n"] == 3
        assert figures["cpu_seconds_per_matter"]["total"] > 0
        assert "max" in figures["load_average_1m"]
    sealflow = report["sealflow"]
    assert sealflow["mongodb_commands"]["per_matter"] > 0
    by_collection = sealflow["mongodb_commands"]["by_collection_per_matter"]
    assert by_collection["sealflow_routing.matters"]["update"] > 0
    # Every matter's document was certified and then locked inside the measured window.
    assert by_collection["sealflow_signing.documents"]["insert"] == 1
    assert sealflow["nats_messages"]["stream_published_per_matter"] > 0
    assert sealflow["nats_messages"]["stream_published_by_subject_per_matter"]["sealflow.cmd.signing.request-signature.v1"] == 6
    assert set(sealflow["cpu_seconds_per_matter"]) >= {"routing", "signing", "intake", "mongo", "nats"}
    assert report["temporal"]["persistence_requests_per_matter"] > 0
    assert report["temporal"]["frontend_requests_per_matter"] > 0
    grpc_figures = sealflow["grpc"]
    for name in ("echo", "verify_approval", "verify_document"):
        assert grpc_figures[name]["calls"] > 0 and grpc_figures[name]["errors"] == 0, grpc_figures[name]
    assert report["headline"]["sealflow_vs_temporal_throughput"] > 0


def test_route_given_to_the_peer_is_the_pilot_policy() -> None:
    # The peer must do the same work: two signers in stage 1, the village seal after stage 2, five stages.
    route = run.seed_route("sanwei")
    assert [len(s["assignees"]) for s in route] == [2, 1, 1, 1, 1]
    assert [s["seal_id"] for s in route] == [None, "sanwei-coop", None, None, None]
    assert route[3]["assignees"] == ["yinong-leader-b"]
    assert asyncio.iscoroutinefunction(run.drive)
