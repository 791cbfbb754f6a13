"""The JetStream stream, durable subscribers with an ack policy that never loses work, and RPC replies."""

import functools
import json
import logging
import os
import random
from collections.abc import Awaitable, Callable
from typing import Any

import nats.errors
from nats.js.client import JetStreamContext
import structlog
from faststream import AckPolicy
from faststream.exceptions import AckMessage, NackMessage, RejectMessage
from faststream.nats import ConsumerConfig, JStream, NatsBroker, PullSub
from faststream.nats.annotations import NatsMessage
from faststream.nats.opentelemetry import NatsTelemetryMiddleware
from opentelemetry.trace import TracerProvider
from pydantic import BaseModel, ValidationError

from sealflow_contracts.messages import RpcError, RpcReply
from sealflow_contracts.subjects import STREAM_NAME, STREAM_SUBJECTS
from sealflow_runtime.deadletter import PoisonMessage, publish_dead_letter
from sealflow_runtime.telemetry import EnvelopeMiddleware

logger = structlog.get_logger()

# Every service declares the same stream; JetStream keeps one. The duplicate window is what makes
# the outbox relay's re-publication after a crash harmless (Nats-Msg-Id = event id).
STREAM = JStream(STREAM_NAME, subjects=STREAM_SUBJECTS, duplicate_window=600.0)


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
    # A plain stdlib logger: `logs.configure_logging` renders its records as JSON like everything else.
    return NatsBroker(
        nats_url, graceful_timeout=15.0, max_reconnect_attempts=-1, middlewares=middlewares, logger=logging.getLogger("sealflow.bus")
    )


MAX_DELIVER = 50
MAX_RETRY_DELAY = 30.0
MAX_WAIT_DELAY = 5.0
# No message of ours comes near this (a matter's full view is a few tens of kB); anything bigger is not ours.
MAX_MESSAGE_BYTES = int(os.environ.get("SEALFLOW_MAX_MESSAGE_BYTES", 512 * 1024))


class NotReady(Exception):
    """What this message depends on has not happened yet (e.g. the previous act of a chain): try again
    later. Usually it is milliseconds away; if the replica doing it died, JetStream redelivers that
    after ack_wait — so waits grow with each delivery, and ~4 minutes pass before the budget runs out."""
# Durable consumers of this process, so the max-deliveries advisory listener knows which are its own.
OWN_DURABLES: set[str] = set()


def retry_delay(deliveries: int, cap: float = MAX_RETRY_DELAY) -> float:
    """Exponential backoff with jitter: 0.2 s, 0.4 s, ... up to `cap`, so a database outage is ridden out."""
    return min(cap, 0.2 * 2 ** min(deliveries - 1, 16)) * random.uniform(0.5, 1.0)


def durable_subscriber(broker: NatsBroker, subject: str, durable: str, *, max_deliver: int = MAX_DELIVER):
    """A pull consumer shared by every replica of a service under one durable name.

    The handler receives the decoded JSON body. A failure is retried with backoff (never acked away;
    FastStream's default would terminate it); `PoisonMessage` and the last failed delivery go to the
    dead-letter stream with the reason. Handlers may raise `NackMessage(delay=...)` to wait for something.
    """
    OWN_DURABLES.add(durable)
    subscriber = broker.subscriber(
        subject,
        stream=STREAM,
        durable=durable,
        pull_sub=PullSub(batch_size=16, timeout=1.0),
        config=ConsumerConfig(max_deliver=max_deliver, ack_wait=30),
        ack_policy=AckPolicy.NACK_ON_ERROR,
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

            try:
                await handler(_decode(message.body))
            except (NackMessage, RejectMessage, AckMessage):
                raise
            except NotReady as not_ready:
                if deliveries < max_deliver:
                    raise NackMessage(delay=retry_delay(deliveries, cap=MAX_WAIT_DELAY)) from not_ready
                await dead_letter(f"waited {deliveries} deliveries: {not_ready}", not_ready)
            except Exception as error:
                poison = isinstance(error, PoisonMessage)
                if not poison and deliveries < max_deliver:
                    logger.warning("handler failed; will retry", consumer=durable, deliveries=deliveries, error=repr(error))
                    raise NackMessage(delay=retry_delay(deliveries)) from error
                await dead_letter(error.reason if poison else f"failed {deliveries} times; last error: {error!r}", error)

        consume.__name__ = handler.__name__
        consume.__doc__ = handler.__doc__
        return subscriber(consume)

    return register


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
