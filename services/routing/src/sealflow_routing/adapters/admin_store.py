"""routing's administration records: every version of every policy and of the org directory, and the
administrator's hash-chained trail (the same chain as a matter's trail, under the scope id `admin`)."""

from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from sealflow_contracts.chain import GENESIS_HASH, chain_is_valid, trail_entry_hash
from sealflow_routing.adapters.store import DIRECTORY_ID
from sealflow_routing.domain.directory import Directory, Policy

ADMIN_SCOPE = "admin"


class AdminConflict(Exception):
    """Another administrator changed the same thing at the same moment: run the change again."""


async def latest_policies(db: AsyncDatabase) -> list[dict[str, Any]]:
    latest: dict[str, dict[str, Any]] = {}
    async for doc in db.policies.find({}, {"_id": 0}).sort("version", 1):
        latest[doc["matter_type"]] = doc
    return [latest[k] for k in sorted(latest)]


async def policy_versions(db: AsyncDatabase, matter_type: str) -> list[dict[str, Any]]:
    return [doc async for doc in db.policies.find({"matter_type": matter_type}, {"_id": 0}).sort("version", 1)]


async def store_policy(db: AsyncDatabase, session: AsyncClientSession, policy: Policy) -> Policy:
    """A new version after the newest; old versions stay, matters keep the one they were routed with."""
    newest = await db.policies.find_one({"matter_type": policy.matter_type}, sort=[("version", -1)], session=session)
    stored = policy.model_copy(update={"version": (newest["version"] if newest else 0) + 1})
    await db.policies.insert_one(stored.model_dump(), session=session)  # (matter_type, version) is unique
    return stored


async def store_directory(db: AsyncDatabase, session: AsyncClientSession, directory: Directory) -> int:
    current = await db.directory.find_one({"_id": DIRECTORY_ID}, session=session)
    version = current["version"]
    # The outgoing version is kept as it was; `directory` holds only the current one.
    await db.directory_versions.update_one({"_id": version}, {"$setOnInsert": {k: v for k, v in current.items() if k != "_id"}}, upsert=True, session=session)
    replaced = await db.directory.replace_one(
        {"_id": DIRECTORY_ID, "version": version}, {"version": version + 1, **directory.model_dump()}, session=session
    )
    if replaced.modified_count != 1:
        raise AdminConflict()
    await db.directory_versions.insert_one({"_id": version + 1, "version": version + 1, **directory.model_dump()}, session=session)
    return version + 1


async def record(db: AsyncDatabase, session: AsyncClientSession, type_: str, actor_id: str, at: str, data: dict[str, Any]) -> dict[str, Any]:
    state = await db.admin_state.find_one({"_id": ADMIN_SCOPE}, session=session) or {"seq": 0, "head": GENESIS_HASH}
    entry = {"matter_id": ADMIN_SCOPE, "seq": state["seq"] + 1, "type": type_, "at": at, "actor_id": actor_id, "data": data, "prev_hash": state["head"]}
    entry["hash"] = trail_entry_hash(entry)
    moved = await db.admin_state.update_one(
        {"_id": ADMIN_SCOPE, "seq": state["seq"]}, {"$set": {"seq": entry["seq"], "head": entry["hash"]}}, upsert=state["seq"] == 0, session=session
    )
    if moved.modified_count != 1 and moved.upserted_id is None:
        raise AdminConflict()
    await db.admin_trail.insert_one({"_id": entry["seq"], **entry}, session=session)
    return entry


async def trail(db: AsyncDatabase) -> dict[str, Any]:
    entries = [{k: v for k, v in doc.items() if k != "_id"} async for doc in db.admin_trail.find({}).sort("seq", 1)]
    return {"scope": ADMIN_SCOPE, "chain_valid": chain_is_valid(entries), "entries": entries}
