from sealflow_runtime.settings import ServiceSettings


class NotifySettings(ServiceSettings):
    db_name: str = "sealflow_notify"
    http_port: int = 8084
