"""signing's handlers: make each act of a matter's chain in order, exactly once; register approvals;
verify them."""

import base64
from dataclasses import dataclass
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from sealflow_contracts import messages as m
from sealflow_contracts.chain import GENESIS_HASH
from sealflow_runtime.bus import NotReady
from sealflow_runtime.deadletter import PoisonMessage
from sealflow_runtime.mongo import in_transaction
from sealflow_runtime.outbox import stage_messages
from sealflow_runtime.service import Runtime
from sealflow_signing.adapters import store
from sealflow_signing.domain import chain, crypto, seals



@dataclass
class Verification:
    valid: bool
    reason: str
    matter_id: str = ""
    approval_number: str = ""
    registered_at: str = ""
    acts: list[dict[str, Any]] | None = None


def _master_key(rt: Runtime) -> tuple[bytes, ...]:
    return rt.settings.master_keys()


async def on_request_signature(rt: Runtime, cmd: m.RequestSignature) -> None:
    await _append_act(
        rt,
        cmd,
        kind="signature",
        actor_id=cmd.signer_id,
        key_id=store.person_key_id(cmd.signer_id),
        comment=cmd.comment,
        announce=lambda act: m.SignatureApplied(
            matter_id=cmd.matter_id,
            revision=cmd.revision,
            seq=cmd.seq,
            stage=cmd.stage,
            signer_id=cmd.signer_id,
            signature_hash=act["hash"],
            signed_at=act["created_at"],
        ),
    )


async def on_request_seal(rt: Runtime, cmd: m.RequestSeal) -> None:
    seal = await rt.db.seals.find_one({"_id": cmd.seal_id})
    now = m.utcnow()
    if seal is None:
        raise PoisonMessage(f"unknown seal {cmd.seal_id}")
    refusal = seals.refusal(seal, cmd.triggered_by_roles, now)
    if refusal:
        await _announce_refusal(rt, cmd, refusal)
        raise PoisonMessage(refusal)
    use_id = f"{cmd.matter_id}:{cmd.revision}:{cmd.stage}:{cmd.seal_id}"

    async def register_use(session: AsyncClientSession, act: dict) -> None:
        # The seal-use register's id is unique per (matter, revision, stage, seal): one use, however often asked.
        await rt.db.seal_uses.insert_one(
            {
                "_id": use_id,
                "seal_id": cmd.seal_id,
                "matter_id": cmd.matter_id,
                "revision": cmd.revision,
                "stage": cmd.stage,
                "triggered_by": cmd.triggered_by,
                "triggered_by_roles": cmd.triggered_by_roles,
                "village_id": seal["holder"],
                "act_hash": act["hash"],
                "used_at": act["created_at"],
            },
            session=session,
        )

    await _append_act(
        rt,
        cmd,
        kind="seal",
        actor_id=cmd.seal_id,
        key_id=store.seal_key_id(cmd.seal_id),
        comment="",
        also=register_use,
        announce=lambda act: m.SealApplied(
            matter_id=cmd.matter_id,
            revision=cmd.revision,
            seq=cmd.seq,
            stage=cmd.stage,
            seal_id=cmd.seal_id,
            seal_use_id=use_id,
            signature_hash=act["hash"],
            applied_at=act["created_at"],
        ),
    )


async def _announce_refusal(rt: Runtime, cmd: m.RequestSeal, reason: str) -> None:
    """Tell routing (for the matter's trail) why the seal was not applied; once per request."""

    async def work(session: AsyncClientSession) -> None:
        await rt.db.seal_refusals.insert_one({"_id": cmd.event_id, "matter_id": cmd.matter_id, "seal_id": cmd.seal_id, "reason": reason, "at": m.utcnow()}, session=session)
        await stage_messages(
            rt.db, session, [m.SealRefused(matter_id=cmd.matter_id, revision=cmd.revision, stage=cmd.stage, seal_id=cmd.seal_id, reason=reason)]
        )

    try:
        await in_transaction(rt.client, work)
    except DuplicateKeyError:
        return
    rt.relay.wake()


