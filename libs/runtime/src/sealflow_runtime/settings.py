"""Settings common to every service; each service subclasses `ServiceSettings` with its own fields."""

from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """Read from `SEALFLOW_*` environment variables (e.g. `SEALFLOW_NATS_URL`)."""

    model_config = SettingsConfigDict(env_prefix="SEALFLOW_", extra="ignore")

    # One URL, or several separated by commas (the nodes of a NATS cluster: the client fails over between them).
    nats_url: str = "nats://127.0.0.1:4222"
    # The service's own NATS user (README "Trust boundaries"): it may publish only its subjects. Empty: connect
    # without credentials (a server without authorization).
    nats_user: str = ""
    nats_password: str = ""
    # gRPC between intake and signing over mutual TLS: PEM files of the service CA, this process's certificate and
    # key. All three empty: plaintext (tests of old, a mesh doing mTLS instead); signing logs a warning then.
    grpc_tls_ca_file: str = ""
    grpc_tls_cert_file: str = ""
    grpc_tls_key_file: str = ""
    # A client: the name the server's certificate must carry when the address does not say it (an IP list).
    grpc_tls_server_name: str = ""
    # A server: a second, plaintext port serving only grpc.health.v1 — a probe presents no client certificate. 0: none.
    grpc_health_port: int = 0
    # retryWrites=false belongs in the embedded server's URI only (docs/library-facts.md); never forced in code.
    mongo_uri: str = "mongodb://127.0.0.1:27017/"
    db_name: str = ""
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    log_level: str = "INFO"
    # The outbox relay is woken after each commit; this poll only picks up entries a crashed replica left.
    outbox_poll_seconds: float = 0.5
    # Requests a replica answers at once. FastStream handles a subscription's messages one by one unless told
    # otherwise, and the benchmark saw decisions queue behind each other (p50 hand-off 2.3 s at 16 matters in flight).
    rpc_workers: int = 16
