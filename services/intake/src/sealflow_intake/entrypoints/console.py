"""The web console (`/app/`): static pages shipped as package data of sealflow-intake, and the two small
reads it needs beyond docs/rules.md §4 — who am I, and a person's display name for the route's holders."""

from importlib.resources import files
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Path, Request
from fastapi.staticfiles import StaticFiles

from sealflow_intake.auth import Person
from sealflow_intake.entrypoints.deps import Caller

router = APIRouter(prefix="/v1")
PersonId = Annotated[str, Path(min_length=1, max_length=64)]
CONSOLE_DIR = files("sealflow_intake") / "console"


def person_view(person: Person) -> dict[str, Any]:
    return {"id": person.id, "name": person.name, "village_id": person.village_id, "roles": list(person.roles), "active": person.active}


@router.get("/me")
async def me(person: Caller) -> dict[str, Any]:
    return person_view(person)


@router.get("/people/{person_id}")
async def person(person_id: PersonId, request: Request, _: Caller) -> dict[str, Any]:
    """Name and roles of a person (any signed-in caller: the route shows who holds a matter)."""
    return person_view(await request.app.state.authenticator.lookup(person_id))


def mount(app: FastAPI) -> None:
    app.include_router(router)
    # html=True serves index.html for /app/; the pages are small and revalidated by ETag on each visit.
    app.mount("/app", StaticFiles(directory=str(CONSOLE_DIR), html=True), name="console")
