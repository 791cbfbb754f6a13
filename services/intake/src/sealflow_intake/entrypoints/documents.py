"""Sealed documents over HTTP: the matter's PDF (readers of the matter only), the trust roots, and
verification of an uploaded PDF. Each is a gRPC call to signing, which holds the documents."""

from typing import Annotated, Any

import grpc
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from sealflow.signing.v1 import verification_pb2 as pb
from sealflow_intake.entrypoints.api import Caller, Rt, _readable_matter
from sealflow_intake.errors import ApiError

router = APIRouter(prefix="/v1")
MAX_PDF_BYTES = 32 * 1024 * 1024


def _stub(request: Request):
    return request.app.state.documents


@router.get("/matters/{matter_id}/document")
async def get_document(matter_id: str, request: Request, rt: Rt, person: Caller) -> Response:
    await _readable_matter(rt, matter_id, person)
    try:
        doc = await _stub(request).GetDocument(pb.GetDocumentRequest(matter_id=matter_id), timeout=15)
    except grpc.aio.AioRpcError as error:
        if error.code() == grpc.StatusCode.NOT_FOUND:
            raise ApiError("document_not_ready", "the document is being prepared; try again in a moment") from error
        raise ApiError("service_unavailable", f"documents are unavailable: {error.code().name}") from error
    return Response(
        doc.pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{matter_id}-r{doc.revision}.pdf"',
            "X-Sealflow-Sealed": "true" if doc.sealed else "false",
            "X-Sealflow-Signatures": str(doc.signatures),
        },
    )


@router.get("/trust/roots")
async def trust_roots(request: Request) -> Response:
    """Public: the anchors a holder needs to check a sealed PDF with any PAdES reader."""
    try:
        roots = await _stub(request).GetTrustRoots(pb.GetTrustRootsRequest(), timeout=10)
    except grpc.aio.AioRpcError as error:
        raise ApiError("service_unavailable", f"trust roots are unavailable: {error.code().name}") from error
    return Response(roots.pem, media_type="application/x-pem-file")


@router.get("/seal-uses")
async def seal_uses(
    request: Request,
    person: Caller,
    seal_id: str = "",
    village_id: str = "",
    from_: Annotated[str, Query(alias="from")] = "",
    to: str = "",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """The seal-use register (用印登记): overseers see every seal; a village's seal custodian sees its village's."""
    if not person.oversees:
        if "secretary" not in person.roles or not person.village_id or village_id not in ("", person.village_id):
            raise ApiError("forbidden", "only the discipline office, the administrator and a village's seal custodian read the register")
        village_id = person.village_id
    try:
        result = await _stub(request).ListSealUses(
            pb.ListSealUsesRequest(seal_id=seal_id, village_id=village_id, to=to, limit=limit, **{"from": from_}), timeout=10
        )
    except grpc.aio.AioRpcError as error:
        if error.code() == grpc.StatusCode.INVALID_ARGUMENT:
            raise ApiError("invalid_request", error.details() or "invalid period") from error
        raise ApiError("service_unavailable", f"the register is unavailable: {error.code().name}") from error
    return {
        "items": [
            {
                "seal_use_id": u.seal_use_id,
                "seal_id": u.seal_id,
                "village_id": u.village_id,
                "matter_id": u.matter_id,
                "revision": u.revision,
                "stage": u.stage,
                "triggered_by": list(u.triggered_by),
                "triggered_by_roles": list(u.triggered_by_roles),
                "act_hash": u.act_hash,
                "used_at": u.used_at,
            }
            for u in result.uses
        ]
    }


async def verify_uploaded_pdf(request: Request) -> dict[str, Any]:
    """`POST /v1/verify` with multipart/form-data field `file`: the same answer as signing's VerifyDocument."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise ApiError("unsupported_media_type", "send JSON {approval_number, digest} or a PDF as multipart/form-data field 'file'")
    form = await request.form(max_files=1, max_fields=4)
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise ApiError("invalid_request", "the multipart form needs a 'file' field holding the PDF")
    pdf = await upload.read(MAX_PDF_BYTES + 1)
    if len(pdf) > MAX_PDF_BYTES:
        raise ApiError("payload_too_large", f"the PDF is over {MAX_PDF_BYTES} bytes")
    if not pdf.startswith(b"%PDF-"):
        raise ApiError("invalid_request", "the uploaded file is not a PDF")
    try:
        result = await _stub(request).VerifyDocument(pb.VerifyDocumentRequest(pdf=pdf), timeout=30)
    except grpc.aio.AioRpcError as error:
        raise ApiError("service_unavailable", f"verification is unavailable: {error.code().name}") from error
    return {
        "valid": result.valid,
        "reason": result.reason or None,
        "matter_id": result.matter_id or None,
        "revision": result.revision or None,
        "approval_number": result.approval_number or None,
        "latest": result.latest,
        "sealed": result.sealed,
        "changed_after_last_signature": result.changed_after_last_signature,
        "signatures": [
            {
                "field": s.field,
                "signer": s.signer,
                "signer_subject": s.signer_subject,
                "role": s.role,
                "kind": s.kind,
                "stage": s.stage,
                "signed_at": s.signed_at,
                "intact": s.intact,
                "valid": s.valid,
                "trusted": s.trusted,
                "chain": s.chain,
                "modification_level": s.modification_level,
                "docmdp_ok": s.docmdp_ok,
                "known": s.known,
            }
            for s in result.signatures
        ],
        "seals": [
            {
                "seal_id": s.seal_id,
                "name": s.name,
                "holder": s.holder,
                "valid_from": s.valid_from,
                "valid_to": s.valid_to,
                "within_validity": s.within_validity,
                "maker_signature_valid": s.maker_signature_valid,
            }
            for s in result.seals
        ],
    }
