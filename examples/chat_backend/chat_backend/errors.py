"""Errors and the seeds' error body.

Every error answer, whatever raised it, has the body of the seeds' APIError handler::

    {"error": {"code": "NOT_FOUND", "message": "...", "request_id": "...", "details": {...}}}

with ``details.field`` naming the offending input when there is one.  Codes are mnemo's status
names (SPEC §4) plus METHOD_NOT_ALLOWED and NOT_IMPLEMENTED; STATUS_FOR_CODE is the one place
that maps them to HTTP statuses.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Mapping, Optional

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger(__name__)

STATUS_FOR_CODE = {
    "VALIDATION_ERROR": 422,
    "NOT_FOUND": 404,
    "DUPLICATE_RECORD": 409,
    "CONFLICT": 409,
    "AUTHENTICATION_ERROR": 401,
    "AUTHORIZATION_ERROR": 403,
    "METHOD_NOT_ALLOWED": 405,
    "PAYLOAD_TOO_LARGE": 413,
    "RATE_LIMITED": 429,
    "TRANSACTION_ERROR": 500,
    "INTERNAL_ERROR": 500,
    "NOT_IMPLEMENTED": 501,
    "UNAVAILABLE": 503,
}
_CODE_FOR_STATUS = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 401: "AUTHENTICATION_ERROR"}


class APIError(Exception):
    """An error the API answers with; ``code`` is a key of STATUS_FOR_CODE."""

    def __init__(self, code: str, message: str, field: Optional[str] = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details: dict[str, Any] = {"field": field} if field else {}

    @property
    def status_code(self) -> int:
        return STATUS_FOR_CODE.get(self.code, 500)


Translator = Callable[[Exception], APIError]


class NotFound(APIError):
    def __init__(self, what: str, record_id: Any) -> None:
        super().__init__("NOT_FOUND", f"{what} {record_id} not found")


class InvalidInput(APIError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__("VALIDATION_ERROR", f"{field}: {message}", field)


class StoreUnavailable(APIError):
    def __init__(self, message: str) -> None:
        super().__init__("UNAVAILABLE", message)


def error_body(code: str, message: str, request_id: str,
               details: Optional[dict[str, Any]] = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "request_id": request_id,
                      "details": details or {}}}


def error_response(request: Request, status: int, code: str, message: str,
                   details: Optional[dict[str, Any]] = None,
                   headers: Optional[dict[str, str]] = None) -> JSONResponse:
    body = error_body(code, message, getattr(request.state, "request_id", ""), details)
    return JSONResponse(body, status_code=status, headers=headers)


def _field_of(location: tuple[Any, ...]) -> str:
    """FastAPI's error location as a field path: ("body", "chunks", 2, "embedding") ->
    "chunks[2].embedding"; query, path and header parameters keep their own name."""
    parts = list(location[1:]) if location and location[0] in ("body", "query", "path",
                                                                "header") else list(location)
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "body"


async def _api_error(request: Request, exc: APIError) -> JSONResponse:
    if exc.status_code >= 500:
        logger.error("%s %s: %s %s", request.method, request.url.path, exc.code, exc.message)
    return error_response(request, exc.status_code, exc.code, exc.message, exc.details)


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    first = errors[0] if errors else {"loc": ("body",), "msg": "invalid request"}
    field = _field_of(tuple(first.get("loc", ())))
    details = {"field": field,
               "errors": [{"field": _field_of(tuple(e.get("loc", ()))), "message": e.get("msg")}
                          for e in errors]}
    return error_response(request, 422, "VALIDATION_ERROR", f"{field}: {first.get('msg')}",
                          details)


async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    code = _CODE_FOR_STATUS.get(exc.status_code, "INTERNAL_ERROR" if exc.status_code >= 500
                                else "VALIDATION_ERROR")
    return error_response(request, exc.status_code, code, str(exc.detail),
                          headers=getattr(exc, "headers", None))


def install_error_handlers(app: FastAPI,
                           translators: Mapping[type[Exception], Translator]) -> None:
    """Answers APIError, FastAPI's validation errors and Starlette's HTTP errors with the seeds'
    body, and each store exception type in ``translators`` with the APIError it translates to.
    Anything else becomes a 500 in middleware.RequestContext.
    """
    app.add_exception_handler(APIError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    for exception_type, translate in translators.items():
        async def handle(request: Request, exc: Exception,
                         translate: Translator = translate) -> JSONResponse:
            return await _api_error(request, translate(exc))
        app.add_exception_handler(exception_type, handle)