async def _append_act(rt: Runtime, cmd: m.RequestSignature | m.RequestSeal, *, kind, actor_id, key_id, comment, announce, also=None) -> None:
    act_id, previous_id = f"{cmd.matter_id}:{cmd.seq}", f"{cmd.matter_id}:{cmd.seq - 1}"
    # This act (made before?) and the one it chains to, in one read.
    found = {a["_id"]: a async for a in rt.db.acts.find({"_id": {"$in": [act_id, previous_id]}}, {"hash": 1})}
    if act_id in found:
        return  # made before; its event was committed with it
    prev_hash = GENESIS_HASH
    if cmd.seq > 1:
        if previous_id not in found:
            # Acts arrive in any order; the chain is built in seq order.
            raise NotReady(f"act {cmd.seq - 1} of {cmd.matter_id} is not signed yet")
        prev_hash = found[previous_id]["hash"]
    key = await store.custodial_key(rt.db, key_id, _master_key(rt))
    now = m.utcnow()
    payload = chain.act_payload(
        matter_id=cmd.matter_id,
        revision=cmd.revision,
        seq=cmd.seq,
        kind=kind,
        stage=cmd.stage,
        actor_id=actor_id,
        digest=cmd.digest,
        at=now,
        prev_hash=prev_hash,
        comment=comment,
    )
    signature = crypto.sign(key, payload)
    act = {
        "_id": act_id,
        "matter_id": cmd.matter_id,
        "seq": cmd.seq,
        "kind": kind,
        "key_id": key_id,
        "payload": payload,
        "signature": base64.b64encode(signature).decode(),
        "hash": crypto.act_hash(payload, signature),
        "created_at": now,
    }

    async def work(session: AsyncClientSession) -> None:
        await rt.db.acts.insert_one(act, session=session)
        if also:
            await also(session, act)
        # The PDF signature for this act follows in the background, in order (documents.on_advance_document).
        await stage_messages(rt.db, session, [announce(act), m.AdvanceDocument(matter_id=cmd.matter_id, revision=cmd.revision)])

    try:
        await in_transaction(rt.client, work)
    except DuplicateKeyError:
        return  # another replica made this act first
    rt.relay.wake()


async def on_register_approval(rt: Runtime, cmd: m.RegisterApproval) -> None:
    if await rt.db.approvals.find_one({"_id": cmd.approval_number}, {"_id": 1}):
        return
    acts = await rt.db.acts.find({"matter_id": cmd.matter_id, "seq": {"$lte": cmd.final_seq}}).sort("seq", 1).to_list()
    if len(acts) < cmd.final_seq:
        raise NotReady(f"{cmd.matter_id} has {len(acts)} of {cmd.final_seq} acts signed")
    keys = await store.public_keys(rt.db, {a["key_id"] for a in acts})
    broken = chain.verify_acts(acts, keys, cmd.digest, cmd.revision)
    if broken:  # an integrity incident: never register; the dead letter tells operators
        raise PoisonMessage(f"chain does not verify: {broken}")
    now = m.utcnow()
    record = {
        "approval_number": cmd.approval_number,
        "matter_id": cmd.matter_id,
        "revision": cmd.revision,
        "digest": cmd.digest,
        "final_seq": cmd.final_seq,
        "head_hash": acts[-1]["hash"],
        "registered_at": now.isoformat(),
    }
    platform_key = await store.custodial_key(rt.db, store.PLATFORM_KEY, _master_key(rt))
    signature = base64.b64encode(crypto.sign(platform_key, record)).decode()

    async def work(session: AsyncClientSession) -> None:
        await rt.db.approvals.insert_one({"_id": cmd.approval_number, "record": record, "signature": signature, "matter_id": cmd.matter_id}, session=session)
        await stage_messages(
            rt.db, session, [m.ApprovalRegistered(matter_id=cmd.matter_id, approval_number=cmd.approval_number, registered_at=now)]
        )

    try:
        await in_transaction(rt.client, work)
    except DuplicateKeyError:
        return
    rt.relay.wake()


async def verify_approval(rt: Runtime, approval_number: str, digest: str) -> Verification:
    approval = await rt.db.approvals.find_one({"_id": approval_number})
    if approval is None:
        return Verification(False, "no approval with this number")
    record = approval["record"]
    result = Verification(False, "", record["matter_id"], approval_number, record["registered_at"])
    if digest.lower() != record["digest"]:
        result.reason = "the document does not match the approved document (digest differs)"
        return result
    acts = await rt.db.acts.find({"matter_id": record["matter_id"], "seq": {"$lte": record["final_seq"]}}).sort("seq", 1).to_list()
    keys = await store.public_keys(rt.db, {a["key_id"] for a in acts} | {store.PLATFORM_KEY})
    broken = chain.verify_acts(acts, keys, record["digest"], record.get("revision"))
    if broken is None and acts[-1]["hash"] != record["head_hash"]:
        broken = "the chain does not end where the approval says"
    if broken is None and not crypto.verify(keys[store.PLATFORM_KEY], record, base64.b64decode(approval["signature"])):
        broken = "the approval record's platform signature does not verify"
    if broken:
        result.reason = broken
        return result
    result.valid = True
    result.acts = [
        {
            "seq": a["seq"],
            "kind": a["kind"],
            "stage": a["payload"]["stage"],
            "actor_id": a["payload"]["actor_id"],
            "signed_at": a["payload"]["at"],
            "hash": a["hash"],
        }
        for a in acts
    ]
    return result
