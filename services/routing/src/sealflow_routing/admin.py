"""The administrator's requests: the org directory (villages and people, one at a time or a roster, or the
whole directory at once), matter types with their forms, and routing policies — plus the few reads every
signed-in person needs (villages, matter types) and the development sign-in's list of people.

Every change is a new version (old versions stay; a matter keeps the policy and form versions it was routed
with), is checked against the version the caller saw (`if_match` → `conflict`), and is an entry in the
administrator's hash-chained trail with before → after, written in the same transaction. Directory changes
are announced (`DirectoryChanged`, and `VillageAdded` so signing makes the new village's seal) through the
outbox, in that transaction too. Nothing is cached here: every request reads the directory as it stands.
"""

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError
from sealflow_contracts import messages as m
from sealflow_contracts.canonical import canonical_json, sha256_hex
from sealflow_runtime.bus import DomainRefusal
from sealflow_runtime.mongo import in_transaction
from sealflow_runtime.outbox import stage_messages

from sealflow_routing.adapters import admin_store, store
from sealflow_routing.domain import people
from sealflow_routing.domain.directory import ROLE_NAMES, Directory, Policy
from sealflow_routing.domain.errors import Refused
from sealflow_routing.domain.forms import MatterType
from sealflow_routing.ports import AfterCommit

ADMIN_ROLE = "admin"
MAX_ATTEMPTS = 8
COOP_SEAL_ROLES = ["secretary"]  # the village party secretary's approval triggers the cooperative seal

T = TypeVar("T")


@dataclass(frozen=True)
class AdminPorts:
    """What the administrator's requests use: routing's database (the rules are in `domain.people` and
    `domain.directory`; the records in `adapters.admin_store`, which takes a MongoDB session) and the
    outbox's wake-up after a commit that staged announcements."""

    client: AsyncMongoClient
    db: AsyncDatabase
    after_commit: AfterCommit

    async def in_transaction(self, work: Callable[[AsyncClientSession], Awaitable[T]]) -> T:
        return await in_transaction(self.client, work)


Change = Callable[[Directory], tuple[Directory, list[people.Change], Callable[[Directory, int], Any]]]


