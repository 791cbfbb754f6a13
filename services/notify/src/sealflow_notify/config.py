from sealflow_runtime.settings import ServiceSettings


class NotifySettings(ServiceSettings):
    db_name: str = "sealflow_notify"
    http_port: int = 8084
    timezone: str = "Asia/Shanghai"  # how times read in messages
    # The console's address: every notice links to <public_url>/#/matters/<id>. Production sets the public
    # https address; the default is the local console (`sealflow up`).
    public_url: str = "http://127.0.0.1:8080/app/"
    smtp_host: str = "127.0.0.1"  # SEALFLOW_SMTP_HOST
    smtp_port: int = 25
    smtp_from: str = "sealflow@yinong.local"
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    delivery_max_attempts: int = 6
    delivery_backoff_seconds: float = 2.0  # attempt n waits base × 2^(n-1) × a jitter of 0.5-1.5
    delivery_backoff_max_seconds: float = 600.0
    delivery_lease_seconds: float = 60.0  # a sender that died mid-try is retried after this
    delivery_poll_seconds: float = 1.0
    delivery_timeout_seconds: float = 10.0
