from sealflow_runtime.settings import ServiceSettings


class SlaSettings(ServiceSettings):
    db_name: str = "sealflow_sla"
    http_port: int = 8083
    timezone: str = "Asia/Shanghai"
    office_hours: str = "08:30-12:00,14:00-17:30"  # SEALFLOW_OFFICE_HOURS
    reminder_points: str = "50%,2h"  # SEALFLOW_REMINDER_POINTS: shares of the time allowed, or working hours before due
    supervisors: str = "yinong-discipline"  # SEALFLOW_SUPERVISORS: who receives escalations (comma-separated person ids)
    scan_interval_seconds: float = 1.0
    scan_batch: int = 500
    overrides_refresh_seconds: float = 30.0
    # Tests only: "now" = real time + an offset read from the `test_clock` collection, so a test can let a
    # deadline pass without waiting for working days. Never set in production.
    sla_test_clock: bool = False
