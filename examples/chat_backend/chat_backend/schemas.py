"""Request and response bodies (Pydantic 1, as Debian 12's FastAPI 0.92 uses).

Requests are checked here, before any store sees them, so both stores answer bad input with the
same 422 naming the same field.  The bounds are the seeds' column sizes (SPEC §2); text fields
are strict (a number is not silently made a string).  Responses read their fields by attribute
(``orm_mode``) or key: a store hands over its own records (the SQLAlchemy rows, or mnemo's as
dicts) and the route returns them as they are.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any, Literal, Optional
from uuid import UUID

from pydantic import BaseModel, Extra, Field, StrictStr, conint, constr, validator

Role = Literal["user", "assistant", "system", "tool"]
FileType = Literal["pdf", "txt", "docx", "md", "html"]
Title = constr(strict=True, min_length=1, max_length=255)
ModelName = constr(strict=True, min_length=1, max_length=100)
Filename = constr(strict=True, min_length=1, max_length=255)
Text = constr(strict=True, min_length=1)  # required, non-empty
TokenCount = conint(ge=0, le=2**31 - 1)  # a PostgreSQL INTEGER, as the seeds' column

DEFAULT_MODEL = "claude-sonnet-4-5-20250929"
MAX_SKIP = 2**63 - 1  # a BIGINT OFFSET
MAX_CONVERSATION_PAGE = 100
MAX_MESSAGE_PAGE = 200
MAX_TOP_K = 1000
MAX_CHUNKS = 10000


class Request(BaseModel):
    class Config:
        extra = Extra.forbid


class Record(BaseModel):
    class Config:
        orm_mode = True


def _not_blank(value: Optional[str]) -> Optional[str]:
    if value is not None and not value.strip():
        raise ValueError("must not be blank")
    return value


# ---- conversations ------------------------------------------------------------------------------


class ConversationCreate(Request):
    title: Title
    system_prompt: StrictStr = ""
    model: ModelName = DEFAULT_MODEL
    summary: Optional[StrictStr] = None
    metadata: dict[str, Any] = Field(default_factory=dict)

    _title = validator("title", allow_reuse=True)(_not_blank)


class ConversationUpdate(Request):
    title: Optional[Title] = None
    summary: Optional[StrictStr] = None
    model: Optional[ModelName] = None
    system_prompt: Optional[StrictStr] = None
    metadata: Optional[dict[str, Any]] = None

    _title = validator("title", allow_reuse=True)(_not_blank)


class ConversationResponse(Record):
    id: UUID
    user_id: str
    title: str
    summary: Optional[str]
    model: str
    system_prompt: str
    metadata: dict[str, Any]
    message_count: int
    is_deleted: bool
    deleted_at: Optional[datetime]
    created_at: datetime
    updated_at: datetime


class ConversationListResponse(BaseModel):
    items: list[ConversationResponse]
    total: int
    skip: int
    limit: int


class ConversationStats(Record):
    total_conversations: int
    active_conversations: int
    deleted_conversations: int
    last_activity: Optional[datetime]


# ---- messages -----------------------------------------------------------------------------------


class MessageCreate(Request):
    role: Role
    content: Text
    tool_calls: Any = None
    tool_results: Any = None
    tokens_used: Optional[TokenCount] = None
    metadata: dict[str, Any] = Field(default_factory=dict)


class MessageSchema(Record):
    id: UUID
    conversation_id: UUID
    role: str
    content: str
    tool_calls: Any
    tool_results: Any
    tokens_used: Optional[int]
    metadata: dict[str, Any]
    created_at: datetime


class TokenUsageStats(Record):
    """The seeds' get_token_usage_stats dictionary."""

    total_tokens: int
    user_tokens: int
    assistant_tokens: int
    average_tokens_per_message: float
    message_count: int
    user_message_count: int
    assistant_message_count: int


# ---- documents and search -----------------------------------------------------------------------


def _check_vector(values: list[float]) -> list[float]:
    if not all(math.isfinite(v) for v in values):
        raise ValueError("must hold finite numbers only")
    if not any(values):
        raise ValueError("must not be the zero vector")
    return values


class ChunkCreate(Request):
    chunk_text: Text
    embedding: list[float] = Field(..., min_items=1)
    chunk_index: Optional[conint(ge=0, le=2**31 - 1)] = None
    metadata: dict[str, Any] = Field(default_factory=dict)

    _embedding = validator("embedding", allow_reuse=True)(_check_vector)


class DocumentCreate(Request):
    filename: Filename
    file_type: FileType
    content: StrictStr = ""
    metadata: dict[str, Any] = Field(default_factory=dict)
    chunks: list[ChunkCreate] = Field(default_factory=list, max_items=MAX_CHUNKS)

    @validator("chunks")
    def _unique_indexes(cls, chunks: list[ChunkCreate]) -> list[ChunkCreate]:
        seen: set[int] = set()
        for position, chunk in enumerate(chunks):
            index = position if chunk.chunk_index is None else chunk.chunk_index
            if index in seen:
                raise ValueError(f"chunk_index {index} appears twice")
            seen.add(index)
        return chunks


class DocumentResponse(Record):
    id: UUID
    user_id: str
    filename: str
    file_type: str
    content: str
    total_chunks: int
    metadata: dict[str, Any]
    is_deleted: bool
    created_at: datetime
    updated_at: datetime


class ChunkRef(BaseModel):
    id: UUID
    chunk_index: int


class DocumentCreated(DocumentResponse):
    chunks: list[ChunkRef]


class DocumentListResponse(BaseModel):
    items: list[DocumentResponse]
    total: int
    skip: int
    limit: int


class SearchRequest(Request):
    embedding: list[float] = Field(..., min_items=1)
    top_k: conint(ge=1, le=MAX_TOP_K) = 5
    threshold: Optional[float] = Field(None, ge=-1.0, le=1.0)
    document_ids: list[UUID] = Field(default_factory=list)
    file_types: list[FileType] = Field(default_factory=list)

    _embedding = validator("embedding", allow_reuse=True)(_check_vector)


class SearchHit(Record):
    chunk_id: UUID
    document_id: UUID
    chunk_index: int
    chunk_text: str
    filename: str
    similarity: float


class SearchResponse(BaseModel):
    items: list[SearchHit]
    total: int
