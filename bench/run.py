"""The whole-flow benchmark: Sealflow against the same approval assembled on Temporal, same machine, same run.

    .venv/bin/python -m bench.run --matters 200 --concurrency 16        (or: make bench)

Each system: start it, drive one warm-up matter, then N matters through the seed route (5 stages, the
village seal after stage 2) with simulated signers that poll for their task and decide as soon as it
appears. Reported: completed matters/s; decision → next assignee's task visible (p50/p95/p99);
submission → completed; CPU seconds per matter per process; and counted work per matter — MongoDB
commands (the server's own counters) and NATS messages for Sealflow, persistence and frontend requests
(the dev server's metrics) for Temporal. Then gRPC VerifyApproval / VerifyDocument at 64 in flight beside
a bare gRPC echo. Writes bench/results/latest.json, a PNG chart, and prints the table.
"""

import argparse
import asyncio
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
import httpx
import psutil
from pymongo import MongoClient
from sealflow.signing.v1 import verification_pb2 as pb
from sealflow.signing.v1 import verification_pb2_grpc as pb_grpc
from sealflow_cli.stack import Stack, free_port
from sealflow_intake.auth import mint_token

HERE = Path(__file__).parent
VILLAGES = ("jiulian", "changbei", "sanwei")
LIAISON_LEADER = {"jiulian": "yinong-leader-a", "changbei": "yinong-leader-a", "sanwei": "yinong-leader-b"}

# Time-driven background work is pushed out of the measured window so the counts are the flow's own:
# the outbox relay is woken on every commit (its poll only rescues a crashed replica's entries), no SLA
# timer can fall due in a run (deadlines are working days away), nothing is subscribed to notify
# channels, and the person cache outlives the run (one whois per person, not one per 30 s).
QUIET_ENV = {
    "SEALFLOW_OUTBOX_POLL_SECONDS": "600",
    "SEALFLOW_SCAN_INTERVAL_SECONDS": "600",
    "SEALFLOW_OVERRIDES_REFRESH_SECONDS": "600",
    "SEALFLOW_DELIVERY_POLL_SECONDS": "600",
    "SEALFLOW_PERSON_CACHE_SECONDS": "3600",
}
# The driver's heartbeats would otherwise be counted as MongoDB commands at a rate set by the clock.
MONGO_QUIET = "&heartbeatFrequencyMS=600000"


def seed_route(village: str) -> list[dict[str, Any]]:
    """The pilot policy for a service procurement under the threshold (docs/rules.md §2), as the peer gets it."""
    return [
        {"number": 1, "mode": "all", "assignees": [f"{village}-director", f"{village}-supervisor"], "seal_id": None},
        {"number": 2, "mode": "any", "assignees": [f"{village}-secretary"], "seal_id": f"{village}-coop"},
        {"number": 3, "mode": "any", "assignees": [f"yinong-cadre-{village}"], "seal_id": None},
        {"number": 4, "mode": "any", "assignees": [LIAISON_LEADER[village]], "seal_id": None},
        {"number": 5, "mode": "any", "assignees": ["yinong-deputy-services"], "seal_id": None},
    ]


def submission(village: str, n: int) -> dict[str, Any]:
    return {
        "village_id": village,
        "matter_type": "service_procurement",
        "title": f"村级保洁服务招标呈报表 #{n}",
        "amount_fen": 12_000_000,
        # the pilot form of service_procurement (routing seed pilot.json): form keys, money in fen
        "fields": {
            "project_name": "2027年度村级保洁服务",
            "procurement_method": "公开招标",
            "budget_fen": 12_000_000,
            "service_period": "一年",
            "service_start": "2027-01-01",
        },
        "attachments": [{"filename": "招标公告.txt", "content_type": "text/plain", "content_base64": "5oub5qCH5YWs5ZGK"}],
    }


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summary_ms(values: list[float]) -> dict[str, float | None]:
    def ms(v: float | None) -> float | None:
        return None if v is None else round(v * 1000, 1)

    return {
        "p50": ms(pct(values, 0.50)),
        "p95": ms(pct(values, 0.95)),
        "p99": ms(pct(values, 0.99)),
        "max": ms(max(values) if values else None),
        "n": len(values),
    }


# ---------------------------------------------------------------------------------------------- machine


class LoadSampler:
    """The 1-minute load average every 2 s: the machine is shared, so say how busy it was."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(2.0):
            self.samples.append(os.getloadavg()[0])

    def __enter__(self) -> "LoadSampler":
        self.samples.append(os.getloadavg()[0])
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.samples.append(os.getloadavg()[0])

    def report(self) -> dict[str, float]:
        return {"min": round(min(self.samples), 2), "mean": round(statistics.fmean(self.samples), 2), "max": round(max(self.samples), 2)}


def machine() -> dict[str, Any]:
    model = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
        platform.processor(),
    )
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "kernel": platform.release(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children (signing's PDF worker is a child)."""
    try:
        process = psutil.Process(pid)
        total = sum(process.cpu_times()[:2])
        for child in process.children(recursive=True):
            try:
                total += sum(child.cpu_times()[:2])
            except psutil.NoSuchProcess:
                pass
        return total
    except psutil.NoSuchProcess:
        return 0.0


