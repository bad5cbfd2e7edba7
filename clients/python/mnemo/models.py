"""The records and answers the client returns: plain dataclasses mirroring the wire schema.

Conventions: ids are ``uuid.UUID``; timestamps are timezone-aware UTC ``datetime`` objects with
microsecond precision, set by the server; JSON-valued fields (metadata, parts, tool_calls, ...)
are decoded Python values (``None`` when absent).  Nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Optional, TypeVar
from uuid import UUID

__all__ = [
    "Conversation",
    "Message",
    "Document",
    "Chunk",
    "Page",
    "UserStats",
    "RoleTokens",
    "TokenStats",
    "DocumentCounts",
    "SearchHit",
    "SearchResult",
    "ServerInfo",
    "PartitionInfo",
    "OpStats",
    "ServerStats",
    "AttachResult",
    "RetiredMonth",
    "RetentionReport",
]

T = TypeVar("T")


@dataclass(slots=True)
class Conversation:
    """A conversation (SPEC §2); the counters are maintained by the server."""

    id: UUID
    user_id: str
    title: str
    summary: Optional[str]
    model: str
    system_prompt: str
    metadata: dict[str, Any]
    is_deleted: bool
    deleted_at: Optional[datetime]
    created_at: datetime
    updated_at: datetime
    message_count: int
    total_tokens: int
    last_message_at: Optional[datetime]


@dataclass(slots=True)
class Message:
    """A message of a conversation; ``role`` is "user", "assistant", "system" or "tool"."""

    id: UUID
    conversation_id: UUID
    role: str
    content: str
    parts: Any
    tool_calls: Any
    tool_results: Any
    attachments: Any
    tokens_used: Optional[int]
    metadata: dict[str, Any]
    created_at: datetime
    # An embedding is stored with the message (search_messages finds it); the vector itself is
    # not returned.
    has_embedding: bool = False


@dataclass(slots=True)
class Document:
    """A document of the RAG corpus; ``total_chunks`` is maintained by the server."""

    id: UUID
    user_id: str
    filename: str
    file_type: str
    content: str
    total_chunks: int
    metadata: dict[str, Any]
    is_deleted: bool
    deleted_at: Optional[datetime]
    created_at: datetime
    updated_at: datetime


@dataclass(slots=True)
class Chunk:
    """A stored chunk (the seeds' ``embeddings`` row) without its vector.

    A soft-deleted chunk (``is_deleted``) is hidden from search and keeps its chunk_index until
    it is restored or deleted for good.
    """

    id: UUID
    document_id: UUID
    chunk_index: int
    chunk_text: str
    metadata: dict[str, Any]
    created_at: datetime
    is_deleted: bool = False
    deleted_at: Optional[datetime] = None


@dataclass(slots=True)
class Page(Generic[T]):
    """One page of a list: ``total`` counts every matching row; pass ``next_cursor`` back as
    ``cursor`` to get the next page (None on the last page)."""

    items: list[T]
    total: int
    next_cursor: Optional[str]


@dataclass(slots=True)
class UserStats:
    """A user's conversation counts, named as the seeds' ``get_user_stats`` dict keys."""

    total_conversations: int
    active_conversations: int
    deleted_conversations: int
    last_activity: Optional[datetime]


@dataclass(slots=True)
class RoleTokens:
    """Messages and tokens of one role in a conversation."""

    message_count: int = 0
    total_tokens: int = 0


@dataclass(slots=True)
class TokenStats:
    """Token usage of a conversation (the seeds' ``get_token_usage_stats``).

    ``average_tokens`` averages over the messages whose tokens_used is set;
    ``average_tokens_per_message`` over all messages, as the seeds compute it.
    """

    message_count: int
    messages_with_tokens: int
    total_tokens: int
    average_tokens: float
    per_role: dict[str, RoleTokens]

    @property
    def user_tokens(self) -> int:
        return self.per_role["user"].total_tokens

    @property
    def assistant_tokens(self) -> int:
        return self.per_role["assistant"].total_tokens

    @property
    def user_message_count(self) -> int:
        return self.per_role["user"].message_count

    @property
    def assistant_message_count(self) -> int:
        return self.per_role["assistant"].message_count

    @property
    def average_tokens_per_message(self) -> float:
        return self.total_tokens / self.message_count if self.message_count else 0.0


@dataclass(slots=True)
class DocumentCounts:
    """A user's document counts."""

    total: int
    active: int
    deleted: int


@dataclass(slots=True)
class SearchHit:
    """One search result; ``similarity`` is the cosine in [-1, 1]."""

    chunk_id: UUID
    document_id: UUID
    chunk_index: int
    chunk_text: str
    filename: str
    similarity: float
    created_at: datetime


@dataclass(slots=True)
class SearchResult:
    """The answer to one search, best hit first, and how it was produced (SPEC §3 "honesty").

    ``exact``: every allowed row was scored; ``ef_used``: the largest graph beam width used (0
    without graph search); ``fewer_than_top_k``: fewer matching rows exist than were asked for.
    """

    hits: list[SearchHit]
    exact: bool
    ef_used: int
    fewer_than_top_k: bool
    partitions_searched: int


@dataclass(slots=True)
class MessageHit:
    """One message search result.  ``score`` orders the answer: the cosine (embedding only), the
    BM25 score (``query_text`` only) or the fused score (both).  ``similarity`` is the cosine when
    the vector leg returned the message, else 0; ``bm25`` the text leg's score, None when it did
    not return it; ``text_rank`` / ``vector_rank`` its 1-based rank in each leg (0 = not
    returned)."""

    message: Message
    similarity: float
    score: float
    bm25: Optional[float]
    text_rank: int
    vector_rank: int


@dataclass(slots=True)
class MessageSearchResult:
    """The answer to search_messages, best hit first, and how it was produced: ``exact`` and
    ``ef_used`` as SearchResult (the vector leg's), ``text`` / ``vector`` how each leg ran
    (``ran`` False when it did not), ``fusion`` ("rrf" or "weighted") when both ran."""

    hits: list[MessageHit]
    exact: bool
    ef_used: int
    fewer_than_top_k: bool
    fusion: str
    text: TextLegInfo
    vector: VectorLegInfo


@dataclass(slots=True)
class RankedHit:
    """One keyword or hybrid search result.

    ``score`` orders the answer: the BM25 score (keyword search) or the fused score (hybrid).
    ``bm25`` / ``similarity`` are each leg's own score, None when that leg did not return the
    row; ``text_rank`` / ``vector_rank`` its 1-based rank there (0 = not returned).
    ``hit.similarity`` is the cosine when the vector leg returned the row, else 0.
    """

    hit: SearchHit
    score: float
    bm25: Optional[float]
    similarity: Optional[float]
    text_rank: int
    vector_rank: int


@dataclass(slots=True)
class TextLegInfo:
    """How the keyword leg ran.  ``ran`` is False when the query has no terms after analysis
    (stop words only); ``terms`` are the query's normalised, stemmed index terms;
    ``unknown_terms`` those no row of the user holds; ``rows`` BM25's N; ``rows_scored`` the rows
    whose score was computed out of ``postings`` (the rest were pruned, never changing the top k).
    """

    ran: bool
    terms: list[str]
    stopwords_ignored: int
    unknown_terms: list[str]
    candidates: int
    rows: int
    postings: int
    rows_scored: int
    exact: bool


@dataclass(slots=True)
class VectorLegInfo:
    """How the vector leg of a hybrid search ran (as SearchResult)."""

    ran: bool
    exact: bool
    ef_used: int
    partitions_searched: int
    candidates: int


@dataclass(slots=True)
class RankedSearchResult:
    """The answer to a keyword or hybrid search, best hit first, and how each leg ran.
    ``fusion`` ("rrf" or "weighted") and ``vector`` describe hybrid searches only.
    """

    hits: list[RankedHit]
    fewer_than_top_k: bool
    fusion: str
    text: TextLegInfo
    vector: VectorLegInfo


@dataclass(slots=True)
class ContextMessage:
    """One message of an assembled context and its token count.  ``token_source`` is
    "measured" (the message's ``tokens_used``) or "estimated" (the server's estimate of its text).
    """

    message: Message
    tokens: int
    token_source: str


@dataclass(slots=True)
class ContextChunk:
    """One retrieved chunk of an assembled context; ``hit.score`` orders them (the cosine, BM25 or
    fused score) and ``tokens`` is always the server's estimate."""

    hit: RankedHit
    tokens: int


@dataclass(slots=True)
class ContextMemory:
    """One memory of an assembled context: a past message, its cosine similarity to the query
    embedding (0 when the vector leg did not return it), its BM25 score for the query text (None
    when the text leg did not return it), the ``score`` memories are ordered by (as
    MessageHit.score) and its token count (``token_source`` as ContextMessage)."""

    message: Message
    similarity: float
    tokens: int
    token_source: str
    score: float
    bm25: Optional[float]


@dataclass(slots=True)
class ContextBudget:
    """How a context's token budget was spent: ``remaining`` = ``budget`` minus the system prompt,
    message, chunk and memory tokens.  ``messages_left_out``: messages among the ``max_messages``
    most recent that did not fit (with every older one); ``chunks_left_out`` /
    ``memories_left_out``: retrieved chunks / memories that did not fit."""

    budget: int
    system_prompt_tokens: int
    message_tokens: int
    chunk_tokens: int
    remaining: int
    messages_left_out: int
    chunks_left_out: int
    memory_tokens: int = 0
    memories_left_out: int = 0


@dataclass(slots=True)
class ContextResult:
    """What one chat turn needs (assemble_context): the conversation (its ``system_prompt``
    included), the most recent messages that fit, oldest first, and the retrieved chunks, best
    first.  ``retrieval`` says how the chunks were found: "none", "vector", "keyword" or "hybrid".
    ``memories``: past messages nearest to the query embedding, outside the recent window, best
    first.
    """

    conversation: Conversation
    messages: list[ContextMessage]
    chunks: list[ContextChunk]
    retrieval: str
    budget: ContextBudget
    memories: list[ContextMemory] = field(default_factory=list)


@dataclass(slots=True)
class ServerInfo:
    """What the server announced in its handshake reply."""

    protocol_version: int
    server_version: str
    max_frame_bytes: int
    max_in_flight: int  # per connection; 0 = no limit announced
    dimension: int  # embedding dimension of the data directory
    principal: str  # "service", or the user id a user key is pinned to


@dataclass(slots=True)
class PartitionInfo:
    """One month partition of the vector store."""

    month: str
    rows: int
    vector_bytes: int
    index_bytes: int
    pending_rows: int
    deleted_in_index: int


@dataclass(slots=True)
class OpStats:
    """Request count, errors and latency percentiles of one operation."""

    name: str
    count: int
    errors: int
    p50_us: float
    p99_us: float


@dataclass(slots=True)
class ServerStats:
    """Server-wide statistics (administration)."""

    uptime_seconds: int
    connections: int
    partitions: list[PartitionInfo] = field(default_factory=list)
    ops: list[OpStats] = field(default_factory=list)
    data_bytes: int = 0


@dataclass(slots=True)
class AttachResult:
    """Rows re-attached from an archive, and rows skipped because they already existed."""

    attached: int
    skipped: int


@dataclass(slots=True)
class RetiredMonth:
    """A month partition retention removed; ``archive_path`` is None when it was not archived."""

    month: str
    rows: int
    archive_path: Optional[str]


@dataclass(slots=True)
class RetentionReport:
    """What one retention run did.  The cut-offs are None when that part of the policy is off:
    months ending at or before ``month_cutoff`` were retired, rows soft-deleted before
    ``purge_cutoff`` purged.
    """

    now: datetime
    month_cutoff: Optional[datetime]
    purge_cutoff: Optional[datetime]
    retired: list[RetiredMonth]
    conversations_purged: int
    documents_purged: int
    chunks_purged: int
