"""What callers send: the inputs of creates, upserts and atomic batches, and search filters.

Conventions: ids may be ``uuid.UUID`` objects or their text form; leaving a create's ``id`` as
None lets the server choose one (a client id makes the create idempotent).  JSON-valued fields
take Python values (dict, list, str, numbers) and are serialised with ``json.dumps``.
Timestamps are ``datetime`` objects (naive ones are read as UTC) or integer microseconds since
the Unix epoch.  Embeddings are lists of floats, ``array('f')`` or 1-d numpy arrays; float32
arrays are sent without an intermediate copy.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Mapping, Optional, Sequence, Union
from uuid import UUID

if TYPE_CHECKING:
    import numpy

__all__ = [
    "IdLike",
    "TimeLike",
    "Vector",
    "NewConversation",
    "NewMessage",
    "NewDocument",
    "NewChunk",
    "SearchFilters",
    "ConversationFilter",
    "MessageFilter",
    "MessageSearchFilters",
    "DocumentFilter",
    "CLEAR",
    "DEFAULT_MODEL",
]

IdLike = Union[UUID, str]
TimeLike = Union[datetime, int]
Vector = Union[Sequence[float], "array[float]", "numpy.ndarray", memoryview]

# The server's default model for new conversations (SPEC §2).
DEFAULT_MODEL = "claude-sonnet-4-5-20250929"


@dataclass(slots=True)
class NewConversation:
    """A conversation to create or upsert (an upsert needs ``id``)."""

    title: str
    id: Optional[IdLike] = None
    summary: Optional[str] = None
    model: Optional[str] = None  # None: DEFAULT_MODEL
    system_prompt: str = ""
    metadata: Optional[Mapping[str, Any]] = None  # None: {}


@dataclass(slots=True)
class NewMessage:
    """A message to append (or upsert, with ``id``); ``content`` may be empty only with parts."""

    conversation_id: IdLike
    role: str  # "user" | "assistant" | "system" | "tool"
    content: str = ""
    id: Optional[IdLike] = None
    parts: Any = None
    tool_calls: Any = None
    tool_results: Any = None
    attachments: Any = None
    tokens_used: Optional[int] = None
    metadata: Optional[Mapping[str, Any]] = None
    # None: no embedding.  Else the server's dimension: stored with the message, it makes the
    # message searchable (search_messages, context memories); an upsert replaces the stored one.
    embedding: Optional[Vector] = None


@dataclass(slots=True)
class NewDocument:
    """A document to create; ``file_type`` is one of pdf, txt, docx, md, html."""

    filename: str
    file_type: str
    content: str = ""
    id: Optional[IdLike] = None
    metadata: Optional[Mapping[str, Any]] = None


@dataclass(slots=True)
class NewChunk:
    """A chunk of a live document with its embedding (the server's dimension, default 1536).

    ``created_at`` back-fills the row into an older month partition; default now.
    """

    document_id: IdLike
    chunk_index: int
    chunk_text: str
    embedding: Vector
    id: Optional[IdLike] = None
    metadata: Optional[Mapping[str, Any]] = None
    created_at: Optional[TimeLike] = None


@dataclass(slots=True)
class SearchFilters:
    """Restricts a search; every set filter must match.

    ``created_from`` is inclusive, ``created_until`` exclusive; ``metadata_equals`` compares
    top-level metadata keys with JSON values (e.g. ``{"lang": "en", "page": 3}``).
    """

    document_ids: Sequence[IdLike] = field(default_factory=tuple)
    file_types: Sequence[str] = field(default_factory=tuple)
    created_from: Optional[TimeLike] = None
    created_until: Optional[TimeLike] = None
    metadata_equals: Mapping[str, Any] = field(default_factory=dict)

    def is_empty(self) -> bool:
        return not (self.document_ids or self.file_types or self.created_from is not None
                    or self.created_until is not None or self.metadata_equals)


@dataclass(slots=True)
class ConversationFilter:
    """Conditions of conversation lists and counts; unset ones match all.

    Time ranges are ``[from, until)``; ``model`` matches exactly, ``title_contains``
    case-insensitively; ``metadata_equals`` as in SearchFilters.
    """

    created_from: Optional[TimeLike] = None
    created_until: Optional[TimeLike] = None
    updated_from: Optional[TimeLike] = None
    updated_until: Optional[TimeLike] = None
    model: Optional[str] = None
    title_contains: Optional[str] = None
    metadata_equals: Mapping[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class MessageFilter:
    """Conditions of message lists and counts; unset ones match all.

    ``only_with_tool_calls`` keeps messages whose tool_calls is present and not empty.
    """

    role: Optional[str] = None
    only_with_tool_calls: bool = False
    created_from: Optional[TimeLike] = None
    created_until: Optional[TimeLike] = None
    metadata_equals: Mapping[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class MessageSearchFilters:
    """Restricts a message search (or a context's memories); every set filter must match.

    ``roles``: any of user, assistant, system, tool; ``created_from`` is inclusive,
    ``created_until`` exclusive.
    """

    conversation_ids: Sequence[IdLike] = field(default_factory=tuple)
    roles: Sequence[str] = field(default_factory=tuple)
    created_from: Optional[TimeLike] = None
    created_until: Optional[TimeLike] = None


@dataclass(slots=True)
class DocumentFilter:
    """Conditions of document lists and counts; unset ones match all.

    ``file_types`` matches any of the listed types; ``filename_contains`` case-insensitively.
    """

    created_from: Optional[TimeLike] = None
    created_until: Optional[TimeLike] = None
    file_types: Sequence[str] = field(default_factory=tuple)
    filename_contains: Optional[str] = None
    metadata_equals: Mapping[str, Any] = field(default_factory=dict)


class _Clear:
    """The type of CLEAR."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "mnemo.CLEAR"


# Passed for a field of update_message, it sets the field to null (None means "unchanged").
CLEAR = _Clear()
