"""sla-monitor's process: durable consumers of stage, signature and matter events, the timer scanner,
request/reply for the supervision views, and the HTTP shell. Handlers get their dependencies from
`bootstrap`; this module only translates messages into calls."""

import asyncio

from sealflow_contracts import messages as m
from sealflow_contracts import subjects
from sealflow_runtime.bus import durable_subscriber, make_broker, rpc_reply
from sealflow_runtime.deadletter import parse_or_poison
from sealflow_runtime.service import Runtime, build_runtime, create_service_app

from sealflow_sla_monitor import handlers
from sealflow_sla_monitor.adapters import timers
from sealflow_sla_monitor.bootstrap import bootstrap
from sealflow_sla_monitor.config import SlaSettings

QUEUE = "sla-monitor"


def build() -> tuple[Runtime, object]:
    settings = SlaSettings()
    broker = make_broker(settings.nats_url)
    rt = build_runtime("sla-monitor", settings, broker)
    sla = bootstrap(settings, client=rt.client, db=rt.db, wake_relay=rt.relay.wake)

    @durable_subscriber(broker, subjects.STAGE_OPENED, "sla-stage-opened")
    async def stage_opened(body: dict) -> None:
        await handlers.on_stage_opened(sla, parse_or_poison(m.StageOpened, body))

    @durable_subscriber(broker, subjects.STAGE_CLOSED, "sla-stage-closed")
    async def stage_closed(body: dict) -> None:
        await handlers.on_stage_closed(sla, parse_or_poison(m.StageClosed, body))

    @durable_subscriber(broker, subjects.SIGNATURE_APPLIED, "sla-signature-applied")
    async def signature_applied(body: dict) -> None:
        await handlers.on_signature_applied(sla, parse_or_poison(m.SignatureApplied, body))

    @durable_subscriber(broker, subjects.MATTER_UPDATED, "sla-matter-updated")
    async def matter_updated(body: dict) -> None:
        await handlers.on_matter_updated(sla, parse_or_poison(m.MatterUpdated, body))

    @broker.subscriber(subjects.RPC_SLA_OVERDUE, queue=QUEUE)
    async def overdue(body: dict) -> dict:
        return await rpc_reply(lambda: handlers.overdue(sla, m.SupervisionQuery.model_validate(body)))

    @broker.subscriber(subjects.RPC_SLA_ACCOUNTABILITY, queue=QUEUE)
    async def accountability(body: dict) -> dict:
        return await rpc_reply(lambda: handlers.accountability(sla, m.AccountabilityRequest.model_validate(body)))

    @broker.subscriber(subjects.RPC_SLA_STATS, queue=QUEUE)
    async def stats(body: dict) -> dict:
        return await rpc_reply(lambda: handlers.stats(sla, m.SupervisionQuery.model_validate(body)))

    @broker.subscriber(subjects.RPC_SLA_CALENDAR, queue=QUEUE)
    async def calendar(body: dict) -> dict:
        return await rpc_reply(lambda: handlers.set_calendar_override(sla, m.CalendarOverride.model_validate(body)))

    @broker.subscriber(subjects.RPC_SLA_CALENDAR_LIST, queue=QUEUE)
    async def calendar_list(body: dict) -> dict:
        return await rpc_reply(lambda: handlers.list_calendar_overrides(sla))

    stopping = asyncio.Event()
    tasks: list[asyncio.Task] = []

    async def refresh_overrides() -> None:
        # Replicas pick up another replica's override edits within the refresh interval.
        while not stopping.is_set():
            try:
                await asyncio.wait_for(stopping.wait(), timeout=settings.overrides_refresh_seconds)
            except TimeoutError:
                try:
                    await sla.calendar.reload(sla.db)
                except Exception as error:
                    rt.log.warning("calendar overrides not refreshed", error=str(error))

    async def on_start(runtime: Runtime) -> None:
        await runtime.db.deadlines.create_index([("status", 1), ("due_at", 1)])
        await runtime.db.deadlines.create_index([("opened_at", 1)])
        await timers.ensure_indexes(runtime.db)
        await sla.calendar.reload(sla.db)
        scanner = timers.run_scanner(
            sla.db,
            sla.transact,
            handlers.fire_timer(sla),
            sla.clock,
            interval=settings.scan_interval_seconds,
            batch=settings.scan_batch,
            log=runtime.log,
            after_fired=sla.wake_relay,
            stopping=stopping,
        )
        tasks.extend([asyncio.create_task(scanner, name="timer-scanner"), asyncio.create_task(refresh_overrides(), name="overrides")])

    async def on_stop(runtime: Runtime) -> None:
        stopping.set()
        await asyncio.gather(*tasks, return_exceptions=True)

    return rt, create_service_app(rt, on_start=on_start, on_stop=on_stop)
