"""Verification, all of it asked of signing: an approval number with the digest of its form (what the QR
code on a sealed form and 村务公开 check), and a sealed PDF as uploaded (every signature, seal and the
document's place among the matter's revisions). Anyone may verify; no sign-in."""

from typing import Any

import grpc
from sealflow.signing.v1 import verification_pb2 as pb

from sealflow_intake.adapters.signing import Signing
from sealflow_intake.errors import ApiError

MAX_PDF_BYTES = 32 * 1024 * 1024


async def _approval(signing: Signing, approval_number: str, digest: str, unavailable: str) -> Any:
    try:
        return await signing.verification.VerifyApproval(
            pb.VerifyApprovalRequest(approval_number=approval_number, digest=digest), timeout=10
        )
    except grpc.aio.AioRpcError as error:
        raise ApiError("service_unavailable", unavailable.format(code=error.code().name)) from error


async def verify_approval(signing: Signing, approval_number: str, digest: str) -> dict[str, Any]:
    """Whether the approval stands for this digest (hex, either case), with the acts that signed it."""
    result = await _approval(signing, approval_number, digest.lower(), "核验服务暂时不可用，请稍后再试（{code}）")
    return {
        "valid": result.valid,
        "reason": result.reason or None,
        "reason_code": result.reason_code or None,
        "matter_id": result.matter_id or None,
        "approval_number": result.approval_number or approval_number,
        "registered_at": result.registered_at or None,
        "acts": [
            {"seq": a.seq, "kind": a.kind, "stage": a.stage, "actor_id": a.actor_id, "signed_at": a.signed_at, "hash": a.hash}
            for a in result.acts
        ],
    }


async def approval_verdict(signing: Signing, approval_number: str, digest: str) -> dict[str, Any]:
    """Only the verdict, for the public page (村务公开): no matter id, no people."""
    result = await _approval(signing, approval_number, digest, "核验服务暂时不可用，请稍后再试 (verification is unavailable)")
    return {"valid": result.valid, "reason": result.reason or None, "reason_code": result.reason_code or None}


async def verify_document(signing: Signing, pdf: bytes) -> dict[str, Any]:
    """A sealed PDF (at most MAX_PDF_BYTES; pass one byte more to have a larger one refused): the same answer
    as signing's VerifyDocument."""
    if len(pdf) > MAX_PDF_BYTES:
        raise ApiError("payload_too_large", f"the PDF is over {MAX_PDF_BYTES} bytes")
    if not pdf.startswith(b"%PDF-"):
        raise ApiError("invalid_request", "the uploaded file is not a PDF")
    try:
        result = await signing.documents.VerifyDocument(pb.VerifyDocumentRequest(pdf=pdf), timeout=30)
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
