"""RequestContext: the seeds' request-id and process-time middleware, as plain ASGI.

Every answer carries ``X-Request-ID`` (the client's, when it is printable ASCII of at most 128
bytes, else a new UUID) and ``X-Process-Time`` (seconds).  ``request.state.request_id`` holds the
id for the error bodies.  An exception nothing else handled becomes the seeds' 500 body here, so
that answer carries both headers too.  Plain ASGI rather than ``@app.middleware("http")``:
Starlette's BaseHTTPMiddleware costs a task and a stream per request.
"""

from __future__ import annotations

import json
import logging
import time
import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import error_body

logger = logging.getLogger(__name__)

_MAX_REQUEST_ID = 128


def _client_request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            if 0 < len(value) <= _MAX_REQUEST_ID and all(0x21 <= b <= 0x7E for b in value):
                return value.decode("ascii")
            break
    return str(uuid.uuid4())


class RequestContext:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _client_request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        start = time.perf_counter()
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                headers.append("X-Request-ID", request_id)
                headers.append("X-Process-Time", f"{time.perf_counter() - start:.6f}")
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            logger.exception("[%s] %s %s failed", request_id, scope.get("method"),
                             scope.get("path"))
            if started:
                raise
            await _send_internal_error(send_with_headers, request_id)


async def _send_internal_error(send: Send, request_id: str) -> None:
    body = error_body("INTERNAL_ERROR", "An internal server error occurred", request_id)
    data = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": 500,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(data)).encode())]})
    await send({"type": "http.response.body", "body": data})
