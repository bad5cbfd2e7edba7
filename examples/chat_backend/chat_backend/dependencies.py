"""Request dependencies: the caller's user id and the worker's store.

All are ``async def``: FastAPI runs plain ``def`` dependencies in a thread pool, which costs a
thread hop per request for no gain here.
"""

from __future__ import annotations

from typing import Optional

from fastapi import Header, Request

from .errors import APIError, InvalidInput
from .stores import Store

MAX_USER_ID_BYTES = 255


async def get_user_id(x_user_id: Optional[str] = Header(
        None, description="The user the request acts for (1..255 bytes); every read and write "
                          "is scoped to it")) -> str:
    """The seeds' identity: the X-User-ID header (a real deployment derives it from a verified
    token instead).  Missing: 401; longer than 255 bytes: 422."""
    if not x_user_id:
        raise APIError("AUTHENTICATION_ERROR", "Missing user ID", "X-User-ID")
    # Starlette decodes header bytes as latin-1, so this is the length on the wire.
    if len(x_user_id.encode("latin-1")) > MAX_USER_ID_BYTES:
        raise InvalidInput("X-User-ID", f"must be at most {MAX_USER_ID_BYTES} bytes")
    return x_user_id


async def get_store(request: Request) -> Store:
    """The store the app's lifespan opened for this worker."""
    return request.app.state.store
