"""Operations: every method of mnemo.Client and mnemo.AsyncClient, written once.

Each method validates its arguments into an Op (mnemo._ops: how to encode the request, decode the
response, and whether it may be resent) and returns it; Client and AsyncClient are generated from
this class (``surface``), adding only how an Op runs: blocking, or as a coroutine.  So both have
the same methods, signatures and docstrings, and the annotations name what the clients return.
"""

from __future__ import annotations

import functools
from datetime import timedelta
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence, TypeVar, Union
from uuid import UUID

from . import _ops
from .batch import Batch
from .inputs import (ConversationFilter, DocumentFilter, IdLike, MessageFilter,
                     MessageSearchFilters, NewChunk, NewConversation, NewDocument, NewMessage,
                     SearchFilters, Vector)
from .models import (AttachResult, Chunk, ContextResult, Conversation, Document, DocumentCounts,
                     Message, MessageSearchResult, Page, PartitionInfo, RankedSearchResult,
                     RetentionReport, SearchHit, SearchResult, ServerStats, TokenStats, UserStats)

__all__ = ["surface"]

C = TypeVar("C", bound=type)


def surface(run: Callable[[Callable[..., Any]], Callable[..., Any]]) -> Callable[[C], C]:
    """A class decorator: gives the class every public method of Operations, each made by
    ``run(method)`` (a wrapper with the method's signature and docstring that executes the Op the
    method returns)."""

    def install(cls: C) -> C:
        for name, method in vars(Operations).items():
            if not name.startswith("_") and callable(method):
                setattr(cls, name, functools.wraps(method)(run(method)))
        return cls

    return install


