"""Poison messages: a message that does not fit its contract, or keeps failing, is published to the
dead-letter stream with the reason and the original, then terminated so it does not block the rest."""

import base64
import json
import os
from typing import Any, TypeVar

from faststream.nats import NatsBroker
from pydantic import BaseModel, ValidationError
from sealflow_contracts.messages import utcnow
from sealflow_contracts.subjects import DEAD_LETTER_PREFIX, DEAD_LETTER_STREAM, DEAD_LETTER_SUBJECTS

M = TypeVar("M", bound=BaseModel)


class PoisonMessage(Exception):
    """Raised by a handler for a message that can never succeed; the subscriber dead-letters it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse_or_poison(model: type[M], body: Any) -> M:
    """Validate a message against its contract; one that does not fit is poison, not worth retrying."""
    try:
        return model.model_validate(body)
    except ValidationError as invalid:
        raise PoisonMessage(f"invalid {model.__name__}: {invalid}") from invalid


def readable(payload: bytes) -> Any:
    """The original as JSON when it is JSON, else as base64, so operators can read or replay it."""
    try:
        return json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        return {"base64": base64.b64encode(payload).decode()}


async def ensure_dead_letter_stream(broker: NatsBroker) -> None:
    js = broker.config.connection_state.stream
    try:
        await js.stream_info(DEAD_LETTER_STREAM)
    except Exception:  # not there yet: create it (a racing replica's create is harmless)
        # As many replicas as the main stream (bus.STREAM_REPLICAS): a dead letter must outlive a node too.
        replicas = int(os.environ.get("SEALFLOW_STREAM_REPLICAS", "1"))
        await js.add_stream(name=DEAD_LETTER_STREAM, subjects=DEAD_LETTER_SUBJECTS, max_age=90 * 24 * 3600, num_replicas=replicas)


async def publish_dead_letter(
    broker: NatsBroker,
    *,
    consumer: str,
    subject: str,
    original: bytes,
    reason: str,
    stream_seq: int | None,
    deliveries: int | None,
    msg_id: str | None = None,
) -> None:
    entry = {
        "consumer": consumer,
        "subject": subject,
        "reason": reason,
        "stream_seq": stream_seq,
        "deliveries": deliveries,
        "original": readable(original),
        "at": utcnow().isoformat(),
    }
    # Subject per consumer (`sealflow.dlq.routing-seal-applied`); one entry per original message however
    # often this runs (Nats-Msg-Id de-duplicates).
    if msg_id is None and stream_seq is not None:
        msg_id = f"{consumer}:{stream_seq}"
    await broker.publish(
        entry,
        f"{DEAD_LETTER_PREFIX}.{consumer}",
        headers={"Nats-Msg-Id": msg_id} if msg_id else None,
        stream=DEAD_LETTER_STREAM,
        timeout=5.0,
    )
