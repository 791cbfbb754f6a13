"""The PAdES document of each matter revision: rendered and certified when routing opens the revision,
then every act of the chain (signature or seal) applied as a PDF signature, in order, in the background
(`AdvanceDocument`), so the ~0.2-1 s of PDF work per act never sits on a decision's path. The route's
last act locks the document. Verification compares an uploaded PDF with what was stored here."""

import asyncio
import base64
import hashlib
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

from bson import Binary
from cryptography.hazmat.primitives import serialization
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError
from sealflow_contracts import messages as m
from sealflow_contracts import subjects
from sealflow_contracts.canonical import document_digest
from sealflow_runtime.bus import rpc_call
from sealflow_runtime.deadletter import PoisonMessage
from sealflow_runtime.mongo import in_transaction
from sealflow_runtime.outbox import stage_messages
from sealflow_runtime.service import Runtime

from sealflow_signing import pdfwork
from sealflow_signing.adapters import store
from sealflow_signing.domain import crypto, pades, pki

CHINA = timezone(timedelta(hours=8))


def document_id(matter_id: str, revision: int) -> str:
    return f"{matter_id}:{revision}"


def _fonts(rt: Runtime):
    return rt.extras["fonts"]


def signer_slot(stage: int, person_id: str) -> str:
    return f"sig:{stage}:{person_id}"


def seal_slot(stage: int, seal_id: str) -> str:
    return f"seal:{stage}:{seal_id}"


def _der(key) -> bytes:
    return key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


async def _in_worker(rt: Runtime, fn, *args):
    return await asyncio.get_running_loop().run_in_executor(rt.extras["pdf_pool"], fn, *args)


# ---- certification at submission ----------------------------------------------------------------


async def on_request_document(rt: Runtime, cmd: m.RequestDocument) -> None:
    doc_id = document_id(cmd.matter_id, cmd.revision)
    if await rt.db.documents.find_one({"_id": doc_id}, {"_id": 1}):
        return
    refs = [a.model_dump() for a in cmd.attachments]
    recomputed = document_digest(
        village_id=cmd.village_id,
        matter_type=cmd.matter_type,
        title=cmd.title,
        amount_fen=cmd.amount_fen,
        fields=cmd.fields,
        attachment_hashes=refs,
    )
    if recomputed != cmd.digest:  # never certify a form that is not what the signers sign
        raise PoisonMessage("the form's content does not match its digest")
    files = await _attachment_files(rt, cmd.matter_id, refs)
    form = {
        "matter_id": cmd.matter_id,
        "revision": cmd.revision,
        "title": cmd.title,
        "town_name": cmd.town_name,
        "village_id": cmd.village_id,
        "village_name": cmd.village_name,
        "matter_type": cmd.matter_type,
        "matter_type_title": cmd.matter_type_title,
        "applicant_name": cmd.applicant_name,
        "submitted_at": cmd.submitted_at.astimezone(CHINA).isoformat(),
        "amount_fen": cmd.amount_fen,
        "fields": cmd.fields,
        "field_labels": cmd.field_labels,
        "field_types": cmd.field_types,
        "attachments": refs,
        "digest": cmd.digest,
        "route": [s.model_dump() for s in cmd.route],
        "short_code": f"{cmd.matter_id[:8].upper()}-{cmd.digest[:8].upper()}",
    }
    for stage in form["route"]:
        if stage.get("seal_id"):
            seal = await rt.db.seals.find_one({"_id": stage["seal_id"]}, {"name": 1})
            stage["seal_name"] = seal["name"] if seal else stage["seal_id"]
    ca: store.Authority = rt.extras["ca"]
    master_key = rt.settings.master_keys()
    platform_key = await store.custodial_key(rt.db, store.PLATFORM_KEY, master_key)
    platform_cert = await store.certificate(rt.db, ca, store.PLATFORM_KEY, _platform_subject(rt), master_key)
    fonts = _fonts(rt)

    text = " ".join(
        [
            cmd.title,
            cmd.applicant_name,
            *map(str, cmd.fields.keys()),
            *map(str, cmd.fields.values()),
            *cmd.field_labels.values(),
            *(a.filename for a in cmd.attachments),
        ]
    )
    subset_font = await asyncio.to_thread(fonts.subset_path)
    pdf, plan, expected, cert_id = await _in_worker(
        rt,
        pdfwork.certify_form,
        form,
        subset_font,
        fonts.full if fonts.needs_full(text) else None,
        _der(platform_key),
        pki.pem(platform_cert),
        [pki.pem(c) for c in ca.chain],
        f"{cmd.town_name}{cmd.village_name}",
        files,
    )
    now = m.utcnow()

    async def work(session: AsyncClientSession) -> None:
        await rt.db.documents.insert_one(
            {
                "_id": doc_id,
                "matter_id": cmd.matter_id,
                "revision": cmd.revision,
                "form": form,
                "plan": plan,
                "expected_acts": expected,
                "pdf": Binary(pdf),
                "signature_ids": [cert_id],
                "applied_seqs": [],
                "locked": False,
                "version": 1,
                "created_at": now,
                "updated_at": now,
            },
            session=session,
        )
        await rt.db.pdf_signatures.insert_one(
            {
                "_id": cert_id,
                "matter_id": cmd.matter_id,
                "revision": cmd.revision,
                "index": 0,
                "kind": "certification",
                "actor_id": store.PLATFORM_KEY,
                "role": "签批平台",
                "stage": 0,
                "signed_at": now.isoformat(),
            },
            session=session,
        )
        # Acts made before the form was certified are applied now.
        await stage_messages(rt.db, session, [m.AdvanceDocument(matter_id=cmd.matter_id, revision=cmd.revision)])

    try:
        await in_transaction(rt.client, work)
    except DuplicateKeyError:
        return
    rt.relay.wake()