class Operations:
    """The operations (see the module comment); never instantiated."""

    # ---- conversations ---------------------------------------------------------------------------

    def create_conversation(
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
        return _ops.create_conversation(user_id, item)

    def get_conversation(
        self,
        user_id: str,
        conversation_id: IdLike,
        *,
        include_deleted: bool = False,
    ) -> Conversation:
        """The conversation; RecordNotFoundError when missing, another user's, or soft-deleted
        (unless ``include_deleted``).
        """
        return _ops.get_conversation(user_id, conversation_id, include_deleted)

    def get_user_conversation(
        self,
        user_id: str,
        conversation_id: IdLike,
        include_deleted: bool = False,
    ) -> Optional[Conversation]:
        """Like get_conversation, but None instead of RecordNotFoundError (the seeds' repository
        method).
        """
        return _ops.get_user_conversation(user_id, conversation_id, include_deleted)

    def list_conversations(
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
        return _ops.list_conversations(
            user_id,
            skip=skip,
            limit=limit,
            cursor=cursor,
            include_deleted=include_deleted,
            order_by=order_by,
            filter=filter,
        )

    def count_conversations(
        self,
        user_id: str,
        *,
        include_deleted: bool = False,
        filter: Optional[ConversationFilter] = None,
    ) -> int:
        """How many of the user's conversations match ``filter`` (all of them without one)."""
        return _ops.count_conversations(user_id, include_deleted=include_deleted, filter=filter)

    def conversations_exist(
        self,
        user_id: str,
        *,
        include_deleted: bool = False,
        filter: Optional[ConversationFilter] = None,
    ) -> bool:
        """Whether any conversation of the user matches ``filter`` (the server stops at the first).
        """
        return _ops.count_conversations(user_id, include_deleted=include_deleted, filter=filter,
                                        exists_only=True)

    def get_user_conversations(
        self,
        user_id: str,
        skip: int = 0,
        limit: int = 10,
        include_deleted: bool = False,
    ) -> list[Conversation]:
        """The user's conversations, newest first (by created_at)."""
        return _ops.get_user_conversations(user_id, skip, limit, include_deleted)

    def search_by_title(
        self,
        user_id: str,
        search_term: str,
        skip: int = 0,
        limit: int = 10,
    ) -> list[Conversation]:
        """The user's live conversations whose title contains ``search_term``, case-insensitively,
        newest first.
        """
        return _ops.search_by_title(user_id, search_term, skip, limit)

    def count_user_conversations(self, user_id: str, include_deleted: bool = False) -> int:
        """How many conversations the user has (live ones, or all with ``include_deleted``)."""
        return _ops.count_user_conversations(user_id, include_deleted)

    def get_user_stats(self, user_id: str) -> UserStats:
        """Total, active and deleted conversation counts and the last activity."""
        return _ops.get_user_stats(user_id)

    def update_conversation(
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
        return _ops.update_conversation(
            user_id,
            conversation_id,
            title=title,
            summary=summary,
            model=model,
            system_prompt=system_prompt,
            metadata=metadata,
        )

    def update_title_and_summary(
        self,
        user_id: str,
        conversation_id: IdLike,
        title: Optional[str] = None,
        summary: Optional[str] = None,
    ) -> Optional[Conversation]:
        """Updates title and/or summary; None when the conversation does not exist (seed semantics).
        """
        return _ops.update_title_and_summary(
            user_id,
            conversation_id,
            title,
            summary,
        )

    def soft_delete(self, user_id: str, conversation_id: IdLike) -> bool:
        """Soft-deletes a conversation (hidden from gets and lists until undeleted).  False when it
        does not exist.
        """
        return _ops.soft_delete(user_id, conversation_id)

    def undelete(self, user_id: str, conversation_id: IdLike) -> bool:
        """Restores a soft-deleted conversation.  False when it does not exist."""
        return _ops.undelete(user_id, conversation_id)

    def delete_conversation(self, user_id: str, conversation_id: IdLike) -> None:
        """Removes the conversation and all its messages for good (RecordNotFoundError when
        missing).
        """
        return _ops.delete_conversation(user_id, conversation_id)

    # ---- messages --------------------------------------------------------------------------------

    def create_message(
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
        embedding: Optional[Vector] = None,
    ) -> Message:
        """Appends a message to a live conversation of the user; its counters and updated_at move in
        the same write.  ``role`` is user, assistant, system or tool; JSON fields take Python
        values.  An ``embedding`` (the server's dimension; float32 arrays are sent without a copy)
        is stored with the message and makes it searchable (search_messages, the memories of
        assemble_context); ValidationError naming ``embedding`` for a wrong dimension or a zero
        or non-finite vector.
        """
        item = NewMessage(conversation_id, role, content, id=id, parts=parts, tool_calls=tool_calls,
                          tool_results=tool_results, attachments=attachments,
                          tokens_used=tokens_used, metadata=metadata, embedding=embedding)
        return _ops.create_message(user_id, item)

    def get_message(self, user_id: str, message_id: IdLike) -> Message:
        """One message; RecordNotFoundError when missing or another user's."""
        return _ops.get_message(user_id, message_id)

    def list_messages(
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
        return _ops.list_messages(
            user_id,
            conversation_id,
            descending=descending,
            skip=skip,
            limit=limit,
            cursor=cursor,
            role=role,
            only_with_tool_calls=only_with_tool_calls,
            filter=filter,
        )

    def count_messages(
        self,
        user_id: str,
        conversation_id: IdLike,
        *,
        filter: Optional[MessageFilter] = None,
    ) -> int:
        """How many of the conversation's messages match ``filter`` (all of them without one)."""
        return _ops.count_messages(user_id, conversation_id, filter=filter)

    def messages_exist(
        self,
        user_id: str,
        conversation_id: IdLike,
        *,
        filter: Optional[MessageFilter] = None,
    ) -> bool:
        """Whether any message of the conversation matches ``filter``."""
        return _ops.count_messages(user_id, conversation_id, filter=filter, exists_only=True)

    def update_message(
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
        return _ops.update_message(
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
        )

    def delete_message(self, user_id: str, message_id: IdLike) -> Message:
        """Deletes one message for good; the conversation's counters follow.  Returns the deleted
        message (RecordNotFoundError when missing).
        """
        return _ops.delete_message(user_id, message_id)

    def get_conversation_messages(
        self,
        user_id: str,
        conversation_id: IdLike,
        skip: int = 0,
        limit: int = 50,
    ) -> list[Message]:
        """A conversation's messages in chronological order."""
        return _ops.get_conversation_messages(user_id, conversation_id, skip, limit)

    def get_conversation_messages_desc(
        self,
        user_id: str,
        conversation_id: IdLike,
        skip: int = 0,
        limit: int = 50,
    ) -> list[Message]:
        """The newest ``limit`` messages (after skipping the newest ``skip``), returned in
        chronological order as the seeds do.
        """
        return _ops.get_conversation_messages_desc(
            user_id,
            conversation_id,
            skip,
            limit,
        )

    def get_conversation_message_count(self, user_id: str, conversation_id: IdLike) -> int:
        """How many messages the conversation has."""
        return _ops.get_conversation_message_count(user_id, conversation_id)

    def get_messages_by_role(
        self,
        user_id: str,
        conversation_id: IdLike,
        role: str,
        skip: int = 0,
        limit: int = 50,
    ) -> list[Message]:
        """The conversation's messages of one role, oldest first."""
        return _ops.get_messages_by_role(user_id, conversation_id, role, skip, limit)

    def get_last_messages(
        self,
        user_id: str,
        conversation_id: IdLike,
        count: int = 50,
    ) -> list[Message]:
        """The last ``count`` messages in chronological order (e.g. an LLM's context window)."""
        return _ops.get_last_messages(user_id, conversation_id, count)

    def get_last_user_message(self, user_id: str, conversation_id: IdLike) -> Optional[Message]:
        """The newest user message, or None."""
        return _ops.get_last_message_by_role(user_id, conversation_id, "user")

    def get_last_assistant_message(
        self,
        user_id: str,
        conversation_id: IdLike,
    ) -> Optional[Message]:
        """The newest assistant message, or None."""
        return _ops.get_last_message_by_role(user_id, conversation_id, "assistant")

    def get_messages_with_tool_calls(
        self,
        user_id: str,
        conversation_id: IdLike,
        skip: int = 0,
        limit: int = 200,
    ) -> list[Message]:
        """The conversation's messages that carry tool calls, newest first."""
        return _ops.get_messages_with_tool_calls(
            user_id,
            conversation_id,
            skip,
            limit,
        )

    def update_tool_results(
        self,
        user_id: str,
        message_id: IdLike,
        tool_results: Any,
    ) -> Optional[Message]:
        """Replaces a message's tool_results (any JSON value); the updated message, or None when it
        does not exist.
        """
        return _ops.update_tool_results(user_id, message_id, tool_results)

    def get_token_usage_stats(self, user_id: str, conversation_id: IdLike) -> TokenStats:
        """Token usage of the conversation: totals, per role, averages and counts."""
        return _ops.get_token_usage_stats(user_id, conversation_id)

    def delete_conversation_messages(self, user_id: str, conversation_id: IdLike) -> int:
        """Deletes every message of the conversation; returns how many were deleted."""
        return _ops.delete_conversation_messages(user_id, conversation_id)

    # ---- documents -------------------------------------------------------------------------------

    def create_document(
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
        return _ops.create_document(user_id, item)

    def get_document(
        self,
        user_id: str,
        document_id: IdLike,
        *,
        include_deleted: bool = False,
    ) -> Document:
        """The document; RecordNotFoundError when missing, another user's, or soft-deleted."""
        return _ops.get_document(user_id, document_id, include_deleted)

    def list_documents(
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
        return _ops.list_documents(
            user_id,
            skip=skip,
            limit=limit,
            cursor=cursor,
            include_deleted=include_deleted,
            filter=filter,
        )

    def count_matching_documents(
        self,
        user_id: str,
        *,
        include_deleted: bool = False,
        filter: Optional[DocumentFilter] = None,
    ) -> int:
        """How many of the user's documents match ``filter`` (all of them without one)."""
        return _ops.count_matching_documents(user_id, include_deleted=include_deleted,
                                             filter=filter)

    def documents_exist(
        self,
        user_id: str,
        *,
        include_deleted: bool = False,
        filter: Optional[DocumentFilter] = None,
    ) -> bool:
        """Whether any document of the user matches ``filter``."""
        return _ops.count_matching_documents(user_id, include_deleted=include_deleted,
                                             filter=filter, exists_only=True)

    def update_document(
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
        return _ops.update_document(user_id, document_id, filename=filename, file_type=file_type,
                                    content=content, metadata=metadata)

    def get_user_documents(
        self,
        user_id: str,
        skip: int = 0,
        limit: int = 20,
        include_deleted: bool = False,
    ) -> list[Document]:
        """The user's documents, newest first."""
        return _ops.get_user_documents(user_id, skip, limit, include_deleted)

    def search_documents_by_filename(
        self,
        user_id: str,
        search_term: str,
        skip: int = 0,
        limit: int = 100,
    ) -> list[Document]:
        """The user's live documents whose filename contains ``search_term``, case-insensitively."""
        return _ops.search_documents_by_filename(user_id, search_term, skip, limit)

    def get_user_document_count(self, user_id: str) -> int:
        """How many live documents the user has."""
        return _ops.get_user_document_count(user_id)

    def count_documents(self, user_id: str) -> DocumentCounts:
        """The user's document counts: total, active, deleted."""
        return _ops.count_documents(user_id)

    def soft_delete_document(self, user_id: str, document_id: IdLike) -> bool:
        """Soft-deletes a document: it and its chunks disappear from gets, lists and searches at
        once.  False when it does not exist.
        """
        return _ops.soft_delete_document(user_id, document_id)

    def restore_document(self, user_id: str, document_id: IdLike) -> Document:
        """Undoes a soft delete; returns the restored document."""
        return _ops.restore_document(user_id, document_id)

    def delete_document(self, user_id: str, document_id: IdLike) -> None:
        """Removes the document, its chunks and their vectors for good."""
        return _ops.delete_document(user_id, document_id)

    # ---- chunks and vector search ----------------------------------------------------------------

    def add_chunks(self, user_id: str, chunks: Sequence[NewChunk]) -> list[Chunk]:
        """Adds chunks with embeddings to the user's live documents, all or none (at most 10000).
        They are searchable when this returns.
        """
        return _ops.add_chunks(user_id, chunks)

    def replace_chunks(
        self,
        user_id: str,
        document_id: IdLike,
        chunks: Sequence[NewChunk],
    ) -> list[Chunk]:
        """Replaces every chunk of a live document (soft-deleted ones too) by ``chunks``,
        atomically; an empty list removes them all.  Returns the new chunks.
        """
        return _ops.replace_chunks(user_id, document_id, chunks)

    def get_chunk(
        self,
        user_id: str,
        chunk_id: IdLike,
        *,
        include_deleted: bool = False,
    ) -> Chunk:
        """One chunk (without its vector); a soft-deleted one only with ``include_deleted``."""
        return _ops.get_chunk(user_id, chunk_id, include_deleted)

    def list_chunks(
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
        return _ops.list_chunks(user_id, document_id, skip=skip, limit=limit, cursor=cursor,
                                include_deleted=include_deleted)

    def soft_delete_chunk(self, user_id: str, chunk_id: IdLike) -> Chunk:
        """Hides a chunk from search at once; it keeps its chunk_index until restored or deleted
        for good.  Returns the chunk as deleted.
        """
        return _ops.delete_chunk(user_id, chunk_id, False)

    def restore_chunk(self, user_id: str, chunk_id: IdLike) -> Chunk:
        """Makes a soft-deleted chunk searchable again; returns the restored chunk."""
        return _ops.restore_chunk(user_id, chunk_id)

    def delete_chunk(self, user_id: str, chunk_id: IdLike) -> Chunk:
        """Removes a chunk (live or soft-deleted) and its vector for good; returns it."""
        return _ops.delete_chunk(user_id, chunk_id, True)

    def search(
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
        return _ops.search(
            user_id,
            query,
            top_k,
            min_similarity=min_similarity,
            filters=filters,
            ef=ef,
        )

    def search_similar(
        self,
        user_id: str,
        query_embedding: Vector,
        limit: int = 5,
        threshold: Optional[float] = None,
        *,
        filters: Optional[SearchFilters] = None,
    ) -> list[SearchHit]:
        """The seeds' search: the ``limit`` most similar chunks with similarity >= ``threshold``."""
        return _ops.search_similar(
            user_id,
            query_embedding,
            limit,
            threshold,
            filters=filters,
        )

    def search_text(
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
        return _ops.search_text(user_id, query, top_k, filters)

    def search_hybrid(
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
        return _ops.search_hybrid(
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
        )

    def search_messages(
        self,
        user_id: str,
        query_embedding: Optional[Vector] = None,
        top_k: int = 10,
        filters: Optional[MessageSearchFilters] = None,
        min_similarity: Optional[float] = None,
        ef: Optional[int] = None,
        query_text: Optional[str] = None,
        fusion: str = "rrf",
        *,
        text_weight: Optional[float] = None,
        rrf_k: Optional[float] = None,
        candidates: Optional[int] = None,
    ) -> MessageSearchResult:
        """The user's past messages: stored with an embedding and nearest to ``query_embedding``
        (the vector leg, as search()), best matching ``query_text`` by BM25 over every message's
        content (the text leg, as search_text()), or both fused into one ranking as
        search_hybrid() does (``fusion``, ``text_weight``, ``rrf_k``, ``candidates``).  Each hit
        has its ``score``, cosine ``similarity``, ``bm25`` and ranks; ``text`` / ``vector`` say
        how each leg ran.  Messages of soft-deleted conversations are not found.  ``filters``
        keeps conversation ids, roles and a creation-time range (both legs); ``min_similarity``
        and ``ef`` apply to the vector leg.  ValidationError naming the field for neither query
        (``query_embedding``), an embedding of the wrong dimension (``query_embedding``), a
        blank query text or one over 4096 bytes (``query_text``; stop words only is an empty
        answer whose ``text`` says so), ``top_k`` outside 1..1000, an unknown role (``filters.roles``), an empty time range
        (``filters.created_until``).
        """
        return _ops.search_messages(
            user_id,
            query_embedding,
            top_k,
            filters,
            min_similarity,
            ef,
            query_text,
            fusion,
            text_weight=text_weight,
            rrf_k=rrf_k,
            candidates=candidates,
        )

    def assemble_context(
        self,
        user_id: str,
        conversation_id: IdLike,
        token_budget: int,
        query_embedding: Optional[Vector] = None,
        query_text: Optional[str] = None,
        k_chunks: int = 5,
        max_messages: int = 20,
        filters: Optional[SearchFilters] = None,
        min_similarity: Optional[float] = None,
        message_budget: Optional[int] = None,
        k_memories: int = 5,
        memory_filters: Optional[MessageSearchFilters] = None,
    ) -> ContextResult:
        """What one chat turn needs, in one round trip: the conversation, its most recent
        messages that fit ``token_budget`` (oldest first) and the ``k_chunks`` chunks most
        relevant to the query, with each item's tokens and how the budget was spent.  The budget
        goes to the system prompt, then to the newest of the last ``max_messages`` messages
        (stopping at the first that does not fit, or that would take the messages past
        ``message_budget`` tokens when it is set), then to the chunks, best first (one that does
        not fit is skipped).  Chunks are found by vector with ``query_embedding``, by keyword
        with ``query_text``, by both fused (RRF) with both, not at all with neither or
        ``k_chunks`` 0; ``filters`` and ``min_similarity`` apply as in search().  Then the
        ``k_memories`` memories: the user's past messages nearest to ``query_embedding``, best
        matching ``query_text``, or both fused (RRF) (none without either), outside the recent
        window, kept by ``memory_filters``, best first (one that does not fit is skipped).
        RecordNotFoundError for a conversation that is missing, another user's or soft-deleted;
        ValidationError naming the field for a budget outside 1..10,000,000 or smaller than the
        system prompt (``token_budget``), ``message_budget`` outside 0..10,000,000,
        ``max_messages`` outside 0..1000, ``k_chunks`` or ``k_memories`` outside
        0..1000, an embedding of the wrong dimension, a blank ``query_text``, an unknown role
        (``memory_filters.roles``);
        UnavailableError for ``query_text`` when mnemod's keyword search is off.
        """
        return _ops.assemble_context(
            user_id,
            conversation_id,
            token_budget,
            query_embedding,
            query_text,
            k_chunks,
            max_messages,
            filters,
            min_similarity,
            message_budget,
            k_memories,
            memory_filters,
        )

    def search_batch(
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
        return _ops.search_batch(
            user_id,
            queries,
            top_k,
            min_similarity=min_similarity,
            filters=filters,
            ef=ef,
        )

    def search_similar_batch(
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
        return _ops.search_similar_batch(
            user_id,
            query_embeddings,
            limit,
            threshold,
            filters=filters,
        )

    # ---- atomic batches --------------------------------------------------------------------------

    def apply_batch(self, user_id: str, batch: Batch) -> list[UUID]:
        """Applies every op of ``batch`` or none; returns the ids of the rows written, in op order.
        """
        return _ops.apply_batch(user_id, batch.ops)

    def bulk_upsert(
        self,
        user_id: str,
        records: Iterable[Union[NewConversation, NewMessage, NewDocument, NewChunk]],
    ) -> int:
        """Writes many records atomically in one request: conversations and messages are upserted by
        id (an id is required), documents and chunks created idempotently.  Returns how many records
        were written.
        """
        return _ops.bulk_upsert(user_id, records)

    # ---- administration (service key) ------------------------------------------------------------

    def get_stats(self) -> ServerStats:
        """Server statistics: uptime, connections, partitions, per-operation counts and latencies.
        """
        return _ops.get_stats()

    def list_partitions(self) -> list[PartitionInfo]:
        """The month partitions of the vector store."""
        return _ops.list_partitions()

    def rebuild_partition(self, month: str) -> None:
        """Rebuilds the graph of one month ("YYYY-MM") online."""
        return _ops.rebuild_partition(month)

    def archive_partition(self, month: str, path: str) -> int:
        """Exports a month's chunks to ``path`` on the server's machine; returns the row count."""
        return _ops.archive_partition(month, path)

    def drop_partition(self, month: str) -> int:
        """Deletes a month's chunks; returns the row count."""
        return _ops.drop_partition(month)

    def attach_archive(self, path: str) -> AttachResult:
        """Re-attaches an archive written by archive_partition."""
        return _ops.attach_archive(path)

    def create_backup(self, path: str) -> None:
        """Writes an online backup to ``path`` (which must not exist) on the server's machine."""
        return _ops.create_backup(path)

    def apply_retention(
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
        return _ops.apply_retention(keep_months, archive_dir, purge_after)