def cpu_snapshot(pids: dict[str, int]) -> dict[str, float]:
    return {name: cpu_seconds(pid) for name, pid in pids.items()}


def cpu_per_matter(before: dict[str, float], after: dict[str, float], matters: int) -> dict[str, float]:
    per = {name: round((after[name] - before[name]) / matters, 4) for name in before}
    per["total"] = round(sum(per.values()), 4)
    return per


# --------------------------------------------------------------------------------------------- sealflow


class MongoCounters:
    """Commands the MongoDB-wire server dispatched (serverStatus opcounters) and per collection (top)."""

    def __init__(self, uri: str) -> None:
        self._client = MongoClient(uri, heartbeatFrequencyMS=600_000)

    def snapshot(self) -> dict[str, Any]:
        status = self._client.admin.command("serverStatus")
        top = self._client.admin.command("top")["totals"]
        sections = ("queries", "getmore", "insert", "update", "remove", "commands")
        return {
            "opcounters": dict(status["opcounters"]),
            "connections": status["connections"]["totalCreated"],
            "top": {ns: {s: v[s]["count"] for s in sections} for ns, v in top.items() if isinstance(v, dict) and "total" in v},
        }

    def sealed(self, matter_ids: list[str]) -> int:
        """How many of these matters' documents signing has locked (one command)."""
        return self._client["sealflow_signing"].documents.count_documents({"matter_id": {"$in": matter_ids}, "locked": True})

    def close(self) -> None:
        self._client.close()


def mongo_delta(before: dict[str, Any], after: dict[str, Any], matters: int, polls: int, own_reads: int = 0) -> dict[str, Any]:
    ops = {k: after["opcounters"][k] - before["opcounters"][k] for k in after["opcounters"]}
    new_connections = after["connections"] - before["connections"]
    # Every command the server saw, less each new connection's handshake hello, the two counter reads of
    # ours inside the window (top in `before`, serverStatus in `after`) and our counts of sealed documents.
    ops["command"] -= new_connections + 2 + own_reads
    total = sum(ops.values())
    by_collection: dict[str, dict[str, int]] = {}
    for ns, sections in after["top"].items():
        earlier = before["top"].get(ns, {})
        delta = {s: n - earlier.get(s, 0) for s, n in sections.items() if n - earlier.get(s, 0)}
        if delta:
            by_collection[ns] = delta
    ours = by_collection.get("sealflow_signing.documents", {})
    if own_reads and ours.get("commands"):  # our count of sealed documents is an aggregate there
        ours["commands"] -= min(own_reads, ours["commands"])
        if not ours["commands"]:
            del ours["commands"]
    namespaced = sum(sum(d.values()) for d in by_collection.values())
    # The signers' polling (GET /v1/matters/{id}: one find each) is the driver's choice, not the flow's
    # cost: reported, and taken out of the per-matter figure.
    poll_reads = polls
    return {
        "per_matter": round((total - poll_reads) / matters, 2),
        "per_matter_including_polls": round(total / matters, 2),
        "by_kind_per_matter": {k: round(v / matters, 2) for k, v in ops.items()},
        "transactions_and_other_commands_per_matter": round(ops["command"] / matters, 2),
        "by_collection_per_matter": {ns: {s: round(n / matters, 2) for s, n in d.items()} for ns, d in sorted(by_collection.items())},
        "namespaced_per_matter": round(namespaced / matters, 2),
        "poll_reads_per_matter": round(poll_reads / matters, 2),
        "new_connections": new_connections,
        "total": total,
    }


async def nats_snapshot(monitor: str, nats_url: str) -> dict[str, Any]:
    import nats

    async with httpx.AsyncClient(timeout=10) as http:
        varz = (await http.get(f"{monitor}/varz")).json()
    connection = await nats.connect(nats_url)
    try:
        js = connection.jetstream()
        streams = {}
        for info in await js.streams_info():
            detailed = await js.stream_info(info.config.name, subjects_filter=">")
            streams[info.config.name] = {"last_seq": detailed.state.last_seq, "subjects": dict(detailed.state.subjects or {})}
    finally:
        await connection.close()
    return {"in_msgs": varz["in_msgs"], "out_msgs": varz["out_msgs"], "streams": streams}