def _refusals(handler: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """A domain refusal (`Refused`) reaches the caller as `DomainRefusal`, its code and message kept."""

    @functools.wraps(handler)
    async def refusing(req: Any, *, ports: AdminPorts) -> Any:
        try:
            return await handler(req, ports=ports)
        except Refused as refused:
            raise DomainRefusal(refused.code, refused.message) from refused

    return refusing


def _is_admin(directory: Directory, actor_id: str) -> bool:
    actor = directory.person(actor_id)
    return actor is not None and actor.active and ADMIN_ROLE in actor.roles


async def _administrator(ports: AdminPorts, actor_id: str) -> Directory:
    """The directory as it stands, once the caller is known to be an active administrator."""
    directory = await store.load_directory(ports.db)
    if not _is_admin(directory, actor_id):
        raise DomainRefusal(
            "forbidden",
            "只有管理员可以维护名录、事项类型和签批路由 (only the administrator maintains the directory, matter types and policies)",
        )
    return directory


# ---- reads for every signed-in person --------------------------------------------------------------


@_refusals
async def list_villages(req: m.ListVillages, *, ports: AdminPorts) -> Any:
    directory = await store.load_directory(ports.db)
    return {"items": [_village_view(v) for v in directory.villages]}


@_refusals
async def list_matter_types(req: m.ListMatterTypes, *, ports: AdminPorts) -> Any:
    include_inactive = req.include_inactive and _is_admin(await store.load_directory(ports.db), req.actor_id)
    types = await admin_store.latest_matter_types(ports.db, include_inactive=include_inactive)
    with_policy = {p["matter_type"] for p in await admin_store.latest_policies(ports.db)}
    return {"items": [{**_type_view(t), "has_policy": t["id"] in with_policy} for t in types]}


@_refusals
async def dev_people(req: m.DevPeople, *, ports: AdminPorts) -> Any:
    directory = await store.load_directory(ports.db)
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


# ---- the administrator's ---------------------------------------------------------------------------


@_refusals
async def list_policies(req: m.ListPolicies, *, ports: AdminPorts) -> Any:
    await _administrator(ports, req.actor_id)
    if req.matter_type:
        versions = await admin_store.policy_versions(ports.db, req.matter_type)
        if not versions:
            raise DomainRefusal("not_found", f"no policy for {req.matter_type!r}")
        return {"matter_type": req.matter_type, "versions": versions}
    return {"policies": await admin_store.latest_policies(ports.db)}


@_refusals
async def get_directory(req: m.GetDirectory, *, ports: AdminPorts) -> Any:
    await _administrator(ports, req.actor_id)
    return await ports.db.directory.find_one({"_id": store.DIRECTORY_ID}, {"_id": 0})


@_refusals
async def trail(req: m.AdminTrailQuery, *, ports: AdminPorts) -> Any:
    await _administrator(ports, req.actor_id)
    return await admin_store.trail(ports.db)


@_refusals
async def list_people(req: m.ListPeople, *, ports: AdminPorts) -> Any:
    directory = await _administrator(ports, req.actor_id)
    return {"items": [p.model_dump() for p in directory.people if not req.village_id or p.village_id == req.village_id]}


@_refusals
async def list_roles(req: m.ListRoles, *, ports: AdminPorts) -> Any:
    await _administrator(ports, req.actor_id)
    return {"items": [{"id": k, "name": v} for k, v in ROLE_NAMES.items()]}


@_refusals
async def add_person(req: m.AddPerson, *, ports: AdminPorts) -> Any:
    await _administrator(ports, req.actor_id)
    return await _change_directory(ports, req.actor_id, lambda d: _one(people.add_person(d, req.person), "person"))


@_refusals
async def patch_person(req: m.PatchPerson, *, ports: AdminPorts) -> Any:
    await _administrator(ports, req.actor_id)

    def change(d: Directory):
        return _one(people.patch_person(d, req.person_id, req.changes, req.if_match), "person", req.person_id)

    return await _with_who_changed(ports, "person", req.person_id, _change_directory(ports, req.actor_id, change))


@_refusals
async def add_village(req: m.AddVillage, *, ports: AdminPorts) -> Any:
    await _administrator(ports, req.actor_id)
    return await _change_directory(ports, req.actor_id, lambda d: _one(people.add_village(d, req.village), "village"))


@_refusals
async def patch_village(req: m.PatchVillage, *, ports: AdminPorts) -> Any:
    await _administrator(ports, req.actor_id)

    def change(d: Directory):
        return _one(people.patch_village(d, req.village_id, req.changes, req.if_match), "village", req.village_id)

    return await _with_who_changed(ports, "village", req.village_id, _change_directory(ports, req.actor_id, change))


@_refusals
async def matter_type_versions(req: m.MatterTypeVersions, *, ports: AdminPorts) -> Any:
    await _administrator(ports, req.actor_id)
    versions = await admin_store.matter_type_versions(ports.db, req.matter_type_id)
    if not versions:
        raise DomainRefusal("not_found", f"没有事项类型 {req.matter_type_id}")
    return {"id": req.matter_type_id, "versions": versions}


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


async def _change_directory(ports: AdminPorts, actor_id: str, change: Change) -> Any:
    """Read the directory, apply one pure change, store the next version guarded on the version read, record
    each entity's before → after, announce it — one transaction, rerun if someone else changed the
    directory meanwhile (an entity's own If-Match is checked again on what is there then)."""

    async def work(session: AsyncClientSession) -> Any:
        current, version = await admin_store.current_directory(ports.db, session)
        try:
            changed, changes, reply = change(current)
        except Refused as refused:
            raise DomainRefusal(refused.code, refused.message) from refused
        if not changes:
            return reply(current, version)
        new_version = await admin_store.store_directory(ports.db, session, changed, version)
        await _record_changes(ports, session, actor_id, new_version, changes)
        await stage_messages(ports.db, session, _announcements(actor_id, new_version, changes))
        return reply(changed, new_version)

    result = await _retrying(ports, work)
    ports.after_commit()
    return result


async def _record_changes(
    ports: AdminPorts, session: AsyncClientSession, actor_id: str, version: int, changes: list[people.Change]
) -> None:
    at = m.utcnow().isoformat()
    for c in changes:
        await admin_store.record(ports.db, session, _trail_type(c), actor_id, at, {"directory_version": version, **c.model_dump()})


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


async def _with_who_changed(ports: AdminPorts, entity: str, entity_id: str | None, work: Awaitable[Any]) -> Any:
    """A lost update's message names who changed the entity last, and when."""
    try:
        return await work
    except DomainRefusal as refusal:
        if refusal.code != "conflict" or not entity_id:
            raise
        last = await admin_store.trail_of(ports.db, entity, entity_id)
        if last:
            refusal.message += f"（最后由 {last['actor_id']} 于 {last['at'][:19].replace('T', ' ')} UTC 修改）"
        raise


@_refusals
async def import_people(req: m.ImportPeople, *, ports: AdminPorts) -> dict[str, Any]:
    await _administrator(ports, req.actor_id)
    try:
        rows = [people.RosterRow.model_validate(r) for r in req.rows]
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
        _, results, _ = people.plan_roster(await store.load_directory(ports.db), rows)
        return summary(results, written=False)

    outcome: dict[str, Any] = {}

    def change(current: Directory):
        changed, results, changes = people.plan_roster(current, rows)
        outcome["results"] = results
        if not all(r["ok"] for r in results):
            raise Refused("invalid_roster", f"名册有 {sum(not r['ok'] for r in results)} 行有误，未写入任何人员")
        return changed, changes, lambda _d, _v: None

    try:
        await _change_directory(ports, req.actor_id, change)
    except DomainRefusal as refusal:
        if refusal.code == "invalid_roster":
            # The rows travel with the refusal so the caller can mark each bad one.
            return {**summary(outcome["results"], written=False), "error": {"code": refusal.code, "message": refusal.message}}
        raise
    return summary(outcome["results"], written=True)


@_refusals
async def put_matter_type(req: m.PutMatterType, *, ports: AdminPorts) -> dict[str, Any]:
    await _administrator(ports, req.actor_id)
    type_id = req.matter_type_id
    try:
        wanted = MatterType.model_validate({**req.matter_type, "id": type_id, "version": 0})
    except ValidationError as invalid:
        error = invalid.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        raise DomainRefusal("invalid_field", f"字段 {where}：{error['msg']}") from invalid

    async def work(session: AsyncClientSession) -> dict[str, Any]:
        newest = await admin_store.load_matter_type(ports.db, type_id, session=session)
        if newest is None and req.if_match not in (None, 0):
            raise DomainRefusal("conflict", f"事项类型 {type_id} 不存在，无法按第 {req.if_match} 版修改")
        if newest is not None and req.if_match != newest.version:
            seen = f"您看到的是第 {req.if_match} 版" if req.if_match is not None else "请求未带 If-Match（视为新建）"
            raise DomainRefusal("conflict", f"事项类型「{newest.name}」({type_id}) 当前是第 {newest.version} 版，{seen}。请刷新后再改。")
        before = newest.model_dump() if newest else None
        if newest is not None and wanted.model_dump(exclude={"version"}) == newest.model_dump(exclude={"version"}):
            return newest.model_dump()
        stored = await admin_store.store_matter_type(ports.db, session, wanted, newest.version if newest else 0)
        await admin_store.record(
            ports.db, session, "matter_type.added" if newest is None else "matter_type.changed", req.actor_id, m.utcnow().isoformat(),
            {"entity": "matter_type", "id": type_id, "version": stored.version, "before": before, "after": stored.model_dump()},
        )  # fmt: skip
        return stored.model_dump()

    result = await _retrying(ports, work)
    has_policy = await ports.db.policies.find_one({"matter_type": type_id}, {"_id": 1}) is not None
    return {**result, "has_policy": has_policy}


@_refusals
async def put_policy(req: m.PutPolicy, *, ports: AdminPorts) -> dict[str, Any]:
    await _administrator(ports, req.actor_id)
    try:
        policy = Policy.model_validate({**req.policy, "matter_type": req.matter_type, "version": 0})
    except ValidationError as invalid:
        raise DomainRefusal("invalid_policy", _explain(invalid)) from invalid
    directory = await store.load_directory(ports.db)
    unknown = sorted({v for variant in policy.variants for v in variant.villages if directory.village(v) is None})
    if unknown:
        raise DomainRefusal("invalid_policy", f"variants.villages: 目录中没有这些村 {unknown} (no such villages)")

    async def work(session: AsyncClientSession) -> dict[str, Any]:
        newest = await ports.db.policies.find_one({"matter_type": policy.matter_type}, {"_id": 0}, sort=[("version", -1)], session=session)
        current = newest["version"] if newest else 0
        if req.if_match is not None and req.if_match != current:
            raise DomainRefusal(
                "conflict",
                f"「{policy.matter_type}」的签批路由当前是第 {current} 版，您看到的是第 {req.if_match} 版：已被他人修改，请刷新后再改。",
            )
        stored = await admin_store.store_policy(ports.db, session, policy)
        await admin_store.record(
            ports.db, session, "policy.replaced", req.actor_id, m.utcnow().isoformat(),
            {"entity": "policy", "id": stored.matter_type, "matter_type": stored.matter_type, "version": stored.version,
             "policy": stored.model_dump(), "before": newest, "after": stored.model_dump()},
        )  # fmt: skip
        return stored.model_dump()

    return await _retrying(ports, work)


@_refusals
async def put_directory(req: m.PutDirectory, *, ports: AdminPorts) -> dict[str, Any]:
    await _administrator(ports, req.actor_id)
    body = dict(req.directory)
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
        current, version = await admin_store.current_directory(ports.db, session)
        if seen_version is not None and seen_version != version:
            raise DomainRefusal("conflict", f"名录当前是第 {version} 版，您看到的是第 {seen_version} 版：已被他人修改，请刷新后再改。")
        try:
            replaced, changes = people.replace_checked(current, directory)
        except Refused as refused:
            raise DomainRefusal(refused.code, refused.message) from refused
        new_version = await admin_store.store_directory(ports.db, session, replaced, version)
        content = replaced.model_dump()
        await admin_store.record(
            ports.db, session, "directory.replaced", req.actor_id, m.utcnow().isoformat(),
            {"version": new_version, "before_version": version, "sha256": sha256_hex(canonical_json(content)),
             "people": len(replaced.people), "villages": len(replaced.villages), "changes": [c.model_dump() for c in changes]},
        )  # fmt: skip
        await stage_messages(ports.db, session, _announcements(req.actor_id, new_version, changes))
        return {"version": new_version, **content}

    result = await _retrying(ports, work)
    ports.after_commit()
    return result


async def _retrying(ports: AdminPorts, work: Callable[[AsyncClientSession], Awaitable[Any]]) -> Any:
    for _ in range(MAX_ATTEMPTS):
        try:
            return await ports.in_transaction(work)
        except (admin_store.AdminConflict, DuplicateKeyError):
            continue  # two administrators at once: the loser runs its change again on what is there now
    raise DomainRefusal("admin_conflict", "the administration records kept changing; try again")


def _explain(invalid: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in invalid.errors())


# Each request type, the handler that answers it (bootstrap subscribes each on its subject).
HANDLERS: dict[type[BaseModel], Callable[..., Awaitable[Any]]] = {
    m.ListPolicies: list_policies,
    m.PutPolicy: put_policy,
    m.GetDirectory: get_directory,
    m.PutDirectory: put_directory,
    m.AdminTrailQuery: trail,
    m.ListVillages: list_villages,
    m.AddVillage: add_village,
    m.PatchVillage: patch_village,
    m.ListPeople: list_people,
    m.AddPerson: add_person,
    m.PatchPerson: patch_person,
    m.ImportPeople: import_people,
    m.ListRoles: list_roles,
    m.ListMatterTypes: list_matter_types,
    m.PutMatterType: put_matter_type,
    m.MatterTypeVersions: matter_type_versions,
    m.DevPeople: dev_people,
}


async def handle_legacy(req: m.AdminRequest, *, ports: AdminPorts) -> Any:
    """The one-request-many-actions `AdminRequest` callers not yet moved still send: answered by the same handler
    as its typed request."""
    typed = _typed(req)
    return await HANDLERS[type(typed)](typed, ports=ports)


def _typed(req: m.AdminRequest) -> BaseModel:
    body, actor = req.body or {}, req.actor_id
    match req.action:
        case "list_policies":
            return m.ListPolicies(actor_id=actor, matter_type=req.matter_type)
        case "put_policy":
            if req.matter_type is None:
                raise DomainRefusal("invalid_policy", "matter_type: a policy is for one matter type")
            return m.PutPolicy(actor_id=actor, matter_type=req.matter_type, policy=body, if_match=req.if_match)
        case "get_directory":
            return m.GetDirectory(actor_id=actor)
        case "put_directory":
            return m.PutDirectory(actor_id=actor, directory=body, if_match=req.if_match)
        case "trail":
            return m.AdminTrailQuery(actor_id=actor)
        case "list_villages":
            return m.ListVillages(actor_id=actor)
        case "add_village":
            return m.AddVillage(actor_id=actor, village=body)
        case "patch_village":
            return m.PatchVillage(actor_id=actor, village_id=req.entity_id or "", changes=body, if_match=req.if_match)
        case "list_people":
            return m.ListPeople(actor_id=actor, village_id=body.get("village_id"))
        case "add_person":
            return m.AddPerson(actor_id=actor, person=body)
        case "patch_person":
            return m.PatchPerson(actor_id=actor, person_id=req.entity_id or "", changes=body, if_match=req.if_match)
        case "import_people":
            return m.ImportPeople(actor_id=actor, rows=body.get("rows", []), dry_run=req.dry_run)
        case "list_roles":
            return m.ListRoles(actor_id=actor)
        case "list_matter_types":
            return m.ListMatterTypes(actor_id=actor, include_inactive=bool(body.get("include_inactive")))
        case "put_matter_type":
            return m.PutMatterType(actor_id=actor, matter_type_id=req.entity_id or "", matter_type=body, if_match=req.if_match)
        case "matter_type_versions":
            return m.MatterTypeVersions(actor_id=actor, matter_type_id=req.entity_id or "")
        case "dev_people":
            return m.DevPeople(actor_id=actor)
    raise DomainRefusal("invalid_request", f"unknown action {req.action}")
