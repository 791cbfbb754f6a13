"""The trail log: an append-only log of signed trail heads and its signed checkpoints.

- `on_trail_closed`: a matter ended; its head (matter id, trail size, head hash) is signed with the
  platform's note key and queued as a leaf — once per head however often the event arrives (claim_event,
  and the leaf's id is the head).
- `checkpoint_round`, every `SEALFLOW_CHECKPOINT_SECONDS` in every replica: queued leaves get the next
  indexes in one transaction guarded by the log's size (two replicas racing: one commits, the other's
  transaction aborts and changes nothing), then the checkpoint for the log's size is signed and stored
  once (its id is the size; Ed25519 is deterministic, so a racing replica would sign the same note).
  A replica dying between the two steps leaves a size without a checkpoint; the next round makes it.
- `handle`: intake's questions — checkpoints, a matter's proof, its evidence materials, PDF chunks, and the
  consistency proof between two sizes of the log.

Leaves are never changed once indexed and never deleted, so every checkpoint ever published stays
consistent with the next (RFC 6962 consistency, which `consistency` proves to anyone who kept an older
checkpoint); a rewrite of a covered trail no longer matches its head.
The root is recomputed from the stored leaf hashes at each checkpoint — fine for a town (a province would
keep the tree's frontier instead, as transparency logs do).
"""

import asyncio
import base64
import os
from datetime import datetime
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError, OperationFailure
from sealflow_contracts import messages as m
from sealflow_runtime.bus import DomainRefusal
from sealflow_runtime.inbox import claim_event
from sealflow_runtime.mongo import in_transaction
from sealflow_runtime.service import Runtime

from sealflow_signing.adapters import store
from sealflow_signing.domain import pki, tlog

CONSUMER = "signing-trail-log"
NOTE_KEY = "note:platform"
STATE_ID = "log"
BATCH = 500


async def ensure_indexes(rt: Runtime) -> None:
    await rt.db.tlog_leaves.create_index([("sequenced", 1), ("queued_at", 1)])
    await rt.db.tlog_leaves.create_index("index")
    await rt.db.tlog_leaves.create_index([("matter_id", 1), ("trail_size", -1)])


# ---- the note key (Ed25519, encrypted at rest like every key) -------------------------------------


async def note_key(rt: Runtime) -> Ed25519PrivateKey:
    if "note_key" in rt.extras:
        return rt.extras["note_key"]
    masters = rt.settings.master_keys()
    record = await rt.db.note_keys.find_one({"_id": NOTE_KEY})
    if record is None:
        key = Ed25519PrivateKey.generate()
        raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
        nonce = os.urandom(12)
        try:
            await rt.db.note_keys.insert_one(
                {
                    "_id": NOTE_KEY,
                    "algorithm": "Ed25519",
                    "public": base64.b64encode(tlog.public_bytes(key.public_key())).decode(),
                    "private": {
                        "nonce": base64.b64encode(nonce).decode(),
                        "ciphertext": base64.b64encode(AESGCM(masters[0]).encrypt(nonce, raw, NOTE_KEY.encode())).decode(),
                    },
                    "created_at": m.utcnow(),
                }
            )
            rt.extras["note_key"] = key
            return key
        except DuplicateKeyError:  # another replica made it first: use theirs
            record = await rt.db.note_keys.find_one({"_id": NOTE_KEY})
    sealed = record["private"]
    for master in masters:
        try:
            raw = AESGCM(master).decrypt(base64.b64decode(sealed["nonce"]), base64.b64decode(sealed["ciphertext"]), NOTE_KEY.encode())
            break
        except InvalidTag:
            continue
    else:
        raise InvalidTag("the note key opens under none of the configured master keys")
    rt.extras["note_key"] = key = Ed25519PrivateKey.from_private_bytes(raw)
    return key


