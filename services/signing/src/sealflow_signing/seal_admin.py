"""Seal administration (docs/rules.md §7): the administrator creates, renews and revokes seals; a village created in
routing gets its cooperative seal here. Each seal is completed as GB/T 38540 describes it (key,
certificate under the town root, image, maker's signature — `store.enrich_seals`), and every change is an
entry in signing's own hash-chained seal administration trail (scope `seals`), written in the same
transaction as the change.

A revoked seal is refused for every act from then on (`domain.seals.refusal`); acts made before stay valid,
so nothing here touches acts, seal uses or documents. intake checks the caller is the administrator — the
directory is routing's, and intake has already asked it who the caller is.
"""

import base64
import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError
from sealflow_contracts import messages as m
from sealflow_contracts.chain import GENESIS_HASH, chain_is_valid, trail_entry_hash
from sealflow_runtime.bus import DomainRefusal
from sealflow_runtime.mongo import in_transaction
from sealflow_runtime.service import Runtime

from sealflow_signing.adapters import store
from sealflow_signing.domain import crypto

SCOPE = "seals"
SEAL_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
CHINA = ZoneInfo("Asia/Shanghai")
DEFAULT_YEARS = 5  # a seal's default validity; its certificate (pki.LEAF_YEARS) lasts as long


class _TrailMoved(Exception):
    """Another replica appended to the seal trail at the same moment: run the change again."""


class _Exists(Exception):
    """A seal with this id is there already."""


def status(seal: dict[str, Any], now: datetime) -> str:
    if seal.get("revoked_at") is not None:
        return "revoked"
    if now > seal["valid_to"]:
        return "expired"
    if now < seal["valid_from"]:
        return "not_yet_valid"
    return "active"


