"""The JetStream stream, durable subscribers with an ack policy that never loses work, and RPC replies."""

import asyncio
import functools
import json
import logging
import os
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

import nats.errors
import structlog
from faststream import AckPolicy
from faststream.exceptions import AckMessage, NackMessage, RejectMessage
from faststream.nats import ConsumerConfig, JStream, NatsBroker, PullSub
from faststream.nats.annotations import NatsMessage
from faststream.nats.opentelemetry import NatsTelemetryMiddleware
from faststream.security import SASLPlaintext
from nats.js.client import JetStreamContext
from opentelemetry.trace import TracerProvider
from pydantic import BaseModel, ValidationError
from pymongo.errors import ConnectionFailure
from sealflow_contracts.access import inbox_prefix
from sealflow_contracts.messages import RpcError, RpcReply
from sealflow_contracts.subjects import STREAM_NAME, STREAM_SUBJECTS

from sealflow_runtime.deadletter import PoisonMessage, publish_dead_letter
from sealflow_runtime.telemetry import EnvelopeMiddleware

logger = structlog.get_logger()

# Every service declares the same stream; JetStream keeps one. The duplicate window is what makes
# the outbox relay's re-publication after a crash harmless (Nats-Msg-Id = event id).
# Replicas: 1 on one nats-server; 3 on a three-node cluster (`sealflow up --nats-cluster 3`, production), so the
# stream survives the loss of a node. Every service must declare the same count (JetStream keeps one stream).
STREAM_REPLICAS = int(os.environ.get("SEALFLOW_STREAM_REPLICAS", "1"))
STREAM = JStream(STREAM_NAME, subjects=STREAM_SUBJECTS, duplicate_window=600.0, num_replicas=STREAM_REPLICAS)


