from sealflow_runtime.settings import ServiceSettings


class RoutingSettings(ServiceSettings):
    db_name: str = "sealflow_routing"
    http_port: int = 8081
    seed_pilot: bool = False  # load seed/pilot.json into an empty directory and policy store at start-up
