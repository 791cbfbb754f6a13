"""intake's process: the HTTP API, the read-model consumer, the gRPC client to signing."""

import grpc
from fastapi import FastAPI

from sealflow.signing.v1 import verification_pb2_grpc as pb_grpc
from sealflow_contracts import messages as m
from sealflow_contracts import subjects
from sealflow_intake.adapters import readmodel
from sealflow_intake.auth import Authenticator
from sealflow_intake.config import IntakeSettings
from sealflow_intake.entrypoints import admin, turns
from sealflow_intake.entrypoints.api import router
from sealflow_intake.errors import install_error_handlers
from sealflow_runtime.bus import durable_subscriber, make_broker
from sealflow_runtime.deadletter import parse_or_dead_letter
from sealflow_runtime.service import Runtime, build_runtime, create_service_app


def build() -> tuple[Runtime, FastAPI]:
    settings = IntakeSettings()
    broker = make_broker(settings.nats_url)
    rt = build_runtime("intake", settings, broker)

    @durable_subscriber(broker, subjects.MATTER_UPDATED, "intake-matter-updated")
    async def matter_updated(body: dict) -> None:
        update = await parse_or_dead_letter(rt.db, rt.log, m.MatterUpdated, body)
        # Trail first: a snapshot is never newer than the entries it announces.
        await readmodel.add_trail_entries(rt.db, update.new_trail_entries)
        await readmodel.apply_snapshot(rt.db, update.matter, update.version)

    async def on_start(runtime: Runtime) -> None:
        await readmodel.ensure_indexes(runtime.db)
        await runtime.db.idempotency.create_index("created_at")
        channel = grpc.aio.insecure_channel(settings.signing_grpc_addr)
        runtime.extras["grpc_channel"] = channel
        app.state.verification = pb_grpc.SealVerificationStub(channel)

    async def on_stop(runtime: Runtime) -> None:
        await runtime.extras["grpc_channel"].close()

    app = create_service_app(rt, on_start=on_start, on_stop=on_stop)
    app.state.runtime = rt
    app.state.authenticator = Authenticator(settings, broker)
    install_error_handlers(app)
    app.include_router(router)
    app.include_router(turns.router)
    app.include_router(admin.router)
    return rt, app
