"""routing's MongoDB: matters (workflow state), trail, directory, policies, approval-number counters."""

import json
from contextlib import suppress
from datetime import date
from importlib import resources

from pymongo import ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError
from sealflow_contracts.messages import utcnow

from sealflow_routing.domain.directory import Directory, Policy
from sealflow_routing.domain.forms import MatterType
from sealflow_routing.domain.matter import Matter, StandIn

DIRECTORY_ID = "current"


def pilot_data() -> dict:
    return json.loads(resources.files("sealflow_routing.seed").joinpath("pilot.json").read_text(encoding="utf-8"))


async def ensure_indexes(db: AsyncDatabase) -> None:
    await db.trail.create_index([("matter_id", 1), ("seq", 1)], unique=True)
    await db.policies.create_index([("matter_type", 1), ("version", -1)], unique=True)
    await db.absences.create_index([("ends_on", 1), ("starts_on", 1)])
    await db.matter_types.create_index([("id", 1), ("version", -1)], unique=True)
    await db.admin_trail.create_index([("data.entity", 1), ("data.id", 1), ("seq", -1)])
    # The reconciler's question, "which approved matters are overdue to complete?", is this index's range.
    await db.matters.create_index("stalled_check_at")


async def stalled_matter_ids(db: AsyncDatabase, now, limit: int = 100) -> list[str]:
    """Matters whose route was approved and whose completion check is due (an indexed range, not a scan)."""
    cursor = db.matters.find({"stalled_check_at": {"$lte": now}}, {"_id": 1}).sort("stalled_check_at", 1).limit(limit)
    return [doc["_id"] async for doc in cursor]


async def seed_pilot(db: AsyncDatabase) -> None:
    """Insert the pilot directory and policies where none exist; never overwrite an administrator's edits.
    Replicas starting together race here: the unique indexes keep one copy and the loser moves on."""
    data = pilot_data()
    directory = Directory.model_validate(data)
    with suppress(DuplicateKeyError):
        if await db.directory.find_one({"_id": DIRECTORY_ID}) is None:
            await db.directory.insert_one({"_id": DIRECTORY_ID, "version": 1, **directory.model_dump()})
    for raw in data["policies"]:
        policy = Policy.model_validate(raw)
        with suppress(DuplicateKeyError):
            if await db.policies.find_one({"matter_type": policy.matter_type}) is None:
                await db.policies.insert_one(policy.model_dump())
    # The pilot's matter types and forms, version 1 each, where the type is not there yet (a database seeded
    # before forms existed gets them too).
    for raw in data.get("matter_types", []):
        matter_type = MatterType.model_validate({**raw, "version": 1})
        with suppress(DuplicateKeyError):
            if await db.matter_types.find_one({"id": matter_type.id}) is None:
                await db.matter_types.insert_one({"_id": f"{matter_type.id}:1", **matter_type.model_dump(), "stored_at": utcnow()})


async def load_directory(db: AsyncDatabase) -> Directory:
    doc = await db.directory.find_one({"_id": DIRECTORY_ID})
    if doc is None:
        raise RuntimeError("the org directory is empty: seed it (SEALFLOW_SEED_PILOT=true) or load one")
    return Directory.model_validate(doc)


async def load_policy(db: AsyncDatabase, matter_type: str, version: int | None = None) -> Policy | None:
    """The newest policy for a matter type, or the exact version a matter was routed with."""
    if version is None:
        doc = await db.policies.find_one({"matter_type": matter_type}, sort=[("version", -1)])
    else:
        doc = await db.policies.find_one({"matter_type": matter_type, "version": version})
    return Policy.model_validate(doc) if doc else None


async def load_matter(db: AsyncDatabase, matter_id: str, session: AsyncClientSession | None = None) -> Matter | None:
    doc = await db.matters.find_one({"_id": matter_id}, session=session)
    return Matter.model_validate(doc) if doc else None


def matter_document(matter: Matter) -> dict:
    return {"_id": matter.id, **matter.model_dump()}


async def reserve_approval_number(db: AsyncDatabase, matter_id: str, prefix: str, year: int) -> str:
    """The matter's approval number, reserved once and kept. Numbers run per town and year.

    Deliberately outside any transaction: every completing matter touches the one counter, and a replica
    killed mid-transaction would hold it (until the server reaps the transaction) and stall them all.
    A replica dying between the increment and the reservation leaves a gap in the numbers, never a repeat.
    """
    reserved = await db.approval_numbers.find_one({"_id": matter_id})
    if reserved:
        return reserved["number"]
    counter = await db.counters.find_one_and_update(
        {"_id": f"approval:{prefix}:{year}"}, {"$inc": {"n": 1}}, upsert=True, return_document=ReturnDocument.AFTER
    )
    number = f"{prefix}-{year}-{counter['n']:06d}"
    try:
        await db.approval_numbers.insert_one({"_id": matter_id, "number": number})
    except DuplicateKeyError:  # a racing replica reserved one first; use theirs
        return (await db.approval_numbers.find_one({"_id": matter_id}))["number"]
    return number


async def stand_ins_on(db: AsyncDatabase, day: date) -> dict[str, StandIn]:
    """Absences in force on `day`, by absent person (the most recently registered if two overlap)."""
    iso = day.isoformat()
    found: dict[str, StandIn] = {}
    cursor = db.absences.find({"starts_on": {"$lte": iso}, "ends_on": {"$gte": iso}, "cancelled_at": None}).sort("registered_at", 1)
    async for doc in cursor:
        found[doc["person_id"]] = StandIn(
            absence_id=doc["_id"], person_id=doc["person_id"], stand_in_id=doc["stand_in_id"], ends_on=doc["ends_on"]
        )
    return found
