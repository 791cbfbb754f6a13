"""The gRPC seal-verification service: translates protobuf ↔ handlers; registers the standard health service."""

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from sealflow.signing.v1 import verification_pb2 as pb
from sealflow.signing.v1 import verification_pb2_grpc as pb_grpc
from sealflow_runtime.service import Runtime
from sealflow_runtime.telemetry import bind_matter
from sealflow_signing import handlers

SERVICE_NAME = "sealflow.signing.v1.SealVerification"


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
            matter_id=result.matter_id,
            approval_number=result.approval_number,
            registered_at=result.registered_at,
            acts=[pb.ChainAct(**act) for act in result.acts or []],
        )


async def start_grpc(rt: Runtime) -> grpc.aio.Server:
    server = grpc.aio.server()
    pb_grpc.add_SealVerificationServicer_to_server(SealVerification(rt), server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    address = f"{rt.settings.grpc_host}:{rt.settings.grpc_port}"
    server.add_insecure_port(address)
    await server.start()
    await health_servicer.set(SERVICE_NAME, health_pb2.HealthCheckResponse.SERVING)
    await health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    rt.log.info("grpc serving", address=address)
    return server
