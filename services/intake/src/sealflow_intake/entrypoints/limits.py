"""Request limits, checked before any route runs: a body over the configured size is refused (413)
without being read into memory, and a body that is neither JSON nor an upload is refused (415)."""

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sealflow_intake.errors import ApiError, error_body

JSON = "application/json"
UPLOAD = "multipart/form-data"
# The one route that takes a file upload (a sealed PDF to verify).
UPLOAD_PATHS = {"/v1/verify"}


class RequestLimits:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body_bytes):
            await _refuse(send, ApiError("payload_too_large", f"the request body is over {self.max_body_bytes} bytes"))
            return
        content_type = headers.get("content-type", "").split(";")[0].strip().lower()
        allowed = {JSON, UPLOAD} if scope["path"] in UPLOAD_PATHS else {JSON}
        if (length or "0") != "0" and content_type not in allowed:
            await _refuse(send, ApiError("unsupported_media_type", f"send {' or '.join(sorted(allowed))}, not {content_type or 'no content type'}"))
            return
        if length is not None:
            await self.app(scope, receive, send)
            return
        # A chunked body has no Content-Length: read it up to the limit before the route sees any of it.
        chunks, received, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunks.append(message.get("body", b""))
            received += len(chunks[-1])
            more = message.get("more_body", False)
            if received > self.max_body_bytes:
                await _refuse(send, ApiError("payload_too_large", f"the request body is over {self.max_body_bytes} bytes"))
                return
        pending: list[Message] = [{"type": "http.request", "body": b"".join(chunks), "more_body": False}]

        async def replay() -> Message:
            # The body once, then the real channel (which reports the client's disconnect).
            return pending.pop() if pending else await receive()

        await self.app(scope, replay, send)


async def _refuse(send: Send, error: ApiError) -> None:
    body = json.dumps(error_body(error.code, error.message), ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": error.status, "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
