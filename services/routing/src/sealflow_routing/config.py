from sealflow_runtime.settings import ServiceSettings


class RoutingSettings(ServiceSettings):
    db_name: str = "sealflow_routing"
    http_port: int = 8081
    seed_pilot: bool = False  # load seed/pilot.json into an empty directory and policy store at start-up
    # The reconciler: a matter whose route was approved this long ago and is still not complete has its
    # unconfirmed signing requests sent again (idempotent there); further tries back off, doubling.
    reconcile_after_seconds: float = 120.0
    reconcile_interval_seconds: float = 10.0
