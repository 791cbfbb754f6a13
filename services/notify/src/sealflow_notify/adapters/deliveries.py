"""External deliveries as data: one document per (event, recipient, channel, subscription) — its id is
the de-duplication key, so a redelivered event adds nothing — and a worker that sends what is due,
retries with exponential backoff and jitter, and keeps a dead-letter record after the last try.

Claiming is a guarded update_one on `{_id, attempts}` that also pushes `next_attempt_at` a lease ahead:
one replica sends each try; a replica that dies mid-try leaves the delivery to be retried after the lease.
"""

import asyncio
import random
from contextlib import suppress
from datetime import datetime, timedelta
from typing import Any

from prometheus_client import Counter
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError
from sealflow_contracts.messages import utcnow

from sealflow_notify.adapters.channels import Channels, DeliveryFailed

# Deliveries that failed their last try, kept for operators (the bus's poison messages go to SEALFLOW_DLQ).
DEAD_LETTERS = "dead_letters"

DELIVERIES = "deliveries"
OUTCOMES = Counter("sealflow_notify_delivery_attempts_total", "Delivery attempts by channel and outcome", ["channel", "outcome"])


async def ensure_indexes(db: AsyncDatabase) -> None:
    await db[DELIVERIES].create_index([("status", 1), ("next_attempt_at", 1)])


async def enqueue(db: AsyncDatabase, delivery: dict[str, Any]) -> bool:
    """False when this delivery exists already (the event was redelivered)."""
    try:
        await db[DELIVERIES].insert_one(
            {**delivery, "status": "pending", "attempts": 0, "next_attempt_at": utcnow(), "created_at": utcnow(), "errors": []}
        )
        return True
    except DuplicateKeyError:
        return False


def backoff(attempts: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """base × 2^(attempts-1), capped, times a jitter in [0.5, 1.5) so retries of many deliveries spread out."""
    return min(cap, base * 2 ** (attempts - 1)) * (0.5 + (rng or random).random())


class DeliveryWorker:
    def __init__(self, db: AsyncDatabase, channels: Channels, settings: Any, log: Any) -> None:
        self._db = db
        self._channels = channels
        self._s = settings
        self._log = log
        self._wakeup = asyncio.Event()
        self._stopping = False

    def wake(self) -> None:
        self._wakeup.set()

    def stop(self) -> None:
        self._stopping = True
        self._wakeup.set()

    async def run(self) -> None:
        while not self._stopping:
            try:
                await self.send_due()
            except Exception as error:  # the database is away: try again on the next tick
                self._log.warning("delivery pass failed", error=str(error))
            with suppress(TimeoutError):  # nothing woke it: the next tick anyway
                await asyncio.wait_for(self._wakeup.wait(), timeout=self._s.delivery_poll_seconds)
            self._wakeup.clear()

    async def send_due(self, now: datetime | None = None) -> int:
        now = now or utcnow()
        due = (
            await self._db[DELIVERIES]
            .find({"status": "pending", "next_attempt_at": {"$lte": now}})
            .sort("next_attempt_at", 1)
            .limit(50)
            .to_list()
        )
        results = await asyncio.gather(*(self._try(d, now) for d in due))
        return sum(results)

    async def _try(self, delivery: dict[str, Any], now: datetime) -> int:
        attempt = delivery["attempts"] + 1
        claimed = await self._db[DELIVERIES].update_one(
            {"_id": delivery["_id"], "status": "pending", "attempts": delivery["attempts"]},
            {"$set": {"attempts": attempt, "next_attempt_at": now + timedelta(seconds=self._s.delivery_lease_seconds)}},
        )
        if claimed.modified_count != 1:
            return 0  # another replica is on it
        try:
            await self._channels.send(delivery)
        except DeliveryFailed as failure:
            OUTCOMES.labels(delivery["channel"], "failed").inc()
            await self._failed(delivery, attempt, str(failure))
            return 0
        OUTCOMES.labels(delivery["channel"], "sent").inc()
        await self._db[DELIVERIES].update_one({"_id": delivery["_id"]}, {"$set": {"status": "sent", "sent_at": utcnow()}})
        return 1

    async def _failed(self, delivery: dict[str, Any], attempt: int, reason: str) -> None:
        error = {"attempt": attempt, "at": utcnow(), "reason": reason}
        if attempt >= self._s.delivery_max_attempts:
            await self._db[DELIVERIES].update_one({"_id": delivery["_id"]}, {"$set": {"status": "dead"}, "$push": {"errors": error}})
            await self._db[DEAD_LETTERS].insert_one(
                {
                    "subject": f"delivery.{delivery['channel']}",
                    "body": {"delivery_id": delivery["_id"], "target": delivery["target"]},
                    "reason": reason,
                    "at": utcnow(),
                }
            )
            self._log.error("delivery dead-lettered", delivery_id=delivery["_id"], reason=reason)
            return
        wait = backoff(attempt, self._s.delivery_backoff_seconds, self._s.delivery_backoff_max_seconds)
        await self._db[DELIVERIES].update_one(
            {"_id": delivery["_id"]}, {"$set": {"next_attempt_at": utcnow() + timedelta(seconds=wait)}, "$push": {"errors": error}}
        )