def nats_delta(before: dict[str, Any], after: dict[str, Any], matters: int, seconds: float, idle_rate: float) -> dict[str, Any]:
    stream_msgs = {}
    by_subject: dict[str, float] = {}
    for name, state in after["streams"].items():
        earlier = before["streams"].get(name, {"last_seq": 0, "subjects": {}})
        stream_msgs[name] = state["last_seq"] - earlier["last_seq"]
        for subject, count in state["subjects"].items():
            delta = count - earlier["subjects"].get(subject, 0)
            if delta:
                by_subject[subject] = round(delta / matters, 2)
    in_msgs, out_msgs = after["in_msgs"] - before["in_msgs"], after["out_msgs"] - before["out_msgs"]
    return {
        "stream_published_per_matter": round(sum(stream_msgs.values()) / matters, 2),
        "stream_published_by_subject_per_matter": dict(sorted(by_subject.items())),
        "server_in_msgs_per_matter": round(in_msgs / matters, 2),
        "server_out_msgs_per_matter": round(out_msgs / matters, 2),
        # Idle pull consumers ask for more on a timer: that traffic is the clock's, not the matters'.
        "idle_msgs_per_second": round(idle_rate, 1),
        "server_msgs_per_matter_less_idle": round((in_msgs + out_msgs - idle_rate * seconds) / matters, 2),
    }


class SealflowDriver:
    def __init__(self, base_url: str, jwt_secret: str, poll_interval: float) -> None:
        self._http = httpx.AsyncClient(
            base_url=base_url, timeout=120, limits=httpx.Limits(max_connections=200, max_keepalive_connections=200)
        )
        self._secret = jwt_secret
        self._tokens: dict[str, dict[str, str]] = {}
        self.poll_interval = poll_interval
        self.polls = 0
        self.unavailable = 0  # decisions answered 503 and retried
        self.reconnects = 0  # requests repeated after the server closed an idle keep-alive connection
        self.handoffs: list[float] = []
        self.completions: list[float] = []
        self.completed: list[dict[str, Any]] = []

    def _auth(self, person: str) -> dict[str, str]:
        if person not in self._tokens:
            self._tokens[person] = {"Authorization": f"Bearer {mint_token(person, self._secret)}"}
        return self._tokens[person]

    async def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """A connection the server closed as idle just as we reused it is tried again (every request here
        is safe to repeat: reads, an Idempotency-Key'd submission, a decision)."""
        for attempt in range(5):
            try:
                return await self._http.request(method, url, **kwargs)
            except (httpx.RemoteProtocolError, httpx.ConnectError, httpx.ReadError):
                self.reconnects += 1
                if attempt == 4:
                    raise
                await asyncio.sleep(0.1)
        raise AssertionError("unreachable")

    async def _get(self, matter_id: str, person: str) -> dict[str, Any]:
        self.polls += 1
        response = await self._send("GET", f"/v1/matters/{matter_id}", headers=self._auth(person))
        response.raise_for_status()
        return response.json()

    async def _decide(self, view: dict[str, Any], stage: int, person: str) -> None:
        """As a phone app would: a 503 (routing did not answer in time) is retried; if the first try had in
        fact gone through, the retry is told `already_decided`, which is success."""
        reconnects = self.reconnects
        for attempt in range(5):
            response = await self._send(
                "POST",
                f"/v1/matters/{view['id']}/decisions",
                json={"stage": stage, "decision": "approve", "comment": "同意", "digest": view["digest"]},
                headers=self._auth(person),
            )
            if response.status_code == 503:
                self.unavailable += 1
                continue
            repeated = attempt or self.reconnects > reconnects
            if repeated and response.status_code == 409 and response.json()["error"]["code"] == "already_decided":
                return
            response.raise_for_status()
            return
        response.raise_for_status()

    async def matter(self, n: int) -> None:
        village = VILLAGES[n % len(VILLAGES)]
        applicant = f"{village}-bookkeeper"
        started = time.perf_counter()
        response = await self._send(
            "POST", "/v1/matters", json=submission(village, n), headers={**self._auth(applicant), "Idempotency-Key": uuid.uuid4().hex}
        )
        response.raise_for_status()
        view = response.json()
        route = [
            {"number": s["number"], "mode": s["mode"], "assignees": [a["person_id"] for a in s["assignees"]], "seal_id": s["seal_id"]}
            for s in view["stages"]
        ]
        if route != seed_route(village):
            raise AssertionError(f"unexpected route {route}")
        last_decision: float | None = None
        for stage in route:
            for person in stage["assignees"]:
                while True:  # the signer's phone: poll until the task is there
                    current = await self._get(view["id"], person)
                    s = current["stages"][stage["number"] - 1]
                    if s["status"] == "open" and any(a["person_id"] == person and a["decision"] is None for a in s["assignees"]):
                        break
                    await asyncio.sleep(self.poll_interval)
                seen = time.perf_counter()
                if last_decision is not None:
                    self.handoffs.append(seen - last_decision)
                    last_decision = None
                decided = time.perf_counter()
                await self._decide(view, stage["number"], person)
            last_decision = decided  # the stage's completing decision; the next stage's signer is timed from it
        while True:
            current = await self._get(view["id"], applicant)
            if current["status"] == "completed":
                break
            await asyncio.sleep(self.poll_interval)
        self.completions.append(time.perf_counter() - started)
        self.completed.append({"id": current["id"], "approval_number": current["approval_number"], "digest": current["digest"]})

    async def close(self) -> None:
        await self._http.aclose()


