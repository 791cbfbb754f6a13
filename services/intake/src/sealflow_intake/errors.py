"""The API's error shape (docs/rules.md §4), `{"error": {"code", "message"}}`, and the one table from code to HTTP status."""

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

ERROR_STATUS = {
    "unauthenticated": 401,
    "invalid_token": 401,
    "unknown_person": 401,
    "forbidden": 403,
    "not_applicant": 403,
    "not_assignee": 403,
    "self_approval": 403,
    "matter_not_found": 404,
    "not_found": 404,
    "notification_not_found": 404,
    "not_your_turn": 409,
    "stale_digest": 409,
    "already_decided": 409,
    "matter_closed": 409,
    "idempotency_conflict": 409,
    "idempotency_key_reused": 409,
    "stage_not_open": 409,
    "payload_too_large": 413,
    "unsupported_media_type": 415,
    "invalid_request": 422,
    "unknown_matter_type": 422,
    "unknown_village": 422,
    "route_unresolved": 422,
    "route_conflict": 422,
    "reason_required": 422,
    "service_unavailable": 503,
    "document_not_ready": 404,
    # issue 3: returns, revisions, withdrawals, transfers, administration
    "not_returned": 409,
    "task_cancelled": 409,
    "admin_conflict": 409,
    "alert_already_disposed": 409,
    "unchanged_document": 422,
    "not_same_authority": 422,
    "invalid_policy": 422,
    "invalid_directory": 422,
    # absence delegation
    "invalid_absence": 422,
    "absence_not_found": 404,
    # issue 13: the town administers itself
    "person_inactive": 401,
    "conflict": 409,
    "already_exists": 409,
    "precondition_required": 428,
    "invalid_field": 422,
    "invalid_roster": 422,
    "invalid_seal": 422,
    "seal_not_found": 404,
    "subscription_not_found": 404,
    # issue 14: what villagers see
    "approval_not_found": 404,
    "rate_limited": 429,
    # issue 15: signed trail heads and evidence
    "evidence_not_ready": 409,
    "head_not_signed": 409,
}


class ApiError(Exception):
    def __init__(self, code: str, message: str, status: int | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status or ERROR_STATUS.get(code, 400)
        self.headers = headers  # e.g. Retry-After on a 429


def error_body(code: str, message: str) -> dict:
    return {"error": {"code": code, "message": message}}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_: Request, error: ApiError) -> JSONResponse:
        return JSONResponse(error_body(error.code, error.message), status_code=error.status, headers=error.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, error: RequestValidationError) -> JSONResponse:
        details = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors())
        # A form value of the wrong shape is the same refusal as one routing finds against the form.
        about_fields = all(len(e["loc"]) > 1 and e["loc"][:2] == ("body", "fields") for e in error.errors())
        return JSONResponse(error_body("invalid_field" if about_fields else "invalid_request", details), status_code=422)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        # Still a 500 (tests treat any as a defect), but in the contract's shape and logged with its cause.
        structlog.get_logger().exception("unhandled error", path=request.url.path)
        return JSONResponse(error_body("internal_error", "an unexpected error occurred; it has been logged"), status_code=500)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, error: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}.get(error.status_code, "http_error")
        return JSONResponse(error_body(code, str(error.detail)), status_code=error.status_code)
