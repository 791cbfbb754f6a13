"""Outbound channels: signed webhooks, DingTalk robot webhooks, e-mail over SMTP. Each `send` raises
`DeliveryFailed` when the other side did not take the message (the worker retries it)."""

import asyncio
import base64
import hashlib
import hmac
import json
import smtplib
import time
import urllib.parse
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import httpx

SIGNATURE_HEADER = "X-Sealflow-Signature"
TIMESTAMP_HEADER = "X-Sealflow-Timestamp"
DELIVERY_HEADER = "X-Sealflow-Delivery"


class DeliveryFailed(Exception):
    """A channel refused or could not take a delivery; it is retried with backoff, then dead-lettered."""


def webhook_signature(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=<hex>` of HMAC-SHA256(secret, "<timestamp>.<body>"): the timestamp is signed too, so a
    receiver can refuse replays older than a few minutes."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def dingtalk_signed_url(url: str, secret: str, timestamp_ms: int) -> str:
    """DingTalk custom robot 加签: sign = urlencode(base64(HmacSHA256(secret, "<timestamp>\\n<secret>")))."""
    string_to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), string_to_sign, hashlib.sha256).digest()
    sign = urllib.parse.quote_plus(base64.b64encode(digest))
    return f"{url}{'&' if '?' in url else '?'}timestamp={timestamp_ms}&sign={sign}"


class Channels:
    def __init__(self, settings: Any, http: httpx.AsyncClient) -> None:
        self._settings = settings
        self._http = http

    async def send(self, delivery: dict[str, Any]) -> None:
        channel = delivery["channel"]
        if channel == "webhook":
            await self._webhook(delivery)
        elif channel == "dingtalk":
            await self._dingtalk(delivery)
        elif channel == "email":
            await asyncio.to_thread(self._email, delivery)
        else:
            raise DeliveryFailed(f"unknown channel {channel!r}")

    async def _webhook(self, delivery: dict[str, Any]) -> None:
        body = json.dumps(delivery["payload"], ensure_ascii=False, separators=(",", ":")).encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: webhook_signature(delivery["secret"], timestamp, body),
            DELIVERY_HEADER: delivery["_id"],  # the same on every retry: receivers drop repeats by it
        }
        try:
            response = await self._http.post(delivery["target"], content=body, headers=headers)
        except httpx.HTTPError as error:
            raise DeliveryFailed(f"webhook unreachable: {error!r}") from error
        if not 200 <= response.status_code < 300:
            raise DeliveryFailed(f"webhook answered {response.status_code}")

    async def _dingtalk(self, delivery: dict[str, Any]) -> None:
        url = dingtalk_signed_url(delivery["target"], delivery["secret"], int(time.time() * 1000))
        body = {"msgtype": "text", "text": {"content": _with_link(delivery["payload"])}}
        try:
            response = await self._http.post(url, json=body)
            answer = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise DeliveryFailed(f"DingTalk robot unreachable or not JSON: {error!r}") from error
        # DingTalk answers 200 with errcode != 0 for refusals (bad sign, rate limit).
        if response.status_code != 200 or answer.get("errcode") != 0:
            raise DeliveryFailed(f"DingTalk robot refused: {response.status_code} {answer}")

    def _email(self, delivery: dict[str, Any]) -> None:
        s = self._settings
        message = EmailMessage()
        message["Subject"] = delivery["payload"]["subject"]
        message["From"] = s.smtp_from
        message["To"] = delivery["target"]
        message["Message-ID"] = make_msgid(idstring=delivery["_id"].replace(":", "."), domain=s.smtp_from.split("@")[-1])
        message[DELIVERY_HEADER] = delivery["_id"]
        message.set_content(_with_link(delivery["payload"]))
        try:
            with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.delivery_timeout_seconds) as smtp:
                if s.smtp_starttls:
                    smtp.starttls()
                if s.smtp_username:
                    smtp.login(s.smtp_username, s.smtp_password)
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as error:
            raise DeliveryFailed(f"SMTP: {error!r}") from error


def _with_link(payload: dict[str, Any]) -> str:
    """A text message ends with the link to its matter in the console (webhooks carry it as `url`)."""
    return f"{payload['text']}\n查看详情：{payload['url']}" if payload.get("url") else payload["text"]
