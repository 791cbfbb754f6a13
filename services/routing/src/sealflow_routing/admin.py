"""The administrator's requests: the org directory (villages and people, one at a time or a roster, or the
whole directory at once), matter types with their forms, and routing policies — plus the few reads every
signed-in person needs (villages, matter types) and the development sign-in's list of people.

Every change is a new version (old versions stay; a matter keeps the policy and form versions it was routed
with), is checked against the version the caller saw (`if_match` → `conflict`), and is an entry in the
administrator's hash-chained trail with before → after, written in the same transaction. Directory changes
are announced (`DirectoryChanged`, and `VillageAdded` so signing makes the new village's seal) through the
outbox, in that transaction too. Nothing is cached here: every request reads the directory as it stands.
"""

from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import ValidationError
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError
from sealflow_contracts import messages as m
from sealflow_contracts.canonical import canonical_json, sha256_hex
from sealflow_runtime.bus import DomainRefusal
from sealflow_runtime.mongo import in_transaction
from sealflow_runtime.outbox import stage_messages
from sealflow_runtime.service import Runtime

from sealflow_routing.adapters import admin_store, store
from sealflow_routing.domain import people
from sealflow_routing.domain.directory import ROLE_NAMES, Directory, Policy
from sealflow_routing.domain.errors import Refused
from sealflow_routing.domain.forms import MatterType

ADMIN_ROLE = "admin"
MAX_ATTEMPTS = 8
# Reads for every signed-in person (intake checks the token); `dev_people` is exposed only with dev sign-in.
PUBLIC = {"list_villages", "list_matter_types", "dev_people"}
COOP_SEAL_ROLES = ["secretary"]  # the village party secretary's approval triggers the cooperative seal

Change = Callable[[Directory], tuple[Directory, list[people.Change], Callable[[Directory, int], Any]]]


async def handle(rt: Runtime, req: m.AdminRequest) -> Any:
    try:
        return await _handle(rt, req)
    except Refused as refused:
        raise DomainRefusal(refused.code, refused.message) from refused


async def _handle(rt: Runtime, req: m.AdminRequest) -> Any:
    directory = await store.load_directory(rt.db)
    actor = directory.person(req.actor_id)
    is_admin = actor is not None and actor.active and ADMIN_ROLE in actor.roles
    if req.action in PUBLIC:
        return await _public(rt, req, directory, is_admin)
    if not is_admin:
        raise DomainRefusal(
            "forbidden",
            "只有管理员可以维护名录、事项类型和签批路由 (only the administrator maintains the directory, matter types and policies)",
        )
    match req.action:
        case "list_policies":
            if req.matter_type:
                versions = await admin_store.policy_versions(rt.db, req.matter_type)
                if not versions:
                    raise DomainRefusal("not_found", f"no policy for {req.matter_type!r}")
                return {"matter_type": req.matter_type, "versions": versions}
            return {"policies": await admin_store.latest_policies(rt.db)}
        case "put_policy":
            return await _put_policy(rt, req)
        case "get_directory":
            return await rt.db.directory.find_one({"_id": store.DIRECTORY_ID}, {"_id": 0})
        case "put_directory":
            return await _put_directory(rt, req)
        case "trail":
            return await admin_store.trail(rt.db)
        case "list_people":
            village_id = (req.body or {}).get("village_id")
            return {"items": [p.model_dump() for p in directory.people if not village_id or p.village_id == village_id]}
        case "list_roles":
            return {"items": [{"id": k, "name": v} for k, v in ROLE_NAMES.items()]}
        case "add_person":
            return await _change_directory(rt, req, lambda d: _one(people.add_person(d, req.body), "person"))
        case "patch_person":
            return await _with_who_changed(
                rt,
                "person",
                req.entity_id,
                _change_directory(
                    rt, req, lambda d: _one(people.patch_person(d, req.entity_id or "", req.body, req.if_match), "person", req.entity_id)
                ),
            )
        case "add_village":
            return await _change_directory(rt, req, lambda d: _one(people.add_village(d, req.body), "village"))
        case "patch_village":
            return await _with_who_changed(
                rt,
                "village",
                req.entity_id,
                _change_directory(
                    rt, req, lambda d: _one(people.patch_village(d, req.entity_id or "", req.body, req.if_match), "village", req.entity_id)
                ),
            )
        case "import_people":
            return await _import_people(rt, req)
        case "put_matter_type":
            return await _put_matter_type(rt, req)
        case "matter_type_versions":
            versions = await admin_store.matter_type_versions(rt.db, req.entity_id or "")
            if not versions:
                raise DomainRefusal("not_found", f"没有事项类型 {req.entity_id}")
            return {"id": req.entity_id, "versions": versions}
    raise DomainRefusal("invalid_request", f"unknown action {req.action}")


