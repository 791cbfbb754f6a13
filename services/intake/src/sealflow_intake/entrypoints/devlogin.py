"""Development-only sign-in: a token for any person in the org directory, so the web console can be
tried locally by picking a pilot person. Included only when SEALFLOW_DEV_LOGIN=true (`sealflow up` and
the test stack set it); production leaves it off and uses the gateway's tokens."""

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sealflow_contracts import messages as m
from sealflow_contracts import subjects

from sealflow_intake.auth import mint_token
from sealflow_intake.entrypoints.console import person_view
from sealflow_intake.entrypoints.deps import ask

router = APIRouter(prefix="/v1/dev")
TOKEN_HOURS = 12.0


class DevTokenIn(BaseModel):
    person_id: str = Field(min_length=1, max_length=64)


@router.post("/token")
async def dev_token(body: DevTokenIn, request: Request) -> dict[str, Any]:
    authenticator = request.app.state.authenticator
    # unknown_person (401) if not in the directory, person_inactive (401) if deactivated
    person = authenticator.refuse_inactive(await authenticator.lookup(body.person_id))
    token = mint_token(person.id, request.app.state.runtime.settings.jwt_secret, hours=TOKEN_HOURS)
    return {"token": token, "expires_in": int(TOKEN_HOURS * 3600), "person": person_view(person)}


@router.get("/people")
async def dev_people(request: Request) -> list[dict[str, Any]]:
    """Whom the sign-in picker offers: every active person of the directory as it stands (no token, like
    the dev token itself): `[{id, name, village_id, village_name, roles, role_names}]`."""
    result = await ask(request.app.state.runtime, subjects.RPC_ADMIN, m.AdminRequest(actor_id="", action="dev_people"))
    return result["items"]
