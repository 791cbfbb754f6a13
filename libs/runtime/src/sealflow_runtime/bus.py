"""The JetStream stream, durable subscribers with an ack policy that never loses work, and RPC replies."""

from collections.abc import Awaitable, Callable
from typing import Any

from faststream import AckPolicy
from faststream.nats import ConsumerConfig, JStream, NatsBroker, PullSub
from pydantic import BaseModel, ValidationError

from sealflow_contracts.messages import RpcError, RpcReply
from sealflow_contracts.subjects import STREAM_NAME, STREAM_SUBJECTS

# Every service declares the same stream; JetStream keeps one. The duplicate window is what makes
# the outbox relay's re-publication after a crash harmless (Nats-Msg-Id = event id).
STREAM = JStream(STREAM_NAME, subjects=STREAM_SUBJECTS, duplicate_window=600.0)


def make_broker(nats_url: str) -> NatsBroker:
    return NatsBroker(nats_url, graceful_timeout=15.0, max_reconnect_attempts=-1)


def durable_subscriber(broker: NatsBroker, subject: str, durable: str, *, max_deliver: int = 30):
    """A pull consumer shared by every replica of a service under one durable name.

    An exception nacks the message for redelivery (FastStream's default would terminate it and lose
    the work); handlers raise `NackMessage(delay=...)` to wait for something, `RejectMessage` for poison.
    """
    return broker.subscriber(
        subject,
        stream=STREAM,
        durable=durable,
        pull_sub=PullSub(batch_size=16, timeout=1.0),
        config=ConsumerConfig(max_deliver=max_deliver, ack_wait=30),
        ack_policy=AckPolicy.NACK_ON_ERROR,
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


async def rpc_call(broker: NatsBroker, subject: str, request: BaseModel, timeout: float = 10.0) -> RpcReply:
    response = await broker.request(request.model_dump(mode="json"), subject, timeout=timeout)
    return RpcReply.model_validate(await response.decode())