async def _attachment_files(rt: Runtime, matter_id: str, refs: list[dict[str, Any]]) -> list[bytes]:
    """Each attachment's bytes, read from intake (which keeps them) chunk by chunk and checked against the
    hash the digest binds. intake not answering is transient (the message is retried); intake not having
    a file the digest names, or bytes that do not match it, never heals (a dead letter names it)."""
    files = []
    for ref in refs:
        chunks: list[bytes] = []
        received = 0
        while True:
            query = m.AttachmentChunkQuery(matter_id=matter_id, sha256=ref["sha256"], offset=received)
            reply = await rpc_call(rt.broker, subjects.RPC_ATTACHMENT, query, timeout=15.0)
            if not reply.ok:
                raise PoisonMessage(f"intake cannot give attachment {ref['filename']!r}: {reply.error.message}")
            chunk = base64.b64decode(reply.result["content_base64"])
            chunks.append(chunk)
            received += len(chunk)
            if not chunk or received >= reply.result["size"]:
                break
        content = b"".join(chunks)
        if hashlib.sha256(content).hexdigest() != ref["sha256"]:
            raise PoisonMessage(f"attachment {ref['filename']!r} does not match its SHA-256")
        files.append(content)
    return files


def _platform_subject(rt: Runtime) -> pki.Subject:
    return pki.Subject("platform", f"{rt.settings.town_name} Sealflow 签批平台", rt.settings.town_name, "签批平台")


# ---- each act as a PDF signature, in order, in the background ------------------------------------