def fetch_timeouts_as_documented(fetch: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """nats-py 2.15-2.16 lets a bare TimeoutError out of `PullSubscription.fetch` when the deadline runs out between
    its two pull requests (nats-io/nats.py#1008, not yet released). FastStream's pull loop catches only
    `nats.errors.TimeoutError`, so the loop died with an ERROR and a traceback and its supervisor restarted it:
    harmless, but an alarm for whoever reads the logs at 3 a.m. Same meaning, the documented type."""
    if getattr(fetch, "raises_documented_timeouts", False):
        return fetch

    @functools.wraps(fetch)
    async def fetch_with_documented_timeouts(*args: Any, **kwargs: Any) -> Any:
        try:
            return await fetch(*args, **kwargs)
        except nats.errors.TimeoutError:
            raise
        except TimeoutError as bare:
            raise nats.errors.TimeoutError from bare

    fetch_with_documented_timeouts.raises_documented_timeouts = True
    return fetch_with_documented_timeouts


JetStreamContext.PullSubscription.fetch = fetch_timeouts_as_documented(JetStreamContext.PullSubscription.fetch)


def make_broker(nats_url: str, tracer_provider: TracerProvider | None = None) -> NatsBroker:
    """The service's broker. Trace context rides in NATS headers; without a provider the global one
    (`telemetry.setup_tracing`, called by `build_runtime`) is used, even if installed later."""
    # The envelope's matter id is put in scope first, so every span of the delivery carries it.
    middlewares = [EnvelopeMiddleware, NatsTelemetryMiddleware(tracer_provider=tracer_provider)]
    # The service's own NATS user from its settings (SEALFLOW_NATS_USER / SEALFLOW_NATS_PASSWORD): the server
    # allows it only its own subjects (sealflow_contracts.access). Read here so no service wires it by hand.
    from sealflow_runtime.settings import ServiceSettings

    identity = ServiceSettings()
    credentials: dict[str, Any] = {}
    if identity.nats_user:
        credentials["security"] = SASLPlaintext(username=identity.nats_user, password=identity.nats_password)
        # Replies to this service come to its own inbox prefix, the only inbox it may subscribe to: no service
        # can listen in on the answers another one is waiting for (sealflow_contracts.access.inbox_prefix).
        credentials["inbox_prefix"] = inbox_prefix(identity.nats_user)
    # Several comma-separated URLs are a cluster's nodes: the client connects to any and fails over.
    servers = [url.strip() for url in nats_url.split(",") if url.strip()]
    # A plain stdlib logger: `logs.configure_logging` renders its records as JSON like everything else.
    return NatsBroker(
        servers,
        graceful_timeout=15.0,
        max_reconnect_attempts=-1,
        middlewares=middlewares,
        logger=logging.getLogger("sealflow.bus"),
        **credentials,
    )


def _own_inbox_prefix() -> bytes:
    from sealflow_runtime.settings import ServiceSettings

    user = ServiceSettings().nats_user
    return f"{inbox_prefix(user)}.".encode() if user else b"_INBOX."


MAX_DELIVER = 50
MAX_RETRY_DELAY = 30.0
# No message of ours comes near this (a matter's full view is a few tens of kB); anything bigger is not ours.
MAX_MESSAGE_BYTES = int(os.environ.get("SEALFLOW_MAX_MESSAGE_BYTES", 512 * 1024))


# Durable consumers of this process, so the max-deliveries advisory listener knows which are its own.
OWN_DURABLES: set[str] = set()


def retry_delay(deliveries: int, cap: float = MAX_RETRY_DELAY) -> float:
    """Exponential backoff with jitter: 0.2 s, 0.4 s, ... up to `cap`, so a database outage is ridden out."""
    return min(cap, 0.2 * 2 ** min(deliveries - 1, 16)) * random.uniform(0.5, 1.0)


ACK_WAIT = 30.0
# How long a handler waits, holding its message, for a dependency that does not answer (see `_patiently`).
DEPENDENCY_PATIENCE = float(os.environ.get("SEALFLOW_DEPENDENCY_PATIENCE_SECONDS", "120"))


async def _keep_alive(message: NatsMessage) -> None:
    """Tell JetStream the message is being worked on (+WPI), so a handler slower than `ack_wait` (PDF work on
    a busy machine) is not redelivered — and counted as a failed delivery — while it is still working."""
    while True:
        await asyncio.sleep(ACK_WAIT / 3)
        try:
            await message.raw_message.in_progress()
        except Exception:  # the connection is away: the redelivery after ack_wait is the fallback
            return


def durable_subscriber(broker: NatsBroker, subject: str, durable: str, *, max_deliver: int = MAX_DELIVER, batch_size: int = 16):
    """A pull consumer shared by every replica of a service under one durable name.

    The handler receives the decoded JSON body. A failure is retried with backoff (never acked away;
    FastStream's default would terminate it); `PoisonMessage` and the last failed delivery go to the
    dead-letter stream with the reason. A message that must wait for another is not retried until that
    happens (a bounded retry turns a long delay into a dead letter): its handler keeps it durably and
    acknowledges it, and whatever it waits for releases it (signing's `adapters/waiting.py`).

    A fetched batch waits in the process while its messages are handled one by one, and its ack_wait runs
    all that time: slow handlers (seconds each) take `batch_size=1`, or a busy machine turns slowness into
    redeliveries and, after `max_deliver` of them, into a dead letter (seen in the 300-matter chaos run).
    """
    OWN_DURABLES.add(durable)
    subscriber = broker.subscriber(
        subject,
        stream=STREAM,
        durable=durable,
        pull_sub=PullSub(batch_size=batch_size, timeout=1.0),
        config=ConsumerConfig(max_deliver=max_deliver, ack_wait=ACK_WAIT),
        ack_policy=AckPolicy.NACK_ON_ERROR,
        # FastStream pulls into `_INBOX.` whatever the connection's prefix: use the service's own (make_broker)
        inbox_prefix=_own_inbox_prefix(),
    )

    def register(handler: Callable[[Any], Awaitable[None]]):
        async def consume(message: NatsMessage) -> None:
            deliveries = message.raw_message.metadata.num_delivered
            stream_seq = message.raw_message.metadata.sequence.stream

            async def dead_letter(reason: str, cause: Exception) -> None:
                await publish_dead_letter(
                    broker,
                    consumer=durable,
                    subject=message.raw_message.subject,
                    original=message.body,
                    reason=reason,
                    stream_seq=stream_seq,
                    deliveries=deliveries,
                )
                logger.error("message dead-lettered", consumer=durable, reason=reason)
                raise RejectMessage() from cause

            heartbeat = asyncio.create_task(_keep_alive(message))
            try:
                body = _decode(message.body)
                await _patiently(lambda: handler(body), durable)
            except (NackMessage, RejectMessage, AckMessage):
                raise
            except Exception as error:
                poison = isinstance(error, PoisonMessage)
                if not poison and deliveries < max_deliver:
                    logger.warning("handler failed; will retry", consumer=durable, deliveries=deliveries, error=repr(error))
                    raise NackMessage(delay=retry_delay(deliveries)) from error
                await dead_letter(error.reason if poison else f"failed {deliveries} times; last error: {error!r}", error)
            finally:
                heartbeat.cancel()

        consume.__name__ = handler.__name__
        consume.__doc__ = handler.__doc__
        return subscriber(consume)

    return register


async def _patiently(run: Callable[[], Awaitable[None]], consumer: str) -> None:
    """Run a handler; while a dependency does not answer (another service restarting, the database
    failing over), wait and run it again here, holding the message, for up to DEPENDENCY_PATIENCE.

    Redelivering instead would count every try against `max_deliver`, and worse: a failing delivery is
    instant while a good one takes seconds, so during an outage a consumer races through its whole backlog
    and each message spends its deliveries exactly while the dependency is away (the 300-matter chaos run
    dead-lettered 16 document requests this way while intake restarted). Handlers are idempotent
    (at-least-once delivery), so running one again is safe."""
    deadline = time.monotonic() + DEPENDENCY_PATIENCE
    attempt = 0
    while True:
        try:
            await run()
            return
        except (ServiceUnavailable, ConnectionFailure) as error:
            attempt += 1
            left = deadline - time.monotonic()
            if left <= 0:
                raise
            logger.info("dependency unavailable; waiting", consumer=consumer, attempt=attempt, error=repr(error))
            await asyncio.sleep(min(retry_delay(attempt, cap=5.0), left))


def _decode(body: bytes) -> Any:
    if len(body) > MAX_MESSAGE_BYTES:
        raise PoisonMessage(f"message of {len(body)} bytes is over the {MAX_MESSAGE_BYTES}-byte limit")
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise PoisonMessage(f"not JSON: {error}") from error


def listen_for_exhausted_deliveries(broker: NatsBroker, service: str) -> None:
    """A message whose every delivery crashed the process or timed out never reaches the handler's last
    attempt: JetStream announces it in an advisory, and this dead-letters the original."""

    @broker.subscriber(f"$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.{STREAM_NAME}.*", queue=f"{service}-advisories")
    async def exhausted(advisory: dict) -> None:
        consumer = advisory.get("consumer")
        if consumer not in OWN_DURABLES:
            return
        original = await broker.config.connection_state.stream.get_msg(STREAM_NAME, advisory["stream_seq"])
        await publish_dead_letter(
            broker,
            consumer=consumer,
            subject=original.subject,
            original=original.data or b"",
            reason=f"delivered {advisory.get('deliveries')} times without an answer (the handler crashed or timed out each time)",
            stream_seq=advisory["stream_seq"],
            deliveries=advisory.get("deliveries"),
        )


class DomainRefusal(Exception):
    """A request refused for a reason the caller must see (code + message), e.g. `not_your_turn`."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


async def rpc_reply(work: Callable[[], Awaitable[Any]]) -> dict[str, Any]:
    """Turn a responder's outcome into an `RpcReply`: a raised exception would send no reply at all."""
    try:
        result = await work()
    except DomainRefusal as refusal:
        return RpcReply(ok=False, error=RpcError(code=refusal.code, message=refusal.message)).model_dump(mode="json")
    except ValidationError as invalid:
        return RpcReply(ok=False, error=RpcError(code="invalid_request", message=str(invalid))).model_dump(mode="json")
    if isinstance(result, BaseModel):
        result = result.model_dump(mode="json")
    return RpcReply(ok=True, result=result).model_dump(mode="json")


class ServiceUnavailable(Exception):
    """Nobody answered a request in time (the responder is down, restarting or overloaded): try again."""


async def rpc_call(broker: NatsBroker, subject: str, request: BaseModel, timeout: float = 10.0) -> RpcReply:
    try:
        response = await broker.request(request.model_dump(mode="json"), subject, timeout=timeout)
    except (TimeoutError, nats.errors.NoRespondersError, nats.errors.ConnectionClosedError) as error:
        raise ServiceUnavailable(f"{subject}: {error!r}") from error
    return RpcReply.model_validate(await response.decode())
