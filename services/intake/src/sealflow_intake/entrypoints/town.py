"""What every signed-in person reads about the town (docs/rules.md §7): its villages and the matter types they may
submit, each with its form. routing owns both; nothing here is cached, so a village or form the
administrator changes is what the next request sees."""

from typing import Any

from fastapi import APIRouter
from sealflow_contracts import messages as m
from sealflow_contracts import subjects

from sealflow_intake.entrypoints.deps import Caller, Rt, ask

router = APIRouter(prefix="/v1")


@router.get("/villages")
async def villages(rt: Rt, person: Caller) -> list[dict[str, Any]]:
    """`[{id, name, active, liaison_cadre, liaison_leader, coop_seal, version}]`, deactivated villages too."""
    result = await ask(rt, subjects.RPC_ADMIN, m.AdminRequest(actor_id=person.id, action="list_villages"))
    return result["items"]


@router.get("/matter-types")
async def matter_types(rt: Rt, person: Caller) -> list[dict[str, Any]]:
    """The matter types one may submit (active), newest version of each, with the form to fill in:
    `[{id, name, active, version, has_policy, form: {fields: [{key, label, type, required, options?, meaning?, help?}]}}]`."""
    result = await ask(rt, subjects.RPC_ADMIN, m.AdminRequest(actor_id=person.id, action="list_matter_types"))
    return result["items"]
