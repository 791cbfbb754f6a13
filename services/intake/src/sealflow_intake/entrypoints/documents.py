"""Sealed documents over HTTP: the matter's PDF (readers of the matter only), the trust roots, and
verification of an uploaded PDF. Each is a gRPC call to signing, which holds the documents."""

from typing import Annotated, Any, Literal

import grpc
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sealflow.signing.v1 import verification_pb2 as pb
from sealflow_contracts import messages as m
from sealflow_contracts import subjects
from starlette.datastructures import UploadFile

from sealflow_intake.alerts import record_view
from sealflow_intake.entrypoints.api import Caller, Rt, _ask, _person_name, _readable_matter, _seal_name
from sealflow_intake.entrypoints.supervision import _csv
from sealflow_intake.errors import ApiError

router = APIRouter(prefix="/v1")
MAX_PDF_BYTES = 32 * 1024 * 1024


def _stub(request: Request):
    return request.app.state.documents


@router.get("/matters/{matter_id}/document")
async def get_document(matter_id: str, request: Request, rt: Rt, person: Caller) -> Response:
    await _readable_matter(rt, matter_id, person)
    await record_view(rt.db, person.id, matter_id, "document")  # issue 15: a `viewed` fact (rubber-stamp rule)
    try:
        doc = await _stub(request).GetDocument(pb.GetDocumentRequest(matter_id=matter_id), timeout=15)
    except grpc.aio.AioRpcError as error:
        if error.code() == grpc.StatusCode.NOT_FOUND:
            raise ApiError("document_not_ready", "文档正在生成，请稍后再试") from error
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
    rt: Rt,
    person: Caller,
    seal_id: str = "",
    village_id: str = "",
    from_: Annotated[str, Query(alias="from")] = "",
    to: str = "",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    format: Literal["json", "csv"] = "json",
) -> Any:
    """The seal-use register (用印登记): overseers see every seal; a village's seal custodian sees its village's.
    `?format=csv`: the same rows with names (seal, village, who triggered it) for a spreadsheet."""
    if not person.oversees:
        if "secretary" not in person.roles or not person.village_id or village_id not in ("", person.village_id):
            raise ApiError("forbidden", "只有镇纪委、管理员和本村印章保管人可以查看用印登记")
        village_id = person.village_id
    try:
        result = await _stub(request).ListSealUses(
            pb.ListSealUsesRequest(seal_id=seal_id, village_id=village_id, to=to, limit=limit, **{"from": from_}), timeout=10
        )
    except grpc.aio.AioRpcError as error:
        if error.code() == grpc.StatusCode.INVALID_ARGUMENT:
            raise ApiError("invalid_request", error.details() or "invalid period") from error
        raise ApiError("service_unavailable", f"the register is unavailable: {error.code().name}") from error
    items = [
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
    if format == "json":
        return {"items": items}
    villages = {
        v["id"]: v["name"]
        for v in (await _ask(rt, subjects.RPC_ADMIN, m.AdminRequest(actor_id=person.id, action="list_villages")))["items"]
    }
    seals = {sid: await _seal_name(request, sid) for sid in {u["seal_id"] for u in items}}
    people = {pid: await _person_name(request, pid) for pid in {p for u in items for p in u["triggered_by"]}}
    header = ["用印时间", "印章", "村", "事项编号", "版本", "步骤", "触发人", "用印登记号"]
    rows = [
        [u["used_at"], seals[u["seal_id"]], villages.get(u["village_id"], u["village_id"]), u["matter_id"], u["revision"], u["stage"],
         "、".join(people[p] for p in u["triggered_by"]), u["seal_use_id"]]
        for u in items
    ]  # fmt: skip
    return _csv("seal-uses.csv", header, rows)


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
        "reason_code": result.reason_code or None,
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
                "revoked_at": s.revoked_at or None,
                "revoked_before_use": s.revoked_before_use,
            }
            for s in result.seals
        ],
    }
