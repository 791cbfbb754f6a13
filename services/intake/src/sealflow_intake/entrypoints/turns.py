"""The everyday turns of a matter over HTTP: the applicant revises a returned matter or withdraws it; an
assignee (or the administrator) transfers a task (转办); a person away registers a stand-in (absence
delegation). routing decides; intake validates and forwards."""

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import AfterValidator, BaseModel, Field
from sealflow_contracts import messages as m
from sealflow_contracts import subjects
from sealflow_contracts.canonical import document_digest

from sealflow_intake.adapters import readmodel
from sealflow_intake.entrypoints.api import AttachmentIn, Caller, Rt, _ask, _decode_attachments, _present, _readable_matter, form_values
from sealflow_intake.errors import ApiError

router = APIRouter(prefix="/v1")


class RevisionIn(BaseModel):
    """As for a submission; the village and the matter type stay what they were. `attachments` omitted: the
    previous revision's attachments, all kept; given: exactly that list, where `{"keep": i}` keeps the
    previous revision's i-th attachment (so replacing one is a new file in its place, removing one is
    leaving it out)."""

    title: str = Field(min_length=1, max_length=200)
    amount_fen: int = Field(ge=0, le=10**14)
    fields: Annotated[dict[str, Any], AfterValidator(form_values)] = Field(default_factory=dict)
    attachments: list[AttachmentIn] | None = None


class WithdrawIn(BaseModel):
    reason: str = Field(default="", max_length=2000)


class AbsenceIn(BaseModel):
    """A stand-in for a date range (China dates, inclusive): stages that open in it give them your tasks."""

    stand_in_id: str = Field(min_length=1, max_length=64)
    starts_on: date
    ends_on: date
    reason: str = Field(min_length=1, max_length=2000)
    person_id: str | None = Field(default=None, max_length=64)  # the administrator registering for someone


class TransferIn(BaseModel):
    stage: int = Field(ge=1)
    to_person_id: str = Field(min_length=1, max_length=64)
    reason: str = Field(min_length=1, max_length=2000)
    from_person_id: str | None = Field(default=None, max_length=64)  # the administrator reassigning someone's task


@router.post("/matters/{matter_id}/revisions", status_code=201)
async def revise(matter_id: str, body: RevisionIn, rt: Rt, person: Caller) -> dict[str, Any]:
    matter = await _readable_matter(rt, matter_id, person)
    if matter["applicant_id"] != person.id:
        raise ApiError("not_applicant", "只有申请人本人可以修改重新提交")
    current = await rt.db.documents.find_one({"_id": matter_id})
    previous = current["attachments"] if current else []
    if body.attachments is None:
        attachments = previous
    else:
        attachments = _decode_attachments(rt, body.attachments, previous)
    refs = readmodel.attachment_refs(attachments)
    # The same digest as at submission: every signature of the new revision signs exactly this.
    digest = document_digest(
        village_id=matter["village_id"],
        matter_type=matter["matter_type"],
        title=body.title,
        amount_fen=body.amount_fen,
        fields=body.fields,
        attachment_hashes=refs,
    )
    # Every revision's document is kept, addressed by its digest (a retried request writes nothing new).
    if current is not None:
        await rt.db.document_revisions.update_one(
            {"_id": f"{matter_id}:{current['digest']}"},
            {"$setOnInsert": {k: v for k, v in current.items() if k != "_id"} | {"matter_id": matter_id}},
            upsert=True,
        )
    content = {"digest": digest, "fields": body.fields, "attachments": attachments, "created_at": m.utcnow()}
    await rt.db.document_revisions.update_one(
        {"_id": f"{matter_id}:{digest}"}, {"$setOnInsert": content | {"matter_id": matter_id}}, upsert=True
    )
    result = await _ask(
        rt,
        subjects.RPC_REVISE,
        m.ReviseMatter(
            matter_id=matter_id,
            actor_id=person.id,
            title=body.title,
            amount_fen=body.amount_fen,
            digest=digest,
            attachments=[m.AttachmentRef(**r) for r in refs],
            fields=body.fields,
        ),
    )
    # The current document follows routing's revision; an older request arriving late changes nothing.
    await rt.db.documents.update_one(
        {"_id": matter_id, "revision": {"$lt": result["revision"]}}, {"$set": content | {"revision": result["revision"]}}
    )
    await readmodel.apply_snapshot(rt.db, result, result["version"])
    await readmodel.keep_form(rt.db, matter_id, result["revision"], body.fields, refs)
    return await _present(rt, result)


@router.post("/matters/{matter_id}/withdraw")
async def withdraw(matter_id: str, rt: Rt, person: Caller, body: WithdrawIn | None = None) -> dict[str, Any]:
    await _readable_matter(rt, matter_id, person)
    result = await _ask(
        rt, subjects.RPC_WITHDRAW, m.WithdrawMatter(matter_id=matter_id, actor_id=person.id, reason=(body.reason if body else ""))
    )
    await readmodel.apply_snapshot(rt.db, result, result["version"])
    return await _present(rt, result)


@router.post("/matters/{matter_id}/transfers")
async def transfer(matter_id: str, body: TransferIn, rt: Rt, person: Caller) -> dict[str, Any]:
    await _readable_matter(rt, matter_id, person)
    result = await _ask(
        rt,
        subjects.RPC_TRANSFER,
        m.TransferTask(
            matter_id=matter_id,
            actor_id=person.id,
            stage=body.stage,
            to_person_id=body.to_person_id,
            reason=body.reason,
            from_person_id=body.from_person_id,
        ),
    )
    await readmodel.apply_snapshot(rt.db, result, result["version"])
    return await _present(rt, result)


@router.post("/absences", status_code=201)
async def register_absence(body: AbsenceIn, rt: Rt, person: Caller) -> dict[str, Any]:
    return await _ask(rt, subjects.RPC_ABSENCE, m.AbsenceRequest(actor_id=person.id, action="register", **body.model_dump()))


@router.get("/absences")
async def list_absences(rt: Rt, person: Caller) -> dict[str, Any]:
    """Yours and those you stand in for (the administrator: everyone's)."""
    return await _ask(rt, subjects.RPC_ABSENCE, m.AbsenceRequest(actor_id=person.id, action="list"))


@router.get("/absences/stand-ins")
async def stand_in_candidates(
    rt: Rt, person: Caller, person_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None
) -> dict[str, Any]:
    """Who may stand in for you (the administrator: for `person_id`): everyone holding all your roles where you hold them."""
    return await _ask(rt, subjects.RPC_ABSENCE, m.AbsenceRequest(actor_id=person.id, action="candidates", person_id=person_id))


@router.delete("/absences/{absence_id}")
async def cancel_absence(absence_id: str, rt: Rt, person: Caller) -> dict[str, Any]:
    """Stages that already opened keep their stand-in; stages opening from now on do not."""
    return await _ask(rt, subjects.RPC_ABSENCE, m.AbsenceRequest(actor_id=person.id, action="cancel", absence_id=absence_id))
