"""A MongoDB-wire server (secantusd-py) for integration tests, started with the stack's own helpers."""

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sealflow_cli.stack import _executable, _wait_for_port, free_port


@contextmanager
def secantus_server(storage: Path) -> Iterator[str]:
    """Yields a `mongodb://` URI; the server process is stopped (by its PID) afterwards."""
    port = free_port()
    log = open(storage.parent / f"secantus-{port}.log", "ab")  # noqa: SIM115
    command = [
        _executable("secantusd-py"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--storage-path",
        str(storage),
        "--log-level",
        "WARNING",
    ]
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_for_port(port, 60, "secantusd-py", process)
        # retryWrites=false: SecantusDB slows down keeping retryable-write records (docs/library-facts.md).
        yield f"mongodb://127.0.0.1:{port}/?retryWrites=false"
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
