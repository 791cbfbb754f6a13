"""Bad input gets a clear error and changes nothing: poison messages published straight onto every
consumed subject end in the dead-letter stream with their reason, without blocking the rest; oversize,
wrongly typed and broken HTTP requests get 4xx in the contract's shape."""

import asyncio
import base64
import json

import httpx
import nats
import pytest
from sealflow_cli.stack import Stack
from sealflow_contracts.subjects import DEAD_LETTER_STREAM, STREAM_NAME

from tests.support.api import Api, seed_submission, wait_for

pytestmark = pytest.mark.e2e

POISON = {
    "not JSON": b"{this is not json",
    "invalid": json.dumps({"hello": "world"}).encode(),
    "over the": json.dumps({"matter_id": "x", "padding": "x" * 600_000}).encode(),
}


async def _consumers_and_dead_letters(nats_url: str, publish: bool) -> tuple[dict[str, str], list[dict]]:
    client = await nats.connect(nats_url)
    try:
        js = client.jetstream()
        consumers = {c.name: c.config.filter_subject for c in await js.consumers_info(STREAM_NAME) if c.config.filter_subject}
        if publish:
            for subject in sorted(set(consumers.values())):
                for payload in POISON.values():
                    await js.publish(subject, payload)
        info = await js.stream_info(DEAD_LETTER_STREAM)
        letters = []
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            letters.append(json.loads((await js.get_msg(DEAD_LETTER_STREAM, seq)).data))
        return consumers, letters
    finally:
        await client.close()


def test_poison_messages_on_every_subject_are_dead_lettered_with_a_reason(stack: Stack, api: Api) -> None:
    consumers, _ = asyncio.run(_consumers_and_dead_letters(stack.nats_url, publish=True))
    assert len(consumers) >= 10, consumers

    def every_consumer_dead_lettered_every_kind() -> list[dict] | None:
        _, letters = asyncio.run(_consumers_and_dead_letters(stack.nats_url, publish=False))
        for consumer in consumers:
            reasons = [d["reason"] for d in letters if d["consumer"] == consumer]
            if not all(any(kind in reason for reason in reasons) for kind in POISON):
                return None
        return letters

    letters = wait_for(every_consumer_dead_lettered_every_kind, timeout=120, what="a dead letter per consumer and kind of poison")
    invalid = next(d for d in letters if "invalid" in d["reason"])
    assert invalid["original"] == {"hello": "world"} and invalid["subject"] in consumers.values()
    broken = next(d for d in letters if "not JSON" in d["reason"])
    assert base64.b64decode(broken["original"]["base64"]) == POISON["not JSON"]

    # The poison blocked nothing: a matter submitted now still reaches its first signers.
    with api.as_("jiulian-bookkeeper") as bookkeeper:
        matter = bookkeeper.post("/v1/matters", json=seed_submission(title="毒消息之后")).json()
    with api.as_("jiulian-director") as director:
        wait_for(lambda: director.get("/v1/inbox", params={"matter_id": matter["id"]}).json()["items"], what="the director's inbox entry")


def test_oversize_wrongly_typed_and_broken_requests_get_4xx(api: Api) -> None:
    with api.as_("jiulian-bookkeeper") as bookkeeper:
        before = len(bookkeeper.get("/v1/matters", params={"mine": "true", "limit": 200}).json()["items"])
        too_big = seed_submission()
        too_big["attachments"] = [
            {
                "filename": "big.bin",
                "content_type": "application/octet-stream",
                "content_base64": base64.b64encode(b"0" * (11 * 1024 * 1024)).decode(),
            }
        ]
        response = bookkeeper.post("/v1/matters", json=too_big)
        assert response.status_code == 413 and response.json()["error"]["code"] == "payload_too_large"

        huge_body = b'{"title": "' + b"x" * (41 * 1024 * 1024) + b'"}'
        response = bookkeeper.post("/v1/matters", content=huge_body, headers={"Content-Type": "application/json"})
        assert response.status_code == 413 and response.json()["error"]["code"] == "payload_too_large"

        def chunks():
            yield b'{"title": "'
            for _ in range(42):
                yield b"x" * (1024 * 1024)
            yield b'"}'

        response = bookkeeper.post("/v1/matters", content=chunks(), headers={"Content-Type": "application/json"})
        assert response.status_code == 413 and response.json()["error"]["code"] == "payload_too_large"

        response = bookkeeper.post("/v1/matters", content=json.dumps(seed_submission()), headers={"Content-Type": "text/plain"})
        assert response.status_code == 415 and response.json()["error"]["code"] == "unsupported_media_type"

        response = bookkeeper.post("/v1/matters", content=b'{"village_id": "jiulian",', headers={"Content-Type": "application/json"})
        assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_request"

        response = bookkeeper.post(
            "/v1/matters",
            json={**seed_submission(), "attachments": [{"filename": "a", "content_type": "text/plain", "content_base64": "***"}]},
        )
        assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_request"

        after = len(bookkeeper.get("/v1/matters", params={"mine": "true", "limit": 200}).json()["items"])
        assert after == before, "a refused submission left a matter behind"
    with httpx.Client(base_url=api.base_url, timeout=30) as anyone:
        response = anyone.post("/v1/verify", content=b"approval", headers={"Content-Type": "text/plain"})
        assert response.status_code == 415 and response.json()["error"]["code"] == "unsupported_media_type"
