"""Requests that arrived before what they wait for: an act before the act it chains to, an approval
before its last act. They are kept here, acknowledged, and made when the awaited act is made.

Why not retry the message until the predecessor exists: under kills and load a predecessor can take
longer than any redelivery budget, and a bounded retry turned a delay into a dead letter that stalled the
matter for good. Waiting here costs no deliveries and has no deadline."""

from datetime import datetime
from typing import Any, Literal

from pymongo.asynchronous.database import AsyncDatabase
from sealflow_contracts.messages import utcnow

Kind = Literal["signature", "seal", "approval"]
WAITING = "waiting_requests"


async def ensure_indexes(db: AsyncDatabase) -> None:
    await db[WAITING].create_index([("matter_id", 1), ("after_seq", 1)])


async def keep(db: AsyncDatabase, *, key: str, kind: Kind, matter_id: str, after_seq: int, command: dict[str, Any]) -> None:
    """Keep a request until act `after_seq` of the matter exists; the same request kept twice is kept once."""
    await db[WAITING].update_one(
        {"_id": key},
        {"$setOnInsert": {"kind": kind, "matter_id": matter_id, "after_seq": after_seq, "command": command, "kept_at": utcnow()}},
        upsert=True,
    )


async def waiting_after(db: AsyncDatabase, matter_id: str, seq: int) -> list[dict[str, Any]]:
    """The requests that were waiting for act `seq` of the matter (usually none: one indexed read)."""
    return await db[WAITING].find({"matter_id": matter_id, "after_seq": seq}).to_list()


async def all_waiting(db: AsyncDatabase, kept_before: datetime, limit: int = 500) -> list[dict[str, Any]]:
    return await db[WAITING].find({"kept_at": {"$lt": kept_before}}).sort("kept_at", 1).limit(limit).to_list()


async def done(db: AsyncDatabase, request: dict[str, Any]) -> None:
    await db[WAITING].delete_one({"_id": request["_id"], "kept_at": request["kept_at"]})
