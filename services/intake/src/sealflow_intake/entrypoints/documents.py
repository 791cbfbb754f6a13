"""Sealed documents over HTTP: the matter's PDF (readers of the matter only), the trust roots, and the
seal-use register. Each is a gRPC call to signing, which holds the documents (verifying an uploaded PDF is
`POST /v1/verify`, with service/verification.py)."""

from typing import Annotated, Any, Literal

import grpc
from fastapi import APIRouter, Query
from fastapi.responses import Response
from sealflow.signing.v1 import verification_pb2 as pb
from sealflow_contracts import messages as m
from sealflow_contracts import subjects

from sealflow_intake.alerts import record_view
from sealflow_intake.entrypoints.deps import Auth, Caller, Rt, SigningClient, ask, readable_matter
from sealflow_intake.entrypoints.supervision import _csv
from sealflow_intake.errors import ApiError
from sealflow_intake.service.names import person_name, seal_name

router = APIRouter(prefix="/v1")


@router.get("/matters/{matter_id}/document")
async def get_document(matter_id: str, rt: Rt, person: Caller, signing: SigningClient) -> Response:
    await readable_matter(rt, matter_id, person)
    await record_view(rt.db, person.id, matter_id, "document")  # issue 15: a `viewed` fact (rubber-stamp rule)
    try:
        doc = await signing.documents.GetDocument(pb.GetDocumentRequest(matter_id=matter_id), timeout=15)
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
async def trust_roots(signing: SigningClient) -> Response:
    """Public: the anchors a holder needs to check a sealed PDF with any PAdES reader."""
    try:
        roots = await signing.documents.GetTrustRoots(pb.GetTrustRootsRequest(), timeout=10)
    except grpc.aio.AioRpcError as error:
        raise ApiError("service_unavailable", f"trust roots are unavailable: {error.code().name}") from error
    return Response(roots.pem, media_type="application/x-pem-file")


@router.get("/seal-uses")
async def seal_uses(
    rt: Rt,
    person: Caller,
    signing: SigningClient,
    authenticator: Auth,
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
        result = await signing.documents.ListSealUses(
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
        v["id"]: v["name"] for v in (await ask(rt, subjects.RPC_ADMIN, m.AdminRequest(actor_id=person.id, action="list_villages")))["items"]
    }
    seals = {sid: await seal_name(signing, sid) for sid in {u["seal_id"] for u in items}}
    people = {pid: await person_name(authenticator, pid) for pid in {p for u in items for p in u["triggered_by"]}}
    header = ["用印时间", "印章", "村", "事项编号", "版本", "步骤", "触发人", "用印登记号"]
    rows = [
        [u["used_at"], seals[u["seal_id"]], villages.get(u["village_id"], u["village_id"]), u["matter_id"], u["revision"], u["stage"],
         "、".join(people[p] for p in u["triggered_by"]), u["seal_use_id"]]
        for u in items
    ]  # fmt: skip
    return _csv("seal-uses.csv", header, rows)
