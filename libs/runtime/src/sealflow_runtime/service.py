"""The process shell every service shares: FastAPI with /healthz, /readyz, /metrics; the broker, the
MongoDB client and the outbox relay started in the lifespan and stopped in the right order."""

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI
from fastapi.responses import JSONResponse, PlainTextResponse
from faststream.nats import NatsBroker
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from sealflow_runtime.bus import listen_for_exhausted_deliveries
from sealflow_runtime.deadletter import ensure_dead_letter_stream
from sealflow_runtime.logs import configure_logging
from sealflow_runtime.metrics import HTTP_REQUEST_SECONDS
from sealflow_runtime.mongo import connect, ping
from sealflow_runtime.outbox import OutboxRelay
from sealflow_runtime.settings import ServiceSettings
from sealflow_runtime.telemetry import instrument_http, setup_tracing, shutdown_tracing


@dataclass
class Runtime:
    """What a service's handlers are given: its database, the broker, and the relay to wake after commits."""

    name: str
    settings: ServiceSettings
    client: AsyncMongoClient
    db: AsyncDatabase
    broker: NatsBroker
    relay: OutboxRelay
    log: Any
    extras: dict[str, Any] = field(default_factory=dict)
    # Awaited before each /metrics scrape: gauges computed from the service's own store.
    on_scrape: list[Callable[["Runtime"], Awaitable[None]]] = field(default_factory=list)


Hook = Callable[[Runtime], Awaitable[None]]


def build_runtime(name: str, settings: ServiceSettings, broker: NatsBroker) -> Runtime:
    log = configure_logging(name, settings.log_level)
    setup_tracing(name)  # before the MongoDB client: pymongo's command listeners are fixed at creation
    client = connect(settings.mongo_uri)
    db = client[settings.db_name or f"sealflow_{name.replace('-', '_')}"]
    listen_for_exhausted_deliveries(broker, name)
    return Runtime(name, settings, client, db, broker, OutboxRelay(db, broker, poll_interval=settings.outbox_poll_seconds, log=log), log)


def create_service_app(runtime: Runtime, *, on_start: Hook | None = None, on_stop: Hook | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if on_start:
            await on_start(runtime)
        await runtime.broker.start()
        await ensure_dead_letter_stream(runtime.broker)
        relay_task = asyncio.create_task(runtime.relay.run(), name="outbox-relay")
        runtime.log.info("service started", http_port=runtime.settings.http_port)
        try:
            yield
        finally:
            # Drain subscriptions first (in-flight handlers finish), then flush the outbox, then close clients.
            await runtime.broker.stop()
            runtime.relay.stop()
            try:
                await asyncio.wait_for(relay_task, timeout=10)
            except Exception as error:
                runtime.log.warning("outbox relay did not flush", error=str(error))
            if on_stop:
                await on_stop(runtime)
            await runtime.client.close()
            runtime.log.info("service stopped")
            shutdown_tracing()

    app = FastAPI(title=f"sealflow-{runtime.name}", lifespan=lifespan)
    add_probes(app, runtime)
    app.add_middleware(_RequestMetrics)
    instrument_http(app)
    return app


class _RequestMetrics:
    """Request latency by route template (`/v1/matters/{matter_id}`), never the raw path."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        status = 500
        started = time.perf_counter()

        async def send_and_note(message: dict) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            HTTP_REQUEST_SECONDS.labels(method=scope["method"], route=route, status=str(status)).observe(time.perf_counter() - started)


def add_probes(app: FastAPI, runtime: Runtime) -> None:
    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict:
        return {"status": "ok", "service": runtime.name}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        checks = {"mongodb": await ping(runtime.db), "nats": await runtime.broker.ping(timeout=2.0)}
        ready = all(checks.values())
        return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> PlainTextResponse:
        for refresh in runtime.on_scrape:
            try:
                await refresh(runtime)
            except Exception as error:  # a scrape still answers with what it has
                runtime.log.warning("metrics refresh failed", error=str(error))
        return PlainTextResponse(generate_latest().decode(), media_type=CONTENT_TYPE_LATEST)


def serve(app: FastAPI, settings: ServiceSettings) -> None:
    """Run under uvicorn; SIGTERM and Ctrl-C both drain gracefully through the lifespan."""
    config = uvicorn.Config(app, host=settings.http_host, port=settings.http_port, log_level="warning", lifespan="on")
    uvicorn.Server(config).run()
