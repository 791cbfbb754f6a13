"""The gRPC seal-verification service: translates protobuf ↔ handlers; registers the standard health service."""

from datetime import datetime

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from sealflow.signing.v1 import verification_pb2 as pb
from sealflow.signing.v1 import verification_pb2_grpc as pb_grpc
from sealflow_contracts.messages import utcnow
from sealflow_runtime.grpc_tls import server_credentials, tls_configured
from sealflow_runtime.service import Runtime
from sealflow_runtime.telemetry import bind_matter

from sealflow_signing import documents, handlers, seal_admin
from sealflow_signing.adapters import store

SERVICE_NAME = "sealflow.signing.v1.SealVerification"
DOCUMENTS_SERVICE_NAME = "sealflow.signing.v1.SealedDocuments"
MAX_PDF_BYTES = 32 * 1024 * 1024


class SealVerification(pb_grpc.SealVerificationServicer):
    def __init__(self, rt: Runtime) -> None:
        self._rt = rt

    async def VerifyApproval(self, request: pb.VerifyApprovalRequest, context: grpc.aio.ServicerContext) -> pb.VerificationResult:
        if not request.approval_number or len(request.digest) != 64:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "approval_number and a 64-hex-digit digest are required")
        result = await handlers.verify_approval(self._rt, request.approval_number, request.digest)
        bind_matter(result.matter_id)  # known only now: the request names an approval number
        return pb.VerificationResult(
            valid=result.valid,
            reason=result.reason,
            reason_code=result.reason_code,
            matter_id=result.matter_id,
            approval_number=result.approval_number,
            registered_at=result.registered_at,
            acts=[pb.ChainAct(**act) for act in result.acts or []],
        )


class SealedDocuments(pb_grpc.SealedDocumentsServicer):
    def __init__(self, rt: Runtime) -> None:
        self._rt = rt

    async def GetDocument(self, request: pb.GetDocumentRequest, context: grpc.aio.ServicerContext) -> pb.Document:
        doc = await documents.latest_document(self._rt, request.matter_id) if request.matter_id else None
        if doc is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"no document for matter {request.matter_id!r} yet")
        return pb.Document(
            matter_id=doc["matter_id"],
            revision=doc["revision"],
            pdf=bytes(doc["pdf"]),
            sealed=doc["locked"],
            signatures=len(doc["signature_ids"]),
            expected_acts=doc["expected_acts"],
        )

    async def VerifyDocument(self, request: pb.VerifyDocumentRequest, context: grpc.aio.ServicerContext) -> pb.DocumentVerification:
        if not request.pdf:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "a PDF is required")
        result = await documents.verify_document(self._rt, request.pdf)
        return pb.DocumentVerification(
            **{k: v for k, v in result.items() if k not in ("signatures", "seals")},
            signatures=[pb.PdfSignature(**s) for s in result["signatures"]],
            seals=[pb.SealCheck(**s) for s in result["seals"]],
        )

    async def GetTrustRoots(self, request: pb.GetTrustRootsRequest, context: grpc.aio.ServicerContext) -> pb.TrustRoots:
        return pb.TrustRoots(pem=await documents.trust_roots_pem(self._rt))

    async def GetSeal(self, request: pb.GetSealRequest, context: grpc.aio.ServicerContext) -> pb.Seal:
        seal = await self._rt.db.seals.find_one({"_id": request.seal_id}) if request.seal_id else None
        if seal is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"no seal {request.seal_id!r}")
        keys = await store.public_keys(self._rt.db, {store.PLATFORM_KEY})
        return pb.Seal(
            seal_id=seal["_id"],
            name=seal["name"],
            holder=seal["holder"],
            allowed_roles=seal["allowed_roles"],
            valid_from=seal["valid_from"].isoformat(),
            valid_to=seal["valid_to"].isoformat(),
            image_png=bytes(seal.get("image_png", b"")),
            image_sha256=seal.get("image_sha256", ""),
            certificate_pem=seal.get("certificate_pem", ""),
            maker=seal.get("maker", ""),
            maker_signature=seal.get("maker_signature", ""),
            maker_signature_valid=documents.maker_signature_ok(seal, keys),
            status=seal_admin.status(seal, utcnow()),
            revoked_at=seal["revoked_at"].isoformat() if seal.get("revoked_at") else "",
        )

    async def ListSealUses(self, request: pb.ListSealUsesRequest, context: grpc.aio.ServicerContext) -> pb.SealUses:
        try:
            period = {k: datetime.fromisoformat(v) for k, v in (("$gte", getattr(request, "from")), ("$lt", request.to)) if v}
        except ValueError:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "from and to must be RFC 3339 times")
        if any(t.tzinfo is None for t in period.values()):
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "from and to need a time zone")
        criteria: dict = {}
        if request.seal_id:
            criteria["seal_id"] = request.seal_id
        if request.village_id:
            criteria["village_id"] = request.village_id
        if period:
            criteria["used_at"] = period
        limit = min(request.limit or 100, 1000)
        cursor = self._rt.db.seal_uses.find(criteria).sort("used_at", 1).limit(limit)
        return pb.SealUses(
            uses=[
                pb.SealUse(
                    seal_use_id=u["_id"],
                    seal_id=u["seal_id"],
                    village_id=u.get("village_id", ""),
                    matter_id=u["matter_id"],
                    revision=u["revision"],
                    stage=u["stage"],
                    triggered_by=u["triggered_by"],
                    triggered_by_roles=u.get("triggered_by_roles", []),
                    act_hash=u["act_hash"],
                    used_at=u["used_at"].isoformat(),
                )
                async for u in cursor
            ]
        )


async def start_grpc(rt: Runtime) -> grpc.aio.Server:
    options = [("grpc.max_receive_message_length", MAX_PDF_BYTES), ("grpc.max_send_message_length", MAX_PDF_BYTES)]
    server = grpc.aio.server(options=options)
    pb_grpc.add_SealVerificationServicer_to_server(SealVerification(rt), server)
    pb_grpc.add_SealedDocumentsServicer_to_server(SealedDocuments(rt), server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    address = f"{rt.settings.grpc_host}:{rt.settings.grpc_port}"
    if tls_configured(rt.settings):
        # mutual TLS: a caller without a certificate under the service CA never reaches a handler
        server.add_secure_port(address, server_credentials(rt.settings))
    else:
        rt.log.warning("grpc without TLS: any process that reaches the port may call it (set SEALFLOW_GRPC_TLS_*)")
        server.add_insecure_port(address)
    await server.start()
    await health_servicer.set(SERVICE_NAME, health_pb2.HealthCheckResponse.SERVING)
    await health_servicer.set(DOCUMENTS_SERVICE_NAME, health_pb2.HealthCheckResponse.SERVING)
    await health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    rt.log.info("grpc serving", address=address, mutual_tls=tls_configured(rt.settings))
    if rt.settings.grpc_health_port:
        # Probes (kubelet's grpc probe, grpc_health_probe) present no client certificate: a plaintext port with
        # the same health service and nothing else. It answers SERVING/NOT_SERVING, never a verification.
        probe_server = grpc.aio.server()
        health_pb2_grpc.add_HealthServicer_to_server(health_servicer, probe_server)
        probe_address = f"{rt.settings.grpc_host}:{rt.settings.grpc_health_port}"
        probe_server.add_insecure_port(probe_address)
        await probe_server.start()
        rt.log.info("grpc health serving", address=probe_address)
        stop_main = server.stop

        async def stop_both(grace: float | None) -> None:
            # whoever stops the service stops its probe port with it
            await probe_server.stop(grace)
            await stop_main(grace)

        server.stop = stop_both
    return server
