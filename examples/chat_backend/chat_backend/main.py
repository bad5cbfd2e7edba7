"""The chat backend: the seeds' FastAPI app (seed 001 Story 1.3) on mnemo or on PostgreSQL.

Run it (from the repository root, with the venv that README "Python client" makes)::

    .venv/bin/python -m uvicorn chat_backend.main:app --app-dir examples/chat_backend --port 8000

CHAT_BACKEND_STORE=postgres (and CHAT_BACKEND_DATABASE_URL) serves the same routes from the
seeds' SQLAlchemy stack instead; see settings.py for every setting.
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from typing import AsyncIterator, Optional

from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware

from .errors import install_error_handlers
from .middleware import RequestContext
from .routes import conversations, documents, health, messages
from .settings import Settings
from .stores import store_class

logger = logging.getLogger("chat_backend")


def create_app(settings: Optional[Settings] = None) -> FastAPI:
    """A new app; ``settings`` default to the CHAT_BACKEND_* environment."""
    settings = settings or Settings()
    store_type = store_class(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # One store (client pool or engine) per worker process, opened before the first request
        # and closed after the last; a store that cannot be reached fails the startup.
        app.state.store = await store_type.open(settings)
        logger.info("chat backend on %s", app.state.store.name)
        try:
            yield
        finally:
            await app.state.store.close()

    app = FastAPI(title="Chat backend", version="1.0.0",
                  description="The seeds' conversation and RAG API on mnemo (or PostgreSQL)",
                  docs_url="/api/docs", openapi_url="/api/openapi.json")
    # FastAPI 0.92 (Debian 12) has no lifespan= argument yet; Starlette's router takes it.
    app.router.lifespan_context = lifespan
    app.state.settings = settings

    app.add_middleware(CORSMiddleware, allow_origins=settings.origins(), allow_credentials=True,
                       allow_methods=["*"], allow_headers=["*"],
                       expose_headers=["X-Request-ID", "X-Process-Time"])
    app.add_middleware(RequestContext)  # outermost: every answer gets the request id
    install_error_handlers(app, store_type.translators)

    api = APIRouter(prefix="/api/v1")
    api.include_router(conversations.router)
    api.include_router(messages.router)
    api.include_router(documents.router)
    app.include_router(api)
    app.include_router(health.router)
    return app


app = create_app()
