"""MnemoStore: the routes' data layer on mnemod, through one shared mnemo.AsyncClient.

Each call is one request to mnemod (two where noted), pipelined with the other requests of the
worker over the client's connection pool.  mnemo's exceptions are translated by ``translate``
below.  Records go to the routes as dicts of their fields (``_fields``): FastAPI would turn the
dataclasses into dicts itself with dataclasses.asdict, which deep-copies every value and costs
as much CPU as the rest of the response's serialization.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any, Mapping, Optional, Sequence
from uuid import UUID

import mnemo

from ..errors import APIError, InvalidInput, NotFound, Translator
from ..schemas import ConversationCreate, DocumentCreate, MessageCreate, SearchRequest
from ..settings import Settings

logger = logging.getLogger(__name__)


def translate(error: Exception) -> APIError:
    """A mnemo.MnemoError as the app's error: its code, except that a refused key is the app's
    misconfiguration (500), not the end user's fault."""
    assert isinstance(error, mnemo.MnemoError)
    if isinstance(error, (mnemo.AuthenticationError, mnemo.AuthorizationError)):
        logger.error("mnemod refused the app's credentials: %s", error)
        return APIError("INTERNAL_ERROR", "the storage server refused the app's credentials")
    if isinstance(error, mnemo.ValidationError):
        return InvalidInput(error.field or "body", error.message)
    return APIError(error.code, error.message, error.field)


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _fields(record: Any) -> Any:
    """A mnemo record's fields as a dict that shares their values (a record that is not a
    dataclass is returned as it is: FastAPI reads its attributes)."""
    names = _FIELD_NAMES.get(type(record))
    if names is None:
        names = _FIELD_NAMES[type(record)] = (
            tuple(f.name for f in dataclasses.fields(record))
            if dataclasses.is_dataclass(record) else ())
    return {name: getattr(record, name) for name in names} if names else record


def _all_fields(records: Sequence[Any]) -> list[Any]:
    return [_fields(record) for record in records]