async def note_certificate(rt: Runtime) -> x509.Certificate:
    """The note key's certificate under the town root: how an outsider holding only the root trusts it."""
    ca: store.Authority = rt.extras["ca"]
    record_id = f"{NOTE_KEY}@{ca.cert.fingerprint(hashes.SHA256()).hex()[:16]}"
    record = await rt.db.certificates.find_one({"_id": record_id})
    if record is None:
        key = await note_key(rt)
        issuer_key = ca.key or await store.custodial_key(rt.db, store.ROOT_KEY, rt.settings.master_keys())
        town = rt.settings.town_name
        subject = pki.Subject("platform", f"{town} Sealflow 留痕日志 {rt.settings.checkpoint_origin}", town, "留痕日志")
        cert = pki.issue(issuer_key, ca.cert, key.public_key(), subject, m.utcnow())
        try:
            await rt.db.certificates.insert_one(
                {"_id": record_id, "key_id": NOTE_KEY, "pem": pki.pem(cert), "subject": subject.common_name, "created_at": m.utcnow()}
            )
            return cert
        except DuplicateKeyError:
            record = await rt.db.certificates.find_one({"_id": record_id})
    return pki.load_pem(record["pem"])


# ---- signing heads ---------------------------------------------------------------------------------


async def on_trail_closed(rt: Runtime, event: m.TrailClosed) -> None:
    origin = rt.settings.checkpoint_origin
    body = tlog.head_body(origin, event.matter_id, event.trail_size, event.head_hash)
    note = tlog.sign_note(body, origin, await note_key(rt))
    leaf_id = f"{event.matter_id}:{event.trail_size}"

    async def work(session: AsyncClientSession) -> None:
        if not await claim_event(rt.db, session, event.event_id, CONSUMER):
            return
        await rt.db.tlog_leaves.update_one(
            {"_id": leaf_id},
            {
                "$setOnInsert": {
                    "matter_id": event.matter_id,
                    "trail_size": event.trail_size,
                    "head_hash": event.head_hash,
                    "status": event.status,
                    "revision": event.revision,
                    "ended_at": event.ended_at,
                    "body": body,
                    "note": note,
                    "leaf_hash": tlog.leaf_hash(body.encode()).hex(),
                    "sequenced": False,
                    "queued_at": m.utcnow(),
                }
            },
            upsert=True,
            session=session,
        )

    await in_transaction(rt.client, work)


# ---- sequencing and checkpoints --------------------------------------------------------------------


class _Raced(Exception):
    """Another replica sequenced these leaves first; this round changes nothing."""


async def _sequence(rt: Runtime) -> int:
    """Give queued leaves the next indexes; returns the log's size."""

    async def work(session: AsyncClientSession) -> int:
        state = await rt.db.tlog_state.find_one({"_id": STATE_ID}, session=session)
        size = state["size"] if state else 0
        queued = (
            await rt.db.tlog_leaves.find({"sequenced": False}, {"_id": 1}, session=session)
            .sort([("queued_at", 1), ("_id", 1)])
            .limit(BATCH)
            .to_list()
        )
        if not queued:
            return size
        for offset, leaf in enumerate(queued):
            done = await rt.db.tlog_leaves.update_one(
                {"_id": leaf["_id"], "sequenced": False}, {"$set": {"sequenced": True, "index": size + offset}}, session=session
            )
            if done.modified_count != 1:
                raise _Raced()
        if state is None:
            await rt.db.tlog_state.insert_one({"_id": STATE_ID, "size": len(queued)}, session=session)
        else:
            moved = await rt.db.tlog_state.update_one(
                {"_id": STATE_ID, "size": size}, {"$set": {"size": size + len(queued)}}, session=session
            )
            if moved.modified_count != 1:
                raise _Raced()
        return size + len(queued)

    return await in_transaction(rt.client, work)


async def _leaf_hashes(rt: Runtime, size: int) -> list[bytes]:
    cursor = rt.db.tlog_leaves.find({"sequenced": True, "index": {"$lt": size}}, {"leaf_hash": 1, "index": 1}).sort("index", 1)
    hashes = [(doc["index"], bytes.fromhex(doc["leaf_hash"])) async for doc in cursor]
    if [i for i, _ in hashes] != list(range(size)):
        raise RuntimeError(f"the trail log's leaves 0..{size - 1} are not all there")
    return [h for _, h in hashes]


