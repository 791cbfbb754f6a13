from pydantic import model_validator
from sealflow_runtime.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    db_name: str = "sealflow_intake"
    http_port: int = 8080
    signing_grpc_addr: str = "127.0.0.1:50051"
    # One of the two: a shared HS256 secret (local use, `sealflow token`) or the gateway's RS256 public key.
    jwt_secret: str | None = None
    jwt_public_key: str | None = None
    jwt_issuer: str | None = None
    max_attachment_bytes: int = 10 * 1024 * 1024
    # base64 inflates uploads by a third; the default admits a few full-size attachments in one submission
    max_body_bytes: int = 40 * 1024 * 1024
    max_attachments: int = 20
    person_cache_seconds: float = 30.0
    # Development only: POST /v1/dev/token mints a token for any pilot person (the console's sign-in
    # picker). Off by default; in production the gateway's token is used.
    dev_login: bool = False
    # 村务公开 (GET /v1/public/approvals/{n}, no sign-in): per client address, `burst` at once, then this rate.
    public_rate_per_minute: float = 30.0
    public_rate_burst: int = 20

    @model_validator(mode="after")
    def _one_way_to_verify_tokens(self) -> "IntakeSettings":
        if not (self.jwt_secret or self.jwt_public_key):
            raise ValueError("set SEALFLOW_JWT_SECRET (HS256) or SEALFLOW_JWT_PUBLIC_KEY (RS256 PEM) to verify bearer tokens")
        if self.dev_login and not self.jwt_secret:
            raise ValueError("SEALFLOW_DEV_LOGIN needs SEALFLOW_JWT_SECRET: dev tokens are HS256")
        return self
