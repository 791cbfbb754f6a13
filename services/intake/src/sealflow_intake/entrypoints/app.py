"""intake's process: the HTTP API, the read-model consumer, the gRPC client to signing."""

import grpc
from fastapi import Depends, FastAPI

from sealflow.signing.v1 import verification_pb2_grpc as pb_grpc
from sealflow_contracts import messages as m
from sealflow_contracts import subjects
from sealflow_intake.adapters import readmodel
from sealflow_intake.auth import Authenticator
from sealflow_intake.config import IntakeSettings
from sealflow_intake.entrypoints import admin, console, devlogin, supervision, turns
from sealflow_intake.entrypoints.api import router
from sealflow_intake.entrypoints.documents import router as documents_router
from sealflow_intake.entrypoints.limits import RequestLimits
from sealflow_intake.errors import install_error_handlers
from sealflow_runtime.bus import durable_subscriber, make_broker
from sealflow_runtime.deadletter import parse_or_poison
from sealflow_runtime import metrics
from sealflow_runtime.service import Runtime, build_runtime, create_service_app
from sealflow_runtime.telemetry import matter_from_path


def build() -> tuple[Runtime, FastAPI]:
    settings = IntakeSettings()
    broker = make_broker(settings.nats_url)
    rt = build_runtime("intake", settings, broker)

    @durable_subscriber(broker, subjects.MATTER_UPDATED, "intake-matter-updated")
    async def matter_updated(body: dict) -> None:
        update = parse_or_poison(m.MatterUpdated, body)
        # Trail first: a snapshot is never newer than the entries it announces.
        await readmodel.add_trail_entries(rt.db, update.new_trail_entries)
        await readmodel.apply_snapshot(rt.db, update.matter, update.version)

    async def on_start(runtime: Runtime) -> None:
        await readmodel.ensure_indexes(runtime.db)
        await runtime.db.idempotency.create_index("created_at")
        # round_robin spreads verifications over every signing replica the address resolves to.
        channel = grpc.aio.insecure_channel(settings.signing_grpc_addr, options=[("grpc.lb_policy_name", "round_robin")])
        runtime.extras["grpc_channel"] = channel
        app.state.verification = pb_grpc.SealVerificationStub(channel)
        app.state.documents = pb_grpc.SealedDocumentsStub(channel)

    async def on_stop(runtime: Runtime) -> None:
        await runtime.extras["grpc_channel"].close()

    async def count_tasks(runtime: Runtime) -> None:
        counts = await readmodel.task_counts(runtime.db)
        metrics.OPEN_TASKS.clear()
        metrics.OVERDUE_TASKS.clear()
        for matter_type, (opened, overdue) in counts.items():
            metrics.OPEN_TASKS.labels(matter_type=matter_type).set(opened)
            metrics.OVERDUE_TASKS.labels(matter_type=matter_type).set(overdue)

    rt.on_scrape.append(count_tasks)

    app = create_service_app(rt, on_start=on_start, on_stop=on_stop)
    app.state.runtime = rt
    app.state.authenticator = Authenticator(settings, broker)
    install_error_handlers(app)
    app.add_middleware(RequestLimits, max_body_bytes=settings.max_body_bytes)
    app.include_router(router, dependencies=[Depends(matter_from_path)])
    app.include_router(documents_router, dependencies=[Depends(matter_from_path)])
    app.include_router(supervision.router, dependencies=[Depends(matter_from_path)])
    app.include_router(turns.router, dependencies=[Depends(matter_from_path)])
    app.include_router(admin.router)
    if settings.dev_login:
        app.include_router(devlogin.router)
    console.mount(app)
    return rt, app