async def checkpoint_round(rt: Runtime) -> dict[str, Any] | None:
    """Sequence what is queued, then sign the checkpoint for the log's size if it has none yet."""
    try:
        size = await _sequence(rt)
    except (_Raced, DuplicateKeyError, OperationFailure):
        return None
    if size == 0 or await rt.db.tlog_checkpoints.find_one({"_id": size}, {"_id": 1}):
        return None
    origin = rt.settings.checkpoint_origin
    root_hash = tlog.root(await _leaf_hashes(rt, size))
    note = tlog.sign_note(tlog.checkpoint_body(origin, size, root_hash), origin, await note_key(rt))
    record = {"_id": size, "tree_size": size, "root_hash": base64.b64encode(root_hash).decode(), "note": note, "made_at": m.utcnow()}
    try:
        await rt.db.tlog_checkpoints.insert_one(record)
    except DuplicateKeyError:
        return None
    rt.log.info("trail checkpoint signed", tree_size=size)
    return record


async def checkpoint_forever(rt: Runtime) -> None:
    while True:
        await asyncio.sleep(rt.settings.checkpoint_seconds)
        try:
            await note_certificate(rt)  # made on the first round, before anyone asks for it
            await checkpoint_round(rt)
        except Exception as error:  # the database is away: next round
            rt.log.warning("trail checkpoint round failed", error=repr(error))


# ---- intake's questions ----------------------------------------------------------------------------


def _checkpoint_view(doc: dict[str, Any]) -> dict[str, Any]:
    return {"tree_size": doc["tree_size"], "root_hash": doc["root_hash"], "made_at": _iso(doc["made_at"]), "note": doc["note"]}


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


async def log_identity(rt: Runtime) -> dict[str, Any]:
    origin = rt.settings.checkpoint_origin
    key = await note_key(rt)
    return {
        "origin": origin,
        "verifier_key": tlog.verifier_key(origin, key.public_key()),
        "certificate_pem": pki.pem(await note_certificate(rt)),
    }


async def proof(rt: Runtime, matter_id: str) -> dict[str, Any]:
    """The matter's latest signed head and, once a checkpoint covers it, its inclusion proof in the latest one."""
    leaf = await rt.db.tlog_leaves.find_one({"matter_id": matter_id}, sort=[("trail_size", -1)])
    if leaf is None:
        raise DomainRefusal(
            "head_not_signed", f"事项 {matter_id} 尚未办结，留痕尚未签名 (the matter has not ended; its trail head is not signed)"
        )
    head = {
        "trail_size": leaf["trail_size"],
        "head_hash": leaf["head_hash"],
        "status": leaf["status"],
        "note": leaf["note"],
        "leaf_index": leaf.get("index"),
    }
    latest = await rt.db.tlog_checkpoints.find_one({}, sort=[("_id", -1)])
    answer: dict[str, Any] = {"matter_id": matter_id, "head": head, "checkpoint": None, "inclusion_proof": None, **await log_identity(rt)}
    if latest is None or leaf.get("index") is None or leaf["index"] >= latest["tree_size"]:
        return answer  # not in a checkpoint yet: the next round puts it there
    hashes = await _leaf_hashes(rt, latest["tree_size"])
    path = tlog.inclusion_proof(leaf["index"], hashes)
    answer["checkpoint"] = _checkpoint_view(latest)
    answer["inclusion_proof"] = {
        "leaf_index": leaf["index"],
        "tree_size": latest["tree_size"],
        "hashes": [base64.b64encode(h).decode() for h in path],
    }
    return answer


async def consistency(rt: Runtime, first: int, second: int | None) -> dict[str, Any]:
    """The proof that the checkpoint of size `second` (the latest when None) extends the log as it was at size
    `first`, with both checkpoints when they exist (`first` need not be a checkpoint's size: the proof holds for
    any prefix; the auditor brings their own signed checkpoint of that size)."""
    latest = await rt.db.tlog_checkpoints.find_one({}, sort=[("_id", -1)])
    if latest is None:
        raise DomainRefusal("not_found", "还没有检查点 (no checkpoint yet)")
    if second is None:
        second = latest["tree_size"]
    newer = await rt.db.tlog_checkpoints.find_one({"_id": second})
    if newer is None:
        raise DomainRefusal(
            "not_found",
            f"没有树大小为 {second} 的检查点，最新检查点的树大小为 {latest['tree_size']} "
            f"(no checkpoint of tree size {second}; the latest is {latest['tree_size']})",
        )
    if first > second:
        raise DomainRefusal(
            "invalid_request",
            f"旧检查点的树大小 first={first} 不能大于新检查点的 second={second} (first must not exceed second)",
        )
    path = tlog.consistency_proof(first, await _leaf_hashes(rt, second))
    older = await rt.db.tlog_checkpoints.find_one({"_id": first})
    return {
        "first": first,
        "second": second,
        "hashes": [base64.b64encode(h).decode() for h in path],
        "first_checkpoint": _checkpoint_view(older) if older else None,
        "second_checkpoint": _checkpoint_view(newer),
        **await log_identity(rt),
    }


