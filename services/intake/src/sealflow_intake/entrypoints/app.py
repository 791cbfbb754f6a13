"""intake's process: the HTTP API, the read-model consumer, the gRPC client to signing."""

from fastapi import Depends, FastAPI
from sealflow_contracts import messages as m
from sealflow_contracts import subjects
from sealflow_runtime import metrics
from sealflow_runtime.bus import durable_subscriber, make_broker, rpc_reply
from sealflow_runtime.deadletter import parse_or_poison
from sealflow_runtime.service import Runtime, build_runtime, create_service_app
from sealflow_runtime.telemetry import matter_from_path

from sealflow_intake import alerts
from sealflow_intake.adapters import readmodel
from sealflow_intake.adapters.signing import Signing
from sealflow_intake.auth import Authenticator
from sealflow_intake.config import IntakeSettings
from sealflow_intake.entrypoints import admin, console, devlogin, evidence, seals_admin, supervision, town, turns, villager
from sealflow_intake.entrypoints import alerts as alerts_api
from sealflow_intake.entrypoints.api import router
from sealflow_intake.entrypoints.documents import router as documents_router
from sealflow_intake.entrypoints.limits import PublicRateLimit, RequestLimits
from sealflow_intake.errors import install_error_handlers


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
        # issue 15: the integrity rules this change can affect (idempotent: an alert is kept by its key)
        await alerts.evaluate(rt, update.matter_id, {e["type"] for e in update.new_trail_entries})

    # Not durable and no queue group: every intake replica hears it and forgets the people it cached, so a
    # deactivated person is refused at once everywhere (the cache's expiry is only the backstop).
    @broker.subscriber(subjects.DIRECTORY_CHANGED)
    async def directory_changed(body: dict) -> None:
        app.state.authenticator.forget(body.get("person_ids") or None)

    # signing embeds each attachment in the sealed PDF: it reads the bytes from here, in chunks.
    @broker.subscriber(subjects.RPC_ATTACHMENT, queue="intake")
    async def attachment_chunk(body: dict) -> dict:
        return await rpc_reply(lambda: readmodel.attachment_chunk(rt.db, m.AttachmentChunkQuery.model_validate(body)))

    async def on_start(runtime: Runtime) -> None:
        await readmodel.ensure_indexes(runtime.db)
        await alerts.ensure_indexes(runtime.db)
        await runtime.db.idempotency.create_index("created_at")
        app.state.signing = Signing.connect(settings)  # routes get it through entrypoints.deps.signing

    async def on_stop(runtime: Runtime) -> None:
        await app.state.signing.close()

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
    app.state.public_limit = PublicRateLimit(settings.public_rate_per_minute, settings.public_rate_burst)
    install_error_handlers(app)
    app.add_middleware(RequestLimits, max_body_bytes=settings.max_body_bytes)
    app.include_router(router, dependencies=[Depends(matter_from_path)])
    app.include_router(documents_router, dependencies=[Depends(matter_from_path)])
    app.include_router(supervision.router, dependencies=[Depends(matter_from_path)])
    app.include_router(turns.router, dependencies=[Depends(matter_from_path)])
    app.include_router(villager.router, dependencies=[Depends(matter_from_path)])
    app.include_router(villager.public_router)
    app.include_router(evidence.router, dependencies=[Depends(matter_from_path)])
    app.include_router(evidence.public_router)
    app.include_router(alerts_api.router)
    app.include_router(admin.router)
    app.include_router(seals_admin.router)
    app.include_router(town.router)
    if settings.dev_login:
        app.include_router(devlogin.router)
    console.mount(app)
    return rt, app