async def drive(make_matter, matters: int, concurrency: int, first: int = 0) -> float:
    """Run `matters` flows, `concurrency` at a time; returns the wall time."""
    queue = iter(range(first, first + matters))
    lock = asyncio.Lock()

    async def lane() -> None:
        while True:
            async with lock:
                n = next(queue, None)
            if n is None:
                return
            await make_matter(n)

    started = time.perf_counter()
    await asyncio.gather(*(lane() for _ in range(concurrency)))
    return time.perf_counter() - started


# ------------------------------------------------------------------------------------------------- gRPC


async def closed_loop(call, in_flight: int, seconds: float) -> dict[str, Any]:
    """`in_flight` callers back to back for `seconds`: throughput and latency."""
    latencies: list[float] = []
    errors: dict[str, int] = {}
    details: dict[str, str] = {}
    deadline = time.perf_counter() + seconds

    async def caller(i: int) -> None:
        while time.perf_counter() < deadline:
            t = time.perf_counter()
            try:
                await call(i)
            except grpc.aio.AioRpcError as error:
                code = error.code().name
                errors[code] = errors.get(code, 0) + 1
                details.setdefault(code, (error.details() or "")[:300])
                continue
            latencies.append(time.perf_counter() - t)

    started = time.perf_counter()
    await asyncio.gather(*(caller(i) for i in range(in_flight)))
    elapsed = time.perf_counter() - started
    return {
        "calls_per_second": round(len(latencies) / elapsed, 1),
        "latency_ms": summary_ms(latencies),
        "calls": len(latencies),
        "errors": sum(errors.values()),
        "errors_by_code": errors,
        "error_details": details,
    }


async def grpc_bench(
    open_signing: Callable[[], grpc.aio.Channel],
    approvals: list[dict[str, Any]],
    pdf: bytes | None,
    in_flight: int,
    seconds: float,
    log_dir: Path,
) -> dict[str, Any]:
    echo_port = free_port()
    echo = subprocess.Popen([sys.executable, "-m", "bench.echo", "--port", str(echo_port)], cwd=HERE.parent, start_new_session=True,
                            stdout=open(log_dir / "echo.log", "ab"), stderr=subprocess.STDOUT)  # fmt: skip
    try:
        echo_channel = grpc.aio.insecure_channel(f"127.0.0.1:{echo_port}")
        await asyncio.wait_for(echo_channel.channel_ready(), 30)
        echo_call = echo_channel.unary_unary("/bench.Echo/Echo")
        payload = pb.VerifyApprovalRequest(
            approval_number=approvals[0]["approval_number"], digest=approvals[0]["digest"]
        ).SerializeToString()
        signing_channel = open_signing()  # over mutual TLS, as intake calls it
        verification = pb_grpc.SealVerificationStub(signing_channel)
        documents = pb_grpc.SealedDocumentsStub(signing_channel)

        async def verify_approval(i: int) -> None:
            a = approvals[i % len(approvals)]
            result = await verification.VerifyApproval(
                pb.VerifyApprovalRequest(approval_number=a["approval_number"], digest=a["digest"]), timeout=60
            )
            if not result.valid:
                raise AssertionError(f"approval {a['approval_number']} did not verify: {result.reason}")

        async def verify_document(i: int) -> None:
            result = await documents.VerifyDocument(pb.VerifyDocumentRequest(pdf=pdf), timeout=120)
            if not result.valid:
                raise AssertionError(f"document did not verify: {result.reason}")

        results: dict[str, Any] = {"in_flight": in_flight, "seconds_each": seconds}
        results["echo"] = await closed_loop(lambda i: echo_call(payload, timeout=60), in_flight, seconds)
        results["verify_approval"] = await closed_loop(verify_approval, in_flight, seconds)
        if pdf:
            results["verify_document"] = await closed_loop(verify_document, in_flight, seconds)
            results["pdf_bytes"] = len(pdf)
        for name in ("verify_approval", "verify_document"):
            if name in results and results["echo"]["calls_per_second"]:
                results[f"{name}_vs_echo_throughput"] = round(results[name]["calls_per_second"] / results["echo"]["calls_per_second"], 4)
        await echo_channel.close()
        await signing_channel.close()
        return results
    finally:
        echo.send_signal(signal.SIGTERM)
        echo.wait(10)


