"""intake's gRPC client to signing: one channel for verification and the sealed documents. round_robin
spreads the calls over every signing replica the address resolves to; mutual TLS when SEALFLOW_GRPC_TLS_*
are set (intake's client certificate under the service CA)."""

import grpc
from sealflow.signing.v1 import verification_pb2_grpc as pb_grpc
from sealflow_runtime.grpc_tls import secure_channel

from sealflow_intake.config import IntakeSettings


class Signing:
    def __init__(self, channel: grpc.aio.Channel) -> None:
        self.channel = channel
        self.verification = pb_grpc.SealVerificationStub(channel)
        self.documents = pb_grpc.SealedDocumentsStub(channel)

    @classmethod
    def connect(cls, settings: IntakeSettings) -> "Signing":
        """Opened in the running event loop (grpc.aio binds the channel to it): at start-up, not at build time."""
        return cls(secure_channel(settings, settings.signing_grpc_addr, options=[("grpc.lb_policy_name", "round_robin")]))

    async def close(self) -> None:
        await self.channel.close()
