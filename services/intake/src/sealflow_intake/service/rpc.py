"""Asking another service over NATS request/reply, with its refusal turned into intake's error."""

from typing import Any

from pydantic import BaseModel
from sealflow_runtime.bus import ServiceUnavailable, rpc_call
from sealflow_runtime.service import Runtime

from sealflow_intake.errors import ApiError


async def ask(rt: Runtime, subject: str, request: BaseModel) -> Any:
    """The reply's result; a refusal raises `ApiError` with the answering service's code and message, and no
    answer at all `service_unavailable`."""
    try:
        reply = await rpc_call(rt.broker, subject, request)
    except ServiceUnavailable as error:
        raise ApiError("service_unavailable", "系统繁忙，服务暂时没有应答，请稍后再试") from error
    if not reply.ok:
        raise ApiError(reply.error.code, reply.error.message)
    return reply.result
