"""The HTTP API (SPEC §4). Routes only translate HTTP ↔ requests to routing, notify and signing."""

import base64
import binascii
import hashlib
import uuid
from typing import Annotated, Any, Literal

import grpc
from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from pymongo.errors import DuplicateKeyError

from sealflow.signing.v1 import verification_pb2 as pb
from sealflow_contracts import messages as m
from sealflow_contracts import subjects
from sealflow_contracts.canonical import canonical_json, document_digest, sha256_hex
from sealflow_intake.adapters import readmodel
from sealflow_intake.auth import Person
from sealflow_intake.errors import ApiError
from sealflow_runtime.bus import ServiceUnavailable, rpc_call
from sealflow_runtime.service import Runtime
from sealflow_runtime.telemetry import bind_matter

HEX64 = r"^[0-9a-fA-F]{64}$"
router = APIRouter(prefix="/v1")


class AttachmentIn(BaseModel):
    filename: str = Field(min_length=1, max_length=255)
    content_type: str = Field(min_length=1, max_length=127)
    content_base64: str


class SubmissionIn(BaseModel):
    village_id: str = Field(min_length=1, max_length=64)
    matter_type: str = Field(min_length=1, max_length=64)
    title: str = Field(min_length=1, max_length=200)
    amount_fen: int = Field(ge=0, le=10**14)
    fields: dict[str, Any] = Field(default_factory=dict)
    attachments: list[AttachmentIn] = Field(default_factory=list)


class DecisionIn(BaseModel):
    stage: int = Field(ge=1)
    decision: Literal["approve", "return", "reject"]
    comment: str = Field(default="", max_length=2000)
    digest: str = Field(pattern=HEX64)


class VerifyIn(BaseModel):
    approval_number: str = Field(min_length=1, max_length=64)
    digest: str = Field(pattern=HEX64)


def runtime(request: Request) -> Runtime:
    return request.app.state.runtime


async def caller(request: Request, authorization: Annotated[str | None, Header()] = None) -> Person:
    return await request.app.state.authenticator.person(authorization)


Rt = Annotated[Runtime, Depends(runtime)]
Caller = Annotated[Person, Depends(caller)]


async def _ask(rt: Runtime, subject: str, request: BaseModel) -> Any:
    try:
        reply = await rpc_call(rt.broker, subject, request)
    except ServiceUnavailable as error:
        raise ApiError("service_unavailable", "a Sealflow service did not answer in time; try again") from error
    if not reply.ok:
        raise ApiError(reply.error.code, reply.error.message)
    return reply.result


async def _readable_matter(rt: Runtime, matter_id: str, person: Person) -> dict[str, Any]:
    matter = await rt.db.matters.find_one({"_id": matter_id}, {"_id": 0})
    if matter is None or not _may_read(matter, person):
        # Not yours and not there look the same: ids of other villages' matters do not leak.
        raise ApiError("matter_not_found", f"no matter {matter_id} that you may read")
    return matter


def _may_read(matter: dict[str, Any], person: Person) -> bool:
    if person.oversees or matter["applicant_id"] == person.id:
        return True
    # A signer who transferred their task (转办) still reads what they handed over.
    return any(a["person_id"] == person.id or person.id in a.get("transferred_from", []) for s in matter["stages"] for a in s["assignees"])


async def _present(rt: Runtime, matter: dict[str, Any]) -> dict[str, Any]:
    """The matter with its form: kept with the stored matter (readmodel.keep_form), else (routing's reply to
    a request, or a matter stored before the form was kept there) read from the document."""
    matter = readmodel.with_overdue({k: v for k, v in matter.items() if k != "_id"})
    form = matter.pop("form", None) or await rt.db.documents.find_one({"_id": matter["id"]}, {"fields": 1, "attachments": 1})
    if form:
        matter["fields"] = form["fields"]
        matter["attachments"] = readmodel.attachment_refs(form["attachments"])
    return matter


def _decode_attachments(rt: Runtime, attachments: list[AttachmentIn]) -> list[dict[str, Any]]:
    limit = rt.settings.max_attachment_bytes
    if len(attachments) > rt.settings.max_attachments:
        raise ApiError("payload_too_large", f"at most {rt.settings.max_attachments} attachments")
    decoded = []
    for attachment in attachments:
        try:
            content = base64.b64decode(attachment.content_base64, validate=True)
        except (binascii.Error, ValueError) as error:
            raise ApiError("invalid_request", f"attachment {attachment.filename!r} is not valid base64") from error
        if len(content) > limit:
            raise ApiError("payload_too_large", f"attachment {attachment.filename!r} is over {limit} bytes")
        decoded.append(
            {
                "filename": attachment.filename,
                "content_type": attachment.content_type,
                "sha256": hashlib.sha256(content).hexdigest(),
                "size": len(content),
                "content": content,
            }
        )
    return decoded


