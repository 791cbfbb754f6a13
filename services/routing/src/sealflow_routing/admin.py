"""The administrator's requests: read and replace routing policies and the org directory.

Every change is a new version (old versions stay; a matter keeps the policy version it was routed
with) and an entry in the administrator's hash-chained trail, written in the same transaction."""

from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import ValidationError
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from sealflow_contracts import messages as m
from sealflow_contracts.canonical import canonical_json, sha256_hex
from sealflow_runtime.bus import DomainRefusal
from sealflow_runtime.mongo import in_transaction
from sealflow_runtime.service import Runtime
from sealflow_routing.adapters import admin_store, store
from sealflow_routing.domain.directory import Directory, Policy

ADMIN_ROLE = "admin"
MAX_ATTEMPTS = 8


async def handle(rt: Runtime, req: m.AdminRequest) -> Any:
    directory = await store.load_directory(rt.db)
    actor = directory.person(req.actor_id)
    if actor is None or ADMIN_ROLE not in actor.roles:
        raise DomainRefusal("forbidden", "only the administrator maintains policies and the org directory")
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
            doc = await rt.db.directory.find_one({"_id": store.DIRECTORY_ID}, {"_id": 0})
            return doc
        case "put_directory":
            return await _put_directory(rt, req)
        case "trail":
            return await admin_store.trail(rt.db)


async def _put_policy(rt: Runtime, req: m.AdminRequest) -> dict[str, Any]:
    try:
        policy = Policy.model_validate({**(req.body or {}), "matter_type": req.matter_type, "version": 0})
    except ValidationError as invalid:
        raise DomainRefusal("invalid_policy", _explain(invalid)) from invalid

    async def work(session: AsyncClientSession) -> dict[str, Any]:
        stored = await admin_store.store_policy(rt.db, session, policy)
        await admin_store.record(
            rt.db, session, "policy.replaced", req.actor_id, m.utcnow().isoformat(),
            {"matter_type": stored.matter_type, "version": stored.version, "policy": stored.model_dump()},
        )  # fmt: skip
        return stored.model_dump()

    return await _retrying(rt, work)


async def _put_directory(rt: Runtime, req: m.AdminRequest) -> dict[str, Any]:
    try:
        directory = Directory.model_validate(req.body or {})
    except ValidationError as invalid:
        raise DomainRefusal("invalid_directory", _explain(invalid)) from invalid
    problems = directory.problems()
    if not any(ADMIN_ROLE in p.roles for p in directory.people):
        problems.append("nobody would hold the administrator role")
    if problems:
        raise DomainRefusal("invalid_directory", "; ".join(problems))

    async def work(session: AsyncClientSession) -> dict[str, Any]:
        version = await admin_store.store_directory(rt.db, session, directory)
        content = directory.model_dump()
        await admin_store.record(
            rt.db, session, "directory.replaced", req.actor_id, m.utcnow().isoformat(),
            {"version": version, "sha256": sha256_hex(canonical_json(content)), "people": len(directory.people), "villages": len(directory.villages)},
        )  # fmt: skip
        return {"version": version, **content}

    return await _retrying(rt, work)


async def _retrying(rt: Runtime, work: Callable[[AsyncClientSession], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
    for _ in range(MAX_ATTEMPTS):
        try:
            return await in_transaction(rt.client, work)
        except (admin_store.AdminConflict, DuplicateKeyError):
            continue  # two administrators at once: the loser writes the next version
    raise DomainRefusal("admin_conflict", "the administration records kept changing; try again")


def _explain(invalid: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in invalid.errors())
