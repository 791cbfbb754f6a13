"""routing's process: request/reply for submissions and decisions, durable consumers for signing and
sla-monitor events, and the shared HTTP shell (/healthz, /readyz, /metrics)."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from faststream.nats import NatsBroker
from pydantic import BaseModel
from sealflow_contracts import messages as m
from sealflow_contracts import subjects
from sealflow_runtime.bus import durable_subscriber, make_broker, rpc_reply
from sealflow_runtime.deadletter import parse_or_poison
from sealflow_runtime.service import Runtime, build_runtime, create_service_app

from sealflow_routing.adapters import store
from sealflow_routing.bootstrap import Routing, bootstrap
from sealflow_routing.config import RoutingSettings

QUEUE = "routing"  # core-NATS queue group: replicas share request/reply work


def build() -> tuple[Runtime, object]:
    settings = RoutingSettings()
    broker = make_broker(settings.nats_url)
    rt = build_runtime("routing", settings, broker)
    routing = bootstrap(settings, runtime=rt)
    return rt, create_service_app(rt, **subscribe(broker, routing))


def subscribe(broker: NatsBroker, routing: Routing) -> dict:
    """Register routing's subscribers on `broker`; returns the app's start and stop hooks."""
    settings = routing.settings

    @broker.subscriber(subjects.RPC_SUBMIT_MATTER, queue=QUEUE, max_workers=settings.rpc_workers)
    async def submit_matter(body: dict) -> dict:
        return await rpc_reply(lambda: routing.submit_matter(m.SubmitMatter.model_validate(body)))

    @broker.subscriber(subjects.RPC_DECIDE, queue=QUEUE, max_workers=settings.rpc_workers)
    async def decide(body: dict) -> dict:
        return await rpc_reply(lambda: routing.decide(m.Decide.model_validate(body)))

    @broker.subscriber(subjects.RPC_WHOIS, queue=QUEUE, max_workers=settings.rpc_workers)
    async def whois(body: dict) -> dict:
        return await rpc_reply(lambda: routing.whois(m.WhoIs.model_validate(body)))

    @broker.subscriber(subjects.RPC_REVISE, queue=QUEUE, max_workers=settings.rpc_workers)
    async def revise(body: dict) -> dict:
        return await rpc_reply(lambda: routing.revise(m.ReviseMatter.model_validate(body)))

    @broker.subscriber(subjects.RPC_WITHDRAW, queue=QUEUE, max_workers=settings.rpc_workers)
    async def withdraw(body: dict) -> dict:
        return await rpc_reply(lambda: routing.withdraw(m.WithdrawMatter.model_validate(body)))

    @broker.subscriber(subjects.RPC_TRANSFER, queue=QUEUE, max_workers=settings.rpc_workers)
    async def transfer(body: dict) -> dict:
        return await rpc_reply(lambda: routing.transfer(m.TransferTask.model_validate(body)))

    def answer(subject: str, model: type[BaseModel], handler: Callable[[Any], Awaitable[Any]], **options: Any) -> None:
        async def reply(body: dict) -> dict:
            return await rpc_reply(lambda: handler(model.model_validate(body)))

        reply.__name__ = f"answer_{model.__name__}"
        broker.subscriber(subject, queue=QUEUE, **options)(reply)

    for subject, model in m.RPC_REQUESTS.items():
        if model in routing.administration:
            # Everyone's console reads villages and matter types here too, not only the administrator: several at once.
            answer(subject, model, routing.administration[model], max_workers=settings.rpc_workers)
        elif model in routing.absences:
            answer(subject, model, routing.absences[model])

    # issue 15: an integrity alert's disposition, into the trails of its matters
    @broker.subscriber(subjects.RPC_ALERT_DISPOSITION, queue=QUEUE)
    async def alert_disposition(body: dict) -> dict:
        return await rpc_reply(lambda: routing.alert_disposition(m.AlertDisposition.model_validate(body)))

    @durable_subscriber(broker, subjects.SIGNATURE_APPLIED, "routing-signature-applied")
    async def signature_applied(body: dict) -> None:
        await routing.on_signature_applied(parse_or_poison(m.SignatureApplied, body))

    @durable_subscriber(broker, subjects.SEAL_APPLIED, "routing-seal-applied")
    async def seal_applied(body: dict) -> None:
        await routing.on_seal_applied(parse_or_poison(m.SealApplied, body))

    @durable_subscriber(broker, subjects.APPROVAL_REGISTERED, "routing-approval-registered")
    async def approval_registered(body: dict) -> None:
        await routing.on_approval_registered(parse_or_poison(m.ApprovalRegistered, body))

    @durable_subscriber(broker, subjects.DEADLINE_SET, "routing-deadline-set")
    async def deadline_set(body: dict) -> None:
        await routing.on_deadline_set(parse_or_poison(m.DeadlineSet, body))

    @durable_subscriber(broker, subjects.SEAL_REFUSED, "routing-seal-refused")
    async def seal_refused(body: dict) -> None:
        await routing.on_seal_refused(parse_or_poison(m.SealRefused, body))

    for model, durable in (
        (m.ReminderDue, "routing-reminder-due"),
        (m.StageOverdue, "routing-stage-overdue"),
        (m.EscalationRaised, "routing-escalation-raised"),
        (m.UrgeIssued, "routing-urge-issued"),
    ):

        def trail_recorder(model: type[m.Envelope]):
            async def record(body: dict) -> None:
                await routing.on_sla_event(parse_or_poison(model, body))

            record.__name__ = f"record_{model.__name__}"
            return record

        durable_subscriber(broker, model.SUBJECT, durable)(trail_recorder(model))

    background: set[asyncio.Task] = set()

    async def on_start(runtime: Runtime) -> None:
        await store.ensure_indexes(runtime.db)
        if settings.seed_pilot:
            await store.seed_pilot(runtime.db)
        background.add(asyncio.create_task(routing.run_reconciler(), name="reconciler"))

    async def on_stop(runtime: Runtime) -> None:
        for task in background:
            task.cancel()

    return {"on_start": on_start, "on_stop": on_stop}
