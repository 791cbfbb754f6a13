"""Request limits, checked before any route runs: a body over the configured size is refused (413)
without being read into memory, and a body that is neither JSON nor an upload is refused (415)."""

import json
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sealflow_intake.errors import ApiError, error_body

JSON = "application/json"
UPLOAD = "multipart/form-data"
# The routes that take a file upload: a sealed PDF to verify, a roster to import.
UPLOAD_PATHS = {"/v1/verify", "/v1/admin/people/import"}


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
            await _refuse(
                send, ApiError("unsupported_media_type", f"send {' or '.join(sorted(allowed))}, not {content_type or 'no content type'}")
            )
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
    await send(
        {
            "type": "http.response.start",
            "status": error.status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


class PublicRateLimit:
    """A token bucket per client address for the routes that need no sign-in (村务公开): `burst` requests at
    once, refilled at `per_minute`; beyond it `429 rate_limited` with Retry-After. In memory, per replica:
    N replicas allow N× the rate, which is fine for a cap meant to stop scraping, and needs no shared store.
    (A dozen lines of our own rather than slowapi/limits: they bring a decorator per route and a storage
    layer this one bucket does not need.) The address is the TCP peer; behind a proxy, run uvicorn with
    --proxy-headers and --forwarded-allow-ips so that peer is the client."""

    MAX_CLIENTS = 50_000  # the oldest buckets are dropped beyond this, so a crowd cannot grow memory for ever

    def __init__(self, per_minute: float, burst: int) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self._buckets: dict[str, tuple[float, float]] = {}  # client → (tokens, at)

    def take(self, request) -> None:
        client = request.client.host if request.client else "unknown"
        now = time.monotonic()
        tokens, at = self._buckets.pop(client, (self.burst, now))
        tokens = min(self.burst, tokens + (now - at) * self.rate)
        if len(self._buckets) >= self.MAX_CLIENTS:
            self._buckets.pop(next(iter(self._buckets)))
        if tokens < 1.0:
            self._buckets[client] = (tokens, now)
            retry_after = max(1, int((1.0 - tokens) / self.rate + 0.999))
            raise ApiError(
                "rate_limited", f"查询太频繁，请 {retry_after} 秒后再试 (too many requests)", headers={"Retry-After": str(retry_after)}
            )
        self._buckets[client] = (tokens - 1.0, now)  # re-inserted last: the dict's order is least recently used first