async def on_advance_document(rt: Runtime, cmd: m.AdvanceDocument) -> None:
    doc = await rt.db.documents.find_one({"_id": document_id(cmd.matter_id, cmd.revision)})
    if doc is None or doc["locked"]:
        return  # not certified yet (its request will advance it), or finished
    applied = set(doc["applied_seqs"])
    acts = await rt.db.acts.find({"matter_id": cmd.matter_id, "payload.revision": cmd.revision}).sort("seq", 1).to_list()
    pending = []
    last = max(applied) if applied else None
    for act in acts:
        if act["seq"] in applied:
            continue
        if last is not None and act["seq"] != last + 1:
            break  # the chain is applied in order: wait for the missing act's own message
        pending.append(act)
        last = act["seq"]
    close_field = next((f for f in doc["plan"] if f["slot"] == "close"), None)
    close = close_field is not None and len(applied) + len(pending) >= doc["expected_acts"]
    approval = None
    if close and close_field.get("approval_stamp"):
        # The closing stamp shows the approval number: until signing registers the approval, close later —
        # registering it sends this document another AdvanceDocument (on_register_approval).
        approval = await rt.db.approvals.find_one({"matter_id": cmd.matter_id, "record.revision": cmd.revision}, {"_id": 1})
        close = approval is not None
    if not pending and not close:
        return
    ca: store.Authority = rt.extras["ca"]
    master_key = rt.settings.master_keys()
    people = {p["person_id"]: (stage, p) for stage in doc["form"]["route"] for p in stage["assignees"]}
    steps: list[dict[str, Any]] = []
    records: list[dict[str, Any]] = []
    for act in pending:
        payload = act["payload"]
        at = payload["at"]
        step: dict[str, Any] = {}
        if act["kind"] == "seal":
            seal = await rt.db.seals.find_one({"_id": payload["actor_id"]})
            slot = seal_slot(payload["stage"], payload["actor_id"])
            subject = store.seal_subject(seal)
            step["image_png"] = bytes(seal["image_png"])
            role, step["reason"], step["name"] = seal["name"], f"用印：{seal['name']}", seal["name"]
        else:
            stage, person = people.get(payload["actor_id"], ({"name": str(payload["stage"])}, {"name": payload["actor_id"]}))
            slot = signer_slot(payload["stage"], payload["actor_id"])
            subject = pki.Subject("person", person["name"], rt.settings.town_name, payload["actor_id"])
            role = stage["name"]
            opinion = payload["comment"] or "同意"
            step["stamp_lines"] = [person["name"], f"意见：{opinion}", f"时间：{_local(at)}"]  # the stage is in the row
            step["reason"], step["name"] = f"{role}：{opinion}", person["name"]
        field = next((f for f in doc["plan"] if f["slot"] == slot), None)
        if field is None:
            raise RuntimeError(f"act {act['seq']} of {cmd.matter_id} has no field on the form ({slot})")
        key = await store.custodial_key(rt.db, act["key_id"], master_key)
        cert = await store.certificate(rt.db, ca, act["key_id"], subject, master_key)
        steps.append({**step, "field": field["name"], "lock": field["lock"], "key_der": _der(key), "cert_pem": pki.pem(cert)})
        records.append(
            {
                "matter_id": cmd.matter_id,
                "revision": cmd.revision,
                "act_seq": act["seq"],
                "kind": act["kind"],
                "actor_id": payload["actor_id"],
                "role": role,
                "stage": payload["stage"],
                "signed_at": at,
                "act_hash": act["hash"],
            }
        )
    if close:
        key = await store.custodial_key(rt.db, store.PLATFORM_KEY, master_key)
        cert = await store.certificate(rt.db, ca, store.PLATFORM_KEY, _platform_subject(rt), master_key)
        field = close_field
        step = {
            "field": field["name"],
            "lock": True,
            "key_der": _der(key),
            "cert_pem": pki.pem(cert),
            "reason": "签批完成，文档锁定",
            "name": "Sealflow",
        }
        if approval is not None:
            step["box"] = field["box"]
            step["approval_stamp"] = {"number": approval["_id"], "url": public_page_url(rt.settings.public_url, approval["_id"])}
            step["reason"] = f"签批完成，审批编号 {approval['_id']}，文档锁定"
        steps.append(step)
        records.append(
            {
                "matter_id": cmd.matter_id,
                "revision": cmd.revision,
                "act_seq": None,
                "kind": "close",
                "actor_id": store.PLATFORM_KEY,
                "role": "签批平台（锁定）",
                "stage": 0,
                "signed_at": m.utcnow().isoformat(),
            }
        )
    location = f"{doc['form']['town_name']}{doc['form']['village_name']}"
    pdf, ids = await _in_worker(
        rt, pdfwork.sign_steps, bytes(doc["pdf"]), steps, [pki.pem(c) for c in ca.chain], location, rt.settings.cjk_font
    )
    locked = any(step["lock"] for step in steps)
    start = len(doc["signature_ids"])

    async def work(session: AsyncClientSession) -> bool:
        saved = await rt.db.documents.update_one(
            {"_id": doc["_id"], "version": doc["version"]},
            {
                "$set": {"pdf": Binary(pdf), "locked": locked, "updated_at": m.utcnow(), "version": doc["version"] + 1},
                "$push": {"signature_ids": {"$each": ids}, "applied_seqs": {"$each": [a["seq"] for a in pending]}},
            },
            session=session,
        )
        if saved.modified_count != 1:
            return False  # another replica advanced it first; its PDF stands
        await rt.db.pdf_signatures.insert_many(
            [{"_id": sid, "index": start + i, **record} for i, (sid, record) in enumerate(zip(ids, records, strict=True))], session=session
        )
        return True

    if await in_transaction(rt.client, work):
        rt.log.info("document advanced", matter_id=cmd.matter_id, revision=cmd.revision, signatures=start + len(ids), locked=locked)


