"""routing's administration records: every version of every policy and of the org directory, and the
administrator's hash-chained trail (the same chain as a matter's trail, under the scope id `admin`)."""

from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from sealflow_contracts.chain import GENESIS_HASH, chain_is_valid, trail_entry_hash
from sealflow_contracts.messages import utcnow

from sealflow_routing.adapters.store import DIRECTORY_ID
from sealflow_routing.domain.directory import Directory, Policy
from sealflow_routing.domain.forms import MatterType

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


async def current_directory(db: AsyncDatabase, session: AsyncClientSession) -> tuple[Directory, int]:
    """The directory and its version, read inside the transaction that will replace it."""
    doc = await db.directory.find_one({"_id": DIRECTORY_ID}, session=session)
    return Directory.model_validate(doc), doc["version"]


async def store_directory(db: AsyncDatabase, session: AsyncClientSession, directory: Directory, expected_version: int | None = None) -> int:
    """The next directory version, guarded on the version read (`expected_version`, else the current one):
    a concurrent change raises AdminConflict and the caller runs its change again on what is there now."""
    current = await db.directory.find_one({"_id": DIRECTORY_ID}, session=session)
    version = current["version"] if expected_version is None else expected_version
    # The outgoing version is kept as it was; `directory` holds only the current one.
    await db.directory_versions.update_one(
        {"_id": version}, {"$setOnInsert": {k: v for k, v in current.items() if k != "_id"}}, upsert=True, session=session
    )
    if current["version"] != version:
        raise AdminConflict()
    replaced = await db.directory.replace_one(
        {"_id": DIRECTORY_ID, "version": version}, {"version": version + 1, **directory.model_dump()}, session=session
    )
    if replaced.modified_count != 1:
        raise AdminConflict()
    await db.directory_versions.insert_one({"_id": version + 1, "version": version + 1, **directory.model_dump()}, session=session)
    return version + 1


async def record(
    db: AsyncDatabase, session: AsyncClientSession, type_: str, actor_id: str, at: str, data: dict[str, Any]
) -> dict[str, Any]:
    state = await db.admin_state.find_one({"_id": ADMIN_SCOPE}, session=session) or {"seq": 0, "head": GENESIS_HASH}
    entry = {
        "matter_id": ADMIN_SCOPE,
        "seq": state["seq"] + 1,
        "type": type_,
        "at": at,
        "actor_id": actor_id,
        "data": data,
        "prev_hash": state["head"],
    }
    entry["hash"] = trail_entry_hash(entry)
    moved = await db.admin_state.update_one(
        {"_id": ADMIN_SCOPE, "seq": state["seq"]},
        {"$set": {"seq": entry["seq"], "head": entry["hash"]}},
        upsert=state["seq"] == 0,
        session=session,
    )
    if moved.modified_count != 1 and moved.upserted_id is None:
        raise AdminConflict()
    await db.admin_trail.insert_one({"_id": entry["seq"], **entry}, session=session)
    return entry


async def trail(db: AsyncDatabase) -> dict[str, Any]:
    entries = [{k: v for k, v in doc.items() if k != "_id"} async for doc in db.admin_trail.find({}).sort("seq", 1)]
    return {"scope": ADMIN_SCOPE, "chain_valid": chain_is_valid(entries), "entries": entries}


# ---- matter types and their forms (issue 13) ---------------------------------------------------------


async def latest_matter_types(db: AsyncDatabase, *, include_inactive: bool = True) -> list[dict[str, Any]]:
    latest: dict[str, dict[str, Any]] = {}
    async for doc in db.matter_types.find({}, {"_id": 0}).sort("version", 1):
        latest[doc["id"]] = doc
    return [latest[k] for k in sorted(latest) if include_inactive or latest[k].get("active", True)]


async def matter_type_versions(db: AsyncDatabase, type_id: str) -> list[dict[str, Any]]:
    return [doc async for doc in db.matter_types.find({"id": type_id}, {"_id": 0}).sort("version", 1)]


async def load_matter_type(
    db: AsyncDatabase, type_id: str, version: int | None = None, session: AsyncClientSession | None = None
) -> MatterType | None:
    """The newest version of a matter type, or the exact one a matter was submitted with."""
    if version is None:
        doc = await db.matter_types.find_one({"id": type_id}, sort=[("version", -1)], session=session)
    else:
        doc = await db.matter_types.find_one({"id": type_id, "version": version}, session=session)
    return MatterType.model_validate(doc) if doc else None


async def store_matter_type(db: AsyncDatabase, session: AsyncClientSession, matter_type: MatterType, expected_version: int) -> MatterType:
    """The next version after `expected_version` (0: a new type); old versions stay, matters keep theirs.
    The unique (id, version) index turns a concurrent write of the same version into DuplicateKeyError."""
    stored = matter_type.model_copy(update={"version": expected_version + 1})
    await db.matter_types.insert_one(
        {"_id": f"{stored.id}:{stored.version}", **stored.model_dump(), "stored_at": utcnow()}, session=session
    )
    return stored


async def trail_of(db: AsyncDatabase, entity: str, entity_id: str) -> dict[str, Any] | None:
    """The latest administration entry about one entity: who changed it last, for a conflict's message."""
    return await db.admin_trail.find_one({"data.entity": entity, "data.id": entity_id}, sort=[("seq", -1)])
