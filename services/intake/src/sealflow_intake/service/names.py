"""People's and seals' names for what a person reads (names, not ids), with a fallback when the source
cannot say: a person no longer in the directory, a seal signing does not answer for."""

import grpc
from sealflow.signing.v1 import verification_pb2 as pb

from sealflow_intake.adapters.signing import Signing
from sealflow_intake.auth import Authenticator
from sealflow_intake.errors import ApiError


async def person_name(authenticator: Authenticator, person_id: str) -> str:
    try:
        return (await authenticator.lookup(person_id)).name  # cached per replica
    except ApiError:
        return "（名录中已无此人）"


async def seal_name(signing: Signing, seal_id: str) -> str:
    try:
        return (await signing.documents.GetSeal(pb.GetSealRequest(seal_id=seal_id), timeout=5)).name
    except grpc.aio.AioRpcError:
        return "印章"
