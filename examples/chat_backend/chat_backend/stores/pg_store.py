"""PostgresStore: the routes' data layer on the seeds' stack — SQLAlchemy 1.4 async sessions over
asyncpg on PostgreSQL, through the repositories of pg_repositories.

One engine (and its connection pool) per worker; one session per call.  Reads run in a session
that is rolled back when it closes; writes in ``sessions.begin()``, committed when it ends.  The
vector search answers NOT_IMPLEMENTED: Debian's PostgreSQL has no vector type (pg_schema).
"""

from __future__ import annotations

import uuid
from typing import Any, Mapping, Optional, Sequence
from uuid import UUID

from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.orm import sessionmaker

from ..errors import APIError, NotFound, StoreUnavailable, Translator
from ..schemas import ConversationCreate, DocumentCreate, MessageCreate, SearchRequest
from ..settings import Settings
from .pg_repositories import (ConversationRepository, DocumentRepository, EmbeddingRepository,
                              MessageRepository)
from .pg_schema import SCHEMA_LOCK_KEY, schema


def _unavailable(error: Exception) -> APIError:
    return StoreUnavailable(f"PostgreSQL is unavailable: {type(error).__name__}")


def _integrity(error: Exception) -> APIError:
    return APIError("DUPLICATE_RECORD", "Record already exists or constraint violated")


def _database(error: Exception) -> APIError:
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return _unavailable(error)
    if isinstance(error, (sa_exc.OperationalError, sa_exc.InterfaceError)):
        return _unavailable(error)
    if isinstance(error, sa_exc.DataError):
        return APIError("VALIDATION_ERROR", "PostgreSQL refused a value", "body")
    return APIError("INTERNAL_ERROR", f"database error: {type(error).__name__}")


