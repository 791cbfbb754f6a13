"""Evidence for the discipline office: the trail log's checkpoints and consistency proofs (public), a matter's
signed head with its inclusion proof, and the evidence package a verifier checks without Sealflow
(`sealflow-verify`). signing holds the log and the documents (request/reply, PDFs in chunks); the trail is
intake's read model."""

import base64
import io
import json
import zipfile
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from sealflow_contracts import messages as m
from sealflow_contracts import subjects

from sealflow_intake.adapters import readmodel
from sealflow_intake.entrypoints.deps import Caller, Rt
from sealflow_intake.entrypoints.deps import ask as _ask
from sealflow_intake.entrypoints.deps import readable_matter as _readable_matter
from sealflow_intake.errors import ApiError

router = APIRouter(prefix="/v1")
public_router = APIRouter(prefix="/v1/trail")
CHUNK = 256 * 1024
ENDED = ("completed", "rejected", "withdrawn")


@public_router.get("/checkpoints")
async def checkpoints(request: Request, rt: Rt, limit: Annotated[int, Query(ge=1, le=500)] = 20) -> JSONResponse:
    """Public, no sign-in: the log's origin, its note verifier key (and the key's certificate under the town
    root), and its signed checkpoints newest first, each a C2SP tlog-checkpoint signed note."""
    request.app.state.public_limit.take(request)
    return JSONResponse(await _ask(rt, subjects.RPC_TRAIL_LOG, m.TrailLogQuery(action="checkpoints", limit=limit)))


@public_router.get("/checkpoints/latest")
async def latest_checkpoint(request: Request, rt: Rt) -> Response:
    """The latest checkpoint as the signed note itself (text/plain), as witnesses and log tools fetch it."""
    request.app.state.public_limit.take(request)
    result = await _ask(rt, subjects.RPC_TRAIL_LOG, m.TrailLogQuery(action="checkpoints", limit=1))
    if not result["items"]:
        raise ApiError("not_found", "还没有检查点 (no checkpoint yet)")
    return Response(result["items"][0]["note"], media_type="text/plain; charset=utf-8")


def _size(name: str, value: str | None, what: str) -> int | None:
    """A tree size from the query string, refused in words when it is not a positive whole number."""
    if value is None:
        return None
    if not value.strip().isdecimal() or len(value.strip()) > 18 or int(value) < 1:  # 18 digits: within MongoDB's int64
        raise ApiError("invalid_request", f"参数 {name}={value!r} 无效：应为正整数，即{what} ({name} must be a positive whole number)")
    return int(value)


@public_router.get("/consistency")
async def consistency(request: Request, rt: Rt, first: str | None = None, second: str | None = None) -> JSONResponse:
    """Public, no sign-in: RFC 6962 consistency proof that the checkpoint of size `second` (default the latest)
    extends the log as it was at size `first` — for anyone who kept an older checkpoint. 422 for a size that is
    not a positive whole number or `first` > `second`; 404 when no checkpoint has size `second`."""
    request.app.state.public_limit.take(request)
    older = _size("first", first, "您保存的旧检查点的树大小（检查点第二行）")
    if older is None:
        raise ApiError("invalid_request", "缺少参数 first：您保存的旧检查点的树大小（检查点第二行）(first is required)")
    newer = _size("second", second, "新检查点的树大小，省略时为最新检查点")
    if newer is not None and older > newer:
        raise ApiError("invalid_request", f"first={older} 大于 second={newer}：旧检查点不能比新检查点大 (first must not exceed second)")
    return JSONResponse(await _ask(rt, subjects.RPC_TRAIL_LOG, m.TrailLogQuery(action="consistency", first=older, second=newer)))


@router.get("/matters/{matter_id}/trail/proof")
async def trail_proof(matter_id: str, rt: Rt, person: Caller) -> dict[str, Any]:
    """The matter's signed trail head and its inclusion proof in the latest checkpoint (null until one covers it)."""
    await _readable_matter(rt, matter_id, person)
    return await _ask(rt, subjects.RPC_TRAIL_LOG, m.TrailLogQuery(action="proof", matter_id=matter_id))


