"""`sealflow up` killed with SIGKILL leaves nothing behind — no service, nats-server or database process — and a
second `sealflow up` on the same data directory and port starts cleanly. Real processes, the real CLI."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sealflow_cli.stack import PIDS_FILE, STACK_MARK, free_port, reap_leftovers

pytestmark = pytest.mark.e2e


def _alive(pid: int) -> bool:
    """Running, not a zombie waiting for a reaper (in a container PID 1 may never reap)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


def _marked_processes(data_dir: Path) -> list[int]:
    """Every live process carrying this data directory's mark: what the launcher started, and their children."""
    mark = f"{STACK_MARK}={data_dir}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if mark in (entry / "environ").read_bytes().split(b"\0") and _alive(int(entry.name)):
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


def _start_up(data_dir: Path, port: int, log: Path) -> subprocess.Popen:
    env = {**os.environ, "SEALFLOW_DATA_DIR": str(data_dir), "SEALFLOW_HTTP_PORT": str(port)}
    for key in ("SEALFLOW_NATS_URL", "SEALFLOW_MONGO_URI"):
        env.pop(key, None)
    return subprocess.Popen([sys.executable, "-m", "sealflow_cli.main", "up"], env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)


def _wait_ready(process: subprocess.Popen, log: Path, port: int, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while "ready" not in log.read_text(errors="replace").splitlines():
        assert process.poll() is None, f"sealflow up exited {process.returncode}:\n{log.read_text(errors='replace')[-3000:]}"
        assert time.monotonic() < deadline, f"not ready:\n{log.read_text(errors='replace')[-3000:]}"
        time.sleep(0.5)
    assert httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=10).status_code == 200


@pytest.mark.timeout(900)
def test_sigkill_of_up_leaves_no_orphan_and_a_second_up_starts_cleanly(tmp_path: Path) -> None:
    data_dir, port = (tmp_path / "data").resolve(), free_port()
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    first = _start_up(data_dir, port, first_log)
    try:
        _wait_ready(first, first_log, port)
        children = _marked_processes(data_dir)
        assert len(children) >= 7, children  # nats-server, the database, five services
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        # The parent-death signal reaches every child: services drain (≤ 15 s), then exit; so do nats and mongo.
        deadline = time.monotonic() + 60
        while _marked_processes(data_dir) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert _marked_processes(data_dir) == [], "processes of the killed `sealflow up` are still running"
    finally:
        if first.poll() is None:
            first.kill()
        reap_leftovers(data_dir)

    second = _start_up(data_dir, port, second_log)
    try:
        _wait_ready(second, second_log, port)
        assert "stopped" not in second_log.read_text(errors="replace")  # nothing was left for it to clean up
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=90) == 0
        assert _marked_processes(data_dir) == []
    finally:
        if second.poll() is None:
            second.kill()
        reap_leftovers(data_dir)


def test_a_new_launcher_stops_what_an_old_one_left_and_nothing_else(tmp_path: Path) -> None:
    """Where no parent-death signal fired (another kernel, a child still starting), the pid file is the
    backstop: leftovers carrying this data directory's mark are stopped; a process without it is not."""
    data_dir = tmp_path.resolve()
    leftover = subprocess.Popen(["sleep", "300"], env={**os.environ, STACK_MARK: str(data_dir)})
    stranger = subprocess.Popen(["sleep", "300"], env={**os.environ, STACK_MARK: "/somewhere/else"})
    try:
        (data_dir / PIDS_FILE).write_text(f'{{"nats": {leftover.pid}, "mongo": {stranger.pid}}}')
        assert reap_leftovers(data_dir, timeout=10) == [leftover.pid]
        assert leftover.wait(timeout=10) == -signal.SIGTERM
        assert stranger.poll() is None
        assert not (data_dir / PIDS_FILE).exists()
    finally:
        for process in (leftover, stranger):
            if process.poll() is None:
                process.kill()
                process.wait()