class PostgresStore:
    """Store on PostgreSQL.  Owns its engine (and connection pool); used by the tasks of one
    event loop (a uvicorn worker), not thread-safe."""

    name = "postgres"
    translators: Mapping[type[Exception], Translator] = {
        sa_exc.IntegrityError: _integrity,
        sa_exc.DBAPIError: _database,
        sa_exc.TimeoutError: _unavailable,  # no pooled connection came free in time
        OSError: _unavailable,  # refused, reset or timed out while connecting
    }

    def __init__(self, engine: AsyncEngine, embedding_dimension: int) -> None:
        self._engine = engine
        self._sessions = sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
        self.embedding_dimension = embedding_dimension

    @classmethod
    async def open(cls, settings: Settings) -> "PostgresStore":
        """Creates the engine and the schema (idempotent; serialised across workers by an
        advisory lock).  Raises when PostgreSQL cannot be reached."""
        engine = create_async_engine(settings.database_url,
                                     pool_size=settings.database_pool_size,
                                     max_overflow=settings.database_max_overflow)
        try:
            async with engine.begin() as connection:
                await connection.execute(text(f"SELECT pg_advisory_xact_lock({SCHEMA_LOCK_KEY})"))
                await connection.run_sync(schema.create_all)
        except BaseException:
            await engine.dispose()
            raise
        return cls(engine, settings.embedding_dimension)

    async def close(self) -> None:
        await self._engine.dispose()

    async def ping(self) -> None:
        async with self._engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    # ---- conversations ----------------------------------------------------------------------

    async def create_conversation(self, user_id: str, data: ConversationCreate) -> Any:
        async with self._sessions.begin() as session:
            return await ConversationRepository(session).create(
                user_id, data.title, data.system_prompt, data.model, data.summary, data.metadata)

    async def list_conversations(self, user_id: str, skip: int, limit: int,
                                 include_deleted: bool) -> tuple[Sequence[Any], int]:
        async with self._sessions() as session:
            repository = ConversationRepository(session)
            items = await repository.get_user_conversations(user_id, skip, limit,
                                                            include_deleted)
            total = await repository.count_user_conversations(user_id, include_deleted)
            return items, total

    async def search_conversations(self, user_id: str, term: str, skip: int,
                                   limit: int) -> Sequence[Any]:
        async with self._sessions() as session:
            return await ConversationRepository(session).search_by_title(user_id, term, skip,
                                                                         limit)

    async def conversation_stats(self, user_id: str) -> Any:
        async with self._sessions() as session:
            return await ConversationRepository(session).get_user_stats(user_id)

    async def get_conversation(self, user_id: str, conversation_id: UUID,
                               include_deleted: bool) -> Any:
        async with self._sessions() as session:
            conversation = await ConversationRepository(session).get_user_conversation(
                user_id, conversation_id, include_deleted)
        if conversation is None:
            raise NotFound("conversation", conversation_id)
        return conversation

    async def update_conversation(self, user_id: str, conversation_id: UUID,
                                  changes: Mapping[str, Any]) -> Any:
        async with self._sessions.begin() as session:
            repository = ConversationRepository(session)
            if changes:
                conversation = await repository.update(user_id, conversation_id, **changes)
            else:
                conversation = await repository.get_user_conversation(user_id, conversation_id)
        if conversation is None:
            raise NotFound("conversation", conversation_id)
        return conversation

    async def delete_conversation(self, user_id: str, conversation_id: UUID, hard: bool) -> None:
        async with self._sessions.begin() as session:
            repository = ConversationRepository(session)
            if hard:
                found = await repository.hard_delete(user_id, conversation_id)
            else:
                found = await repository.soft_delete(user_id, conversation_id)
        if not found:
            raise NotFound("conversation", conversation_id)

    async def restore_conversation(self, user_id: str, conversation_id: UUID) -> Any:
        async with self._sessions.begin() as session:
            conversation = await ConversationRepository(session).undelete(user_id,
                                                                          conversation_id)
        if conversation is None:
            raise NotFound("conversation", conversation_id)
        return conversation

    # ---- messages -----------------------------------------------------------------------------

    async def append_message(self, user_id: str, conversation_id: UUID,
                             data: MessageCreate) -> Any:
        async with self._sessions.begin() as session:
            if not await ConversationRepository(session).touch(user_id, conversation_id):
                raise NotFound("conversation", conversation_id)
            return await MessageRepository(session).create(
                conversation_id, data.role, data.content, data.tool_calls, data.tool_results,
                data.tokens_used, data.metadata)

    async def list_messages(self, user_id: str, conversation_id: UUID, skip: int, limit: int,
                            role: Optional[str], newest_first: bool) -> Sequence[Any]:
        async with self._sessions() as session:
            items = await MessageRepository(session).get_conversation_messages(
                user_id, conversation_id, skip, limit, role, newest_first)
            # An empty page is also what a missing conversation gives; tell them apart.
            if not items and await ConversationRepository(session).get_user_conversation(
                    user_id, conversation_id) is None:
                raise NotFound("conversation", conversation_id)
            return items

    async def token_stats(self, user_id: str, conversation_id: UUID) -> Any:
        async with self._sessions() as session:
            if await ConversationRepository(session).get_user_conversation(
                    user_id, conversation_id) is None:
                raise NotFound("conversation", conversation_id)
            return await MessageRepository(session).get_token_usage_stats(conversation_id)

    # ---- documents ----------------------------------------------------------------------------

    async def create_document(self, user_id: str,
                              data: DocumentCreate) -> tuple[Any, list[tuple[UUID, int]]]:
        chunks: list[tuple[UUID, int]] = []
        rows: list[dict[str, Any]] = []
        async with self._sessions.begin() as session:
            document = await DocumentRepository(session).create(
                user_id, data.filename, data.file_type, data.content, len(data.chunks),
                data.metadata)
            for position, chunk in enumerate(data.chunks):
                index = position if chunk.chunk_index is None else chunk.chunk_index
                chunk_id = uuid.uuid4()
                rows.append({"id": chunk_id, "document_id": document.id,
                             "chunk_text": chunk.chunk_text, "embedding": chunk.embedding,
                             "chunk_index": index, "metadata": chunk.metadata})
                chunks.append((chunk_id, index))
            await EmbeddingRepository(session).bulk_create(rows)
        return document, chunks

    async def list_documents(self, user_id: str, skip: int,
                             limit: int) -> tuple[Sequence[Any], int]:
        async with self._sessions() as session:
            repository = DocumentRepository(session)
            items = await repository.get_user_documents(user_id, skip, limit)
            return items, await repository.get_user_document_count(user_id)

    async def get_document(self, user_id: str, document_id: UUID) -> Any:
        async with self._sessions() as session:
            document = await DocumentRepository(session).get_user_document(user_id, document_id)
        if document is None:
            raise NotFound("document", document_id)
        return document

    async def delete_document(self, user_id: str, document_id: UUID, hard: bool) -> None:
        async with self._sessions.begin() as session:
            repository = DocumentRepository(session)
            if hard:
                found = await repository.hard_delete(user_id, document_id)
            else:
                found = await repository.soft_delete_document(user_id, document_id)
        if not found:
            raise NotFound("document", document_id)

    async def search(self, user_id: str, request: SearchRequest) -> Sequence[Any]:
        raise APIError("NOT_IMPLEMENTED",
                       "vector search needs pgvector, which Debian's PostgreSQL does not ship; "
                       "run the app with CHAT_BACKEND_STORE=mnemo")
