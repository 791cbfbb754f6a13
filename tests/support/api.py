"""A tiny client for the HTTP API, acting as one pilot person at a time, and a bounded wait."""

import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx
from sealflow_intake.auth import mint_token

T = TypeVar("T")

# The address people open the console at (SEALFLOW_PUBLIC_URL): https as in production, although the test
# stack serves plain http on loopback — a QR code's URL is checked by its prefix, then opened on the stack.
PUBLIC_URL = "https://sealflow.test/app/"


class Api:
    def __init__(self, base_url: str, jwt_secret: str) -> None:
        self.base_url = base_url
        self._secret = jwt_secret

    def as_(self, person_id: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.base_url, headers={"Authorization": f"Bearer {mint_token(person_id, self._secret)}"}, timeout=30.0
        )

    def anonymous(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=30.0)


def wait_for(check: Callable[[], T | None], *, timeout: float = 60.0, what: str = "condition") -> T:
    """Poll until `check` returns something truthy; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.1)


def seed_submission(title: str = "村级保洁服务招标呈报表", amount_fen: int = 12_000_000) -> dict[str, Any]:
    """The pilot's seed case: a village cleaning-service tender from 久联村."""
    return {
        "village_id": "jiulian",
        "matter_type": "service_procurement",
        "title": title,
        "amount_fen": amount_fen,
        # The pilot form of service_procurement (routing's pilot data): keys, types and options as it defines them.
        "fields": {
            "project_name": "2027年度村级保洁服务",
            "procurement_method": "公开招标",
            "budget_fen": amount_fen,
            "service_period": "2027年1月1日至2027年12月31日",
            "service_start": "2027-01-01",
            "counterparty": "益农保洁服务有限公司",
            "funding_source": "村集体经济收入",
        },
        "attachments": [
            {"filename": "招标公告.txt", "content_type": "text/plain", "content_base64": "5oub5qCH5YWs5ZGK"},
        ],
    }