async def evidence(rt: Runtime, matter_id: str) -> dict[str, Any]:
    """What signing holds for a matter's evidence package: the head with its proof, the certificates up to the
    root, the seal records, and each revision's PDF (size and state; the bytes come in chunks)."""
    answer = await proof(rt, matter_id)
    ca: store.Authority = rt.extras["ca"]
    acts = await rt.db.acts.find({"matter_id": matter_id}, {"key_id": 1, "kind": 1, "payload.actor_id": 1}).to_list()
    key_ids = sorted({a["key_id"] for a in acts} | {store.PLATFORM_KEY, NOTE_KEY})
    certificates = {pki.pem(c) for c in ca.chain}
    async for record in rt.db.certificates.find({"key_id": {"$in": key_ids}}, {"pem": 1}):
        certificates.add(record["pem"])
    seals = []
    seal_ids = sorted({a["payload"]["actor_id"] for a in acts if a["kind"] == "seal"})
    async for seal in rt.db.seals.find({"_id": {"$in": seal_ids}}):
        image = seal.pop("image_png", None)
        record = {k: _iso(v) for k, v in seal.items() if k != "_id"}
        record["seal_id"] = seal["_id"]
        if image is not None:
            record["image_png_base64"] = base64.b64encode(bytes(image)).decode()
        seals.append(record)
    documents = []
    async for doc in rt.db.documents.find(
        {"matter_id": matter_id}, {"revision": 1, "locked": 1, "signature_ids": 1, "expected_acts": 1, "pdf": 1}
    ).sort("revision", 1):
        documents.append(
            {"revision": doc["revision"], "locked": doc["locked"], "signatures": len(doc["signature_ids"]), "size": len(doc["pdf"])}
        )
    platform = await rt.db.keys.find_one({"_id": store.PLATFORM_KEY}, {"public_pem": 1})
    return {
        **answer,
        "certificates": sorted(certificates),
        "trust_roots": [pki.pem(c) for c in ca.trust_roots],
        "seals": seals,
        "platform_public_pem": platform["public_pem"] if platform else None,
        "documents": documents,
    }


async def pdf_chunk(rt: Runtime, matter_id: str, revision: int, offset: int, length: int) -> dict[str, Any]:
    doc = await rt.db.documents.find_one({"matter_id": matter_id, "revision": revision}, {"pdf": 1})
    if doc is None:
        raise DomainRefusal("document_not_ready", f"no document for {matter_id} revision {revision}")
    pdf = bytes(doc["pdf"])
    return {"size": len(pdf), "content_base64": base64.b64encode(pdf[offset : offset + length]).decode()}


async def handle(rt: Runtime, query: m.TrailLogQuery) -> dict[str, Any]:
    if query.action == "checkpoints":
        items = [_checkpoint_view(d) async for d in rt.db.tlog_checkpoints.find({}).sort("_id", -1).limit(query.limit)]
        return {**await log_identity(rt), "items": items}
    if query.action == "consistency":
        if query.first is None:
            raise DomainRefusal("invalid_request", "first is required")
        return await consistency(rt, query.first, query.second)
    if not query.matter_id:
        raise DomainRefusal("invalid_request", "matter_id is required")
    if query.action == "proof":
        return await proof(rt, query.matter_id)
    if query.action == "evidence":
        return await evidence(rt, query.matter_id)
    if query.revision is None:
        raise DomainRefusal("invalid_request", "revision is required")
    return await pdf_chunk(rt, query.matter_id, query.revision, query.offset, query.length)
