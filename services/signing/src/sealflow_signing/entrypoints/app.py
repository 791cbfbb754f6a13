"""signing's process: durable consumers for its commands, the gRPC verification server, the HTTP shell."""

import asyncio
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

from sealflow_contracts import messages as m
from sealflow_contracts import subjects
from sealflow_runtime import metrics
from sealflow_runtime.bus import durable_subscriber, make_broker, rpc_reply
from sealflow_runtime.deadletter import parse_or_poison
from sealflow_runtime.service import Runtime, build_runtime, create_service_app

from sealflow_signing import documents, handlers, pdfwork, seal_admin, trail_log
from sealflow_signing.adapters import store, waiting
from sealflow_signing.adapters.fonts import FormFonts
from sealflow_signing.config import SigningSettings
from sealflow_signing.entrypoints.grpc_server import start_grpc


def build() -> tuple[Runtime, object]:
    settings = SigningSettings()
    broker = make_broker(settings.nats_url)
    rt = build_runtime("signing", settings, broker)

    @durable_subscriber(broker, subjects.REQUEST_SIGNATURE, "signing-request-signature")
    async def request_signature(body: dict) -> None:
        await handlers.on_request_signature(rt, parse_or_poison(m.RequestSignature, body))

    @durable_subscriber(broker, subjects.REQUEST_SEAL, "signing-request-seal")
    async def request_seal(body: dict) -> None:
        await handlers.on_request_seal(rt, parse_or_poison(m.RequestSeal, body))

    @durable_subscriber(broker, subjects.REGISTER_APPROVAL, "signing-register-approval")
    async def register_approval(body: dict) -> None:
        await handlers.on_register_approval(rt, parse_or_poison(m.RegisterApproval, body))

    @durable_subscriber(broker, subjects.REQUEST_DOCUMENT, "signing-request-document", batch_size=1)  # PDF work: seconds per message
    async def request_document(body: dict) -> None:
        await documents.on_request_document(rt, parse_or_poison(m.RequestDocument, body))

    @durable_subscriber(broker, subjects.ADVANCE_DOCUMENT, "signing-advance-document", batch_size=1)  # PDF work: seconds per message
    async def advance_document(body: dict) -> None:
        await documents.on_advance_document(rt, parse_or_poison(m.AdvanceDocument, body))

    # issue 13: a new village's cooperative seal, and the administrator's seal requests
    @durable_subscriber(broker, subjects.VILLAGE_ADDED, "signing-village-added")
    async def village_added(body: dict) -> None:
        await seal_admin.on_village_added(rt, parse_or_poison(m.VillageAdded, body))

    # issue 15: signed trail heads, the trail log and its checkpoints
    @durable_subscriber(broker, subjects.TRAIL_CLOSED, "signing-trail-closed")
    async def trail_closed(body: dict) -> None:
        await trail_log.on_trail_closed(rt, parse_or_poison(m.TrailClosed, body))

    @broker.subscriber(subjects.RPC_TRAIL_LOG, queue="signing")
    async def read_trail_log(body: dict) -> dict:
        return await rpc_reply(lambda: trail_log.handle(rt, m.TrailLogQuery.model_validate(body)))

    @broker.subscriber(subjects.RPC_SEAL_ADMIN, queue="signing")
    async def administer_seals(body: dict) -> dict:
        return await rpc_reply(lambda: seal_admin.handle(rt, m.SealAdminRequest.model_validate(body)))

    async def on_start(runtime: Runtime) -> None:
        await store.ensure_indexes(runtime.db)
        await waiting.ensure_indexes(runtime.db)
        if settings.seed_pilot:
            await store.seed_pilot_seals(runtime.db)
        if len(settings.master_keys()) > 1:  # a rotation is under way: move every key to the current master key
            runtime.extras["key_rotation"] = asyncio.create_task(store.rotate_master_key(runtime.db, settings.master_keys()))
        # One issuer per process; a new CA (configured files) takes effect on restart, as any setting does.
        runtime.extras["ca"] = ca = await store.authority(runtime.db, settings)
        await store.enrich_seals(runtime.db, ca, settings)
        fonts = FormFonts(settings.cjk_font, settings.font_cache_dir)
        runtime.extras["fonts"] = fonts
        # PDF work in its own process (pdfwork.py); "spawn" because this process already runs threads.
        runtime.extras["pdf_pool"] = ProcessPoolExecutor(
            max_workers=settings.pdf_workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=pdfwork.init_worker,
            initargs=(os.getpid(),),
        )
        # The form font's subset takes seconds the first time; make it now, not on the first submission.
        runtime.extras["font_warmup"] = asyncio.create_task(asyncio.to_thread(fonts.subset_path))
        runtime.extras["grpc"] = await start_grpc(runtime)
        runtime.extras["waiting_sweep"] = asyncio.create_task(sweep_waiting_forever(runtime))
        await trail_log.ensure_indexes(runtime)
        runtime.extras["checkpoints"] = asyncio.create_task(trail_log.checkpoint_forever(runtime))

    async def sweep_waiting_forever(runtime: Runtime) -> None:
        while True:
            await asyncio.sleep(settings.waiting_sweep_seconds)
            try:
                await handlers.sweep_waiting(runtime)
            except Exception as error:  # the database is away: next round
                runtime.log.warning("sweep of kept requests failed", error=repr(error))

    async def on_stop(runtime: Runtime) -> None:
        runtime.extras["waiting_sweep"].cancel()
        runtime.extras["checkpoints"].cancel()
        await runtime.extras["grpc"].stop(grace=5)
        runtime.extras["pdf_pool"].shutdown(wait=True, cancel_futures=True)

    async def count_seal_uses(runtime: Runtime) -> None:
        async for row in await runtime.db.seal_uses.aggregate([{"$group": {"_id": "$seal_id", "uses": {"$sum": 1}}}]):
            metrics.SEAL_USES.labels(seal_id=row["_id"]).set(row["uses"])

    rt.on_scrape.append(count_seal_uses)

    return rt, create_service_app(rt, on_start=on_start, on_stop=on_stop)
