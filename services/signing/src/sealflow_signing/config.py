import base64

from pydantic import field_validator
from sealflow_runtime.settings import ServiceSettings


class SigningSettings(ServiceSettings):
    db_name: str = "sealflow_signing"
    http_port: int = 8082
    grpc_host: str = "127.0.0.1"
    grpc_port: int = 50051
    master_key: str  # base64 of 32 bytes; required: keys are never stored unencrypted
    # Rotation without downtime (README): further master keys that may open stored keys, comma-separated
    # base64. Records under one of them are re-encrypted under `master_key` in the background.
    previous_master_keys: str = ""
    seed_pilot: bool = False
    town_name: str = "益农镇"
    # Where people open the console (docs/rules.md §8): the sealed form's QR code is <public_url>/#/public/<approval
    # number>. Production sets the public https address; the default is the local console (`sealflow up`).
    public_url: str = "http://127.0.0.1:8080/app/"
    # The CJK font for forms, stamps and seal images (Debian fonts-wqy-microhei; Apache-2.0 or GPL-3+ with
    # the font embedding exception). Its subset for forms is cached in font_cache_dir.
    cjk_font: str = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
    font_cache_dir: str = "/tmp/sealflow-fonts"
    # How often kept requests (an act that arrived before its predecessor) are checked in case the replica
    # that made the predecessor died before releasing them.
    waiting_sweep_seconds: float = 5.0
    pdf_workers: int = 1  # worker processes for PDF rendering and signing, per replica
    # issue 15: how often the trail log's new signed heads are sequenced and a checkpoint signed (only when the
    # log grew), and the checkpoint's origin line — the log's name for witnesses; its note key is named the same.
    checkpoint_seconds: float = 10.0
    checkpoint_origin: str = "sealflow.local/yinong/trail"
    # A real CA instead of the self-managed town root: its issuing certificate and key (PEM files), and
    # the trust anchors holders should use (defaults to the issuing certificate).
    ca_cert_file: str | None = None
    ca_key_file: str | None = None
    ca_key_password: str | None = None
    trust_roots_file: str | None = None

    @field_validator("master_key")
    @classmethod
    def _thirty_two_bytes(cls, value: str) -> str:
        if len(base64.b64decode(value, validate=True)) != 32:
            raise ValueError("SEALFLOW_MASTER_KEY must be base64 of exactly 32 bytes")
        return value

    @field_validator("previous_master_keys")
    @classmethod
    def _each_thirty_two_bytes(cls, value: str) -> str:
        for part in filter(None, (p.strip() for p in value.split(","))):
            if len(base64.b64decode(part, validate=True)) != 32:
                raise ValueError("each of SEALFLOW_PREVIOUS_MASTER_KEYS must be base64 of exactly 32 bytes")
        return value

    def master_key_bytes(self) -> bytes:
        return base64.b64decode(self.master_key)

    def master_keys(self) -> tuple[bytes, ...]:
        """The key that encrypts, then the keys that may still open older records."""
        previous = [base64.b64decode(p.strip()) for p in self.previous_master_keys.split(",") if p.strip()]
        return (self.master_key_bytes(), *previous)
