"""AsyncClient: the asyncio client of mnemod, for async frameworks such as FastAPI.

The same methods as mnemo.Client (the seeds' repository methods, ``user_id`` first, dataclasses
out, typed exceptions), as coroutines.  Many tasks may share one AsyncClient: requests are
spread over a pool of ``pool_size`` connections and pipelined on each (at most the server's
max_in_flight per connection at once; more wait in the client).  Broken connections are
re-established by the next call; a read whose connection broke is retried once; a write is never
retried.

Lifetime::

    async with AsyncClient(port=7420) as client:      # connects the pool; closes it on exit
        hits = await client.search_similar("user-1", embedding, limit=5, threshold=0.7)

An AsyncClient that is not used as a context manager connects on its first call (or on
``await client.connect()``, e.g. in a FastAPI lifespan); ``await client.close()`` when done.
Thread-safety: none.  REQUIRES: one event loop — the client's connections belong to the loop
that opened them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Iterable, Mapping, Optional, Sequence, TypeVar, Union
from uuid import UUID

from . import _ops
from ._ops import Op
from ._pool import Pool
from .batch import AsyncBatchBlock, Batch
from .inputs import (ConversationFilter, DocumentFilter, IdLike, MessageFilter, NewChunk,
                     NewConversation, NewDocument, NewMessage, SearchFilters, Vector)
from .models import (AttachResult, Chunk, Conversation, Document, DocumentCounts, Message, Page,
                     PartitionInfo, RankedSearchResult, RetentionReport, SearchHit, SearchResult,
                     ServerInfo, ServerStats, TokenStats, UserStats)
from .options import DEFAULT_PORT, ClientOptions

__all__ = ["AsyncClient"]

T = TypeVar("T")


class AsyncClient:
    """The asyncio mnemod client; see the module comment."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        *,
        api_key: Optional[str] = None,
        pool_size: int = 2,
        request_timeout: float = 30.0,
        connect_timeout: float = 5.0,
        max_frame_bytes: int = 64 << 20,
        client_name: str = "mnemo-python",
        options: Optional[ClientOptions] = None,
    ) -> None:
        """Prepares the client (nothing is connected yet); ``options`` overrides the others."""
        self._options = options or ClientOptions(
            host=host, port=port, api_key=api_key, client_name=client_name, pool_size=pool_size,
            request_timeout=request_timeout, connect_timeout=connect_timeout,
            max_frame_bytes=max_frame_bytes)
        self._pool = Pool(self._options)

    # ---- lifetime ---------------------------------------------------------------------------

    async def connect(self) -> "AsyncClient":
        """Establishes every connection of the pool (handshake included) and returns self.

        Raises UnavailableError (cannot connect), AuthenticationError (key refused) or
        ValidationError (protocol version mismatch).
        """
        await self._pool.open()
        return self

    async def close(self) -> None:
        """Closes every connection; calls still waiting fail with UnavailableError."""
        await self._pool.close()

    async def __aenter__(self) -> "AsyncClient":
        return await self.connect()

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.close()

    @property
    def options(self) -> ClientOptions:
        return self._options

    @property
    def server_info(self) -> Optional[ServerInfo]:
        """What the server announced in its handshake; None before the first connection."""
        return self._pool.info

    def batch(self, user_id: str) -> AsyncBatchBlock:
        """A transaction block: ``async with client.batch(user_id) as b: ...`` (mnemo.batch)."""
        return AsyncBatchBlock(lambda batch: self.apply_batch(user_id, batch))

    async def _execute(self, op: Op[T]) -> T:
        request_id = self._pool.next_id()
        frame = op.encode(request_id)
        return op.decode(await self._pool.call(request_id, frame, op.retry))

    # ---- conversations ---------------------------------------------------------------------------

    async def create_conversation(
        self,
        user_id: str,
        title: str,
        *,
        id: Optional[IdLike] = None,
        summary: Optional[str] = None,
        model: Optional[str] = None,
        system_prompt: str = "",
        metadata: Optional[Mapping[str, Any]] = None,
    ) -> Conversation:
        """Creates a conversation.  With a client ``id`` the create is idempotent: creating it again
        returns the existing row (DuplicateRecordError if another user owns that id).
        """
        item = NewConversation(title, id=id, summary=summary, model=model,
                               system_prompt=system_prompt, metadata=metadata)
        return await self._execute(_ops.create_conversation(user_id, item))

    async def get_conversation(
        self,
        user_id: str,
        conversation_id: IdLike,
        *,
        include_deleted: bool = False,
    ) -> Conversation:
        """The conversation; RecordNotFoundError when missing, another user's, or soft-deleted
        (unless ``include_deleted``).
        """
        return await self._execute(_ops.get_conversation(user_id, conversation_id, include_deleted))

    async def get_user_conversation(
        self,
        user_id: str,
        conversation_id: IdLike,
        include_deleted: bool = False,
    ) -> Optional[Conversation]:
        """Like get_conversation, but None instead of RecordNotFoundError (the seeds' repository
        method).
        """
        return await self._execute(_ops.get_user_conversation(
            user_id,
            conversation_id,
            include_deleted,
        ))

    async def list_conversations(
        self,
        user_id: str,
        *,
        skip: int = 0,
        limit: int = 20,
        cursor: Optional[str] = None,
        include_deleted: bool = False,
        order_by: str = "created_at",
        filter: Optional[ConversationFilter] = None,
    ) -> Page[Conversation]:
        """A page of the user's conversations, newest first by ``order_by`` ("created_at" or
        "updated_at"); ``limit`` <= 100.  ``total`` counts all matches; pass ``next_cursor`` back as
        ``cursor`` for stable paging.  ``filter`` keeps only the matching conversations.
        """
        return await self._execute(_ops.list_conversations(
            user_id,
            skip=skip,
            limit=limit,
            cursor=cursor,
            include_deleted=include_deleted,
            order_by=order_by,
            filter=filter,
        ))

    async def count_conversations(
        self,
        user_id: str,
        *,
        include_deleted: bool = False,
        filter: Optional[ConversationFilter] = None,
    ) -> int:
        """How many of the user's conversations match ``filter`` (all of them without one)."""
        return await self._execute(_ops.count_conversations(
            user_id,
            include_deleted=include_deleted,
            filter=filter,
        ))

    async def conversations_exist(
        self,
        user_id: str,
        *,
        include_deleted: bool = False,
        filter: Optional[ConversationFilter] = None,
    ) -> bool:
        """Whether any conversation of the user matches ``filter`` (the server stops at the first).
        """
        return await self._execute(_ops.count_conversations(
            user_id,
            include_deleted=include_deleted,
            filter=filter,
            exists_only=True,
        ))

    async def get_user_conversations(
        self,
        user_id: str,
        skip: int = 0,
        limit: int = 10,
        include_deleted: bool = False,
    ) -> list[Conversation]:
        """The user's conversations, newest first (by created_at)."""
        return await self._execute(_ops.get_user_conversations(
            user_id,
            skip,
            limit,
            include_deleted,
        ))

    async def search_by_title(
        self,
        user_id: str,
        search_term: str,
        skip: int = 0,
        limit: int = 10,
    ) -> list[Conversation]:
        """The user's live conversations whose title contains ``search_term``, case-insensitively,
        newest first.
        """
        return await self._execute(_ops.search_by_title(user_id, search_term, skip, limit))

    async def count_user_conversations(self, user_id: str, include_deleted: bool = False) -> int:
        """How many conversations the user has (live ones, or all with ``include_deleted``)."""
        return await self._execute(_ops.count_user_conversations(user_id, include_deleted))

    async def get_user_stats(self, user_id: str) -> UserStats:
        """Total, active and deleted conversation counts and the last activity."""
        return await self._execute(_ops.get_user_stats(user_id))

    async def update_conversation(
        self,
        user_id: str,
        conversation_id: IdLike,
        *,
        title: Optional[str] = None,
        summary: Optional[str] = None,
        model: Optional[str] = None,
        system_prompt: Optional[str] = None,
        metadata: Optional[Mapping[str, Any]] = None,
    ) -> Conversation:
        """Changes the given fields (None = unchanged); returns the row after the change."""
        return await self._execute(_ops.update_conversation(
            user_id,
            conversation_id,
            title=title,
            summary=summary,
            model=model,
            system_prompt=system_prompt,
            metadata=metadata,
        ))

    async def update_title_and_summary(
        self,
        user_id: str,
        conversation_id: IdLike,
        title: Optional[str] = None,
        summary: Optional[str] = None,
    ) -> Optional[Conversation]:
        """Updates title and/or summary; None when the conversation does not exist (seed semantics).
        """
        return await self._execute(_ops.update_title_and_summary(
            user_id,
            conversation_id,
            title,
            summary,
        ))

    async def soft_delete(self, user_id: str, conversation_id: IdLike) -> bool:
        """Soft-deletes a conversation (hidden from gets and lists until undeleted).  False when it
        does not exist.
        """
        return await self._execute(_ops.soft_delete(user_id, conversation_id))

    async def undelete(self, user_id: str, conversation_id: IdLike) -> bool:
        """Restores a soft-deleted conversation.  False when it does not exist."""
        return await self._execute(_ops.undelete(user_id, conversation_id))

    async def delete_conversation(self, user_id: str, conversation_id: IdLike) -> None:
        """Removes the conversation and all its messages for good (RecordNotFoundError when
        missing).
        """
        return await self._execute(_ops.delete_conversation(user_id, conversation_id))

    # ---- messages --------------------------------------------------------------------------------

    async def create_message(
        self,
        user_id: str,
        conversation_id: IdLike,
        role: str,
        content: str = "",
        *,
        id: Optional[IdLike] = None,
        parts: Any = None,
        tool_calls: Any = None,
        tool_results: Any = None,
        attachments: Any = None,
        tokens_used: Optional[int] = None,
        metadata: Optional[Mapping[str, Any]] = None,
    ) -> Message:
        """Appends a message to a live conversation of the user; its counters and updated_at move in
        the same write.  ``role`` is user, assistant, system or tool; JSON fields take Python
        values.
        """
        item = NewMessage(conversation_id, role, content, id=id, parts=parts, tool_calls=tool_calls,
                          tool_results=tool_results, attachments=attachments,
                          tokens_used=tokens_used, metadata=metadata)
        return await self._execute(_ops.create_message(user_id, item))

    async def get_message(self, user_id: str, message_id: IdLike) -> Message:
        """One message; RecordNotFoundError when missing or another user's."""
        return await self._execute(_ops.get_message(user_id, message_id))

    async def list_messages(
        self,
        user_id: str,
        conversation_id: IdLike,
        *,
        descending: bool = False,
        skip: int = 0,
        limit: int = 50,
        cursor: Optional[str] = None,
        role: Optional[str] = None,
        only_with_tool_calls: bool = False,
        filter: Optional[MessageFilter] = None,
    ) -> Page[Message]:
        """A page of a conversation's messages, oldest first (or newest first with ``descending``),
        optionally of one role or only those with tool calls; ``limit`` <= 200.  ``filter`` adds
        conditions (its role and only_with_tool_calls win when set).
        """
        return await self._execute(_ops.list_messages(
            user_id,
            conversation_id,
            descending=descending,
            skip=skip,
            limit=limit,
            cursor=cursor,
            role=role,
            only_with_tool_calls=only_with_tool_calls,
            filter=filter,
        ))

    async def count_messages(
        self,
        user_id: str,
        conversation_id: IdLike,
        *,
        filter: Optional[MessageFilter] = None,
    ) -> int:
        """How many of the conversation's messages match ``filter`` (all of them without one)."""
        return await self._execute(_ops.count_messages(user_id, conversation_id, filter=filter))

    async def messages_exist(
        self,
        user_id: str,
        conversation_id: IdLike,
        *,
        filter: Optional[MessageFilter] = None,
    ) -> bool:
        """Whether any message of the conversation matches ``filter``."""
        return await self._execute(_ops.count_messages(
            user_id,
            conversation_id,
            filter=filter,
            exists_only=True,
        ))

    async def update_message(
        self,
        user_id: str,
        message_id: IdLike,
        *,
        role: Optional[str] = None,
        content: Optional[str] = None,
        parts: Any = None,
        tool_calls: Any = None,
        tool_results: Any = None,
        attachments: Any = None,
        tokens_used: Any = None,
        metadata: Optional[Mapping[str, Any]] = None,
    ) -> Message:
        """Changes the given fields of a message (None = unchanged; mnemo.CLEAR sets parts,
        tool_calls, tool_results, attachments or tokens_used to null); the conversation's
        total_tokens follows.  Returns the message after the change.
        """
        return await self._execute(_ops.update_message(
            user_id,
            message_id,
            role=role,
            content=content,
            parts=parts,
            tool_calls=tool_calls,
            tool_results=tool_results,
            attachments=attachments,
            tokens_used=tokens_used,
            metadata=metadata,
        ))

    async def delete_message(self, user_id: str, message_id: IdLike) -> Message:
        """Deletes one message for good; the conversation's counters follow.  Returns the deleted
        message (RecordNotFoundError when missing).
        """
        return await self._execute(_ops.delete_message(user_id, message_id))

    async def get_conversation_messages(
        self,
        user_id: str,
        conversation_id: IdLike,
        skip: int = 0,
        limit: int = 50,
    ) -> list[Message]:
        """A conversation's messages in chronological order."""
        return await self._execute(_ops.get_conversation_messages(
            user_id,
            conversation_id,
            skip,
            limit,
        ))

    async def get_conversation_messages_desc(
        self,
        user_id: str,
        conversation_id: IdLike,
        skip: int = 0,
        limit: int = 50,
    ) -> list[Message]:
        """The newest ``limit`` messages (after skipping the newest ``skip``), returned in
        chronological order as the seeds do.
        """
        return await self._execute(_ops.get_conversation_messages_desc(
            user_id,
            conversation_id,
            skip,
            limit,
        ))

    async def get_conversation_message_count(self, user_id: str, conversation_id: IdLike) -> int:
        """How many messages the conversation has."""
        return await self._execute(_ops.get_conversation_message_count(user_id, conversation_id))

    async def get_messages_by_role(
        self,
        user_id: str,
        conversation_id: IdLike,
        role: str,
        skip: int = 0,
        limit: int = 50,
    ) -> list[Message]:
        """The conversation's messages of one role, oldest first."""
        return await self._execute(_ops.get_messages_by_role(
            user_id,
            conversation_id,
            role,
            skip,
            limit,
        ))

    async def get_last_messages(
        self,
        user_id: str,
        conversation_id: IdLike,
        count: int = 50,
    ) -> list[Message]:
        """The last ``count`` messages in chronological order (e.g. an LLM's context window)."""
        return await self._execute(_ops.get_last_messages(user_id, conversation_id, count))

    async def get_last_user_message(
        self,
        user_id: str,
        conversation_id: IdLike,
    ) -> Optional[Message]:
        """The newest user message, or None."""
        return await self._execute(_ops.get_last_message_by_role(user_id, conversation_id, "user"))

    async def get_last_assistant_message(
        self,
        user_id: str,
        conversation_id: IdLike,
    ) -> Optional[Message]:
        """The newest assistant message, or None."""
        return await self._execute(_ops.get_last_message_by_role(
            user_id,
            conversation_id,
            "assistant",
        ))

    async def get_messages_with_tool_calls(
        self,
        user_id: str,
        conversation_id: IdLike,
        skip: int = 0,
        limit: int = 200,
    ) -> list[Message]:
        """The conversation's messages that carry tool calls, newest first."""
        return await self._execute(_ops.get_messages_with_tool_calls(
            user_id,
            conversation_id,
            skip,
            limit,
        ))

    async def update_tool_results(
        self,
        user_id: str,
        message_id: IdLike,
        tool_results: Any,
    ) -> Optional[Message]:
        """Replaces a message's tool_results (any JSON value); the updated message, or None when it
        does not exist.
        """
        return await self._execute(_ops.update_tool_results(user_id, message_id, tool_results))

    async def get_token_usage_stats(self, user_id: str, conversation_id: IdLike) -> TokenStats:
        """Token usage of the conversation: totals, per role, averages and counts."""
        return await self._execute(_ops.get_token_usage_stats(user_id, conversation_id))

    async def delete_conversation_messages(self, user_id: str, conversation_id: IdLike) -> int:
        """Deletes every message of the conversation; returns how many were deleted."""
        return await self._execute(_ops.delete_conversation_messages(user_id, conversation_id))

    # ---- documents -------------------------------------------------------------------------------

    async def create_document(
        self,
        user_id: str,
        filename: str,
        file_type: str,
        content: str = "",
        *,
        id: Optional[IdLike] = None,
        metadata: Optional[Mapping[str, Any]] = None,
    ) -> Document:
        """Creates a document (``file_type``: pdf, txt, docx, md or html); add its chunks with
        add_chunks.
        """
        item = NewDocument(filename, file_type, content, id=id, metadata=metadata)
        return await self._execute(_ops.create_document(user_id, item))

    async def get_document(
        self,
        user_id: str,
        document_id: IdLike,
        *,
        include_deleted: bool = False,
    ) -> Document:
        """The document; RecordNotFoundError when missing, another user's, or soft-deleted."""
        return await self._execute(_ops.get_document(user_id, document_id, include_deleted))

    async def list_documents(
        self,
        user_id: str,
        *,
        skip: int = 0,
        limit: int = 20,
        cursor: Optional[str] = None,
        include_deleted: bool = False,
        filter: Optional[DocumentFilter] = None,
    ) -> Page[Document]:
        """A page of the user's documents, newest first; ``limit`` <= 100.  ``filter`` keeps only
        the matching documents.
        """
        return await self._execute(_ops.list_documents(
            user_id,
            skip=skip,
            limit=limit,
            cursor=cursor,
            include_deleted=include_deleted,
            filter=filter,
        ))

    async def count_matching_documents(
        self,
        user_id: str,
        *,
        include_deleted: bool = False,
        filter: Optional[DocumentFilter] = None,
    ) -> int:
        """How many of the user's documents match ``filter`` (all of them without one)."""
        return await self._execute(_ops.count_matching_documents(
            user_id,
            include_deleted=include_deleted,
            filter=filter,
        ))

    async def documents_exist(
        self,
        user_id: str,
        *,
        include_deleted: bool = False,
        filter: Optional[DocumentFilter] = None,
    ) -> bool:
        """Whether any document of the user matches ``filter``."""
        return await self._execute(_ops.count_matching_documents(
            user_id,
            include_deleted=include_deleted,
            filter=filter,
            exists_only=True,
        ))

    async def update_document(
        self,
        user_id: str,
        document_id: IdLike,
        *,
        filename: Optional[str] = None,
        file_type: Optional[str] = None,
        content: Optional[str] = None,
        metadata: Optional[Mapping[str, Any]] = None,
    ) -> Document:
        """Changes the given fields of a live document (None = unchanged); search shows a new
        filename or file type at once.  Returns the document after the change.
        """
        return await self._execute(_ops.update_document(
            user_id,
            document_id,
            filename=filename,
            file_type=file_type,
            content=content,
            metadata=metadata,
        ))

    async def get_user_documents(
        self,
        user_id: str,
        skip: int = 0,
        limit: int = 20,
        include_deleted: bool = False,
    ) -> list[Document]:
        """The user's documents, newest first."""
        return await self._execute(_ops.get_user_documents(user_id, skip, limit, include_deleted))

    async def search_documents_by_filename(
        self,
        user_id: str,
        search_term: str,
        skip: int = 0,
        limit: int = 100,
    ) -> list[Document]:
        """The user's live documents whose filename contains ``search_term``, case-insensitively."""
        return await self._execute(_ops.search_documents_by_filename(
            user_id,
            search_term,
            skip,
            limit,
        ))

    async def get_user_document_count(self, user_id: str) -> int:
        """How many live documents the user has."""
        return await self._execute(_ops.get_user_document_count(user_id))

    async def count_documents(self, user_id: str) -> DocumentCounts:
        """The user's document counts: total, active, deleted."""
        return await self._execute(_ops.count_documents(user_id))

    async def soft_delete_document(self, user_id: str, document_id: IdLike) -> bool:
        """Soft-deletes a document: it and its chunks disappear from gets, lists and searches at
        once.  False when it does not exist.
        """
        return await self._execute(_ops.soft_delete_document(user_id, document_id))

    async def restore_document(self, user_id: str, document_id: IdLike) -> Document:
        """Undoes a soft delete; returns the restored document."""
        return await self._execute(_ops.restore_document(user_id, document_id))

    async def delete_document(self, user_id: str, document_id: IdLike) -> None:
        """Removes the document, its chunks and their vectors for good."""
        return await self._execute(_ops.delete_document(user_id, document_id))

    # ---- chunks and vector search ----------------------------------------------------------------

    async def add_chunks(self, user_id: str, chunks: Sequence[NewChunk]) -> list[Chunk]:
        """Adds chunks with embeddings to the user's live documents, all or none (at most 10000).
        They are searchable when this returns.
        """
        return await self._execute(_ops.add_chunks(user_id, chunks))

    async def replace_chunks(
        self,
        user_id: str,
        document_id: IdLike,
        chunks: Sequence[NewChunk],
    ) -> list[Chunk]:
        """Replaces every chunk of a live document (soft-deleted ones too) by ``chunks``,
        atomically; an empty list removes them all.  Returns the new chunks.
        """
        return await self._execute(_ops.replace_chunks(user_id, document_id, chunks))

    async def get_chunk(
        self,
        user_id: str,
        chunk_id: IdLike,
        *,
        include_deleted: bool = False,
    ) -> Chunk:
        """One chunk (without its vector); a soft-deleted one only with ``include_deleted``."""
        return await self._execute(_ops.get_chunk(user_id, chunk_id, include_deleted))

    async def list_chunks(
        self,
        user_id: str,
        document_id: IdLike,
        *,
        skip: int = 0,
        limit: int = 100,
        cursor: Optional[str] = None,
        include_deleted: bool = False,
    ) -> Page[Chunk]:
        """A page of a live document's chunks in chunk_index order; ``limit`` <= 1000."""
        return await self._execute(_ops.list_chunks(
            user_id,
            document_id,
            skip=skip,
            limit=limit,
            cursor=cursor,
            include_deleted=include_deleted,
        ))

    async def soft_delete_chunk(self, user_id: str, chunk_id: IdLike) -> Chunk:
        """Hides a chunk from search at once; it keeps its chunk_index until restored or deleted
        for good.  Returns the chunk as deleted.
        """
        return await self._execute(_ops.delete_chunk(user_id, chunk_id, False))

    async def restore_chunk(self, user_id: str, chunk_id: IdLike) -> Chunk:
        """Makes a soft-deleted chunk searchable again; returns the restored chunk."""
        return await self._execute(_ops.restore_chunk(user_id, chunk_id))

    async def delete_chunk(self, user_id: str, chunk_id: IdLike) -> Chunk:
        """Removes a chunk (live or soft-deleted) and its vector for good; returns it."""
        return await self._execute(_ops.delete_chunk(user_id, chunk_id, True))

    async def search(
        self,
        user_id: str,
        query: Vector,
        top_k: int = 10,
        *,
        min_similarity: Optional[float] = None,
        filters: Optional[SearchFilters] = None,
        ef: Optional[int] = None,
    ) -> SearchResult:
        """Cosine top-k over the user's chunks of live documents, best first, with how the answer
        was produced.  ``min_similarity`` drops weaker hits; ``ef`` sets the graph beam width
        (default adaptive).
        """
        return await self._execute(_ops.search(
            user_id,
            query,
            top_k,
            min_similarity=min_similarity,
            filters=filters,
            ef=ef,
        ))

    async def search_similar(
        self,
        user_id: str,
        query_embedding: Vector,
        limit: int = 5,
        threshold: Optional[float] = None,
        *,
        filters: Optional[SearchFilters] = None,
    ) -> list[SearchHit]:
        """The seeds' search: the ``limit`` most similar chunks with similarity >= ``threshold``."""
        return await self._execute(_ops.search_similar(
            user_id,
            query_embedding,
            limit,
            threshold,
            filters=filters,
        ))

    async def search_text(
        self,
        user_id: str,
        query: str,
        top_k: int = 10,
        filters: Optional[SearchFilters] = None,
    ) -> RankedSearchResult:
        """BM25 keyword search over the user's chunks of live documents, with the same filters
        as search().  Chinese, Japanese and European text are segmented, case-folded and (English)
        stemmed alike in chunks and queries.  A query of stop words only, or of terms no chunk
        holds, is an empty answer whose ``text`` says why; a blank one raises ValidationError.
        """
        return await self._execute(_ops.search_text(user_id, query, top_k, filters))

    async def search_hybrid(
        self,
        user_id: str,
        query_text: str,
        query_embedding: Vector,
        top_k: int = 10,
        filters: Optional[SearchFilters] = None,
        fusion: str = "rrf",
        *,
        text_weight: Optional[float] = None,
        rrf_k: Optional[float] = None,
        candidates: Optional[int] = None,
        min_similarity: Optional[float] = None,
        ef: Optional[int] = None,
    ) -> RankedSearchResult:
        """Keyword and vector search fused into one ranking in one round trip.  ``fusion``:
        "rrf" (reciprocal rank fusion, constant ``rrf_k``, default 60) or "weighted" (each leg
        min-max normalised, ``text_weight`` in [0, 1], default 0.5).  Each leg hands
        ``candidates`` rows (default max(top_k, 50)) to fusion; ``min_similarity`` and ``ef``
        apply to the vector leg.
        """
        return await self._execute(_ops.search_hybrid(
            user_id,
            query_text,
            query_embedding,
            top_k,
            filters,
            fusion,
            text_weight=text_weight,
            rrf_k=rrf_k,
            candidates=candidates,
            min_similarity=min_similarity,
            ef=ef,
        ))

    async def search_batch(
        self,
        user_id: str,
        queries: Iterable[Vector],
        top_k: int = 10,
        *,
        min_similarity: Optional[float] = None,
        filters: Optional[SearchFilters] = None,
        ef: Optional[int] = None,
    ) -> list[SearchResult]:
        """Several searches in one round trip (at most 1000); answers in query order."""
        return await self._execute(_ops.search_batch(
            user_id,
            queries,
            top_k,
            min_similarity=min_similarity,
            filters=filters,
            ef=ef,
        ))

    async def search_similar_batch(
        self,
        user_id: str,
        query_embeddings: Iterable[Vector],
        limit: int = 5,
        threshold: Optional[float] = None,
        *,
        filters: Optional[SearchFilters] = None,
    ) -> list[list[SearchHit]]:
        """search_similar for many query vectors in one round trip; one hit list per query, in
        order.
        """
        return await self._execute(_ops.search_similar_batch(
            user_id,
            query_embeddings,
            limit,
            threshold,
            filters=filters,
        ))

    # ---- atomic batches --------------------------------------------------------------------------

    async def apply_batch(self, user_id: str, batch: Batch) -> list[UUID]:
        """Applies every op of ``batch`` or none; returns the ids of the rows written, in op order.
        """
        return await self._execute(_ops.apply_batch(user_id, batch.ops))

    async def bulk_upsert(
        self,
        user_id: str,
        records: Iterable[Union[NewConversation, NewMessage, NewDocument, NewChunk]],
    ) -> int:
        """Writes many records atomically in one request: conversations and messages are upserted by
        id (an id is required), documents and chunks created idempotently.  Returns how many records
        were written.
        """
        return await self._execute(_ops.bulk_upsert(user_id, records))

    # ---- administration (service key) ------------------------------------------------------------

    async def get_stats(self) -> ServerStats:
        """Server statistics: uptime, connections, partitions, per-operation counts and latencies.
        """
        return await self._execute(_ops.get_stats())

    async def list_partitions(self) -> list[PartitionInfo]:
        """The month partitions of the vector store."""
        return await self._execute(_ops.list_partitions())

    async def rebuild_partition(self, month: str) -> None:
        """Rebuilds the graph of one month ("YYYY-MM") online."""
        return await self._execute(_ops.rebuild_partition(month))

    async def archive_partition(self, month: str, path: str) -> int:
        """Exports a month's chunks to ``path`` on the server's machine; returns the row count."""
        return await self._execute(_ops.archive_partition(month, path))

    async def drop_partition(self, month: str) -> int:
        """Deletes a month's chunks; returns the row count."""
        return await self._execute(_ops.drop_partition(month))

    async def attach_archive(self, path: str) -> AttachResult:
        """Re-attaches an archive written by archive_partition."""
        return await self._execute(_ops.attach_archive(path))

    async def create_backup(self, path: str) -> None:
        """Writes an online backup to ``path`` (which must not exist) on the server's machine."""
        return await self._execute(_ops.create_backup(path))

    async def apply_retention(
        self,
        *,
        keep_months: Optional[int] = None,
        archive_dir: Optional[str] = None,
        purge_after: Optional[timedelta] = None,
    ) -> RetentionReport:
        """Runs retention once.  Without arguments: the server's configured policy (mnemod's
        --retention-* flags).  Otherwise this policy, with the parts left None off: keep the newest
        ``keep_months`` calendar months of chunks (older months are archived into
        ``archive_dir`` on the server's machine when given, then dropped), and purge the rows
        soft-deleted more than ``purge_after`` ago.
        """
        return await self._execute(_ops.apply_retention(keep_months, archive_dir, purge_after))