class MnemoStore:
    """Store on mnemod.  Owns its client; used by the tasks of one event loop (a uvicorn
    worker), not thread-safe."""

    name = "mnemo"
    translators: Mapping[type[Exception], Translator] = {mnemo.MnemoError: translate}

    def __init__(self, client: mnemo.AsyncClient) -> None:
        self._client = client
        info = client.server_info
        self.embedding_dimension = info.dimension if info else 0

    @classmethod
    async def open(cls, settings: Settings) -> "MnemoStore":
        """Connects the client's pool (raises mnemo.UnavailableError when mnemod is down)."""
        client = mnemo.AsyncClient(settings.mnemo_host, settings.mnemo_port,
                                   api_key=settings.mnemo_api_key,
                                   pool_size=settings.mnemo_pool_size,
                                   client_name="chat-backend")
        await client.connect()
        return cls(client)

    async def close(self) -> None:
        await self._client.close()

    async def ping(self) -> None:
        await self._client.get_stats()

    # ---- conversations ----------------------------------------------------------------------

    async def create_conversation(self, user_id: str, data: ConversationCreate) -> Any:
        return _fields(await self._client.create_conversation(
            user_id, data.title, summary=data.summary, model=data.model,
            system_prompt=data.system_prompt, metadata=data.metadata))

    async def list_conversations(self, user_id: str, skip: int, limit: int,
                                 include_deleted: bool) -> tuple[Sequence[Any], int]:
        page = await self._client.list_conversations(user_id, skip=skip, limit=limit,
                                                     include_deleted=include_deleted)
        return _all_fields(page.items), page.total

    async def search_conversations(self, user_id: str, term: str, skip: int,
                                   limit: int) -> Sequence[Any]:
        return _all_fields(await self._client.search_by_title(user_id, term, skip, limit))

    async def conversation_stats(self, user_id: str) -> Any:
        return _fields(await self._client.get_user_stats(user_id))

    async def get_conversation(self, user_id: str, conversation_id: UUID,
                               include_deleted: bool) -> Any:
        return _fields(await self._client.get_conversation(user_id, conversation_id,
                                                           include_deleted=include_deleted))

    async def update_conversation(self, user_id: str, conversation_id: UUID,
                                  changes: Mapping[str, Any]) -> Any:
        if not changes:
            return await self.get_conversation(user_id, conversation_id, False)
        return _fields(await self._client.update_conversation(user_id, conversation_id,
                                                              **changes))

    async def delete_conversation(self, user_id: str, conversation_id: UUID, hard: bool) -> None:
        if hard:
            await self._client.delete_conversation(user_id, conversation_id)
        elif not await self._client.soft_delete(user_id, conversation_id):
            raise NotFound("conversation", conversation_id)

    async def restore_conversation(self, user_id: str, conversation_id: UUID) -> Any:
        # Two requests: undelete answers a bool, the route answers the row.
        if not await self._client.undelete(user_id, conversation_id):
            raise NotFound("conversation", conversation_id)
        return _fields(await self._client.get_conversation(user_id, conversation_id))

    # ---- messages -----------------------------------------------------------------------------

    async def append_message(self, user_id: str, conversation_id: UUID,
                             data: MessageCreate) -> Any:
        return _fields(await self._client.create_message(
            user_id, conversation_id, data.role, data.content, tool_calls=data.tool_calls,
            tool_results=data.tool_results, tokens_used=data.tokens_used, metadata=data.metadata))

    async def list_messages(self, user_id: str, conversation_id: UUID, skip: int, limit: int,
                            role: Optional[str], newest_first: bool) -> Sequence[Any]:
        page = await self._client.list_messages(user_id, conversation_id,
                                                descending=newest_first, skip=skip, limit=limit,
                                                role=role)
        return _all_fields(page.items)

    async def token_stats(self, user_id: str, conversation_id: UUID) -> Any:
        stats = await self._client.get_token_usage_stats(user_id, conversation_id)
        # The seeds' per-role figures are properties of mnemo.TokenStats, not fields.
        return {"total_tokens": stats.total_tokens, "user_tokens": stats.user_tokens,
                "assistant_tokens": stats.assistant_tokens,
                "average_tokens_per_message": stats.average_tokens_per_message,
                "message_count": stats.message_count,
                "user_message_count": stats.user_message_count,
                "assistant_message_count": stats.assistant_message_count}

    # ---- documents ----------------------------------------------------------------------------

    async def create_document(self, user_id: str,
                              data: DocumentCreate) -> tuple[Any, list[tuple[UUID, int]]]:
        # Two requests: the atomic batch answers ids, the route answers the document row.
        chunks: list[tuple[UUID, int]] = []
        async with self._client.batch(user_id) as batch:
            document_id = batch.create_document(data.filename, data.file_type, data.content,
                                                metadata=data.metadata)
            for position, chunk in enumerate(data.chunks):
                index = position if chunk.chunk_index is None else chunk.chunk_index
                chunk_id = batch.add_chunk(document_id, index, chunk.chunk_text, chunk.embedding,
                                           metadata=chunk.metadata)
                chunks.append((chunk_id, index))
        document = await self._client.get_document(user_id, document_id)
        return _fields(document), chunks

    async def list_documents(self, user_id: str, skip: int,
                             limit: int) -> tuple[Sequence[Any], int]:
        page = await self._client.list_documents(user_id, skip=skip, limit=limit)
        return _all_fields(page.items), page.total

    async def get_document(self, user_id: str, document_id: UUID) -> Any:
        return _fields(await self._client.get_document(user_id, document_id))

    async def delete_document(self, user_id: str, document_id: UUID, hard: bool) -> None:
        if hard:
            await self._client.delete_document(user_id, document_id)
        elif not await self._client.soft_delete_document(user_id, document_id):
            raise NotFound("document", document_id)

    async def search(self, user_id: str, request: SearchRequest) -> Sequence[Any]:
        filters = None
        if request.document_ids or request.file_types:
            filters = mnemo.SearchFilters(document_ids=request.document_ids,
                                          file_types=request.file_types)
        return _all_fields(await self._client.search_similar(
            user_id, request.embedding, request.top_k, request.threshold, filters=filters))
