"""sla-monitor's process: durable consumers of stage and signature events, the timer scanner,
request/reply for the supervision views, and the HTTP shell."""

import asyncio

from sealflow_contracts import messages as m
from sealflow_contracts import subjects
from sealflow_runtime.bus import durable_subscriber, make_broker, rpc_reply
from sealflow_runtime.deadletter import parse_or_poison
from sealflow_runtime.mongo import in_transaction
from sealflow_runtime.service import Runtime, build_runtime, create_service_app

from sealflow_sla_monitor import handlers
from sealflow_sla_monitor.adapters import timers
from sealflow_sla_monitor.config import SlaSettings

QUEUE = "sla-monitor"


def build() -> tuple[Runtime, object]:
    settings = SlaSettings()
    broker = make_broker(settings.nats_url)
    rt = build_runtime("sla-monitor", settings, broker)
    rt.extras["sla"] = handlers.build_sla(rt)

    @durable_subscriber(broker, subjects.STAGE_OPENED, "sla-stage-opened")
    async def stage_opened(body: dict) -> None:
        await handlers.on_stage_opened(rt, parse_or_poison(m.StageOpened, body))

    @durable_subscriber(broker, subjects.STAGE_CLOSED, "sla-stage-closed")
    async def stage_closed(body: dict) -> None:
        await handlers.on_stage_closed(rt, parse_or_poison(m.StageClosed, body))

    @durable_subscriber(broker, subjects.SIGNATURE_APPLIED, "sla-signature-applied")
    async def signature_applied(body: dict) -> None:
        await handlers.on_signature_applied(rt, parse_or_poison(m.SignatureApplied, body))

    @broker.subscriber(subjects.RPC_SLA_OVERDUE, queue=QUEUE)
    async def overdue(body: dict) -> dict:
        return await rpc_reply(lambda: handlers.overdue(rt, m.SupervisionQuery.model_validate(body)))

    @broker.subscriber(subjects.RPC_SLA_ACCOUNTABILITY, queue=QUEUE)
    async def accountability(body: dict) -> dict:
        return await rpc_reply(lambda: handlers.accountability(rt, m.AccountabilityRequest.model_validate(body)))

    @broker.subscriber(subjects.RPC_SLA_STATS, queue=QUEUE)
    async def stats(body: dict) -> dict:
        return await rpc_reply(lambda: handlers.stats(rt, m.SupervisionQuery.model_validate(body)))

    @broker.subscriber(subjects.RPC_SLA_CALENDAR, queue=QUEUE)
    async def calendar(body: dict) -> dict:
        return await rpc_reply(lambda: handlers.set_calendar_override(rt, m.CalendarOverride.model_validate(body)))

    @broker.subscriber(subjects.RPC_SLA_CALENDAR_LIST, queue=QUEUE)
    async def calendar_list(body: dict) -> dict:
        return await rpc_reply(lambda: handlers.list_calendar_overrides(rt))

    stopping = asyncio.Event()
    tasks: list[asyncio.Task] = []

    async def refresh_overrides() -> None:
        # Replicas pick up another replica's override edits within the refresh interval.
        while not stopping.is_set():
            try:
                await asyncio.wait_for(stopping.wait(), timeout=settings.overrides_refresh_seconds)
            except TimeoutError:
                try:
                    await handlers.load_overrides(rt)
                except Exception as error:
                    rt.log.warning("calendar overrides not refreshed", error=str(error))

    async def on_start(runtime: Runtime) -> None:
        await runtime.db.deadlines.create_index([("status", 1), ("due_at", 1)])
        await runtime.db.deadlines.create_index([("opened_at", 1)])
        await timers.ensure_indexes(runtime.db)
        await handlers.load_overrides(runtime)
        scanner = timers.run_scanner(
            runtime.db,
            lambda work: in_transaction(runtime.client, work),
            handlers.fire_timer(runtime),
            handlers.sla_of(runtime).clock,
            interval=settings.scan_interval_seconds,
            batch=settings.scan_batch,
            log=runtime.log,
            after_fired=runtime.relay.wake,
            stopping=stopping,
        )
        tasks.extend([asyncio.create_task(scanner, name="timer-scanner"), asyncio.create_task(refresh_overrides(), name="overrides")])

    async def on_stop(runtime: Runtime) -> None:
        stopping.set()
        await asyncio.gather(*tasks, return_exceptions=True)

    return rt, create_service_app(rt, on_start=on_start, on_stop=on_stop)