@router.post("/matters", status_code=201)
async def submit_matter(
    body: SubmissionIn, rt: Rt, person: Caller, idempotency_key: Annotated[str | None, Header(max_length=200)] = None
) -> dict[str, Any]:
    request_hash = sha256_hex(canonical_json(body.model_dump()))
    matter_id = uuid.uuid4().hex
    bind_matter(matter_id)
    if idempotency_key:
        key = {"_id": f"{person.id}:{idempotency_key}"}
        try:
            await rt.db.idempotency.insert_one({**key, "request_hash": request_hash, "matter_id": matter_id, "created_at": m.utcnow()})
        except DuplicateKeyError:
            earlier = await rt.db.idempotency.find_one(key)
            if earlier["request_hash"] != request_hash:
                raise ApiError("idempotency_key_reused", "this Idempotency-Key was used for a different submission") from None
            matter_id = earlier["matter_id"]  # the same submission again: the same matter, never a second one
    bind_matter(matter_id)

    attachments = _decode_attachments(rt, body.attachments)
    refs = readmodel.attachment_refs(attachments)
    digest = document_digest(
        village_id=body.village_id,
        matter_type=body.matter_type,
        title=body.title,
        amount_fen=body.amount_fen,
        fields=body.fields,
        attachment_hashes=refs,
    )
    await rt.db.documents.update_one(
        {"_id": matter_id},
        {"$setOnInsert": {"revision": 1, "digest": digest, "fields": body.fields, "attachments": attachments, "created_at": m.utcnow()}},
        upsert=True,
    )
    result = await _ask(
        rt,
        subjects.RPC_SUBMIT_MATTER,
        m.SubmitMatter(
            matter_id=matter_id,
            applicant_id=person.id,
            village_id=body.village_id,
            matter_type=body.matter_type,
            title=body.title,
            amount_fen=body.amount_fen,
            digest=digest,
            attachments=[m.AttachmentRef(**r) for r in refs],
            fields=body.fields,
        ),
    )
    await readmodel.apply_snapshot(rt.db, result, result["version"])
    await readmodel.keep_form(rt.db, matter_id, result["revision"], body.fields, refs)
    return await _present(rt, result)


@router.get("/matters")
async def list_matters(
    rt: Rt,
    person: Caller,
    village_id: str | None = None,
    status: Literal["in_review", "returned", "rejected", "withdrawn", "completed"] | None = None,
    mine: bool = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    criteria: dict[str, Any] = {}
    if mine or not person.oversees:
        criteria["$or"] = [{"applicant_id": person.id}, {"stages.assignees.person_id": person.id}]
    if village_id:
        criteria["village_id"] = village_id
    if status:
        criteria["status"] = status
    cursor = rt.db.matters.find(criteria, readmodel.LISTED).sort("created_at", -1).skip(offset).limit(limit)
    items = [readmodel.with_overdue(doc) async for doc in cursor]
    return {"items": items, "limit": limit, "offset": offset}


@router.get("/matters/{matter_id}")
async def get_matter(matter_id: str, rt: Rt, person: Caller) -> dict[str, Any]:
    return await _present(rt, await _readable_matter(rt, matter_id, person))


@router.get("/matters/{matter_id}/trail")
async def get_trail(matter_id: str, rt: Rt, person: Caller) -> dict[str, Any]:
    await _readable_matter(rt, matter_id, person)
    return await readmodel.trail(rt.db, matter_id)


@router.post("/matters/{matter_id}/decisions")
async def decide(matter_id: str, body: DecisionIn, rt: Rt, person: Caller) -> dict[str, Any]:
    result = await _ask(
        rt,
        subjects.RPC_DECIDE,
        m.Decide(
            matter_id=matter_id,
            actor_id=person.id,
            stage=body.stage,
            decision=body.decision,
            comment=body.comment,
            digest=body.digest.lower(),
        ),
    )
    await readmodel.apply_snapshot(rt.db, result, result["version"])
    return await _present(rt, result)


@router.get("/tasks")
async def tasks(rt: Rt, person: Caller) -> dict[str, Any]:
    cursor = rt.db.matters.find({"status": "in_review", "stages.assignees.person_id": person.id}, readmodel.LISTED)
    found = [t async for doc in cursor for t in readmodel.open_tasks(readmodel.with_overdue(doc), person.id)]
    found.sort(key=lambda t: (t["deadline"] is None, t["deadline"] or ""))
    return {"items": found}


@router.get("/inbox")
async def inbox(
    rt: Rt,
    person: Caller,
    unread_only: bool = False,
    matter_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    query = m.InboxQuery(person_id=person.id, unread_only=unread_only, matter_id=matter_id, limit=limit)
    items = await _ask(rt, subjects.RPC_INBOX, query)
    return {"items": items}


@router.post("/verify")
async def verify(request: Request, rt: Rt) -> JSONResponse:
    """Anyone holding an approval number and a document may check them; no token needed."""
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("application/json"):
        from sealflow_intake.entrypoints.documents import verify_uploaded_pdf  # the PDF branch lives with the documents

        return JSONResponse(await verify_uploaded_pdf(request))
    try:
        body = VerifyIn.model_validate_json(await request.body())
    except ValueError as error:
        raise ApiError("invalid_request", f"expected {{approval_number, digest}}: {error}") from error
    stub = request.app.state.verification
    try:
        result = await stub.VerifyApproval(
            pb.VerifyApprovalRequest(approval_number=body.approval_number, digest=body.digest.lower()), timeout=10
        )
    except grpc.aio.AioRpcError as error:
        raise ApiError("service_unavailable", f"verification is unavailable: {error.code().name}") from error
    bind_matter(result.matter_id)
    return JSONResponse(
        {
            "valid": result.valid,
            "reason": result.reason or None,
            "matter_id": result.matter_id or None,
            "approval_number": result.approval_number or body.approval_number,
            "registered_at": result.registered_at or None,
            "acts": [
                {"seq": a.seq, "kind": a.kind, "stage": a.stage, "actor_id": a.actor_id, "signed_at": a.signed_at, "hash": a.hash}
                for a in result.acts
            ],
        }
    )