async def sealed_pdf(open_signing: Callable[[], grpc.aio.Channel], matter_id: str, timeout: float) -> bytes | None:
    """The warm-up matter's document once the last signature has locked it (PDF work runs in the background)."""
    channel = open_signing()
    stub = pb_grpc.SealedDocumentsStub(channel)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            try:
                document = await stub.GetDocument(pb.GetDocumentRequest(matter_id=matter_id), timeout=30)
                if document.sealed:
                    return document.pdf
            except grpc.aio.AioRpcError:
                pass
            await asyncio.sleep(1.0)
        return None
    finally:
        await channel.close()


def start_profilers(directory: Path, pids: dict[str, int]) -> list[subprocess.Popen]:
    """py-spy on the named services for the measured window (collapsed stacks, --nonblocking: no pauses);
    `python -m bench.profile_summary DIR` prints where the time went."""
    directory.mkdir(parents=True, exist_ok=True)
    spy = str(Path(sys.executable).parent / "py-spy")
    return [
        subprocess.Popen(
            [spy, "record", "--nonblocking", "--rate", "50", "--format", "raw", "-p", str(pid), "-o", str(directory / f"{name}.txt")],
            stdout=subprocess.DEVNULL,
            stderr=open(directory / f"{name}.log", "ab"),
        )  # fmt: skip
        for name, pid in pids.items()
    ]


def stop_profilers(profilers: list[subprocess.Popen]) -> None:
    for profiler in profilers:
        profiler.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
    for profiler in profilers:
        try:
            profiler.wait(60)
        except subprocess.TimeoutExpired:
            profiler.kill()


async def run_sealflow(options: argparse.Namespace, work: Path) -> dict[str, Any]:
    stack = Stack(
        data_dir=work / "sealflow",
        http_port=free_port(),
        ready_timeout=240,
        nats_monitor_port=free_port(),
        mongo_uri_options=MONGO_QUIET,
        extra_env=QUIET_ENV,
    )
    print("sealflow: starting the stack", flush=True)
    stack.start()
    try:
        monitor = f"http://127.0.0.1:{stack.nats_monitor_port}"
        driver = SealflowDriver(stack.base_url, stack.jwt_secret, options.poll_interval)
        pids = {name: p.pid for name, p in stack.processes.items()}
        # Warm-up: first-use work (keys, certificates, the font subset, collections) is not per matter.
        await driver.matter(0)
        warm = driver.completed[-1]
        signing_pid = pids["signing"]
        pdf_cpu_before = cpu_seconds(signing_pid)
        pdf_started = time.perf_counter()
        pdf = await sealed_pdf(stack.signing_channel, warm["id"], options.document_timeout)
        pdf_seconds = time.perf_counter() - pdf_started
        pdf_cpu = cpu_seconds(signing_pid) - pdf_cpu_before
        print(f"sealflow: warm-up matter done; sealed PDF {'ready' if pdf else 'NOT ready'} after {pdf_seconds:.1f} s more", flush=True)
        driver.handoffs.clear()
        driver.completions.clear()
        driver.completed.clear()

        print("sealflow: gRPC verification beside a bare echo", flush=True)
        grpc_results = await grpc_bench(
            stack.signing_channel, [warm], pdf, options.in_flight, options.grpc_seconds, stack.data_dir / "logs"
        )

        mongo = MongoCounters(stack.mongo_uri)
        idle_before = await nats_snapshot(monitor, stack.nats_url)
        await asyncio.sleep(options.idle_seconds)
        idle_after = await nats_snapshot(monitor, stack.nats_url)
        idle_rate = (
            idle_after["in_msgs"] + idle_after["out_msgs"] - idle_before["in_msgs"] - idle_before["out_msgs"]
        ) / options.idle_seconds

        print(f"sealflow: driving {options.matters} matters, {options.concurrency} at a time", flush=True)
        driver.polls = 0
        nats_before = await nats_snapshot(monitor, stack.nats_url)
        cpu_before = cpu_snapshot(pids)
        mongo_before = mongo.snapshot()
        profilers = start_profilers(options.profile, {k: pid for k, pid in pids.items() if k != "nats"}) if options.profile else []
        started = time.perf_counter()
        with LoadSampler() as load:
            wall = await drive(driver.matter, options.matters, options.concurrency, first=1)
            # The sealed PDFs follow the completed matters in the background: wait for the last one, so the
            # CPU and the counts include all of each matter's work.
            ids = [c["id"] for c in driver.completed]
            sealed_reads = 1
            while mongo.sealed(ids) < len(ids):
                if time.perf_counter() - started > wall + options.document_timeout * 10:
                    raise RuntimeError("the sealed documents did not all arrive")
                await asyncio.sleep(0.5)
                sealed_reads += 1
            sealed_wall = time.perf_counter() - started
        stop_profilers(profilers)
        mongo_after = mongo.snapshot()
        cpu_after = cpu_snapshot(pids)
        nats_after = await nats_snapshot(monitor, stack.nats_url)
        mongo.close()
        await driver.close()
        n = options.matters
        return {
            "matters": n,
            "concurrency": options.concurrency,
            "wall_seconds": round(wall, 2),
            "matters_per_second": round(n / wall, 3),
            "sealed_wall_seconds": round(sealed_wall, 2),
            "sealed_matters_per_second": round(n / sealed_wall, 3),
            "handoff_ms": summary_ms(driver.handoffs),
            "submission_to_completed_ms": summary_ms(driver.completions),
            "cpu_seconds_per_matter": cpu_per_matter(cpu_before, cpu_after, n),
            "pdf_work_for_one_matter": {
                "cpu_seconds": round(pdf_cpu, 2),
                "seconds_after_completion": round(pdf_seconds, 1),
                "sealed": pdf is not None,
            },
            "polls_per_matter": round(driver.polls / n, 2),
            "decisions_retried_after_503": driver.unavailable,
            "requests_repeated_after_disconnect": driver.reconnects,
            "mongodb_commands": mongo_delta(mongo_before, mongo_after, n, driver.polls, own_reads=sealed_reads),
            "nats_messages": nats_delta(nats_before, nats_after, n, sealed_wall, idle_rate),
            "load_average_1m": load.report(),
            "grpc": grpc_results,
        }
    finally:
        print("sealflow: stopping", flush=True)
        stack.stop()


