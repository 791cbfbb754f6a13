from sealflow_runtime.settings import ServiceSettings


class SlaSettings(ServiceSettings):
    db_name: str = "sealflow_sla"
    http_port: int = 8083
    timezone: str = "Asia/Shanghai"
