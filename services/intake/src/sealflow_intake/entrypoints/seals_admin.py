"""The administrator's seals (电子印章): list, create, renew, revoke. signing holds the seals and their keys
and keeps the seal administration trail; intake checks the caller is the administrator (roles come from
routing's directory) and forwards over request/reply."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path
from sealflow_contracts import messages as m
from sealflow_contracts import subjects

from sealflow_intake.auth import Person
from sealflow_intake.entrypoints.deps import Caller, Rt, ask
from sealflow_intake.errors import ApiError

router = APIRouter(prefix="/v1/admin/seals")
SealId = Annotated[str, Path(min_length=1, max_length=64)]


async def _seals(rt: Rt, person: Person, action: str, **extra: Any) -> Any:
    if "admin" not in person.roles:
        raise ApiError("forbidden", "只有管理员可以管理电子印章 (only the administrator manages seals)")
    return await ask(rt, subjects.RPC_SEAL_ADMIN, m.SealAdminRequest(actor_id=person.id, action=action, **extra))


@router.get("")
async def list_seals(rt: Rt, person: Caller) -> list[dict[str, Any]]:
    """`[{id, name, holder, allowed_roles, valid_from, valid_to, status: active|revoked|expired, revoked_at?,
    revoked_reason?, has_certificate, version}]`."""
    return (await _seals(rt, person, "list"))["items"]


@router.post("", status_code=201)
async def create_seal(rt: Rt, person: Caller, body: dict[str, Any] = Body(...)) -> dict[str, Any]:
    """`{id, name, holder, allowed_roles, valid_from?, valid_to?}`: a new seal with its own key, a certificate
    under the town root, its image and the maker's signature."""
    return await _seals(rt, person, "create", body=body)


@router.post("/{seal_id}/renew")
async def renew_seal(seal_id: SealId, rt: Rt, person: Caller, body: dict[str, Any] = Body(...)) -> dict[str, Any]:
    """`{valid_to}`: a later end of validity (the record is signed again by the maker)."""
    return await _seals(rt, person, "renew", seal_id=seal_id, body=body)


@router.post("/{seal_id}/revoke")
async def revoke_seal(seal_id: SealId, rt: Rt, person: Caller, body: dict[str, Any] = Body(...)) -> dict[str, Any]:
    """`{reason}`: refused for every act from now on (the matter's trail shows `seal.refused`); documents
    sealed before stay valid — they were sealed while the seal was good."""
    return await _seals(rt, person, "revoke", seal_id=seal_id, body=body)