# --------------------------------------------------------------------------------------------- temporal


def prometheus_totals(text: str, names: tuple[str, ...]) -> dict[str, float]:
    """Sum every sample of each named counter (all label sets)."""
    totals = dict.fromkeys(names, 0.0)
    for line in text.splitlines():
        match = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+([0-9.eE+-]+)$", line)
        if match and match.group(1) in totals:
            totals[match.group(1)] += float(match.group(3))
    return totals


class TemporalDriver:
    def __init__(self, client, task_queue: str, poll_interval: float) -> None:
        self._client = client
        self._queue = task_queue
        self.poll_interval = poll_interval
        self.polls = 0
        self.handoffs: list[float] = []
        self.completions: list[float] = []
        self.sealing: list[asyncio.Task] = []  # each workflow's result: its sealed document

    async def _state(self, handle) -> dict[str, Any]:
        self.polls += 1
        return await handle.query("state")

    async def matter(self, n: int) -> None:
        village = VILLAGES[n % len(VILLAGES)]
        route = seed_route(village)
        matter_id = uuid.uuid4().hex
        started = time.perf_counter()
        form = submission(village, n)
        matter = {
            "id": matter_id,
            "digest": uuid.uuid4().hex * 2,
            "route": route,
            "village_id": village,
            "applicant_id": f"{village}-bookkeeper",
            "title": form["title"],
            "amount_fen": form["amount_fen"],
            "fields": form["fields"],
        }
        handle = await self._client.start_workflow("Approval", matter, id=matter_id, task_queue=self._queue)
        last_decision: float | None = None
        for stage in route:
            for person in stage["assignees"]:
                while True:
                    state = await self._state(handle)
                    if state["stage"] == stage["number"] and person in state["pending"]:
                        break
                    await asyncio.sleep(self.poll_interval)
                if last_decision is not None:
                    self.handoffs.append(time.perf_counter() - last_decision)
                    last_decision = None
                decided = time.perf_counter()
                await handle.signal("decide", {"person_id": person, "stage": stage["number"], "decision": "approve"})
            last_decision = decided
        while (await self._state(handle))["status"] not in ("completed", "sealed"):
            await asyncio.sleep(self.poll_interval)
        self.completions.append(time.perf_counter() - started)
        # As with Sealflow, the applicant moves on; the sealed document is waited for at the end.
        self.sealing.append(asyncio.create_task(handle.result()))


