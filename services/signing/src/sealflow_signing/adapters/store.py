"""signing's MongoDB: keys (encrypted), acts (the signature chain), seals, seal uses, approvals."""

import json
from contextlib import suppress
from datetime import datetime
from importlib import resources

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError
from cryptography.hazmat.primitives.asymmetric import ec

from sealflow_contracts.messages import utcnow
from sealflow_signing.domain import crypto

PLATFORM_KEY = "platform"


def person_key_id(person_id: str) -> str:
    return f"person:{person_id}"


def seal_key_id(seal_id: str) -> str:
    return f"seal:{seal_id}"


async def ensure_indexes(db: AsyncDatabase) -> None:
    await db.acts.create_index([("matter_id", 1), ("seq", 1)], unique=True)
    await db.seal_uses.create_index([("seal_id", 1), ("used_at", 1)])
    await db.approvals.create_index("matter_id", unique=True)


async def seed_pilot_seals(db: AsyncDatabase) -> None:
    data = json.loads(resources.files("sealflow_signing.seed").joinpath("pilot_seals.json").read_text(encoding="utf-8"))
    for seal in data["seals"]:
        record = {k: v for k, v in seal.items() if k != "id"}
        record["valid_from"] = datetime.fromisoformat(record["valid_from"])
        record["valid_to"] = datetime.fromisoformat(record["valid_to"])
        with suppress(DuplicateKeyError):  # already there, or a replica starting beside us just put it there
            await db.seals.insert_one({"_id": seal["id"], **record})


async def custodial_key(db: AsyncDatabase, key_id: str, master_key: bytes) -> ec.EllipticCurvePrivateKey:
    """The key for a person, seal or the platform, made on first use. Replicas racing to make the same
    key both insert; the unique id keeps the first and the loser uses it."""
    record = await db.keys.find_one({"_id": key_id})
    if record is None:
        key = crypto.generate_key()
        try:
            await db.keys.insert_one(
                {
                    "_id": key_id,
                    "algorithm": "ECDSA-P256-SHA256",
                    "public_pem": crypto.public_pem(key),
                    "private": crypto.seal_private_key(key, master_key, key_id),
                    "created_at": utcnow(),
                }
            )
            return key
        except DuplicateKeyError:
            record = await db.keys.find_one({"_id": key_id})
    return crypto.open_private_key(record["private"], master_key, key_id)


async def public_keys(db: AsyncDatabase, key_ids: set[str]) -> dict[str, str]:
    cursor = db.keys.find({"_id": {"$in": sorted(key_ids)}}, {"public_pem": 1})
    return {doc["_id"]: doc["public_pem"] async for doc in cursor}
