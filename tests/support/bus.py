"""Looking into the real JetStream streams from tests: dead letters, commands on their way, consumers."""

import json
from typing import Any

import nats
from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import ConsumerInfo
from sealflow_contracts.subjects import DEAD_LETTER_STREAM, STREAM_NAME


async def _jetstream(nats_url: str):
    client = await nats.connect(nats_url)
    return client, client.jetstream()


async def dead_letters(nats_url: str) -> list[dict[str, Any]]:
    """Every entry of the dead-letter stream, oldest first."""
    client, js = await _jetstream(nats_url)
    try:
        info = await js.stream_info(DEAD_LETTER_STREAM)
        if info.state.messages == 0:
            return []
        return [
            json.loads((await js.get_msg(DEAD_LETTER_STREAM, seq)).data) for seq in range(info.state.first_seq, info.state.last_seq + 1)
        ]
    finally:
        await client.close()


async def stored_commands(nats_url: str, subject: str, matter_id: str) -> list[tuple[int, dict[str, Any]]]:
    """(stream sequence, body) of every message on `subject` about the matter still in the stream."""
    client, js = await _jetstream(nats_url)
    try:
        found, info = [], await js.stream_info(STREAM_NAME)
        reader = await js.pull_subscribe(subject, stream=STREAM_NAME)  # an ephemeral consumer: reads, acks nothing shared
        try:
            while True:
                try:
                    batch = await reader.fetch(256, timeout=1.0)
                except NatsTimeout:
                    break
                for msg in batch:
                    body = json.loads(msg.data)
                    if body.get("matter_id") == matter_id:
                        found.append((msg.metadata.sequence.stream, body))
                if batch[-1].metadata.sequence.stream >= info.state.last_seq:
                    break
        finally:
            await reader.unsubscribe()
        return found
    finally:
        await client.close()


async def delete_from_stream(nats_url: str, stream_seq: int) -> None:
    client, js = await _jetstream(nats_url)
    try:
        await js.delete_msg(STREAM_NAME, stream_seq)
    finally:
        await client.close()


async def publish(nats_url: str, subject: str, body: dict[str, Any], msg_id: str) -> None:
    client, js = await _jetstream(nats_url)
    try:
        await js.publish(subject, json.dumps(body).encode(), stream=STREAM_NAME, headers={"Nats-Msg-Id": msg_id})
    finally:
        await client.close()


async def consumer(nats_url: str, durable: str) -> ConsumerInfo:
    client, js = await _jetstream(nats_url)
    try:
        return await js.consumer_info(STREAM_NAME, durable)
    finally:
        await client.close()