async def run_temporal(options: argparse.Namespace, work: Path) -> dict[str, Any]:
    from bench import temporal_peer

    data_dir = work / "temporal"
    port, metrics_port = free_port(), free_port()
    address = f"127.0.0.1:{port}"
    print("temporal: starting the dev server and a worker", flush=True)
    server = temporal_peer.start_dev_server(data_dir, port, metrics_port)
    worker = None
    try:
        client = await temporal_peer.wait_connectable(address, 120, server)
        worker = temporal_peer.start_worker(data_dir, address, "approvals")
        driver = TemporalDriver(client, "approvals", options.poll_interval)
        await asyncio.wait_for(driver.matter(0), 240)  # warm-up; also proves the worker is polling
        await asyncio.wait_for(asyncio.gather(*driver.sealing), options.document_timeout)
        driver.sealing.clear()
        driver.handoffs.clear()
        driver.completions.clear()
        driver.polls = 0
        pids = {"temporal-server": server.pid, "temporal-worker": worker.pid}
        metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"
        names = ("persistence_requests", "service_requests")
        async with httpx.AsyncClient(timeout=30) as http:
            print(f"temporal: driving {options.matters} matters, {options.concurrency} at a time", flush=True)
            counters_before = prometheus_totals((await http.get(metrics_url)).text, names)
            cpu_before = cpu_snapshot(pids)
            with LoadSampler() as load:
                started = time.perf_counter()
                wall = await drive(driver.matter, options.matters, options.concurrency, first=1)
                await asyncio.wait_for(asyncio.gather(*driver.sealing), wall + options.document_timeout * 10)
                sealed_wall = time.perf_counter() - started
            cpu_after = cpu_snapshot(pids)
            counters_after = prometheus_totals((await http.get(metrics_url)).text, names)
        n = options.matters
        return {
            "matters": n,
            "concurrency": options.concurrency,
            "wall_seconds": round(wall, 2),
            "matters_per_second": round(n / wall, 3),
            "sealed_wall_seconds": round(sealed_wall, 2),
            "sealed_matters_per_second": round(n / sealed_wall, 3),
            "handoff_ms": summary_ms(driver.handoffs),
            "submission_to_completed_ms": summary_ms(driver.completions),
            "cpu_seconds_per_matter": cpu_per_matter(cpu_before, cpu_after, n),
            "polls_per_matter": round(driver.polls / n, 2),
            # The dev server's own counters: its database operations (sqlite) and its frontend's gRPC requests.
            "persistence_requests_per_matter": round(
                (counters_after["persistence_requests"] - counters_before["persistence_requests"]) / n, 2
            ),
            "frontend_requests_per_matter": round((counters_after["service_requests"] - counters_before["service_requests"]) / n, 2),
            "load_average_1m": load.report(),
        }
    finally:
        print("temporal: stopping", flush=True)
        for process in (worker, server):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(5)


# ----------------------------------------------------------------------------------------------- report


def headline(results: dict[str, Any]) -> dict[str, Any]:
    s, t = results["sealflow"], results["temporal"]
    g = s["grpc"]
    return {
        # Matters through to their sealed PDF per second: the whole job, on both sides.
        "sealflow_vs_temporal_throughput": round(s["sealed_matters_per_second"] / t["sealed_matters_per_second"], 3),
        "sealflow_vs_temporal_completed_throughput": round(s["matters_per_second"] / t["matters_per_second"], 3),
        "sealflow_vs_temporal_cpu_per_matter": round(s["cpu_seconds_per_matter"]["total"] / t["cpu_seconds_per_matter"]["total"], 3),
        "sealflow_vs_temporal_handoff_p50": round(s["handoff_ms"]["p50"] / t["handoff_ms"]["p50"], 3),
        "verify_approval_vs_echo_throughput": g.get("verify_approval_vs_echo_throughput"),
        "verify_document_vs_echo_throughput": g.get("verify_document_vs_echo_throughput"),
    }


def table(results: dict[str, Any]) -> str:
    s, t, h = results["sealflow"], results["temporal"], results["headline"]
    g = s["grpc"]

    def lat(d: dict[str, Any]) -> str:
        return f"{d['p50']} / {d['p95']} / {d['p99']}"

    rows = [
        ("matters sealed per second (submission → sealed PDF, all N)", s["sealed_matters_per_second"], t["sealed_matters_per_second"]),
        ("matters completed per second (every act signed)", s["matters_per_second"], t["matters_per_second"]),
        ("decision → next task visible, ms (p50 / p95 / p99)", lat(s["handoff_ms"]), lat(t["handoff_ms"])),
        ("submission → completed, ms (p50 / p95 / p99)", lat(s["submission_to_completed_ms"]), lat(t["submission_to_completed_ms"])),
        ("CPU seconds per matter (all processes)", s["cpu_seconds_per_matter"]["total"], t["cpu_seconds_per_matter"]["total"]),
        (
            "database commands per matter",
            f"{s['mongodb_commands']['per_matter']} (MongoDB)",
            f"{t['persistence_requests_per_matter']} (persistence requests)",
        ),
        (
            "bus / frontend messages per matter",
            f"{s['nats_messages']['stream_published_per_matter']} published to JetStream",
            f"{t['frontend_requests_per_matter']} frontend requests",
        ),
        ("signer polls per matter (driver)", s["polls_per_matter"], t["polls_per_matter"]),
    ]
    m = results["machine"]
    out = [
        f"Machine: {m['nproc']} × {m['cpu_model']}, {m['memory_gb']} GB; load average (1 min) during Sealflow "
        f"{s['load_average_1m']['mean']} (max {s['load_average_1m']['max']}), during Temporal {t['load_average_1m']['mean']} "
        f"(max {t['load_average_1m']['max']}). {s['matters']} matters, {s['concurrency']} at a time.",
        "",
        f"**Sealflow ÷ Temporal throughput (matters sealed per second): {h['sealflow_vs_temporal_throughput']}×** · "
        f"VerifyApproval ÷ echo: {h['verify_approval_vs_echo_throughput']} · "
        f"VerifyDocument ÷ echo: {h['verify_document_vs_echo_throughput']}",
        "",
        "| | Sealflow | Temporal |",
        "|---|---|---|",
        *[f"| {name} | {a} | {b} |" for name, a, b in rows],
        "",
        "CPU seconds per matter by process — Sealflow: "
        + ", ".join(f"{k} {v}" for k, v in s["cpu_seconds_per_matter"].items() if k != "total")
        + "; Temporal: "
        + ", ".join(f"{k} {v}" for k, v in t["cpu_seconds_per_matter"].items() if k != "total")
        + ".",
        "",
        f"| gRPC at {g['in_flight']} in flight | calls/s | p50 ms | p99 ms |",
        "|---|---|---|---|",
    ]
    for name in ("echo", "verify_approval", "verify_document"):
        if name in g:
            out.append(f"| {name} | {g[name]['calls_per_second']} | {g[name]['latency_ms']['p50']} | {g[name]['latency_ms']['p99']} |")
    return "\n".join(out)