def public_page_url(public_url: str, approval_number: str) -> str:
    """The console's public verification page (村务公开) for an approval: what the form's QR code holds."""
    return f"{public_url.rstrip('/')}/#/public/{quote(approval_number, safe='')}"


def _local(at: str) -> str:
    return datetime.fromisoformat(at).astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


# ---- reading and verifying -----------------------------------------------------------------------


async def latest_document(rt: Runtime, matter_id: str) -> dict[str, Any] | None:
    return await rt.db.documents.find_one({"matter_id": matter_id}, sort=[("revision", -1)])


async def trust_roots_pem(rt: Runtime) -> str:
    ca: store.Authority = rt.extras["ca"]
    return "".join(pki.pem(c) for c in ca.trust_roots)


async def verify_document(rt: Runtime, pdf: bytes) -> dict[str, Any]:
    ca: store.Authority = rt.extras["ca"]
    report = await asyncio.to_thread(pades.validate, pdf, ca.trust_roots)
    result: dict[str, Any] = {
        "valid": False,
        "reason": "",
        "reason_code": "",
        "matter_id": "",
        "revision": 0,
        "approval_number": "",
        "latest": False,
        "sealed": False,
        "changed_after_last_signature": False,
        "signatures": [],
        "seals": [],
    }
    if not report.readable:
        result["reason_code"], result["reason"] = "unreadable", f"文件无法作为 PDF 读取，可能已损坏（{report.problem}）"
        return result
    if not report.signatures:
        result["reason_code"], result["reason"] = "no_signatures", "这份 PDF 上没有任何电子签名"
        return result
    known = {d["_id"]: d async for d in rt.db.pdf_signatures.find({"_id": {"$in": [s.signature_id for s in report.signatures]}})}
    for s in report.signatures:
        rec = known.get(s.signature_id, {})
        result["signatures"].append(
            {
                "field": s.field_name,
                "signer": s.signer,
                "signer_subject": s.signer_subject,
                "role": rec.get("role", s.reason),
                "kind": rec.get("kind", "unknown"),
                "stage": rec.get("stage", 0),
                "signed_at": rec.get("signed_at", s.signed_at),
                "intact": s.intact,
                "valid": s.valid,
                "trusted": s.trusted,
                "chain": "trusted" if s.trusted else "not issued under the trust roots",
                "modification_level": s.modification_level,
                "docmdp_ok": s.docmdp_ok,
                "known": bool(rec),
            }
        )
        if rec.get("kind") == "seal":
            seal = await rt.db.seals.find_one({"_id": rec["actor_id"]}, {"image_png": 0})
            if seal:
                signed = rec["signed_at"]
                result["seals"].append(
                    {
                        "seal_id": seal["_id"],
                        "name": seal["name"],
                        "holder": seal["holder"],
                        "valid_from": seal["valid_from"].isoformat(),
                        "valid_to": seal["valid_to"].isoformat(),
                        "within_validity": _within(seal, signed),
                        "maker_signature_valid": maker_signature_ok(seal, await store.public_keys(rt.db, {store.PLATFORM_KEY})),
                        # A seal revoked later does not undo what it sealed while it was good: only an act
                        # made at or after the revocation would be invalid (signing refuses to make one).
                        "revoked_at": seal["revoked_at"].isoformat() if seal.get("revoked_at") else "",
                        "revoked_before_use": bool(seal.get("revoked_at") and seal["revoked_at"] <= datetime.fromisoformat(signed)),
                    }
                )
    sigs = report.signatures
    last = sigs[-1]
    result["changed_after_last_signature"] = last.coverage != "ENTIRE_FILE"
    first_known = known.get(sigs[0].signature_id)
    if first_known:
        result["matter_id"], result["revision"] = first_known["matter_id"], first_known["revision"]
    code, reason = _first_problem(report, known, first_known)
    stored = (
        await rt.db.documents.find_one({"_id": document_id(first_known["matter_id"], first_known["revision"])}, {"pdf": 0})
        if first_known
        else None
    )
    if stored:
        result["sealed"] = stored["locked"]
        uploaded_ids = [s.signature_id for s in sigs]
        result["latest"] = uploaded_ids == stored["signature_ids"]
        approval = await rt.db.approvals.find_one({"matter_id": stored["matter_id"]}, {"_id": 1, "record.revision": 1})
        if approval and approval["record"]["revision"] == stored["revision"]:
            result["approval_number"] = approval["_id"]
        if not reason and uploaded_ids != stored["signature_ids"][: len(uploaded_ids)]:
            code, reason = "signatures_mismatch", "文件上的签名与签批平台为该事项保存的文档不一致"
        if not reason and not result["latest"]:
            code, reason = (
                "earlier_revision",
                (
                    f"这是该文档较早的版本：本文件有 {len(uploaded_ids)} 个签名，"
                    f"签批平台保存的文档有 {len(stored['signature_ids'])} 个（文件被截短或已过时）"
                ),
            )
    elif not reason:
        code, reason = "unknown_document", "签批平台没有这些签名对应的文档"
    for seal in result["seals"]:
        if not reason and not seal["maker_signature_valid"]:
            code, reason = "seal_record_unsigned", f"印章「{seal['name']}」的印章记录没有制章方的有效签名"
        if not reason and seal["revoked_before_use"]:
            code, reason = "seal_revoked", f"印章「{seal['name']}」在注销（{_local(seal['revoked_at'])}）之后被使用"
    result["valid"] = not reason
    result["reason"] = reason
    result["reason_code"] = code
    return result


