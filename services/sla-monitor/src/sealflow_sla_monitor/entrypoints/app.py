"""sla-monitor's process: durable consumers of stage events and the HTTP shell."""

from sealflow_contracts import messages as m
from sealflow_contracts import subjects
from sealflow_runtime.bus import durable_subscriber, make_broker
from sealflow_runtime.deadletter import parse_or_poison
from sealflow_runtime.service import Runtime, build_runtime, create_service_app
from sealflow_sla_monitor import handlers
from sealflow_sla_monitor.config import SlaSettings


def build() -> tuple[Runtime, object]:
    settings = SlaSettings()
    broker = make_broker(settings.nats_url)
    rt = build_runtime("sla-monitor", settings, broker)

    @durable_subscriber(broker, subjects.STAGE_OPENED, "sla-stage-opened")
    async def stage_opened(body: dict) -> None:
        await handlers.on_stage_opened(rt, parse_or_poison(m.StageOpened, body))

    @durable_subscriber(broker, subjects.STAGE_CLOSED, "sla-stage-closed")
    async def stage_closed(body: dict) -> None:
        await handlers.on_stage_closed(rt, parse_or_poison(m.StageClosed, body))

    async def on_start(runtime: Runtime) -> None:
        await runtime.db.deadlines.create_index([("status", 1), ("due_at", 1)])

    return rt, create_service_app(rt, on_start=on_start)
