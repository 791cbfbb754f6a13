"""The administrator's HTTP API (docs/rules.md §7): villages, people and rosters, matter types with their forms,
routing policies, the whole directory, the administration trail, notification subscriptions. routing owns
the directory, forms and policies and checks the caller is the administrator; intake forwards over
request/reply and only translates (If-Match → the version the caller saw; a roster file → rows).

Optimistic concurrency: PATCH needs `If-Match: <version>` (428 without it); PUT takes it when the entity
exists. A version that moved on is `409 conflict`, naming who changed it last.
"""

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Body, File, Header, Path, Query, Request, UploadFile
from fastapi.responses import JSONResponse
from sealflow_contracts import messages as m
from sealflow_contracts import subjects

from sealflow_intake.auth import Person
from sealflow_intake.entrypoints.deps import Caller, Rt
from sealflow_intake.entrypoints.deps import ask as _ask
from sealflow_intake.errors import ApiError, error_body
from sealflow_intake.roster import RosterUnreadable, parse_roster

router = APIRouter(prefix="/v1/admin")
EntityId = Annotated[str, Path(min_length=1, max_length=64)]
IfMatch = Annotated[str | None, Header(max_length=40, description='the version you last saw, e.g. 3 or "3"')]
MAX_ROSTER_BYTES = 5 * 1024 * 1024


def _version(if_match: str | None, *, required: bool = False) -> int | None:
    """`If-Match: 3`, `"3"` or `W/"3"` → 3."""
    if if_match is None or not if_match.strip():
        if required:
            raise ApiError("precondition_required", "修改需要带 If-Match: <版本号>（先读取，再按所见版本修改）")
        return None
    text = if_match.strip().removeprefix("W/").strip('"')
    if not text.isdigit():
        raise ApiError("invalid_request", f"If-Match 应为版本号（整数），收到 {if_match!r}")
    return int(text)


def _require_admin(person: Person) -> None:
    """Checked here too where intake does work before asking routing (reading an uploaded file)."""
    if "admin" not in person.roles:
        raise ApiError("forbidden", "只有管理员可以维护名录 (only the administrator maintains the directory)")


async def _changing_directory(request: Request, rt: Rt, subject: str, change: m.RoutingAdminRequest) -> Any:
    """A directory change: this replica forgets the people it cached at once (the others when routing's
    DirectoryChanged arrives), so a deactivated person is refused on their very next request."""
    result = await _ask(rt, subject, change)
    request.app.state.authenticator.forget()
    return result


# ---- policies and the whole directory (issue 3), now version-checked -------------------------------


@router.get("/policies")
async def list_policies(rt: Rt, person: Caller) -> dict[str, Any]:
    return await _ask(rt, subjects.RPC_ADMIN_LIST_POLICIES, m.ListPolicies(actor_id=person.id))


@router.get("/policies/{matter_type}")
async def policy_versions(matter_type: str, rt: Rt, person: Caller) -> dict[str, Any]:
    return await _ask(rt, subjects.RPC_ADMIN_LIST_POLICIES, m.ListPolicies(actor_id=person.id, matter_type=matter_type))


@router.put("/policies/{matter_type}")
async def replace_policy(
    matter_type: str, rt: Rt, person: Caller, body: dict[str, Any] = Body(...), if_match: IfMatch = None
) -> dict[str, Any]:
    """Stores the next version; matters already routed keep theirs. With If-Match, refused `409 conflict`
    unless the newest version is still the one given."""
    change = m.PutPolicy(actor_id=person.id, matter_type=matter_type, policy=body, if_match=_version(if_match))
    return await _ask(rt, subjects.RPC_ADMIN_PUT_POLICY, change)


@router.get("/directory")
async def get_directory(rt: Rt, person: Caller) -> dict[str, Any]:
    return await _ask(rt, subjects.RPC_ADMIN_GET_DIRECTORY, m.GetDirectory(actor_id=person.id))


@router.put("/directory")
async def replace_directory(
    request: Request, rt: Rt, person: Caller, body: dict[str, Any] = Body(...), if_match: IfMatch = None
) -> dict[str, Any]:
    """The whole directory at once (bulk use). Checked like the granular edits: the version seen (If-Match,
    or the body's `version` as GET returned it) must still be current; nobody is removed (deactivate instead)."""
    change = m.PutDirectory(actor_id=person.id, directory=body, if_match=_version(if_match))
    return await _changing_directory(request, rt, subjects.RPC_ADMIN_PUT_DIRECTORY, change)


