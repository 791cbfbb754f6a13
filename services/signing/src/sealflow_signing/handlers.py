"""signing's handlers: make each act of a matter's chain in order, exactly once; register approvals;
verify them."""

import base64
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError
from sealflow_contracts import messages as m
from sealflow_contracts.chain import GENESIS_HASH
from sealflow_runtime.deadletter import PoisonMessage, publish_dead_letter
from sealflow_runtime.mongo import in_transaction
from sealflow_runtime.outbox import stage_messages
from sealflow_runtime.service import Runtime

from sealflow_signing.adapters import store, waiting
from sealflow_signing.domain import chain, crypto, seals

logger = structlog.get_logger()


@dataclass
class Verification:
    valid: bool
    reason: str
    matter_id: str = ""
    approval_number: str = ""
    registered_at: str = ""
    acts: list[dict[str, Any]] | None = None
    reason_code: str = ""  # machine code of `reason` (which is Chinese, for people)


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
        await rt.db.seal_refusals.insert_one(
            {"_id": cmd.event_id, "matter_id": cmd.matter_id, "seal_id": cmd.seal_id, "reason": reason, "at": m.utcnow()}, session=session
        )
        await stage_messages(
            rt.db,
            session,
            [m.SealRefused(matter_id=cmd.matter_id, revision=cmd.revision, stage=cmd.stage, seal_id=cmd.seal_id, reason=reason)],
        )

    try:
        await in_transaction(rt.client, work)
    except DuplicateKeyError:
        return
    rt.relay.wake()


async def _append_act(
    rt: Runtime, cmd: m.RequestSignature | m.RequestSeal, *, kind, actor_id, key_id, comment, announce, also=None
) -> None:
    act_id, previous_id = f"{cmd.matter_id}:{cmd.seq}", f"{cmd.matter_id}:{cmd.seq - 1}"
    # This act (made before?) and the one it chains to, in one read.
    found = {a["_id"]: a async for a in rt.db.acts.find({"_id": {"$in": [act_id, previous_id]}}, {"hash": 1, "created_at": 1})}
    if act_id in found:
        if cmd.reissued:  # the reconciler asks: the act exists, so its announcement may be what went missing
            await _announce_again(rt, announce(found[act_id]))
        return  # made before; its event was committed with it
    prev_hash = GENESIS_HASH
    if cmd.seq > 1:
        if previous_id not in found:
            # Acts arrive in any order; the chain is built in seq order. Keep this one until act seq-1 is made.
            await _wait_for_act(rt, cmd, kind, key=act_id, after_seq=cmd.seq - 1)
            return
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
    await release_waiting(rt, cmd.matter_id, cmd.seq)


async def _announce_again(rt: Runtime, event: m.Envelope) -> None:
    """Publish an act's or approval's event again (a new event id; routing applies each act once by its seq)."""

    async def work(session: AsyncClientSession) -> None:
        await stage_messages(rt.db, session, [event])

    await in_transaction(rt.client, work)
    rt.relay.wake()


# What a kept request is, by kind: its contract, the consumer it came through, and its handler.
def _kinds() -> dict[str, tuple[type[m.Envelope], str, Any]]:
    return {
        "signature": (m.RequestSignature, "signing-request-signature", on_request_signature),
        "seal": (m.RequestSeal, "signing-request-seal", on_request_seal),
        "approval": (m.RegisterApproval, "signing-register-approval", on_register_approval),
    }


async def _wait_for_act(rt: Runtime, cmd: m.Envelope, kind: waiting.Kind, *, key: str, after_seq: int) -> None:
    """Keep the request (acknowledged, no redeliveries) until act `after_seq` is made. The act may have been
    made between our read and the keeping; whoever made it may then have looked before we kept: look again."""
    await waiting.keep(rt.db, key=key, kind=kind, matter_id=cmd.matter_id, after_seq=after_seq, command=cmd.model_dump(mode="json"))
    logger.info("request waits for its predecessor", matter_id=cmd.matter_id, kind=kind, waits_for_act=after_seq)
    if await rt.db.acts.find_one({"_id": f"{cmd.matter_id}:{after_seq}"}, {"_id": 1}):
        await release_waiting(rt, cmd.matter_id, after_seq)


async def release_waiting(rt: Runtime, matter_id: str, seq: int) -> None:
    """Act `seq` of the matter exists: make what was waiting for it (the next act, the approval).

    A failure here leaves the request kept; `sweep_waiting` makes it later. A request that can never
    succeed (a seal refused by its rules, a chain that does not verify) goes to the dead letters."""
    for request in await waiting.waiting_after(rt.db, matter_id, seq):
        model, consumer, handler = _kinds()[request["kind"]]
        try:
            await handler(rt, model.model_validate(request["command"]))
        except PoisonMessage as poison:
            await publish_dead_letter(
                rt.broker,
                consumer=consumer,
                subject=model.SUBJECT,
                original=json.dumps(request["command"]).encode(),
                reason=poison.reason,
                stream_seq=None,
                deliveries=None,
                msg_id=f"{consumer}:waiting:{request['_id']}",
            )
            logger.error("kept request dead-lettered", consumer=consumer, reason=poison.reason, matter_id=matter_id)
        except Exception as error:  # the database or the bus is away: the sweep tries again
            logger.warning("kept request not made yet; will retry", matter_id=matter_id, kind=request["kind"], error=repr(error))
            continue
        await waiting.done(rt.db, request)


