"""The HTTP API (SPEC §4). Routes only translate HTTP ↔ requests to routing, notify and signing."""

import base64
import binascii
import hashlib
import re
import uuid
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Annotated, Any, Literal

import grpc
from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse
from pydantic import AfterValidator, BaseModel, Field, model_validator
from pymongo.errors import DuplicateKeyError
from sealflow.signing.v1 import verification_pb2 as pb
from sealflow_contracts import messages as m
from sealflow_contracts import subjects
from sealflow_contracts.canonical import canonical_json, document_digest, sha256_hex
from sealflow_runtime.bus import ServiceUnavailable, rpc_call
from sealflow_runtime.service import Runtime
from sealflow_runtime.telemetry import bind_matter

from sealflow_intake import labels
from sealflow_intake.adapters import readmodel
from sealflow_intake.auth import Person
from sealflow_intake.errors import ApiError

HEX64 = r"^[0-9a-fA-F]{64}$"
router = APIRouter(prefix="/v1")


class AttachmentIn(BaseModel):
    """A new file `{filename, content_type, content_base64}`, or — in a revision only — `{"keep": i}`: the
    current revision's attachment at index i (0-based), unchanged."""

    filename: str | None = Field(default=None, min_length=1, max_length=255)
    content_type: str | None = Field(default=None, min_length=1, max_length=127)
    content_base64: str | None = None
    keep: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _a_file_or_a_kept_one(self) -> "AttachmentIn":
        new = (self.filename, self.content_type, self.content_base64)
        if self.keep is None and None in new:
            raise ValueError("an attachment needs filename, content_type and content_base64 (or, in a revision, keep)")
        if self.keep is not None and any(v is not None for v in new):
            raise ValueError("an attachment is either {keep} or a new file, not both")
        return self


FORM_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def form_values(fields: dict[str, Any]) -> dict[str, Any]:
    """The shape every form's values have (routing checks them against the type's form): snake_case keys and
    plain values. Checked before anything is stored — a key with a NUL byte or a nested object would
    otherwise reach MongoDB, which refuses it with an error instead of the caller's 422."""
    for key, value in fields.items():
        if not FORM_KEY.match(key):
            raise ValueError(f"字段键 {key!r} 不是表单的字段（须为小写字母开头的 snake_case）")
        if not isinstance(value, str | int | float | bool) and value is not None:
            raise ValueError(f"字段 {key} 的值须为文字、数字或日期，不能是列表或对象")
    return fields


class SubmissionIn(BaseModel):
    village_id: str = Field(min_length=1, max_length=64)
    matter_type: str = Field(min_length=1, max_length=64)
    title: str = Field(min_length=1, max_length=200)
    amount_fen: int = Field(ge=0, le=10**14)
    fields: Annotated[dict[str, Any], AfterValidator(form_values)] = Field(default_factory=dict)
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
        raise ApiError("service_unavailable", "系统繁忙，服务暂时没有应答，请稍后再试") from error
    if not reply.ok:
        raise ApiError(reply.error.code, reply.error.message)
    return reply.result


async def _readable_matter(rt: Runtime, matter_id: str, person: Person) -> dict[str, Any]:
    matter = await rt.db.matters.find_one({"_id": matter_id}, {"_id": 0})
    if matter is None or not _may_read(matter, person):
        # Not yours and not there look the same: ids of other villages' matters do not leak.
        raise ApiError("matter_not_found", "没有找到这个事项，或您无权查看")
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


