"""Batch: writes of one user that the server applies atomically, all or nothing (SPEC §4).

Use it as a transaction block; the writes are sent when the block ends without an exception
(and discarded, unsent, when it raises)::

    with client.batch(user_id) as b:                 # async: async with client.batch(...)
        conversation_id = b.create_conversation("Trip planning")
        b.append_message(conversation_id, "user", "Where should we go?")
    print(b.ids)                                     # ids of the written rows, in op order

Ops apply in order and see the effects of earlier ops.  Every op gets a client-generated id
(unless given one) and returns it, so later ops can refer to rows created earlier in the batch.
If any op fails nothing is written, and the error (e.g. ValidationError) names the op's index.
A batch holds at most 10000 ops.  Thread-safety: a builder; not safe for concurrent use.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Mapping, Optional
from uuid import UUID

from . import _convert as conv
from .inputs import IdLike, NewChunk, NewConversation, NewDocument, NewMessage, TimeLike, Vector

__all__ = ["Batch"]


class Batch:
    """An ordered list of writes; see the module comment."""

    def __init__(self) -> None:
        self.ops: list[tuple[str, Any]] = []
        self.ids: list[UUID] = []  # set when the batch was applied

    def __len__(self) -> int:
        return len(self.ops)

    def _add(self, kind: str, item: Any) -> UUID:
        if item.id is None:
            item.id = conv.new_id()
        item_id = conv.to_uuid(item.id, f"ops[{len(self.ops)}].id")
        self.ops.append((kind, item))
        return item_id

    def create_conversation(self, title: str, *, id: Optional[IdLike] = None,
                            summary: Optional[str] = None, model: Optional[str] = None,
                            system_prompt: str = "",
                            metadata: Optional[Mapping[str, Any]] = None) -> UUID:
        """Creates a conversation; returns its id."""
        return self._add("create_conversation", NewConversation(
            title, id=id, summary=summary, model=model, system_prompt=system_prompt,
            metadata=metadata))

    def upsert_conversation(self, conversation: NewConversation) -> UUID:
        """Inserts or replaces the conversation with ``conversation.id``; returns the id."""
        return self._add("upsert_conversation", conversation)

    def append_message(self, conversation_id: IdLike, role: str, content: str = "", *,
                       id: Optional[IdLike] = None, parts: Any = None, tool_calls: Any = None,
                       tool_results: Any = None, attachments: Any = None,
                       tokens_used: Optional[int] = None,
                       metadata: Optional[Mapping[str, Any]] = None,
                       embedding: Optional[Vector] = None) -> UUID:
        """Appends a message (counters move with it), with its embedding when given; returns its
        id."""
        return self._add("append_message", NewMessage(
            conversation_id, role, content, id=id, parts=parts, tool_calls=tool_calls,
            tool_results=tool_results, attachments=attachments, tokens_used=tokens_used,
            metadata=metadata, embedding=embedding))

    def upsert_message(self, message: NewMessage) -> UUID:
        """Inserts or replaces the message with ``message.id``; returns the id."""
        return self._add("upsert_message", message)

    def create_document(self, filename: str, file_type: str, content: str = "", *,
                        id: Optional[IdLike] = None,
                        metadata: Optional[Mapping[str, Any]] = None) -> UUID:
        """Creates a document; returns its id."""
        return self._add("create_document", NewDocument(filename, file_type, content, id=id,
                                                        metadata=metadata))

    def add_chunk(self, document_id: IdLike, chunk_index: int, chunk_text: str,
                  embedding: Vector, *, id: Optional[IdLike] = None,
                  metadata: Optional[Mapping[str, Any]] = None,
                  created_at: Optional[TimeLike] = None) -> UUID:
        """Adds a chunk with its embedding to a document; returns the chunk's id."""
        return self._add("add_chunk", NewChunk(document_id, chunk_index, chunk_text, embedding,
                                               id=id, metadata=metadata, created_at=created_at))


class BatchBlock:
    """``with client.batch(user_id) as b:`` — applies the batch when the block succeeds."""

    def __init__(self, apply: Callable[[Batch], list[UUID]]) -> None:
        self._apply = apply
        self._batch = Batch()

    def __enter__(self) -> Batch:
        return self._batch

    def __exit__(self, exc_type: Any, exc: Any, traceback: Any) -> None:
        if exc_type is None and self._batch.ops:
            self._batch.ids = self._apply(self._batch)


class AsyncBatchBlock:
    """``async with client.batch(user_id) as b:`` — applies the batch when the block succeeds."""

    def __init__(self, apply: Callable[[Batch], Awaitable[list[UUID]]]) -> None:
        self._apply = apply
        self._batch = Batch()

    async def __aenter__(self) -> Batch:
        return self._batch

    async def __aexit__(self, exc_type: Any, exc: Any, traceback: Any) -> None:
        if exc_type is None and self._batch.ops:
            self._batch.ids = await self._apply(self._batch)
