"""Idempotency-Key for submissions: the same key with the same request is the same matter, never a second
one; the same key with a different request is refused. Keys are the caller's own (`person:key`)."""

from pymongo.errors import DuplicateKeyError
from sealflow_contracts import messages as m
from sealflow_runtime.service import Runtime

from sealflow_intake.errors import ApiError


async def claim(rt: Runtime, person_id: str, key: str, request_hash: str, matter_id: str) -> str:
    """The matter this request is for: `matter_id` when the key is new, the earlier matter when the same
    request comes again."""
    held = {"_id": f"{person_id}:{key}"}
    try:
        await rt.db.idempotency.insert_one({**held, "request_hash": request_hash, "matter_id": matter_id, "created_at": m.utcnow()})
    except DuplicateKeyError:
        earlier = await rt.db.idempotency.find_one(held)
        if earlier["request_hash"] != request_hash:
            raise ApiError("idempotency_key_reused", "这个 Idempotency-Key 已用于另一份申请，请换一个") from None
        return earlier["matter_id"]
    return matter_id


async def release(rt: Runtime, person_id: str, key: str, matter_id: str) -> None:
    """The request was refused and nothing exists: the key may be used again (for the corrected request)."""
    await rt.db.idempotency.delete_one({"_id": f"{person_id}:{key}", "matter_id": matter_id})