async def sweep_waiting(rt: Runtime, older_than_seconds: float = 2.0) -> int:
    """The safety net for `release_waiting`: a replica that made an act and died before releasing its
    successor, or a release that failed. Returns how many kept requests found their predecessor."""
    kept = await waiting.all_waiting(rt.db, m.utcnow() - timedelta(seconds=older_than_seconds))
    if not kept:
        return 0
    awaited = {f"{r['matter_id']}:{r['after_seq']}" for r in kept}
    present = {a["_id"] async for a in rt.db.acts.find({"_id": {"$in": sorted(awaited)}}, {"_id": 1})}
    ready = sorted({(r["matter_id"], r["after_seq"]) for r in kept if f"{r['matter_id']}:{r['after_seq']}" in present})
    for matter_id, seq in ready:
        await release_waiting(rt, matter_id, seq)
    return len(ready)


async def on_register_approval(rt: Runtime, cmd: m.RegisterApproval) -> None:
    existing = await rt.db.approvals.find_one({"_id": cmd.approval_number}, {"record.registered_at": 1})
    if existing:
        if cmd.reissued:
            registered_at = datetime.fromisoformat(existing["record"]["registered_at"])
            await _announce_again(
                rt, m.ApprovalRegistered(matter_id=cmd.matter_id, approval_number=cmd.approval_number, registered_at=registered_at)
            )
        return
    acts = await rt.db.acts.find({"matter_id": cmd.matter_id, "seq": {"$lte": cmd.final_seq}}).sort("seq", 1).to_list()
    if not acts or acts[-1]["seq"] != cmd.final_seq:
        # Acts are made in seq order: making the last one releases this request. (A gap below it is not
        # waiting but a broken chain, which verify_acts names.)
        await _wait_for_act(rt, cmd, "approval", key=f"{cmd.matter_id}:approval:{cmd.approval_number}", after_seq=cmd.final_seq)
        return
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
        await rt.db.approvals.insert_one(
            {"_id": cmd.approval_number, "record": record, "signature": signature, "matter_id": cmd.matter_id}, session=session
        )
        await stage_messages(
            rt.db,
            session,
            [
                m.ApprovalRegistered(matter_id=cmd.matter_id, approval_number=cmd.approval_number, registered_at=now),
                # The sealed PDF's closing stamp carries this number: its document may close now.
                m.AdvanceDocument(matter_id=cmd.matter_id, revision=cmd.revision),
            ],
        )

    try:
        await in_transaction(rt.client, work)
    except DuplicateKeyError:
        return
    rt.relay.wake()


CHAIN_REASONS = {
    "chain_broken": "签批链校验失败：某个签批或用印记录被改动、缺失或顺序不对",
    "chain_head_mismatch": "签批链的最后一环与审批记录不一致",
    "approval_signature_invalid": "审批记录上签批平台的签名无效",
}


async def verify_approval(rt: Runtime, approval_number: str, digest: str) -> Verification:
    approval = await rt.db.approvals.find_one({"_id": approval_number})
    if approval is None:
        return Verification(False, f"没有审批编号为 {approval_number} 的审批", reason_code="unknown_approval")
    record = approval["record"]
    result = Verification(False, "", record["matter_id"], approval_number, record["registered_at"])
    if digest.lower() != record["digest"]:
        result.reason, result.reason_code = "这份文档与审批通过的文档不一致（摘要不同）", "digest_mismatch"
        return result
    acts = await rt.db.acts.find({"matter_id": record["matter_id"], "seq": {"$lte": record["final_seq"]}}).sort("seq", 1).to_list()
    keys = await store.public_keys(rt.db, {a["key_id"] for a in acts} | {store.PLATFORM_KEY})
    broken = chain.verify_acts(acts, keys, record["digest"], record.get("revision"))
    code = "chain_broken" if broken else ""
    if broken is None and acts[-1]["hash"] != record["head_hash"]:
        broken, code = "the chain does not end where the approval says", "chain_head_mismatch"
    if broken is None and not crypto.verify(keys[store.PLATFORM_KEY], record, base64.b64decode(approval["signature"])):
        broken, code = "the approval record's platform signature does not verify", "approval_signature_invalid"
    if broken:
        # People read the Chinese; operators find the technical detail in the log under the approval number.
        logger.warning("approval does not verify", approval_number=approval_number, code=code, detail=broken)
        result.reason, result.reason_code = CHAIN_REASONS[code], code
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