@router.get("/matters/{matter_id}/evidence")
async def evidence_package(matter_id: str, rt: Rt, person: Caller, since: str | None = None) -> Response:
    """A .zip for `sealflow-verify`: every revision's PDF, the trail, its signed head, the inclusion proof and the
    checkpoint, the certificates up to the town root, the seal records, a README in Chinese. Only an ended matter
    has a signed head; until a checkpoint covers it (SEALFLOW_CHECKPOINT_SECONDS) the answer is 409.
    `?since=<size>`: also the consistency proof from the log at that size (a checkpoint the auditor kept) to the
    package's checkpoint, which `sealflow-verify --previous-checkpoint` checks."""
    older = _size("since", since, "您保存的旧检查点的树大小（检查点第二行）")
    matter = await _readable_matter(rt, matter_id, person)
    if matter["status"] not in ENDED:
        raise ApiError("evidence_not_ready", "事项尚未办结，还没有签名的留痕 (the matter has not ended: its trail head is not signed yet)")
    materials = await _ask(rt, subjects.RPC_TRAIL_LOG, m.TrailLogQuery(action="evidence", matter_id=matter_id))
    if materials["inclusion_proof"] is None:
        raise ApiError(
            "evidence_not_ready",
            "留痕已签名，正在等待下一个检查点，请稍后再试 (the signed head awaits the next checkpoint; try again shortly)",
        )
    trail = await readmodel.trail(rt.db, matter_id)
    if len(trail["entries"]) < materials["head"]["trail_size"]:
        raise ApiError("evidence_not_ready", "留痕尚在同步，请稍后再试 (the trail is still arriving; try again shortly)")
    documents = materials["documents"]
    if len(documents) < matter["revision"] or (matter["status"] == "completed" and not documents[-1]["locked"]):
        raise ApiError("evidence_not_ready", "盖章文档正在生成，请稍后再试 (the sealed document is being prepared; try again shortly)")
    consistency_proof = None
    if older is not None:
        size = materials["checkpoint"]["tree_size"]
        if older > size:
            raise ApiError(
                "invalid_request",
                f"since={older} 大于本证据包所用检查点的树大小 {size}：请核对您保存的检查点 "
                f"(since exceeds the tree size of the package's checkpoint, {size})",
            )
        consistency_proof = await _ask(rt, subjects.RPC_TRAIL_LOG, m.TrailLogQuery(action="consistency", first=older, second=size))
    pdfs = {d["revision"]: await _pdf(rt, matter_id, d["revision"]) for d in documents}
    body = _zip(matter, trail, materials, pdfs, consistency_proof)
    return Response(body, media_type="application/zip", headers={"Content-Disposition": f'attachment; filename="evidence-{matter_id}.zip"'})


async def _pdf(rt: Any, matter_id: str, revision: int) -> bytes:
    parts, offset = [], 0
    while True:
        chunk = await _ask(
            rt,
            subjects.RPC_TRAIL_LOG,
            m.TrailLogQuery(action="pdf_chunk", matter_id=matter_id, revision=revision, offset=offset, length=CHUNK),
        )
        data = base64.b64decode(chunk["content_base64"])
        parts.append(data)
        offset += len(data)
        if offset >= chunk["size"] or not data:
            return b"".join(parts)


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=2, default=str).encode("utf-8")


def _zip(
    matter: dict[str, Any], trail: dict[str, Any], materials: dict[str, Any], pdfs: dict[int, bytes], consistency: dict[str, Any] | None
) -> bytes:
    head, proof = materials["head"], materials["inclusion_proof"]
    files: dict[str, bytes] = {
        "README.txt": _readme(matter, materials, sorted(pdfs), consistency).encode("utf-8"),
        "matter.json": _json(
            {
                k: matter.get(k)
                for k in (
                    "id",
                    "revision",
                    "status",
                    "village_id",
                    "matter_type",
                    "title",
                    "amount_fen",
                    "applicant_id",
                    "digest",
                    "approval_number",
                    "created_at",
                )
            }
        ),
        "trail.json": _json({"matter_id": trail["matter_id"], "entries": trail["entries"]}),
        "trail-head.note": head["note"].encode("utf-8"),
        "checkpoint.note": materials["checkpoint"]["note"].encode("utf-8"),
        "inclusion-proof.json": _json({**proof, "leaf": "trail-head.note (its text, before the blank line)"}),
        "log.json": _json({"origin": materials["origin"], "verifier_key": materials["verifier_key"]}),
        "certificates/log-key.pem": materials["certificate_pem"].encode(),
        "certificates/trust-roots.pem": "".join(materials["trust_roots"]).encode(),
        "certificates/chain.pem": "".join(materials["certificates"]).encode(),
        "seals.json": _json({"platform_public_pem": materials["platform_public_pem"], "seals": materials["seals"]}),
    }
    if consistency is not None:
        files["consistency-proof.json"] = _json(
            {
                "first": consistency["first"],
                "second": consistency["second"],
                "hashes": consistency["hashes"],
                "first_checkpoint": (consistency["first_checkpoint"] or {}).get("note"),
            }
        )
    for revision, pdf in pdfs.items():
        files[f"documents/revision-{revision}.pdf"] = pdf
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return out.getvalue()


