"""notify's process: durable consumers that fill the inbox, request/reply to read it, the HTTP shell."""

from sealflow_contracts import messages as m
from sealflow_contracts import subjects
from sealflow_runtime.bus import durable_subscriber, make_broker, rpc_reply
from sealflow_runtime.deadletter import parse_or_dead_letter
from sealflow_runtime.service import Runtime, build_runtime, create_service_app
from sealflow_notify import handlers
from sealflow_notify.config import NotifySettings


def build() -> tuple[Runtime, object]:
    settings = NotifySettings()
    broker = make_broker(settings.nats_url)
    rt = build_runtime("notify", settings, broker)

    @durable_subscriber(broker, subjects.TASK_ASSIGNED, "notify-task-assigned")
    async def task_assigned(body: dict) -> None:
        await handlers.on_task_assigned(rt, await parse_or_dead_letter(rt.db, rt.log, m.TaskAssigned, body))

    @durable_subscriber(broker, subjects.MATTER_COMPLETED, "notify-matter-completed")
    async def matter_completed(body: dict) -> None:
        await handlers.on_matter_completed(rt, await parse_or_dead_letter(rt.db, rt.log, m.MatterCompleted, body))

    @durable_subscriber(broker, subjects.MATTER_TURNED, "notify-matter-turned")
    async def matter_turned(body: dict) -> None:
        await handlers.on_matter_turned(rt, await parse_or_dead_letter(rt.db, rt.log, m.MatterTurned, body))

    @broker.subscriber(subjects.RPC_INBOX, queue="notify")
    async def inbox(body: dict) -> dict:
        return await rpc_reply(lambda: handlers.inbox(rt, m.InboxQuery.model_validate(body)))

    async def on_start(runtime: Runtime) -> None:
        await runtime.db.inbox.create_index([("person_id", 1), ("created_at", -1)])

    return rt, create_service_app(rt, on_start=on_start)