def chart(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s, t = results["sealflow"], results["temporal"]
    fig, axes = plt.subplots(1, 4, figsize=(16, 4))
    names, colours = ["Sealflow", "Temporal"], ["#b22222", "#4a6fa5"]
    axes[0].bar(names, [s["sealed_matters_per_second"], t["sealed_matters_per_second"]], color=colours)
    axes[0].set_title("matters sealed / s")
    for ax, key, title in (
        (axes[1], "handoff_ms", "decision → next task (ms)"),
        (axes[2], "submission_to_completed_ms", "submission → completed (ms)"),
    ):
        xs = range(3)
        ax.bar([x - 0.2 for x in xs], [s[key][p] for p in ("p50", "p95", "p99")], 0.4, label="Sealflow", color=colours[0])
        ax.bar([x + 0.2 for x in xs], [t[key][p] for p in ("p50", "p95", "p99")], 0.4, label="Temporal", color=colours[1])
        ax.set_xticks(list(xs), ["p50", "p95", "p99"])
        ax.set_title(title)
        ax.legend()
    g = s["grpc"]
    calls = [(k, g[k]["calls_per_second"]) for k in ("echo", "verify_approval", "verify_document") if k in g]
    axes[3].bar([k for k, _ in calls], [v for _, v in calls], color=["#888888", "#b22222", "#d2691e"][: len(calls)])
    axes[3].set_title(f"gRPC calls / s at {g['in_flight']} in flight")
    axes[3].tick_params(axis="x", labelrotation=15)
    m = results["machine"]
    fig.suptitle(
        f"{s['matters']} matters, concurrency {s['concurrency']} · {m['nproc']} × {m['cpu_model']} · load {s['load_average_1m']['mean']}"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def publish_table(readme: Path, text: str) -> None:
    """Put the latest table into bench/README.md between its results markers."""
    start, end = "<!-- results:start -->", "<!-- results:end -->"
    content = readme.read_text()
    if start in content and end in content:
        head, rest = content.split(start, 1)
        readme.write_text(f"{head}{start}\n{text}\n{end}{rest.split(end, 1)[1]}")


async def main(options: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {"started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "machine": machine()}
    results["options"] = {k: v for k, v in vars(options).items() if k not in ("out", "chart", "profile")}
    work = Path(tempfile.mkdtemp(prefix="sealflow-bench-"))
    try:
        results["sealflow"] = await run_sealflow(options, work)
        results["temporal"] = await run_temporal(options, work)
    except BaseException:
        print(f"failed; logs kept in {work}", file=sys.stderr)
        raise
    shutil.rmtree(work, ignore_errors=True)
    results["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    results["headline"] = headline(results)
    return results


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--matters", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--poll-interval", type=float, default=0.05, help="seconds between a signer's polls")
    parser.add_argument("--in-flight", type=int, default=64, help="gRPC calls in flight")
    parser.add_argument("--grpc-seconds", type=float, default=10.0, help="length of each gRPC measurement")
    parser.add_argument("--idle-seconds", type=float, default=5.0, help="NATS idle traffic measured before the run")
    parser.add_argument("--document-timeout", type=float, default=180.0, help="wait for the warm-up matter's sealed PDF")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "latest.json")
    parser.add_argument("--chart", type=Path, default=None, help="PNG path (default: beside --out)")
    parser.add_argument(
        "--profile", type=Path, default=None, help="py-spy stacks of every Python process (services and the embedded MongoDB server) here"
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    options = parse_args()
    results = asyncio.run(main(options))
    options.out.parent.mkdir(parents=True, exist_ok=True)
    options.out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    chart(results, options.chart or options.out.with_suffix(".png"))
    print(table(results))
    if options.out.resolve() == (HERE / "results" / "latest.json").resolve():
        publish_table(HERE / "README.md", table(results))
    print(f"\nwrote {options.out}")
