"""The administrator's HTTP API for routing policies and the org directory. routing owns both and
checks the caller is the administrator; intake forwards over request/reply."""

from typing import Any

from fastapi import APIRouter, Body

from sealflow_contracts import messages as m
from sealflow_contracts import subjects
from sealflow_intake.entrypoints.api import Caller, Rt, _ask

router = APIRouter(prefix="/v1/admin")


async def _admin(rt: Rt, person: Caller, action: str, **extra: Any) -> Any:
    return await _ask(rt, subjects.RPC_ADMIN, m.AdminRequest(actor_id=person.id, action=action, **extra))


@router.get("/policies")
async def list_policies(rt: Rt, person: Caller) -> dict[str, Any]:
    return await _admin(rt, person, "list_policies")


@router.get("/policies/{matter_type}")
async def policy_versions(matter_type: str, rt: Rt, person: Caller) -> dict[str, Any]:
    return await _admin(rt, person, "list_policies", matter_type=matter_type)


@router.put("/policies/{matter_type}")
async def replace_policy(matter_type: str, rt: Rt, person: Caller, body: dict[str, Any] = Body(...)) -> dict[str, Any]:
    """Stores the next version; matters already routed keep theirs."""
    return await _admin(rt, person, "put_policy", matter_type=matter_type, body=body)


@router.get("/directory")
async def get_directory(rt: Rt, person: Caller) -> dict[str, Any]:
    return await _admin(rt, person, "get_directory")


@router.put("/directory")
async def replace_directory(rt: Rt, person: Caller, body: dict[str, Any] = Body(...)) -> dict[str, Any]:
    return await _admin(rt, person, "put_directory", body=body)


@router.get("/trail")
async def admin_trail(rt: Rt, person: Caller) -> dict[str, Any]:
    return await _admin(rt, person, "trail")