async def _public(rt: Runtime, req: m.AdminRequest, directory: Directory, is_admin: bool) -> Any:
    match req.action:
        case "list_villages":
            return {"items": [_village_view(v) for v in directory.villages]}
        case "list_matter_types":
            include_inactive = bool((req.body or {}).get("include_inactive")) and is_admin
            types = await admin_store.latest_matter_types(rt.db, include_inactive=include_inactive)
            with_policy = {p["matter_type"] for p in await admin_store.latest_policies(rt.db)}
            return {"items": [{**_type_view(t), "has_policy": t["id"] in with_policy} for t in types]}
        case "dev_people":
            villages = {v.id: v.name for v in directory.villages}
            return {
                "items": [
                    {
                        "id": p.id,
                        "name": p.name,
                        "village_id": p.village_id,
                        "village_name": villages.get(p.village_id) if p.village_id else None,
                        "roles": p.roles,
                        "role_names": [ROLE_NAMES.get(r, r) for r in p.roles],
                    }
                    for p in directory.people
                    if p.active
                ]
            }


def _village_view(village: Any) -> dict[str, Any]:
    return village.model_dump()


def _type_view(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: doc[k] for k in ("id", "name", "active", "version", "form") if k in doc}


def _one(result: tuple[Directory, people.Change | None], kind: str, entity_id: str | None = None):
    """A single-entity change in the shape `_change_directory` takes; the reply is the entity as stored."""
    changed, change = result

    def reply(directory: Directory, _version: int) -> dict[str, Any]:
        wanted = change.id if change else entity_id
        found = directory.person(wanted) if kind == "person" else directory.village(wanted)
        return found.model_dump()

    return changed, [change] if change else [], reply


def _trail_type(change: people.Change) -> str:
    if change.before is None:
        return f"{change.entity}.added"
    if change.before.get("active") and not change.after.get("active"):
        return f"{change.entity}.deactivated"
    if not change.before.get("active") and change.after.get("active"):
        return f"{change.entity}.reactivated"
    return f"{change.entity}.changed"


async def _change_directory(rt: Runtime, req: m.AdminRequest, change: Change) -> Any:
    """Read the directory, apply one pure change, store the next version guarded on the version read, record
    each entity's before → after, announce it — one transaction, rerun if someone else changed the
    directory meanwhile (an entity's own If-Match is checked again on what is there then)."""

    async def work(session: AsyncClientSession) -> Any:
        current, version = await admin_store.current_directory(rt.db, session)
        try:
            changed, changes, reply = change(current)
        except Refused as refused:
            raise DomainRefusal(refused.code, refused.message) from refused
        if not changes:
            return reply(current, version)
        new_version = await admin_store.store_directory(rt.db, session, changed, version)
        await _record_changes(rt, session, req.actor_id, new_version, changes)
        await stage_messages(rt.db, session, _announcements(req.actor_id, new_version, changes))
        return reply(changed, new_version)

    result = await _retrying(rt, work)
    rt.relay.wake()
    return result


async def _record_changes(rt: Runtime, session: AsyncClientSession, actor_id: str, version: int, changes: list[people.Change]) -> None:
    at = m.utcnow().isoformat()
    for c in changes:
        await admin_store.record(rt.db, session, _trail_type(c), actor_id, at, {"directory_version": version, **c.model_dump()})


