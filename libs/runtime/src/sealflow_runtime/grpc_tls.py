"""Mutual TLS for gRPC between services, from the settings' PEM files (README "Trust boundaries").

The server asks every client for a certificate under the service CA and refuses a call without one; the client
checks the server's certificate against the same CA and shows its own. The files are read at start: a rotated
certificate takes effect when the process restarts (Kubernetes: a rolling restart after the Secret changes)."""

from pathlib import Path

import grpc

from sealflow_runtime.settings import ServiceSettings


def tls_configured(settings: ServiceSettings) -> bool:
    files = (settings.grpc_tls_ca_file, settings.grpc_tls_cert_file, settings.grpc_tls_key_file)
    if any(files) and not all(files):
        # Half a configuration is a mistake, never a reason to fall back to plaintext.
        raise SystemExit("SEALFLOW_GRPC_TLS_CA_FILE, SEALFLOW_GRPC_TLS_CERT_FILE and SEALFLOW_GRPC_TLS_KEY_FILE go together")
    return all(files)


def _read(path: str) -> bytes:
    return Path(path).read_bytes()


def server_credentials(settings: ServiceSettings) -> grpc.ServerCredentials:
    return grpc.ssl_server_credentials(
        [(_read(settings.grpc_tls_key_file), _read(settings.grpc_tls_cert_file))],
        root_certificates=_read(settings.grpc_tls_ca_file),
        require_client_auth=True,
    )


def secure_channel(settings: ServiceSettings, target: str, options: list[tuple[str, object]]) -> grpc.aio.Channel:
    """A channel to `target` over mutual TLS when configured, else plaintext."""
    if not tls_configured(settings):
        return grpc.aio.insecure_channel(target, options=options)
    credentials = grpc.ssl_channel_credentials(
        root_certificates=_read(settings.grpc_tls_ca_file),
        private_key=_read(settings.grpc_tls_key_file),
        certificate_chain=_read(settings.grpc_tls_cert_file),
    )
    if settings.grpc_tls_server_name:
        options = [*options, ("grpc.ssl_target_name_override", settings.grpc_tls_server_name)]
    return grpc.aio.secure_channel(target, credentials, options=options)
