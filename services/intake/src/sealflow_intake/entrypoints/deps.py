"""What routes are given (FastAPI dependencies): the runtime, the signed-in caller, the authenticator and
the gRPC client to signing, all set on the app by entrypoints/app.py. The operations they call are in
service/; `ask`, `readable_matter`, `may_read` and `present` are re-exported here because nearly every
route needs one of them."""

from typing import Annotated

from fastapi import Depends, Header, Request
from sealflow_runtime.service import Runtime

from sealflow_intake.adapters.signing import Signing
from sealflow_intake.auth import Authenticator, Person
from sealflow_intake.service.reads import may_read, present, readable_matter
from sealflow_intake.service.rpc import ask

__all__ = ["Auth", "Caller", "Rt", "SigningClient", "ask", "may_read", "present", "readable_matter"]


def runtime(request: Request) -> Runtime:
    return request.app.state.runtime


def authenticator(request: Request) -> Authenticator:
    return request.app.state.authenticator


def signing(request: Request) -> Signing:
    return request.app.state.signing


async def caller(request: Request, authorization: Annotated[str | None, Header()] = None) -> Person:
    return await request.app.state.authenticator.person(authorization)


Rt = Annotated[Runtime, Depends(runtime)]
Caller = Annotated[Person, Depends(caller)]
Auth = Annotated[Authenticator, Depends(authenticator)]
SigningClient = Annotated[Signing, Depends(signing)]
