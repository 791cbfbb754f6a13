"""Durable timers: an indexed due-time collection, claimed with a guarded update_one.

Why this and not NATS 2.15 scheduled messages: a timer here is written in the same MongoDB transaction
as the deadline that causes it and its firing commits in one transaction with the outbox entries it
produces, so a crash can neither lose a timer nor fire it twice, and closing a stage cancels its timers
in the same database. The scan reads only `{status: "pending", fire_at <= now}` through the
`(status, fire_at)` index, so one scan costs what is due, not what is open. It also lets tests move
"now" (see `Clock`), which a server-side schedule cannot. Several replicas may scan at once: the
guarded `update_one({_id, status: "pending"})` lets exactly one of them fire each timer.
"""

import asyncio
import os
import socket
import time
from collections.abc import Awaitable, Callable
from contextlib import suppress
from datetime import datetime, timedelta
from typing import Any

from prometheus_client import Counter, Histogram
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from sealflow_contracts.messages import utcnow

TIMERS = "timers"
TEST_CLOCK = "test_clock"
REPLICA = f"{socket.gethostname()}:{os.getpid()}"

FIRED = Counter("sealflow_sla_timers_fired_total", "Timers fired, by kind", ["kind"])
LAG = Histogram(
    "sealflow_sla_detection_lag_seconds", "Time from a timer's due moment to its firing", buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 300)
)
SCAN = Histogram("sealflow_sla_scan_seconds", "Duration of one scan for due timers", buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5))

# Called inside the firing transaction with the claimed timer; returns nothing, stages its messages itself.
FireWork = Callable[[AsyncClientSession, dict[str, Any], datetime], Awaitable[None]]


class Clock:
    """Wall-clock time, plus (tests only) an offset stored in the database so every replica agrees."""

    def __init__(self, db: AsyncDatabase, test_clock: bool) -> None:
        self._db = db
        self._test_clock = test_clock
        self.offset = timedelta(0)

    async def refresh(self) -> None:
        if self._test_clock:
            doc = await self._db[TEST_CLOCK].find_one({"_id": "offset"})
            self.offset = timedelta(seconds=doc["seconds"]) if doc else timedelta(0)

    def now(self) -> datetime:
        return utcnow() + self.offset


async def ensure_indexes(db: AsyncDatabase) -> None:
    await db[TIMERS].create_index([("status", 1), ("fire_at", 1)])
    await db[TIMERS].create_index([("deadline_id", 1)])


def timer_documents(deadline_id: str, planned: list[tuple[str, datetime]]) -> list[dict[str, Any]]:
    return [
        {"_id": f"{deadline_id}:{kind}", "deadline_id": deadline_id, "kind": kind, "fire_at": at, "status": "pending"}
        for kind, at in planned
    ]


async def cancel_pending(db: AsyncDatabase, deadline_id: str, session: AsyncClientSession | None = None) -> int:
    result = await db[TIMERS].update_many(
        {"deadline_id": deadline_id, "status": "pending"}, {"$set": {"status": "cancelled"}}, session=session
    )
    return result.modified_count


async def scan_once(db: AsyncDatabase, in_tx: Callable, fire: FireWork, now: datetime, batch: int = 500) -> int:
    """Fire every timer due at `now` (up to `batch`); returns how many this replica fired."""
    started = time.perf_counter()
    due = await db[TIMERS].find({"status": "pending", "fire_at": {"$lte": now}}).sort("fire_at", 1).limit(batch).to_list()
    SCAN.observe(time.perf_counter() - started)
    fired = 0
    for timer in due:

        async def work(session: AsyncClientSession, timer: dict[str, Any] = timer) -> bool:
            claimed = await db[TIMERS].update_one(
                {"_id": timer["_id"], "status": "pending"},
                {"$set": {"status": "fired", "fired_at": now, "fired_by": REPLICA}},
                session=session,
            )
            if claimed.modified_count != 1:
                return False  # another replica fired it, or the stage closed meanwhile
            await fire(session, timer, now)
            return True

        if await in_tx(work):
            fired += 1
            FIRED.labels(timer["kind"].split(":")[0]).inc()
            LAG.observe(max(0.0, (now - timer["fire_at"]).total_seconds()))
    return fired


async def run_scanner(
    db: AsyncDatabase,
    in_tx: Callable,
    fire: FireWork,
    clock: Clock,
    *,
    interval: float,
    batch: int,
    log: Any,
    after_fired: Callable[[], None],
    stopping: asyncio.Event,
) -> None:
    """Scan until stopped; a failed scan (database away) is retried on the next tick, never fatal."""
    while not stopping.is_set():
        try:
            await clock.refresh()
            while await scan_once(db, in_tx, fire, clock.now(), batch) >= batch:
                after_fired()  # a full batch: more may be due, scan again at once
            after_fired()
        except Exception as error:
            log.warning("timer scan failed; retrying", error=str(error))
        with suppress(TimeoutError):  # not stopping: scan again
            await asyncio.wait_for(stopping.wait(), timeout=interval)
