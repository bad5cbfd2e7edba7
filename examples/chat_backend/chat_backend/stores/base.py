"""Store: what the routes need from a data layer.  Two implementations serve it: MnemoStore
(mnemod through mnemo.AsyncClient) and PostgresStore (the seeds' SQLAlchemy repositories).

Conventions shared by both:
- every call acts for ``user_id`` and sees only that user's rows; a row that is missing, soft-
  deleted (unless asked for) or another user's raises errors.NotFound, never reveals itself;
- records are returned as the store's own objects with attributes (read with ``orm_mode``), or
  as dicts, named as the response models in chat_backend.schemas expect;
- store-specific exceptions are left to propagate; ``translators`` maps their types to the
  APIError the app answers with (connection loss -> UNAVAILABLE, bad input -> VALIDATION_ERROR).

A store is created by ``open`` in the app's lifespan and closed there; it is shared by every
request of one event loop (uvicorn worker).
"""

from __future__ import annotations

from typing import Any, Mapping, Optional, Protocol, Sequence
from uuid import UUID

from ..errors import Translator
from ..schemas import ConversationCreate, DocumentCreate, MessageCreate, SearchRequest


class Store(Protocol):
    name: str
    embedding_dimension: int
    translators: Mapping[type[Exception], Translator]

    async def close(self) -> None: ...

    async def ping(self) -> None:
        """Returns when the backing server answers; raises (a translated type) otherwise."""

    # ---- conversations ----------------------------------------------------------------------
    async def create_conversation(self, user_id: str, data: ConversationCreate) -> Any: ...

    async def list_conversations(self, user_id: str, skip: int, limit: int,
                                 include_deleted: bool) -> tuple[Sequence[Any], int]:
        """A page, newest first by created_at, and the total count."""

    async def search_conversations(self, user_id: str, term: str, skip: int,
                                   limit: int) -> Sequence[Any]:
        """Live conversations whose title contains ``term`` case-insensitively, newest first."""

    async def conversation_stats(self, user_id: str) -> Any: ...

    async def get_conversation(self, user_id: str, conversation_id: UUID,
                               include_deleted: bool) -> Any: ...

    async def update_conversation(self, user_id: str, conversation_id: UUID,
                                  changes: Mapping[str, Any]) -> Any:
        """Sets the given fields of a live conversation; returns it after the change."""

    async def delete_conversation(self, user_id: str, conversation_id: UUID, hard: bool) -> None:
        """Soft delete (hard: removes it and its messages for good)."""

    async def restore_conversation(self, user_id: str, conversation_id: UUID) -> Any: ...

    # ---- messages -----------------------------------------------------------------------------
    async def append_message(self, user_id: str, conversation_id: UUID,
                             data: MessageCreate) -> Any:
        """Appends to a live conversation; its message_count and updated_at move with it."""

    async def list_messages(self, user_id: str, conversation_id: UUID, skip: int, limit: int,
                            role: Optional[str], newest_first: bool) -> Sequence[Any]: ...

    async def token_stats(self, user_id: str, conversation_id: UUID) -> Any: ...

    # ---- documents ----------------------------------------------------------------------------
    async def create_document(self, user_id: str,
                              data: DocumentCreate) -> tuple[Any, list[tuple[UUID, int]]]:
        """Writes the document and all its chunks atomically; returns the document and its
        chunks' (id, chunk_index)."""

    async def list_documents(self, user_id: str, skip: int,
                             limit: int) -> tuple[Sequence[Any], int]:
        """A page of live documents, newest first, and the total count."""

    async def get_document(self, user_id: str, document_id: UUID) -> Any: ...

    async def delete_document(self, user_id: str, document_id: UUID, hard: bool) -> None: ...

    async def search(self, user_id: str, request: SearchRequest) -> Sequence[Any]:
        """The most similar chunks of the user's live documents, best first."""
