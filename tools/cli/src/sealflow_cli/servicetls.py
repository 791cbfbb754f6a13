"""Certificates for gRPC between services (mutual TLS), made by `sealflow up` at first start.

A **service CA** of its own, not the town root. The town root (signing's `ca:root`) is a public trust anchor:
whoever checks a sealed PDF trusts every certificate under it to speak for a person, a seal or the platform.
A transport certificate sits on every pod's disk, is rotated often and says only "this process is intake";
under the town root, one leaked pod key would be a certificate a PDF validator might accept. Kept apart, a
transport compromise never touches document trust, and the town root's key stays where it is (encrypted in
signing's database, opened only to issue document certificates). The service CA's key is used only here.

Files (under `<data dir>/tls/`, keys 0600): `service-ca.pem` (+ `service-ca-key.pem`), `signing.pem` +
`signing-key.pem` (server: DNS `signing` and its cluster names, `localhost`, 127.0.0.1), `intake.pem` +
`intake-key.pem` (client). Re-issued when less than 30 days are left; the CA when less than a year is.
"""

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

SERVER_NAME = "signing"
# The names signing answers to: locally (`ssl_target_name_override` = "signing"), and in Kubernetes.
SERVER_DNS = ["signing", "signing.sealflow", "signing.sealflow.svc", "signing.sealflow.svc.cluster.local", "localhost"]
CLIENTS = ("intake",)
CA_DAYS, LEAF_DAYS = 3650, 365


@dataclass(frozen=True)
class ServiceTls:
    ca: Path
    ca_key: Path
    server_cert: Path
    server_key: Path
    clients: dict[str, tuple[Path, Path]]


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Sealflow services"), x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    )


def _expires_within(path: Path, days: int) -> bool:
    if not path.exists():
        return True
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    return cert.not_valid_after_utc - dt.timedelta(days=days) < dt.datetime.now(dt.UTC)


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))


def _issue(ca_cert: x509.Certificate, ca_key, common_name: str, *, server: bool, days: int = LEAF_DAYS):
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, True, False, False, False, False), critical=True
        )  # digital signature + key agreement (ECDHE)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
    )
    if server:
        names = [x509.DNSName(n) for n in SERVER_DNS] + [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    else:
        names = [x509.DNSName(common_name)]
    builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return key, builder.sign(ca_key, hashes.SHA256())


def make_ca(common_name: str = "Sealflow service CA", days: int = CA_DAYS):
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def write_leaf(directory: Path, name: str, ca_cert, ca_key, *, server: bool) -> tuple[Path, Path]:
    key, cert = _issue(ca_cert, ca_key, name, server=server)
    cert_path, key_path = directory / f"{name}.pem", directory / f"{name}-key.pem"
    _write_key(key_path, key)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


def ensure_service_tls(data_dir: Path) -> ServiceTls:
    """The service CA and the certificates, made on first start and re-issued before they expire."""
    directory = data_dir / "tls"
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    ca_path, ca_key_path = directory / "service-ca.pem", directory / "service-ca-key.pem"
    renewed_ca = _expires_within(ca_path, 365) or not ca_key_path.exists()
    if renewed_ca:
        key, cert = make_ca()
        _write_key(ca_key_path, key)
        ca_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    ca_cert = x509.load_pem_x509_certificate(ca_path.read_bytes())
    ca_key = serialization.load_pem_private_key(ca_key_path.read_bytes(), password=None)
    leaves = {}
    for name, server in ((SERVER_NAME, True), *((c, False) for c in CLIENTS)):
        cert_path, key_path = directory / f"{name}.pem", directory / f"{name}-key.pem"
        if renewed_ca or _expires_within(cert_path, 30) or not key_path.exists():
            cert_path, key_path = write_leaf(directory, name, ca_cert, ca_key, server=server)
        leaves[name] = (cert_path, key_path)
    return ServiceTls(
        ca=ca_path,
        ca_key=ca_key_path,
        server_cert=leaves[SERVER_NAME][0],
        server_key=leaves[SERVER_NAME][1],
        clients={c: leaves[c] for c in CLIENTS},
    )


def main() -> None:
    """`python -m sealflow_cli.servicetls DIR [--compose]`: make (or renew) the files under DIR/tls — for compose,
    or to load into Kubernetes Secrets (deploy/README.md)."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("directory", type=Path)
    parser.add_argument(
        "--compose",
        action="store_true",
        help="keys readable by the containers' user: compose bind-mounts secret files with the host's owner and mode",
    )
    args = parser.parse_args()
    made = ensure_service_tls(args.directory.resolve())
    if args.compose:
        # Development only: compose (outside swarm) ignores a secret's uid/mode, and the services run as uid 10001.
        for key in [made.server_key, *(k for _, k in made.clients.values())]:
            key.chmod(0o644)
        made.ca.parent.chmod(0o755)
    print(f"service CA: {made.ca}\nsigning: {made.server_cert}\n" + "".join(f"{c}: {p[0]}\n" for c, p in made.clients.items()), end="")


if __name__ == "__main__":
    main()
