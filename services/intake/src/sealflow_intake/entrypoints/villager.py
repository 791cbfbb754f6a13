"""What signers, applicants and villagers see (docs/rules.md §8): a matter's attachments for its readers, and the
public verification page (村务公开) that the QR code on a sealed form opens — without signing in.

The public reply is built from intake's read model and checked for real by signing's VerifyApproval; it
carries office names (the stage's name), never people's names or ids, comments or attachments."""

from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sealflow_contracts import messages as m
from sealflow_contracts import subjects

from sealflow_intake.alerts import record_view
from sealflow_intake.entrypoints.deps import Caller, Rt, SigningClient, ask, readable_matter
from sealflow_intake.errors import ApiError
from sealflow_intake.service import documents, verification
from sealflow_intake.service.names import seal_name

router = APIRouter(prefix="/v1")
public_router = APIRouter(prefix="/v1/public")

# Shown inline as they are: the phone's own viewers handle these, and none runs script in our origin.
INLINE_SAFE = ("image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain")
PUBLIC_ACTOR = "public"  # routing's public reads (villages, matter types) need no person


@router.get("/matters/{matter_id}/attachments/{index}")
async def get_attachment(
    matter_id: str,
    index: Annotated[int, Path(ge=0, le=1000)],
    rt: Rt,
    person: Caller,
    revision: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    """The attachment at `index` (0-based, as listed in the matter's `attachments`) of the current revision,
    or of `?revision=N`: its original bytes and content type. Readers of the matter only (others 404,
    as for the matter itself)."""
    matter = await readable_matter(rt, matter_id, person)
    await record_view(rt.db, person.id, matter_id, f"attachment:{index}")  # issue 15: a `viewed` fact (rubber-stamp rule)
    doc = await documents.of_revision(rt, matter, revision)
    attachments = doc.get("attachments", [])
    if index >= len(attachments):
        raise ApiError("not_found", f"这个事项只有 {len(attachments)} 个附件 (no attachment {index})")
    attachment = attachments[index]
    content_type = attachment["content_type"].split(";")[0].strip().lower()
    headers = {
        # RFC 6266/5987: Chinese file names survive every browser this way.
        "Content-Disposition": f"inline; filename*=UTF-8''{quote(attachment['filename'], safe='')}",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, max-age=300",
        "ETag": f'"{attachment["sha256"]}"',
    }
    if content_type not in INLINE_SAFE:
        # The applicant chose the type: an HTML or SVG file must not run script as the console's origin.
        headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return Response(bytes(attachment["content"]), media_type=attachment["content_type"], headers=headers)


@public_router.get("/approvals/{approval_number}")
async def public_approval(
    approval_number: Annotated[str, Path(min_length=1, max_length=64)], request: Request, rt: Rt, signing: SigningClient
) -> JSONResponse:
    """村务公开: what a villager may know of an approval, and whether it verifies. No sign-in; rate-limited
    per client (limits.PublicRateLimit)."""
    request.app.state.public_limit.take(request)
    matter = await rt.db.matters.find_one({"approval_number": approval_number, "status": "completed"}, {"_id": 0, "form": 0})
    if matter is None:
        raise ApiError("approval_not_found", f"没有编号为 {approval_number} 的已办结审批 (no completed approval with this number)")
    verdict = await verification.approval_verdict(signing, approval_number, matter["digest"])
    villages = await ask(rt, subjects.RPC_ADMIN, m.AdminRequest(actor_id=PUBLIC_ACTOR, action="list_villages"))
    types = await ask(rt, subjects.RPC_ADMIN, m.AdminRequest(actor_id=PUBLIC_ACTOR, action="list_matter_types"))
    village_name = next((v["name"] for v in villages["items"] if v["id"] == matter["village_id"]), "")
    type_name = next((t["name"] for t in types["items"] if t["id"] == matter["matter_type"]), "")
    completed = await rt.db.trail.find_one({"matter_id": matter["id"], "type": "matter.completed"}, {"at": 1})
    stages = []
    for stage in matter["stages"]:
        times = [a["decided_at"] for a in stage["assignees"] if a.get("decision") == "approve" and a.get("decided_at")]
        # The office signs, not a person: one line per stage with the time its last needed signature came.
        stages.append({"number": stage["number"], "office": stage["name"], "signed_at": max(times) if times else None})
    seals = []
    for use in matter.get("seals", []):
        if use.get("superseded"):
            continue
        name = await seal_name(signing, use["seal_id"])  # "印章" when signing cannot say
        seals.append({"name": name, "stage": use["stage"], "applied_at": use["applied_at"]})
    return JSONResponse(
        {
            "approval_number": approval_number,
            "village_name": village_name,
            "matter_type_name": type_name,
            "title": matter["title"],
            "amount_fen": matter["amount_fen"],
            "completed_at": completed["at"] if completed else matter.get("updated_at"),
            "stages": stages,
            "seals": seals,
            **verdict,
        }
    )


# ---- accountability records (问责): sla-monitor keeps them, the discipline office disposes of them ----

DISPOSERS = {"discipline"}  # 镇纪委 records the outcome; the administrator may read


class DispositionIn(BaseModel):
    outcome: Literal["excused", "reminded", "criticized", "referred"]  # 免责 / 提醒谈话 / 批评教育 / 移交处理
    note: str = Field(min_length=1, max_length=2000)


@router.get("/supervision/accountability")
async def accountability_records(
    rt: Rt,
    person: Caller,
    village_id: Annotated[str | None, Query(max_length=64)] = None,
    status: Literal["open", "disposed"] | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> dict[str, Any]:
    """Records made when a stage stayed unsigned one working day past its deadline (discipline, admin)."""
    if not person.oversees:
        raise ApiError("forbidden", "只有镇纪委和管理员可以查看问责记录")
    return await ask(
        rt,
        subjects.RPC_SLA_ACCOUNTABILITY,
        m.AccountabilityRequest(actor_id=person.id, action="list", village_id=village_id, status=status, limit=limit),
    )


@router.post("/supervision/accountability/{accountability_id}/disposition")
async def dispose_accountability(
    accountability_id: Annotated[str, Path(min_length=1, max_length=200)], body: DispositionIn, rt: Rt, person: Caller
) -> dict[str, Any]:
    """The discipline office records how a record was dealt with, once (a second disposition is `409 conflict`)."""
    if not DISPOSERS & set(person.roles):
        raise ApiError("forbidden", "只有镇纪委可以处理问责记录")
    request = m.AccountabilityRequest(
        actor_id=person.id, action="dispose", accountability_id=accountability_id, outcome=body.outcome, note=body.note
    )
    return await ask(rt, subjects.RPC_SLA_ACCOUNTABILITY, request)