def _decode_attachments(rt: Runtime, attachments: list[AttachmentIn], previous: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """New files decoded and hashed; `{keep: i}` entries taken from `previous` (the current revision's
    attachments, with content) — a submission has none to keep."""
    limit = rt.settings.max_attachment_bytes
    if len(attachments) > rt.settings.max_attachments:
        raise ApiError("payload_too_large", f"附件最多 {rt.settings.max_attachments} 个")
    decoded = []
    for attachment in attachments:
        if attachment.keep is not None:
            if previous is None or attachment.keep >= len(previous):
                raise ApiError(
                    "invalid_request", f"附件 keep={attachment.keep} 不存在：只能保留上一版已有的附件 (no such attachment to keep)"
                )
            decoded.append(previous[attachment.keep])
            continue
        try:
            content = base64.b64decode(attachment.content_base64, validate=True)
        except (binascii.Error, ValueError) as error:
            raise ApiError("invalid_request", f"附件「{attachment.filename}」的内容不是有效的 base64 编码") from error
        if len(content) > limit:
            raise ApiError("payload_too_large", f"附件「{attachment.filename}」超过 {limit // (1024 * 1024)} MB 的上限")
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
                raise ApiError("idempotency_key_reused", "这个 Idempotency-Key 已用于另一份申请，请换一个") from None
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
    submission = m.SubmitMatter(
        matter_id=matter_id,
        applicant_id=person.id,
        village_id=body.village_id,
        matter_type=body.matter_type,
        title=body.title,
        amount_fen=body.amount_fen,
        digest=digest,
        attachments=[m.AttachmentRef(**r) for r in refs],
        fields=body.fields,
    )
    try:
        result = await _ask(rt, subjects.RPC_SUBMIT_MATTER, submission)
    except ApiError as refusal:
        if refusal.status < 500 and refusal.code != "idempotency_conflict":
            # Refused (a field that breaks the form, a route nobody can fill): no matter exists, so nothing is
            # kept — the corrected form may come back with the same Idempotency-Key. A timeout keeps the key:
            # the submission may have gone through, and its retry must find the same matter.
            if idempotency_key:
                await rt.db.idempotency.delete_one({"_id": f"{person.id}:{idempotency_key}", "matter_id": matter_id})
            await rt.db.documents.delete_one({"_id": matter_id, "revision": 1, "digest": digest})
        raise
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
    matter_type: Annotated[str | None, Query(max_length=64)] = None,
    applicant_id: Annotated[str | None, Query(max_length=64)] = None,
    signer_id: Annotated[str | None, Query(max_length=64, description="an assignee of any stage")] = None,
    decided_by: Annotated[
        str | None, Query(max_length=64, description="who decided (approved, returned or rejected) in it; `me` for the caller (已办)")
    ] = None,
    from_: Annotated[date | None, Query(alias="from", description="submitted on or after this China date")] = None,
    to: Annotated[date | None, Query(description="submitted on or before this China date")] = None,
    amount_min: Annotated[int | None, Query(ge=0)] = None,
    amount_max: Annotated[int | None, Query(ge=0)] = None,
    q: Annotated[str | None, Query(min_length=1, max_length=100, description="text in the title")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """Matters the caller may read, newest first, narrowed by every filter given. Overseers (discipline,
    administrator) search all; everyone else only matters they applied for or hold a slot in."""
    clauses: list[dict[str, Any]] = []
    if mine or not person.oversees:
        clauses.append({"$or": [{"applicant_id": person.id}, {"stages.assignees.person_id": person.id}]})
    exact = {"village_id": village_id, "status": status, "matter_type": matter_type, "applicant_id": applicant_id}
    clauses += [{k: v} for k, v in exact.items() if v]
    if signer_id:
        clauses.append({"stages.assignees.person_id": signer_id})
    if decided_by:
        who = person.id if decided_by == "me" else decided_by
        # A decision of this revision, or of an earlier one that came back (what they signed stays 已办).
        decided = {"$elemMatch": {"person_id": who, "decision": {"$ne": None}}}
        clauses.append({"$or": [{"stages.assignees": decided}, {"previous_revisions.stages.assignees": decided}]})
    if from_ or to:
        # created_at is stored as UTC ISO text: compare with the UTC instants of the China days' bounds.
        bounds: dict[str, str] = {}
        if from_:
            bounds["$gte"] = _china_day_start(from_)
        if to:
            bounds["$lt"] = _china_day_start(to + timedelta(days=1))
        clauses.append({"created_at": bounds})
    if amount_min is not None or amount_max is not None:
        amount: dict[str, int] = {}
        if amount_min is not None:
            amount["$gte"] = amount_min
        if amount_max is not None:
            amount["$lte"] = amount_max
        clauses.append({"amount_fen": amount})
    if q:
        clauses.append({"title": {"$regex": re.escape(q)}})
    criteria = {"$and": clauses} if clauses else {}
    # One more than asked tells whether there is a next page without counting every match.
    cursor = rt.db.matters.find(criteria, readmodel.LISTED).sort("created_at", -1).skip(offset).limit(limit + 1)
    items = [readmodel.with_overdue(doc) async for doc in cursor]
    more = len(items) > limit
    return {"items": items[:limit], "limit": limit, "offset": offset, "next_offset": offset + limit if more else None}


def _china_day_start(day: date) -> str:
    start = datetime.combine(day, time.min, tzinfo=timezone(timedelta(hours=8))).astimezone(UTC)
    return start.strftime("%Y-%m-%dT%H:%M:%S")


@router.get("/matters/{matter_id}")
async def get_matter(matter_id: str, rt: Rt, person: Caller) -> dict[str, Any]:
    return await _present(rt, await _readable_matter(rt, matter_id, person))


@router.get("/matters/{matter_id}/trail")
async def get_trail(matter_id: str, request: Request, rt: Rt, person: Caller) -> dict[str, Any]:
    """The trail; each entry also carries `label`, the Chinese line a person reads (names, not ids)."""
    await _readable_matter(rt, matter_id, person)
    found = await readmodel.trail(rt.db, matter_id)
    people: set[str] = set()
    seals: set[str] = set()
    for entry in found["entries"]:
        p, s = labels.ids_in(entry)
        people |= p
        seals |= s
    person_names = {pid: await _person_name(request, pid) for pid in people}
    seal_names = {sid: await _seal_name(request, sid) for sid in seals}
    for entry in found["entries"]:
        entry["label"] = labels.label(entry, person_names, seal_names)
    return found


async def _person_name(request: Request, person_id: str) -> str:
    try:
        return (await request.app.state.authenticator.lookup(person_id)).name  # cached per replica
    except ApiError:
        return "（名录中已无此人）"


async def _seal_name(request: Request, seal_id: str) -> str:
    try:
        return (await request.app.state.documents.GetSeal(pb.GetSealRequest(seal_id=seal_id), timeout=5)).name
    except grpc.aio.AioRpcError:
        return "印章"


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
        raise ApiError("service_unavailable", f"核验服务暂时不可用，请稍后再试（{error.code().name}）") from error
    bind_matter(result.matter_id)
    return JSONResponse(
        {
            "valid": result.valid,
            "reason": result.reason or None,
            "reason_code": result.reason_code or None,
            "matter_id": result.matter_id or None,
            "approval_number": result.approval_number or body.approval_number,
            "registered_at": result.registered_at or None,
            "acts": [
                {"seq": a.seq, "kind": a.kind, "stage": a.stage, "actor_id": a.actor_id, "signed_at": a.signed_at, "hash": a.hash}
                for a in result.acts
            ],
        }
    )
