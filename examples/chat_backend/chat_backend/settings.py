"""Settings of the chat backend, read from CHAT_BACKEND_* environment variables.

``store`` selects the data layer behind the routes: ``mnemo`` (mnemod through mnemo.AsyncClient)
or ``postgres`` (the seeds' SQLAlchemy async + asyncpg stack on PostgreSQL).  Both serve the same
routes with the same bodies; on ``postgres`` the vector search answers 501 (no vector type).
"""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseSettings, Field


class Settings(BaseSettings):
    store: Literal["mnemo", "postgres"] = "mnemo"

    # mnemo: the mnemod that README command 1 starts.
    mnemo_host: str = "127.0.0.1"
    mnemo_port: int = Field(7420, ge=1, le=65535)
    mnemo_api_key: Optional[str] = None  # a service key; None while mnemod is in protected mode
    mnemo_pool_size: int = Field(4, ge=1, le=64)

    # postgres: an asyncpg URL, e.g. postgresql+asyncpg://user@127.0.0.1:5432/chat
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
    database_pool_size: int = Field(10, ge=1, le=200)
    database_max_overflow: int = Field(10, ge=0, le=200)

    # The embedding size the PostgreSQL stack checks (mnemo announces its own on connect).
    embedding_dimension: int = Field(1536, ge=1, le=65536)

    # CORS, as the seeds configure it.
    allowed_origins: str = "http://localhost:3000,http://localhost:8000"

    class Config:
        env_prefix = "CHAT_BACKEND_"

    def origins(self) -> list[str]:
        return [origin.strip() for origin in self.allowed_origins.split(",") if origin.strip()]