@router.get("/trail")
async def admin_trail(rt: Rt, person: Caller) -> dict[str, Any]:
    """Every administration change, both chains: routing's (directory, forms, policies) and signing's
    (seals). `entries` merges them by time, each with its `source`; `chain_valid` holds when both do."""
    directory_trail, seal_trail = await asyncio.gather(
        _ask(rt, subjects.RPC_ADMIN_TRAIL, m.AdminTrailQuery(actor_id=person.id)),
        _ask(rt, subjects.RPC_SEAL_ADMIN, m.SealAdminRequest(actor_id=person.id, action="trail")),
    )
    entries = [{**e, "source": "directory"} for e in directory_trail["entries"]] + [{**e, "source": "seals"} for e in seal_trail["entries"]]
    entries.sort(key=lambda e: (e["at"], e["source"], e["seq"]))
    return {
        "scope": directory_trail["scope"],
        "chain_valid": directory_trail["chain_valid"] and seal_trail["chain_valid"],
        "sources": {"directory": {"chain_valid": directory_trail["chain_valid"]}, "seals": {"chain_valid": seal_trail["chain_valid"]}},
        "entries": entries,
    }


# ---- villages and people ---------------------------------------------------------------------------


@router.post("/villages", status_code=201)
async def add_village(request: Request, rt: Rt, person: Caller, body: dict[str, Any] = Body(...)) -> dict[str, Any]:
    """`{id, name, liaison_cadre, liaison_leader}`; signing then makes the village's cooperative seal `{id}-coop`."""
    return await _changing_directory(request, rt, subjects.RPC_ADMIN_ADD_VILLAGE, m.AddVillage(actor_id=person.id, village=body))


@router.patch("/villages/{village_id}")
async def change_village(
    village_id: EntityId, request: Request, rt: Rt, person: Caller, body: dict[str, Any] = Body(...), if_match: IfMatch = None
) -> dict[str, Any]:
    """`{name?, liaison_cadre?, liaison_leader?, active?}` with If-Match."""
    version = _version(if_match, required=True)
    change = m.PatchVillage(actor_id=person.id, village_id=village_id, changes=body, if_match=version)
    return await _changing_directory(request, rt, subjects.RPC_ADMIN_PATCH_VILLAGE, change)


@router.get("/people")
async def list_people(rt: Rt, person: Caller, village_id: Annotated[str | None, Query(max_length=64)] = None) -> dict[str, Any]:
    """Everyone, deactivated people too (`active: false`), each with their `version`."""
    return await _ask(rt, subjects.RPC_ADMIN_LIST_PEOPLE, m.ListPeople(actor_id=person.id, village_id=village_id))


@router.post("/people", status_code=201)
async def add_person(request: Request, rt: Rt, person: Caller, body: dict[str, Any] = Body(...)) -> dict[str, Any]:
    """`{id, name, village_id|null, roles: [...], phone?, email?}`."""
    return await _changing_directory(request, rt, subjects.RPC_ADMIN_ADD_PERSON, m.AddPerson(actor_id=person.id, person=body))


@router.patch("/people/{person_id}")
async def change_person(
    person_id: EntityId, request: Request, rt: Rt, person: Caller, body: dict[str, Any] = Body(...), if_match: IfMatch = None
) -> dict[str, Any]:
    """`{name?, roles?, active?, phone?, email?, village_id?}` with If-Match. `active: false` deactivates:
    the person can no longer sign in nor be given a task; their history stays."""
    version = _version(if_match, required=True)
    change = m.PatchPerson(actor_id=person.id, person_id=person_id, changes=body, if_match=version)
    return await _changing_directory(request, rt, subjects.RPC_ADMIN_PATCH_PERSON, change)