def _first_problem(report: pades.DocumentReport, known: dict[str, dict], first_known: dict | None) -> tuple[str, str]:
    """(machine code, the reason a person reads — Chinese, naming the signer) of the first thing wrong, or ("", "")."""
    sigs = report.signatures

    def who(i: int, s: pades.SignatureReport) -> str:
        return f"第 {i} 个签名（{known.get(s.signature_id, {}).get('role') or s.signer or s.field_name}）"

    for i, s in enumerate(sigs, start=1):
        if s.problem:
            return "signature_unreadable", f"{who(i, s)}无法校验（{s.problem}）"
        if not s.intact:
            return "altered", f"{who(i, s)}与它签署的内容不符：文档被改动过"
    for i, s in enumerate(sigs, start=1):
        if not s.trusted or not s.valid:
            return "untrusted_signer", f"{who(i, s)}由「{s.signer}」签署，其证书不是本镇信任根签发的"
    if first_known is None or first_known.get("kind") != "certification" or not sigs[0].certification:
        return "not_certified", "这份文档没有经签批平台认证（第一个签名不是平台的认证签名）"
    for i, s in enumerate(sigs, start=1):
        if s.signature_id not in known:
            return "foreign_signature", f"{who(i, s)}不是签批平台做出的"
        if known[s.signature_id]["matter_id"] != first_known["matter_id"] or known[s.signature_id]["revision"] != first_known["revision"]:
            return "other_document", f"{who(i, s)}属于另一份文档"
    for i, s in enumerate(sigs, start=1):
        if not s.docmdp_ok or s.modification_level not in ("NONE", "LTA_UPDATES", "FORM_FILLING"):
            return "changed_after_signing", f"{who(i, s)}之后，文档被以认证或锁定所不允许的方式改动过"
    if sigs[-1].coverage != "ENTIRE_FILE":
        return "content_after_last_signature", "最后一个签名之后又加入了内容"
    return "", ""


def _within(seal: dict, signed: str) -> bool:
    at = datetime.fromisoformat(signed)
    return seal["valid_from"] <= at <= seal["valid_to"]


def maker_signature_ok(seal: dict, keys: dict[str, str]) -> bool:
    if "maker_signature" not in seal or store.PLATFORM_KEY not in keys:
        return False
    record = store.seal_record(seal, image_sha256=seal["image_sha256"], cert_pem=seal["certificate_pem"])
    return crypto.verify(keys[store.PLATFORM_KEY], record, base64.b64decode(seal["maker_signature"]))
