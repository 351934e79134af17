"""Every error leaves the API as ``{"error": CODE, "message": DETAILS, "zh": …, "en": …}``
with a 4xx status (503 for storage);
bad input never produces a 500."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from common.errors import text
from hall.errors import HallError, StorageUnavailable

log = logging.getLogger("hall.api")

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "body_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
}


def error_response(
    status: int,
    code: str,
    message: str,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    body = {"error": code, "message": message, "zh": text(code, "zh"), "en": text(code, "en")}
    body.update(extra or {})
    return JSONResponse(body, status_code=status, headers=headers)


def headers_for(exc: HallError) -> dict[str, str] | None:
    if isinstance(exc, StorageUnavailable):
        return {"Retry-After": str(exc.retry_after_s)}
    if exc.status == 401:
        return {"WWW-Authenticate": "Bearer"}
    return None


def describe_validation(errors: list[Any]) -> tuple[str, str]:
    """A short, precise message from pydantic's errors; never echoes the input values
    (they may be ID numbers)."""
    if any(e.get("type") == "json_invalid" for e in errors):
        return "malformed_json", "the request body is not valid JSON"
    parts = []
    for e in errors[:5]:
        loc = ".".join(str(x) for x in e.get("loc", ()) if x != "body") or "body"
        parts.append(f"{loc}: {e.get('msg', 'invalid')}")
    return "invalid_request", "; ".join(parts)


def install(app: FastAPI) -> None:
    @app.exception_handler(HallError)
    async def _hall_error(_: Request, exc: HallError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, headers_for(exc), exc.details)

    @app.exception_handler(SQLAlchemyError)
    async def _storage(_: Request, exc: SQLAlchemyError) -> JSONResponse:
        # A storage error outside ctx.read()/write() (which turn theirs into
        # StorageUnavailable themselves): the same 503, never a 500.
        log.error("storage error outside a transaction: %s", type(exc).__name__)
        err = StorageUnavailable()
        return error_response(err.status, err.code, err.message, headers_for(err))

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        code, message = describe_validation(list(exc.errors()))
        return error_response(400 if code == "malformed_json" else 422, code, message)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = HTTP_CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else code
        return error_response(exc.status_code, code, message, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # A bug, not bad input: logged (without the body) and answered as JSON.
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(500, "internal_error", "the hall server hit an unexpected error")
