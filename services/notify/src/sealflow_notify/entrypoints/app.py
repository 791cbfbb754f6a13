"""notify's process: durable consumers that fill the inbox and queue deliveries, the delivery worker,
request/reply to read the inbox and manage subscriptions, the HTTP shell."""

import asyncio

import httpx
from sealflow_contracts import messages as m
from sealflow_contracts import subjects
from sealflow_runtime.bus import durable_subscriber, make_broker, rpc_reply
from sealflow_runtime.deadletter import parse_or_poison
from sealflow_runtime.service import Runtime, build_runtime, create_service_app

from sealflow_notify import handlers
from sealflow_notify.adapters import deliveries
from sealflow_notify.adapters.channels import Channels
from sealflow_notify.adapters.names import Names
from sealflow_notify.config import NotifySettings


def build() -> tuple[Runtime, object]:
    settings = NotifySettings()
    broker = make_broker(settings.nats_url)
    rt = build_runtime("notify", settings, broker)
    rt.extras["names"] = Names(broker)  # names, not ids, in every message

    events = (
        (m.TaskAssigned, "notify-task-assigned", handlers.on_task_assigned),
        (m.MatterCompleted, "notify-matter-completed", handlers.on_matter_completed),
        (m.ReminderDue, "notify-reminder-due", handlers.on_reminder_due),
        (m.StageOverdue, "notify-stage-overdue", handlers.on_stage_overdue),
        (m.EscalationRaised, "notify-escalation-raised", handlers.on_escalation_raised),
        (m.UrgeIssued, "notify-urge-issued", handlers.on_urge_issued),
        (m.MatterTurned, "notify-matter-turned", handlers.on_matter_turned),
        (m.IntegrityAlertRaised, "notify-integrity-alert-raised", handlers.on_integrity_alert_raised),
    )
    for model, durable, handler in events:

        def consumer(model=model, handler=handler):
            async def consume(body: dict) -> None:
                await handler(rt, parse_or_poison(model, body))

            consume.__name__ = f"consume_{model.__name__}"
            return consume

        durable_subscriber(broker, model.SUBJECT, durable)(consumer())

    @broker.subscriber(subjects.RPC_INBOX, queue="notify")
    async def inbox(body: dict) -> dict:
        return await rpc_reply(lambda: handlers.inbox(rt, m.InboxQuery.model_validate(body)))

    @broker.subscriber(subjects.RPC_INBOX_MARK_READ, queue="notify")
    async def mark_read(body: dict) -> dict:
        return await rpc_reply(lambda: handlers.mark_read(rt, m.InboxMarkRead.model_validate(body)))

    @broker.subscriber(subjects.RPC_NOTIFY_SUBSCRIPTION, queue="notify")
    async def subscription(body: dict) -> dict:
        return await rpc_reply(lambda: handlers.put_subscription(rt, m.SubscriptionPut.model_validate(body)))

    @broker.subscriber(subjects.RPC_NOTIFY_SUBSCRIPTION_ADMIN, queue="notify")
    async def subscription_admin(body: dict) -> dict:
        async def answer() -> dict:
            query = m.SubscriptionAdminRequest.model_validate(body)
            if query.action == "test":
                return await handlers.test_subscription(rt, query, Channels(settings, rt.extras["http"]))
            return await handlers.list_subscriptions(rt, query)

        return await rpc_reply(answer)

    tasks: list[asyncio.Task] = []

    async def on_start(runtime: Runtime) -> None:
        await runtime.db.inbox.create_index([("person_id", 1), ("created_at", -1)])
        await runtime.db.inbox.create_index([("person_id", 1), ("received_at", -1), ("created_at", -1)])
        await runtime.db[handlers.SUBSCRIPTIONS].create_index([("subscriber", 1)])
        await deliveries.ensure_indexes(runtime.db)
        http = httpx.AsyncClient(timeout=settings.delivery_timeout_seconds)
        runtime.extras["http"] = http
        worker = deliveries.DeliveryWorker(runtime.db, Channels(settings, http), settings, runtime.log)
        runtime.extras["delivery_worker"] = worker
        tasks.append(asyncio.create_task(worker.run(), name="delivery-worker"))

    async def on_stop(runtime: Runtime) -> None:
        runtime.extras["delivery_worker"].stop()
        await asyncio.gather(*tasks, return_exceptions=True)
        await runtime.extras["http"].aclose()

    return rt, create_service_app(rt, on_start=on_start, on_stop=on_stop)