def view(seal: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
    """What the administrator sees (no image bytes, no certificate text)."""
    now = now or m.utcnow()
    # China time, as the administrator entered it (MongoDB keeps UTC).
    at = lambda v: v.astimezone(CHINA).isoformat() if isinstance(v, datetime) else v  # noqa: E731
    return {
        "id": seal["_id"],
        "name": seal["name"],
        "holder": seal["holder"],
        "allowed_roles": seal["allowed_roles"],
        "valid_from": at(seal["valid_from"]),
        "valid_to": at(seal["valid_to"]),
        "status": status(seal, now),
        "revoked_at": at(seal.get("revoked_at")),
        "revoked_reason": seal.get("revoked_reason"),
        "has_certificate": bool(seal.get("certificate_pem")),
        "maker_signed": bool(seal.get("maker_signature")),
        "version": seal.get("version", 1),
    }


async def handle(rt: Runtime, req: m.SealAdminRequest) -> Any:
    match req.action:
        case "list":
            now = m.utcnow()
            return {"items": [view(s, now) async for s in rt.db.seals.find({}, {"image_png": 0}).sort("_id", 1)]}
        case "trail":
            entries = [{k: v for k, v in d.items() if k != "_id"} async for d in rt.db.seal_admin_trail.find({}).sort("seq", 1)]
            return {"scope": SCOPE, "chain_valid": chain_is_valid(entries), "entries": entries}
        case "create":
            return await create(rt, req.actor_id, req.body or {})
        case "renew":
            return await renew(rt, req.actor_id, req.seal_id or "", req.body or {})
        case "revoke":
            return await revoke(rt, req.actor_id, req.seal_id or "", req.body or {})
    raise DomainRefusal("invalid_request", f"unknown action {req.action}")


def _when(body: dict[str, Any], key: str, default: datetime | None) -> datetime:
    value = body.get(key)
    if value is None:
        if default is None:
            raise DomainRefusal("invalid_field", f"字段 {key} 为必填项（ISO 8601 时间，带时区）")
        return default
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError as error:
        raise DomainRefusal("invalid_field", f"字段 {key} 应为 ISO 8601 时间，如 2031-12-31T23:59:59+08:00") from error
    if moment.tzinfo is None:
        raise DomainRefusal("invalid_field", f"字段 {key} 需要时区，如 +08:00")
    return moment


async def create(rt: Runtime, actor_id: str, body: dict[str, Any]) -> dict[str, Any]:
    seal_id = str(body.get("id") or "")
    if not SEAL_ID.match(seal_id):
        raise DomainRefusal("invalid_field", "字段 id：印章编号只能用小写字母、数字、- 和 _")
    name, holder = str(body.get("name") or "").strip(), str(body.get("holder") or "").strip()
    if not name or len(name) > 60:
        raise DomainRefusal("invalid_field", "字段 name：印章名称为必填项（不超过 60 字）")
    if not holder:
        raise DomainRefusal("invalid_field", "字段 holder：持有单位（村或镇的编号）为必填项")
    roles = body.get("allowed_roles")
    if not isinstance(roles, list) or not roles or not all(isinstance(r, str) and r for r in roles):
        raise DomainRefusal("invalid_field", '字段 allowed_roles：至少一个角色，如 ["secretary"]')
    now = m.utcnow()
    valid_from = _when(body, "valid_from", now)
    valid_to = _when(body, "valid_to", valid_from + timedelta(days=365 * DEFAULT_YEARS))
    if valid_to <= valid_from or valid_to <= now:
        raise DomainRefusal("invalid_field", "字段 valid_to：须晚于 valid_from 和现在")
    seal = {"_id": seal_id, "name": name, "holder": holder, "allowed_roles": roles, "valid_from": valid_from, "valid_to": valid_to}
    if not await _insert(rt, seal, actor_id):
        raise DomainRefusal("already_exists", f"印章 {seal_id} 已存在")
    return view(await _complete(rt, seal_id))


async def on_village_added(rt: Runtime, event: m.VillageAdded) -> None:
    """The new village's cooperative seal, once however often the event arrives; then its certificate,
    image and maker's signature (also done for any seal left incomplete by a crash, here or at start-up)."""
    valid_from = event.occurred_at
    seal = {
        "_id": event.seal_id,
        "name": event.seal_name,
        "holder": event.village_id,
        "allowed_roles": event.allowed_roles,
        "valid_from": valid_from,
        "valid_to": valid_from + timedelta(days=365 * DEFAULT_YEARS),
    }
    await _insert(rt, seal, event.actor_id, cause={"village_added": event.event_id})
    await _complete(rt, event.seal_id)


async def _insert(rt: Runtime, seal: dict[str, Any], actor_id: str, cause: dict[str, Any] | None = None) -> bool:
    """The seal and its trail entry in one transaction; False if a seal with this id exists already."""
    record = {**seal, "version": 1, "created_by": actor_id, "created_at": m.utcnow()}

    async def work(session: AsyncClientSession) -> None:
        if await rt.db.seals.find_one({"_id": seal["_id"]}, {"_id": 1}, session=session):
            raise _Exists()
        await rt.db.seals.insert_one(record, session=session)
        await _record(rt, session, "seal.created", actor_id, {"id": seal["_id"], "before": None, "after": _jsonable(seal), **(cause or {})})

    try:
        await _retrying(rt, work)
    except _Exists:
        return False
    return True


async def _complete(rt: Runtime, seal_id: str) -> dict[str, Any]:
    await store.enrich_seals(rt.db, rt.extras["ca"], rt.settings)
    return await rt.db.seals.find_one({"_id": seal_id}, {"image_png": 0})


async def renew(rt: Runtime, actor_id: str, seal_id: str, body: dict[str, Any]) -> dict[str, Any]:
    seal = await _existing(rt, seal_id)
    if seal.get("revoked_at") is not None:
        raise DomainRefusal("invalid_seal", f"印章 {seal['name']} 已吊销，不能续期；请新建印章")
    valid_to = _when(body, "valid_to", None)
    if valid_to <= seal["valid_to"] or valid_to <= m.utcnow():
        # Only later: a shorter window would turn documents sealed near its end invalid after the fact.
        raise DomainRefusal("invalid_field", f"字段 valid_to：续期须晚于现有有效期 {seal['valid_to'].isoformat()}")
    changed = {**seal, "valid_to": valid_to}
    # The maker signs the seal record again: its validity is part of what the maker vouches for.
    maker = await store.custodial_key(rt.db, store.PLATFORM_KEY, rt.settings.master_keys())
    updates: dict[str, Any] = {
        "valid_to": valid_to,
        "version": seal.get("version", 1) + 1,
        "renewed_at": m.utcnow(),
        "renewed_by": actor_id,
    }
    if seal.get("certificate_pem"):
        record = store.seal_record(changed, image_sha256=seal["image_sha256"], cert_pem=seal["certificate_pem"])
        updates["maker_signature"] = base64.b64encode(crypto.sign(maker, record)).decode()
    await _update(
        rt,
        seal,
        updates,
        "seal.renewed",
        actor_id,
        {"valid_to": seal["valid_to"].astimezone(CHINA).isoformat()},
        {"valid_to": valid_to.astimezone(CHINA).isoformat()},
    )
    return view(await rt.db.seals.find_one({"_id": seal_id}, {"image_png": 0}))


async def revoke(rt: Runtime, actor_id: str, seal_id: str, body: dict[str, Any]) -> dict[str, Any]:
    seal = await _existing(rt, seal_id)
    reason = str(body.get("reason") or "").strip()
    if not reason:
        raise DomainRefusal("invalid_field", "字段 reason：吊销须写明原因")
    if seal.get("revoked_at") is not None:
        return view(seal)  # revoked already: the first revocation stands
    now = m.utcnow()
    updates = {"revoked_at": now, "revoked_reason": reason[:500], "revoked_by": actor_id, "version": seal.get("version", 1) + 1}
    await _update(
        rt,
        seal,
        updates,
        "seal.revoked",
        actor_id,
        {"status": status(seal, now)},
        {"status": "revoked", "revoked_at": now.isoformat(), "reason": reason[:500]},
    )
    return view(await rt.db.seals.find_one({"_id": seal_id}, {"image_png": 0}))


async def _existing(rt: Runtime, seal_id: str) -> dict[str, Any]:
    seal = await rt.db.seals.find_one({"_id": seal_id}, {"image_png": 0})
    if seal is None:
        raise DomainRefusal("seal_not_found", f"没有印章 {seal_id}")
    return seal


async def _update(rt: Runtime, seal: dict[str, Any], updates: dict[str, Any], type_: str, actor_id: str, before: dict, after: dict) -> None:
    async def work(session: AsyncClientSession) -> None:
        # Guarded on the version read: two administrators at once cannot both apply their change blindly.
        guard = {"version": seal["version"]} if "version" in seal else {"version": {"$exists": False}}  # pilot seals start unversioned
        done = await rt.db.seals.update_one({"_id": seal["_id"], **guard}, {"$set": updates}, session=session)
        if done.modified_count != 1:
            raise DomainRefusal("conflict", f"印章 {seal['name']} 刚被他人修改，请刷新后再试")
        await _record(rt, session, type_, actor_id, {"id": seal["_id"], "before": before, "after": after})

    await _retrying(rt, work)


async def _record(rt: Runtime, session: AsyncClientSession, type_: str, actor_id: str, data: dict[str, Any]) -> None:
    state = await rt.db.seal_admin_state.find_one({"_id": SCOPE}, session=session) or {"seq": 0, "head": GENESIS_HASH}
    entry = {
        "matter_id": SCOPE,
        "seq": state["seq"] + 1,
        "type": type_,
        "at": m.utcnow().isoformat(),
        "actor_id": actor_id,
        "data": data,
        "prev_hash": state["head"],
    }
    entry["hash"] = trail_entry_hash(entry)
    moved = await rt.db.seal_admin_state.update_one(
        {"_id": SCOPE, "seq": state["seq"]},
        {"$set": {"seq": entry["seq"], "head": entry["hash"]}},
        upsert=state["seq"] == 0,
        session=session,
    )
    if moved.modified_count != 1 and moved.upserted_id is None:
        raise _TrailMoved()
    await rt.db.seal_admin_trail.insert_one({"_id": entry["seq"], **entry}, session=session)


async def _retrying(rt: Runtime, work) -> None:
    for _ in range(8):
        try:
            return await in_transaction(rt.client, work)
        except (_TrailMoved, DuplicateKeyError):
            continue  # a racing replica took the trail's next seq or the same seal id: look again
    raise DomainRefusal("admin_conflict", "the seal records kept changing; try again")


def _jsonable(doc: dict[str, Any]) -> dict[str, Any]:
    return {("id" if k == "_id" else k): (v.isoformat() if isinstance(v, datetime) else v) for k, v in doc.items()}
