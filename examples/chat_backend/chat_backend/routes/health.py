"""Health routes (seed 001): /health asks the store, /ready only the process."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from ..dependencies import get_store
from ..stores import Store

router = APIRouter(tags=["Health"])


@router.get("/health")
async def health_check(request: Request, store: Store = Depends(get_store)):
    """200 when the store answers, 503 otherwise."""
    request_id = request.state.request_id
    try:
        await store.ping()
    except Exception as error:  # any failure to reach the store means unhealthy
        return JSONResponse({"status": "unhealthy", "store": store.name,
                             "error": type(error).__name__, "request_id": request_id},
                            status_code=503)
    return {"status": "healthy", "store": store.name, "request_id": request_id}


@router.get("/ready")
async def readiness_check(request: Request):
    return {"ready": True, "request_id": request.state.request_id}
