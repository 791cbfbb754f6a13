"""routing's process: request/reply for submissions and decisions, durable consumers for signing and
sla-monitor events, and the shared HTTP shell (/healthz, /readyz, /metrics)."""

import asyncio

from sealflow_contracts import messages as m
from sealflow_contracts import subjects
from sealflow_runtime.bus import durable_subscriber, make_broker, rpc_reply
from sealflow_runtime.deadletter import parse_or_poison
from sealflow_runtime.service import Runtime, build_runtime, create_service_app

from sealflow_routing import absences, admin, dispositions, handlers, reconciler
from sealflow_routing.adapters import store
from sealflow_routing.config import RoutingSettings

QUEUE = "routing"  # core-NATS queue group: replicas share request/reply work


def build() -> tuple[Runtime, object]:
    settings = RoutingSettings()
    broker = make_broker(settings.nats_url)
    rt = build_runtime("routing", settings, broker)

    @broker.subscriber(subjects.RPC_SUBMIT_MATTER, queue=QUEUE, max_workers=settings.rpc_workers)
    async def submit_matter(body: dict) -> dict:
        return await rpc_reply(lambda: handlers.submit_matter(rt, m.SubmitMatter.model_validate(body)))

    @broker.subscriber(subjects.RPC_DECIDE, queue=QUEUE, max_workers=settings.rpc_workers)
    async def decide(body: dict) -> dict:
        return await rpc_reply(lambda: handlers.decide(rt, m.Decide.model_validate(body)))

    @broker.subscriber(subjects.RPC_WHOIS, queue=QUEUE, max_workers=settings.rpc_workers)
    async def whois(body: dict) -> dict:
        return await rpc_reply(lambda: handlers.whois(rt, m.WhoIs.model_validate(body)))

    @broker.subscriber(subjects.RPC_REVISE, queue=QUEUE, max_workers=settings.rpc_workers)
    async def revise(body: dict) -> dict:
        return await rpc_reply(lambda: handlers.revise(rt, m.ReviseMatter.model_validate(body)))

    @broker.subscriber(subjects.RPC_WITHDRAW, queue=QUEUE, max_workers=settings.rpc_workers)
    async def withdraw(body: dict) -> dict:
        return await rpc_reply(lambda: handlers.withdraw(rt, m.WithdrawMatter.model_validate(body)))

    @broker.subscriber(subjects.RPC_TRANSFER, queue=QUEUE, max_workers=settings.rpc_workers)
    async def transfer(body: dict) -> dict:
        return await rpc_reply(lambda: handlers.transfer(rt, m.TransferTask.model_validate(body)))

    # Everyone's console reads villages and matter types here too, not only the administrator: run several at once.
    @broker.subscriber(subjects.RPC_ADMIN, queue=QUEUE, max_workers=settings.rpc_workers)
    async def administer(body: dict) -> dict:
        return await rpc_reply(lambda: admin.handle(rt, m.AdminRequest.model_validate(body)))

    @broker.subscriber(subjects.RPC_ABSENCE, queue=QUEUE)
    async def absence(body: dict) -> dict:
        return await rpc_reply(lambda: absences.handle(rt, m.AbsenceRequest.model_validate(body)))

    # issue 15: an integrity alert's disposition, into the trails of its matters
    @broker.subscriber(subjects.RPC_ALERT_DISPOSITION, queue=QUEUE)
    async def alert_disposition(body: dict) -> dict:
        return await rpc_reply(lambda: dispositions.record(rt, m.AlertDisposition.model_validate(body)))

    @durable_subscriber(broker, subjects.SIGNATURE_APPLIED, "routing-signature-applied")
    async def signature_applied(body: dict) -> None:
        await handlers.on_signature_applied(rt, parse_or_poison(m.SignatureApplied, body))

    @durable_subscriber(broker, subjects.SEAL_APPLIED, "routing-seal-applied")
    async def seal_applied(body: dict) -> None:
        await handlers.on_seal_applied(rt, parse_or_poison(m.SealApplied, body))

    @durable_subscriber(broker, subjects.APPROVAL_REGISTERED, "routing-approval-registered")
    async def approval_registered(body: dict) -> None:
        await handlers.on_approval_registered(rt, parse_or_poison(m.ApprovalRegistered, body))

    @durable_subscriber(broker, subjects.DEADLINE_SET, "routing-deadline-set")
    async def deadline_set(body: dict) -> None:
        await handlers.on_deadline_set(rt, parse_or_poison(m.DeadlineSet, body))

    @durable_subscriber(broker, subjects.SEAL_REFUSED, "routing-seal-refused")
    async def seal_refused(body: dict) -> None:
        await handlers.on_seal_refused(rt, parse_or_poison(m.SealRefused, body))

    for model, durable in (
        (m.ReminderDue, "routing-reminder-due"),
        (m.StageOverdue, "routing-stage-overdue"),
        (m.EscalationRaised, "routing-escalation-raised"),
        (m.UrgeIssued, "routing-urge-issued"),
    ):

        def trail_recorder(model: type[m.Envelope]):
            async def record(body: dict) -> None:
                await handlers.on_sla_event(rt, parse_or_poison(model, body))

            record.__name__ = f"record_{model.__name__}"
            return record

        durable_subscriber(broker, model.SUBJECT, durable)(trail_recorder(model))

    async def on_start(runtime: Runtime) -> None:
        await store.ensure_indexes(runtime.db)
        if settings.seed_pilot:
            await store.seed_pilot(runtime.db)
        runtime.extras["reconciler"] = asyncio.create_task(reconciler.run_forever(runtime))

    async def on_stop(runtime: Runtime) -> None:
        runtime.extras["reconciler"].cancel()

    return rt, create_service_app(rt, on_start=on_start, on_stop=on_stop)