def _announcements(actor_id: str, version: int, changes: list[people.Change]) -> list[m.Envelope]:
    messages: list[m.Envelope] = [
        m.DirectoryChanged(
            matter_id="",
            version=version,
            person_ids=[c.id for c in changes if c.entity == "person"],
            village_ids=[c.id for c in changes if c.entity == "village"],
            actor_id=actor_id,
        )
    ]
    for c in changes:
        if c.entity == "village" and c.before is None:
            messages.append(
                m.VillageAdded(
                    matter_id="",
                    village_id=c.id,
                    village_name=c.after["name"],
                    seal_id=c.after["coop_seal"],
                    seal_name=people.coop_seal_name(c.after["name"]),
                    allowed_roles=COOP_SEAL_ROLES,
                    actor_id=actor_id,
                )
            )
    return messages


async def _with_who_changed(rt: Runtime, entity: str, entity_id: str | None, work: Awaitable[Any]) -> Any:
    """A lost update's message names who changed the entity last, and when."""
    try:
        return await work
    except DomainRefusal as refusal:
        if refusal.code != "conflict" or not entity_id:
            raise
        last = await admin_store.trail_of(rt.db, entity, entity_id)
        if last:
            refusal.message += f"（最后由 {last['actor_id']} 于 {last['at'][:19].replace('T', ' ')} UTC 修改）"
        raise


async def _import_people(rt: Runtime, req: m.AdminRequest) -> dict[str, Any]:
    try:
        rows = [people.RosterRow.model_validate(r) for r in (req.body or {}).get("rows", [])]
    except ValidationError as invalid:
        raise DomainRefusal("invalid_roster", f"名册无法读取：{invalid.errors()[0]['msg']}") from invalid
    if not rows:
        raise DomainRefusal("invalid_roster", "名册中没有人员行")

    def summary(results: list[dict[str, Any]], written: bool) -> dict[str, Any]:
        return {
            "rows": results,
            "created": sum(r["action"] == "create" for r in results) if written else 0,
            "updated": sum(r["action"] == "update" for r in results) if written else 0,
            "would_create": sum(r["action"] == "create" for r in results),
            "would_update": sum(r["action"] == "update" for r in results),
            "dry_run": req.dry_run,
            "ok": all(r["ok"] for r in results),
        }

    if req.dry_run:
        _, results, _ = people.plan_roster(await store.load_directory(rt.db), rows)
        return summary(results, written=False)

    outcome: dict[str, Any] = {}

    def change(current: Directory):
        changed, results, changes = people.plan_roster(current, rows)
        outcome["results"] = results
        if not all(r["ok"] for r in results):
            raise Refused("invalid_roster", f"名册有 {sum(not r['ok'] for r in results)} 行有误，未写入任何人员")
        return changed, changes, lambda _d, _v: None

    try:
        await _change_directory(rt, req, change)
    except DomainRefusal as refusal:
        if refusal.code == "invalid_roster":
            # The rows travel with the refusal so the caller can mark each bad one.
            return {**summary(outcome["results"], written=False), "error": {"code": refusal.code, "message": refusal.message}}
        raise
    return summary(outcome["results"], written=True)


async def _put_matter_type(rt: Runtime, req: m.AdminRequest) -> dict[str, Any]:
    type_id = req.entity_id or ""
    try:
        wanted = MatterType.model_validate({**(req.body or {}), "id": type_id, "version": 0})
    except ValidationError as invalid:
        error = invalid.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        raise DomainRefusal("invalid_field", f"字段 {where}：{error['msg']}") from invalid

    async def work(session: AsyncClientSession) -> dict[str, Any]:
        newest = await admin_store.load_matter_type(rt.db, type_id, session=session)
        if newest is None and req.if_match not in (None, 0):
            raise DomainRefusal("conflict", f"事项类型 {type_id} 不存在，无法按第 {req.if_match} 版修改")
        if newest is not None and req.if_match != newest.version:
            seen = f"您看到的是第 {req.if_match} 版" if req.if_match is not None else "请求未带 If-Match（视为新建）"
            raise DomainRefusal("conflict", f"事项类型「{newest.name}」({type_id}) 当前是第 {newest.version} 版，{seen}。请刷新后再改。")
        before = newest.model_dump() if newest else None
        if newest is not None and wanted.model_dump(exclude={"version"}) == newest.model_dump(exclude={"version"}):
            return newest.model_dump()
        stored = await admin_store.store_matter_type(rt.db, session, wanted, newest.version if newest else 0)
        await admin_store.record(
            rt.db, session, "matter_type.added" if newest is None else "matter_type.changed", req.actor_id, m.utcnow().isoformat(),
            {"entity": "matter_type", "id": type_id, "version": stored.version, "before": before, "after": stored.model_dump()},
        )  # fmt: skip
        return stored.model_dump()

    result = await _retrying(rt, work)
    has_policy = await rt.db.policies.find_one({"matter_type": type_id}, {"_id": 1}) is not None
    return {**result, "has_policy": has_policy}


