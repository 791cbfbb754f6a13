"""The evidence package verifies with the servers stopped. This test starts a Sealflow of its own (the session's
stack stays up for the other tests), runs one matter through every signature and the seal to completion,
downloads its evidence package and the town root, stops every process of that stack — the five services,
nats-server and the database — checks they are gone, and only then runs `sealflow-verify` from a virtual
environment holding nothing of Sealflow, with no network at all where the kernel allows (a network namespace of
its own): what the discipline office does with a package long after it was made."""

from pathlib import Path

import httpx
import pytest
from sealflow_cli.stack import STACK_MARK, Stack, free_port

from tests.e2e.test_evidence import fetch_evidence
from tests.e2e.test_seed_case import ROUTE, approve, get_matter, submit
from tests.support import verify_venv
from tests.support.api import Api, wait_for

pytestmark = pytest.mark.e2e


def processes_marked_with(data_dir: Path) -> list[int]:
    """Every process on the machine whose environment carries this stack's mark (the launcher sets it on all)."""
    mark = f"{STACK_MARK}={data_dir}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if mark in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:  # gone meanwhile, or not ours to read
                continue
    return found


def test_a_package_verifies_with_every_sealflow_process_stopped(tmp_path_factory: pytest.TempPathFactory) -> None:
    data_dir = tmp_path_factory.mktemp("evidence-offline")
    # Checkpoints every second: the package is ready as soon as the matter ends.
    stack = Stack(data_dir=data_dir, http_port=free_port(), ready_timeout=120, extra_env={"SEALFLOW_CHECKPOINT_SECONDS": "1"})
    stack.start()
    try:
        api = Api(stack.base_url, stack.jwt_secret)
        matter = submit(api, title="村级保洁服务招标呈报表（停机后验证）")
        for stage, people in ROUTE:
            for person in people:
                wait_for(lambda s=stage: get_matter(api, matter["id"])["current_stage"] == s, what=f"stage {stage} open")
                approve(api, person, matter, stage)
        wait_for(lambda: get_matter(api, matter["id"])["status"] == "completed", timeout=120, what="completion")
        package = fetch_evidence(api, matter["id"])
        with api.anonymous() as anyone:
            roots = anyone.get("/v1/trust/roots")
        assert roots.status_code == 200, roots.text
    finally:
        stack.stop()

    started = dict(stack.processes)
    assert {"intake", "routing", "signing", "sla-monitor", "notify", "mongo"} <= set(started) and any(n.startswith("nats") for n in started)
    assert {name: p.returncode for name, p in started.items() if p.poll() is None} == {}, "a process of the stack still runs"
    assert processes_marked_with(data_dir.resolve()) == [], "a process started by the stack still runs"
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{stack.base_url}/healthz", timeout=2)

    venv = verify_venv.fresh_venv(tmp_path_factory.mktemp("verify-wheel"))
    work = tmp_path_factory.mktemp("evidence-offline-files")
    (work / "evidence.zip").write_bytes(package)
    (work / "town-root.pem").write_text(roots.text)
    done = verify_venv.run_verifier(venv, work / "evidence.zip", "--root", work / "town-root.pem", offline=True)
    assert done.returncode == 0, done.stdout + done.stderr
    for checked in (
        "trail hash chain intact",
        "signed trail head verifies",
        "checkpoint signature verifies",
        "inclusion proof holds",
        "revision-1.pdf",
        "is the last revision, locked",
    ):
        assert checked in done.stdout, done.stdout
    assert "验证通过" in done.stdout
