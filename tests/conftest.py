"""One way to start the real system for tests: the same launcher `sealflow up` uses, on free ports."""

import os
import uuid
from pathlib import Path

import pytest
from sealflow_cli.stack import Stack, free_port

from tests.support.api import PUBLIC_URL, Api


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory):
    """nats-server + secantusd-py + the five services, each a real process on loopback."""
    data_dir: Path = tmp_path_factory.mktemp("sealflow")
    os.environ.setdefault("SEALFLOW_PUBLIC_URL", PUBLIC_URL)  # every service reads it: QR codes, notices' links
    running = Stack(data_dir=data_dir, http_port=free_port(), ready_timeout=120)
    running.start()
    yield running
    running.stop()
    # Make failures readable: the tail of each service's log goes into the pytest output.
    for log in sorted((data_dir / "logs").glob("*.log")):
        tail = log.read_text(errors="replace").splitlines()[-15:]
        print(f"\n--- {log.name} ---\n" + "\n".join(tail))


@pytest.fixture(scope="session")
def api(stack: Stack) -> Api:
    return Api(stack.base_url, stack.jwt_secret)


@pytest.fixture
def unique() -> str:
    return uuid.uuid4().hex[:8]