async def _put_policy(rt: Runtime, req: m.AdminRequest) -> dict[str, Any]:
    try:
        policy = Policy.model_validate({**(req.body or {}), "matter_type": req.matter_type, "version": 0})
    except ValidationError as invalid:
        raise DomainRefusal("invalid_policy", _explain(invalid)) from invalid
    directory = await store.load_directory(rt.db)
    unknown = sorted({v for variant in policy.variants for v in variant.villages if directory.village(v) is None})
    if unknown:
        raise DomainRefusal("invalid_policy", f"variants.villages: 目录中没有这些村 {unknown} (no such villages)")

    async def work(session: AsyncClientSession) -> dict[str, Any]:
        newest = await rt.db.policies.find_one({"matter_type": policy.matter_type}, {"_id": 0}, sort=[("version", -1)], session=session)
        current = newest["version"] if newest else 0
        if req.if_match is not None and req.if_match != current:
            raise DomainRefusal(
                "conflict",
                f"「{policy.matter_type}」的签批路由当前是第 {current} 版，您看到的是第 {req.if_match} 版：已被他人修改，请刷新后再改。",
            )
        stored = await admin_store.store_policy(rt.db, session, policy)
        await admin_store.record(
            rt.db, session, "policy.replaced", req.actor_id, m.utcnow().isoformat(),
            {"entity": "policy", "id": stored.matter_type, "matter_type": stored.matter_type, "version": stored.version,
             "policy": stored.model_dump(), "before": newest, "after": stored.model_dump()},
        )  # fmt: skip
        return stored.model_dump()

    return await _retrying(rt, work)


async def _put_directory(rt: Runtime, req: m.AdminRequest) -> dict[str, Any]:
    body = dict(req.body or {})
    seen_version = req.if_match if req.if_match is not None else body.pop("version", None)
    body.pop("version", None)
    try:
        directory = Directory.model_validate(body)
    except ValidationError as invalid:
        raise DomainRefusal("invalid_directory", _explain(invalid)) from invalid
    problems = directory.problems()
    if not any(ADMIN_ROLE in p.roles and p.active for p in directory.people):
        problems.append("nobody would hold the administrator role")
    if problems:
        raise DomainRefusal("invalid_directory", "; ".join(problems))

    async def work(session: AsyncClientSession) -> dict[str, Any]:
        current, version = await admin_store.current_directory(rt.db, session)
        if seen_version is not None and seen_version != version:
            raise DomainRefusal("conflict", f"名录当前是第 {version} 版，您看到的是第 {seen_version} 版：已被他人修改，请刷新后再改。")
        try:
            replaced, changes = people.replace_checked(current, directory)
        except Refused as refused:
            raise DomainRefusal(refused.code, refused.message) from refused
        new_version = await admin_store.store_directory(rt.db, session, replaced, version)
        content = replaced.model_dump()
        await admin_store.record(
            rt.db, session, "directory.replaced", req.actor_id, m.utcnow().isoformat(),
            {"version": new_version, "before_version": version, "sha256": sha256_hex(canonical_json(content)),
             "people": len(replaced.people), "villages": len(replaced.villages), "changes": [c.model_dump() for c in changes]},
        )  # fmt: skip
        await stage_messages(rt.db, session, _announcements(req.actor_id, new_version, changes))
        return {"version": new_version, **content}

    result = await _retrying(rt, work)
    rt.relay.wake()
    return result


async def _retrying(rt: Runtime, work: Callable[[AsyncClientSession], Awaitable[Any]]) -> Any:
    for _ in range(MAX_ATTEMPTS):
        try:
            return await in_transaction(rt.client, work)
        except (admin_store.AdminConflict, DuplicateKeyError):
            continue  # two administrators at once: the loser runs its change again on what is there now
    raise DomainRefusal("admin_conflict", "the administration records kept changing; try again")


def _explain(invalid: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in invalid.errors())
