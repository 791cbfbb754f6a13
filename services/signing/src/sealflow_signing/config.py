import base64

from pydantic import field_validator

from sealflow_runtime.settings import ServiceSettings


class SigningSettings(ServiceSettings):
    db_name: str = "sealflow_signing"
    http_port: int = 8082
    grpc_host: str = "127.0.0.1"
    grpc_port: int = 50051
    master_key: str  # base64 of 32 bytes; required: keys are never stored unencrypted
    seed_pilot: bool = False

    @field_validator("master_key")
    @classmethod
    def _thirty_two_bytes(cls, value: str) -> str:
        if len(base64.b64decode(value, validate=True)) != 32:
            raise ValueError("SEALFLOW_MASTER_KEY must be base64 of exactly 32 bytes")
        return value

    def master_key_bytes(self) -> bytes:
        return base64.b64decode(self.master_key)