def _readme(matter: dict[str, Any], materials: dict[str, Any], revisions: list[int], consistency: dict[str, Any] | None) -> str:
    status = {"completed": "已办结", "rejected": "已终止", "withdrawn": "已撤回"}.get(matter["status"], matter["status"])
    head, proof = materials["head"], materials["inclusion_proof"]
    return f"""Sealflow 证据包 · 事项「{matter["title"]}」

事项编号：{matter["id"]}
状态：{status}{("，审批编号 " + matter["approval_number"]) if matter.get("approval_number") else ""}
版本：共 {len(revisions)} 版

本证据包的内容
- documents/revision-N.pdf：每一版的签章文档（PAdES），最后一版为办结时锁定的文档；
- trail.json：事项的全部留痕，每条都带上一条的哈希，形成哈希链；
- trail-head.note：平台对留痕头（事项编号、条数 {head["trail_size"]}、最后一条的哈希）的签名（C2SP 签名注记，Ed25519）；
- checkpoint.note：包含该留痕头的检查点（C2SP tlog-checkpoint：来源、树的大小、RFC 6962 默克尔树根），由平台签名；
- inclusion-proof.json：留痕头在检查点中的包含证明（第 {proof["leaf_index"]} 个叶子，树大小 {proof["tree_size"]}）；
- certificates/：日志签名密钥的证书、签名证书链、镇根证书；
- seals.json：所用电子印章的记录（GB/T 38540 印章信息及制章者签名）；
- log.json：日志的来源名称与验证密钥。{_consistency_line(consistency)}

如何验证（无需 Sealflow 的服务器）
  pip install sealflow-verify        （或本仓库的 tools/verify）
  sealflow-verify evidence.zip --root town-root.pem
镇根证书 town-root.pem 应从可信渠道取得（例如 GET /v1/trust/roots），不要只信任证据包里附带的那一份。
验证内容：留痕哈希链是否完整、未被改动、删除或调换顺序；留痕头签名；包含证明与检查点签名；
每份 PDF 的每个签名是否完好且可追溯到镇根证书；PDF 与留痕中各版本的表单摘要是否一致；最后一份 PDF 是否为最后一版且签批完整。
全部通过时退出码为 0，并列出检查项；否则退出码为 1，并逐项说明失败原因。

检查点也公开在 GET /v1/trail/checkpoints，可与其他见证方（witness）保存的检查点比对：
同一大小的树，根哈希必须相同；否则说明日志被改写。
若您保存过较早的检查点（例如 GET /v1/trail/checkpoints/latest 的文本，存为 old.note），可验证本包的检查点是它的延续
（此前签名的留痕头一个也没有被改写或删除）：
  下载证据包时加上 ?since=<旧检查点的树大小>，然后
  sealflow-verify evidence.zip --root town-root.pem --previous-checkpoint old.note
或者另取一致性证明 GET /v1/trail/consistency?first=<旧大小>&second=<本包检查点大小>，存为 proof.json，然后
  sealflow-verify evidence.zip --root town-root.pem --previous-checkpoint old.note --consistency proof.json

Sealflow evidence package for matter {matter["id"]}. Verify offline with: sealflow-verify evidence.zip --root town-root.pem
"""


def _consistency_line(consistency: dict[str, Any] | None) -> str:
    if consistency is None:
        return ""
    return (
        f"\n- consistency-proof.json：一致性证明：树大小 {consistency['second']} 的检查点是树大小 {consistency['first']} 时日志的延续"
        "（RFC 6962），配合 --previous-checkpoint 使用。"
    )
