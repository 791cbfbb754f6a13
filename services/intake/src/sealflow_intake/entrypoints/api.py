"""The HTTP API (docs/rules.md §4). Routes only translate HTTP ↔ the operations of service/ (submit, decide, search,
verify …) and requests to routing, notify and signing."""

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sealflow_contracts import messages as m
from sealflow_contracts import subjects
from sealflow_runtime.telemetry import bind_matter
from starlette.datastructures import UploadFile

from sealflow_intake.entrypoints.deps import Auth, Caller, Rt, SigningClient, ask, present, readable_matter
from sealflow_intake.errors import ApiError
from sealflow_intake.service import reads, turns, verification
from sealflow_intake.service.inputs import HEX64, DecisionIn, SubmissionIn

router = APIRouter(prefix="/v1")


class VerifyIn(BaseModel):
    approval_number: str = Field(min_length=1, max_length=64)
    digest: str = Field(pattern=HEX64)


@router.post("/matters", status_code=201)
async def submit_matter(
    body: SubmissionIn, rt: Rt, person: Caller, idempotency_key: Annotated[str | None, Header(max_length=200)] = None
) -> dict[str, Any]:
    return await turns.submit(rt, person, body, idempotency_key)


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
    wanted = reads.Search(
        village_id=village_id,
        status=status,
        mine=mine,
        matter_type=matter_type,
        applicant_id=applicant_id,
        signer_id=signer_id,
        decided_by=decided_by,
        submitted_from=from_,
        submitted_to=to,
        amount_min=amount_min,
        amount_max=amount_max,
        text=q,
        limit=limit,
        offset=offset,
    )
    return await reads.search(rt, person, wanted)


@router.get("/matters/{matter_id}")
async def get_matter(matter_id: str, rt: Rt, person: Caller) -> dict[str, Any]:
    return await present(rt, await readable_matter(rt, matter_id, person))


@router.get("/matters/{matter_id}/trail")
async def get_trail(matter_id: str, rt: Rt, person: Caller, authenticator: Auth, signing: SigningClient) -> dict[str, Any]:
    """The trail; each entry also carries `label`, the Chinese line a person reads (names, not ids)."""
    await readable_matter(rt, matter_id, person)
    return await reads.labelled_trail(rt, authenticator, signing, matter_id)


@router.post("/matters/{matter_id}/decisions")
async def decide(matter_id: str, body: DecisionIn, rt: Rt, person: Caller) -> dict[str, Any]:
    return await turns.decide(rt, person, matter_id, body)


@router.get("/tasks")
async def tasks(rt: Rt, person: Caller) -> dict[str, Any]:
    return {"items": await reads.tasks(rt, person)}


@router.get("/inbox")
async def inbox(
    rt: Rt,
    person: Caller,
    unread_only: bool = False,
    matter_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    query = m.InboxQuery(person_id=person.id, unread_only=unread_only, matter_id=matter_id, limit=limit)
    items = await ask(rt, subjects.RPC_INBOX, query)
    return {"items": items}


@router.post("/verify")
async def verify(request: Request, signing: SigningClient) -> JSONResponse:
    """Anyone holding an approval number and a document may check them; no token needed."""
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("application/json"):
        # `POST /v1/verify` with multipart/form-data field `file`: the same answer as signing's VerifyDocument.
        return JSONResponse(await verification.verify_document(signing, await _uploaded_pdf(request)))
    try:
        body = VerifyIn.model_validate_json(await request.body())
    except ValueError as error:
        raise ApiError("invalid_request", f"expected {{approval_number, digest}}: {error}") from error
    answer = await verification.verify_approval(signing, body.approval_number, body.digest)
    bind_matter(answer["matter_id"])
    return JSONResponse(answer)


async def _uploaded_pdf(request: Request) -> bytes:
    """The multipart form's `file`, read up to one byte over the limit (verify_document refuses it then)."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise ApiError("unsupported_media_type", "send JSON {approval_number, digest} or a PDF as multipart/form-data field 'file'")
    form = await request.form(max_files=1, max_fields=4)
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise ApiError("invalid_request", "the multipart form needs a 'file' field holding the PDF")
    return await upload.read(verification.MAX_PDF_BYTES + 1)