@router.post("/people/import", response_model=None)
async def import_people(
    request: Request, rt: Rt, person: Caller, file: Annotated[UploadFile, File(description=".xlsx or .csv roster")], dry_run: bool = False
) -> Any:
    """A roster (`.xlsx` or `.csv`; columns id, name, village_id, roles separated by `;`, optional phone,
    email — or 编号, 姓名, 村, 角色, 电话, 邮箱). Every row is checked; with any row in error nothing is
    written. `dry_run=true` previews: 200 with each row's `ok`, `errors` and `action`. Otherwise a bad row
    makes it `422 invalid_roster`, the rows alongside the error."""
    _require_admin(person)
    content = await file.read(MAX_ROSTER_BYTES + 1)
    if len(content) > MAX_ROSTER_BYTES:
        raise ApiError("payload_too_large", f"名册文件不能超过 {MAX_ROSTER_BYTES // 1024 // 1024} MB")
    try:
        rows = await asyncio.to_thread(parse_roster, file.filename or "", content)
    except RosterUnreadable as unreadable:
        raise ApiError("invalid_roster", str(unreadable)) from unreadable
    result = await _ask(rt, subjects.RPC_ADMIN_IMPORT_PEOPLE, m.ImportPeople(actor_id=person.id, rows=rows, dry_run=dry_run))
    if "error" in result:
        error = result.pop("error")
        body = error_body(error["code"], error["message"])
        body["error"]["rows"] = result["rows"]
        return JSONResponse({**body, **result}, status_code=422)
    if not dry_run and (result["created"] or result["updated"]):
        request.app.state.authenticator.forget()
    return result


@router.get("/roles")
async def list_roles(rt: Rt, person: Caller) -> dict[str, Any]:
    """Role ids and their Chinese names."""
    return await _ask(rt, subjects.RPC_ADMIN_LIST_ROLES, m.ListRoles(actor_id=person.id))


# ---- matter types and their forms ----------------------------------------------------------------


@router.get("/matter-types")
async def list_all_matter_types(rt: Rt, person: Caller) -> dict[str, Any]:
    """The newest version of every matter type, deactivated ones too."""
    _require_admin(person)
    return await _ask(rt, subjects.RPC_ADMIN_LIST_MATTER_TYPES, m.ListMatterTypes(actor_id=person.id, include_inactive=True))


@router.put("/matter-types/{type_id}")
async def put_matter_type(
    type_id: EntityId, rt: Rt, person: Caller, body: dict[str, Any] = Body(...), if_match: IfMatch = None
) -> dict[str, Any]:
    """`{name, form: {fields: [{key, label, type, required, options?, meaning?, help?}]}, active?}`. Without
    If-Match it creates the type (`409 conflict` if it exists); with it, stores the next version if the
    newest is still the one given. Matters already submitted keep the form version they were checked with."""
    change = m.PutMatterType(actor_id=person.id, matter_type_id=type_id, matter_type=body, if_match=_version(if_match))
    return await _ask(rt, subjects.RPC_ADMIN_PUT_MATTER_TYPE, change)


@router.get("/matter-types/{type_id}/versions")
async def matter_type_versions(type_id: EntityId, rt: Rt, person: Caller) -> dict[str, Any]:
    return await _ask(rt, subjects.RPC_ADMIN_MATTER_TYPE_VERSIONS, m.MatterTypeVersions(actor_id=person.id, matter_type_id=type_id))


# ---- the working-day calendar (sla-monitor owns it; PUT /v1/supervision/calendar/{day} changes it) ---


@router.get("/calendar")
async def calendar(rt: Rt, person: Caller) -> list[dict[str, Any]]:
    """The administrator's overrides of the national calendar: `[{day, working, note, set_by}]`, by date."""
    _require_admin(person)
    return (await _ask(rt, subjects.RPC_SLA_CALENDAR_LIST, m.CalendarQuery(actor_id=person.id)))["items"]


# ---- notification subscriptions (notify owns them) -----------------------------------------------


@router.get("/subscriptions")
async def list_subscriptions(rt: Rt, person: Caller, subscriber: Annotated[str | None, Query(max_length=64)] = None) -> dict[str, Any]:
    """Every channel subscription (secrets never shown), or one subscriber's."""
    _require_admin(person)
    return await _ask(
        rt, subjects.RPC_NOTIFY_SUBSCRIPTION_ADMIN, m.SubscriptionAdminRequest(actor_id=person.id, action="list", subscriber=subscriber)
    )


@router.post("/subscriptions/{subscription_id}/test")
async def test_subscription(subscription_id: EntityId, rt: Rt, person: Caller) -> dict[str, Any]:
    """Send a test message over the subscription's channel now: `{"delivered": bool, "detail"}`."""
    _require_admin(person)
    return await _ask(
        rt,
        subjects.RPC_NOTIFY_SUBSCRIPTION_ADMIN,
        m.SubscriptionAdminRequest(actor_id=person.id, action="test", subscription_id=subscription_id),
    )
