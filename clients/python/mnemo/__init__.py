"""mnemo: the Python client of mnemod, the storage server for AI-chat backends.

``Client`` (blocking, thread-safe) and ``AsyncClient`` (asyncio) speak mnemod's FlatBuffers wire
protocol through the native core ``mnemo._native`` (the C++ client's transport and codec, built
with pybind11 when the package is installed).  Their methods mirror the repositories of the
PostgreSQL backend mnemo replaces (get_user_conversations, search_by_title, soft_delete,
get_conversation_messages, get_token_usage_stats, search_similar, bulk_upsert, ...), take the
``user_id`` a request acts for first, return dataclasses (mnemo.models) and raise typed
exceptions (mnemo.errors, all subclasses of MnemoError).  Atomic writes use
``with client.batch(user_id) as b:``.

``mnemo.wire`` holds the flatc-generated Python readers and builders of protocol/schema/mnemo.fbs
(generated when the package is built, never edited by hand), for tests and tools.
"""

from ._convert import new_id
from .aio import AsyncClient
from .batch import Batch
from .client import Client
from .errors import (AuthenticationError, AuthorizationError, ConflictError, DuplicateRecordError,
                     InternalError, MnemoError, NotPrimaryError, PayloadTooLargeError,
                     RateLimitedError,
                     RecordNotFoundError, RepositoryError, RequestTimeoutError, TransactionError,
                     UnavailableError, ValidationError)
from .inputs import (CLEAR, DEFAULT_MODEL, ConversationFilter, DocumentFilter, MessageFilter,
                     MessageSearchFilters, NewChunk, NewConversation, NewDocument, NewMessage,
                     SearchFilters)
from .models import (AttachResult, Chunk, ContextBudget, ContextChunk, ContextMemory,
                     ContextMessage, ContextResult, Conversation, Document, DocumentCounts,
                     Message, MessageHit, MessageSearchResult, OpStats, Page,
                     PartitionInfo, RankedHit, RankedSearchResult, RetentionReport, RetiredMonth,
                     RoleTokens, SearchHit, SearchResult, ServerInfo, ServerStats, TextLegInfo,
                     TokenStats, UserStats, VectorLegInfo)
from .options import PROTOCOL_VERSION, ClientOptions

__version__ = "0.1.0"

__all__ = [
    "AsyncClient", "Client", "ClientOptions", "Batch", "new_id", "PROTOCOL_VERSION",
    "DEFAULT_MODEL", "CLEAR",
    # inputs
    "NewConversation", "NewMessage", "NewDocument", "NewChunk", "SearchFilters",
    "ConversationFilter", "MessageFilter", "MessageSearchFilters", "DocumentFilter",
    # records and answers
    "Conversation", "Message", "Document", "Chunk", "Page", "UserStats", "RoleTokens",
    "TokenStats", "DocumentCounts", "SearchHit", "SearchResult", "ServerInfo", "PartitionInfo",
    "OpStats", "ServerStats", "AttachResult", "RankedHit", "RankedSearchResult", "TextLegInfo",
    "VectorLegInfo", "RetiredMonth", "RetentionReport", "ContextResult", "ContextMessage",
    "ContextChunk", "ContextBudget", "ContextMemory", "MessageHit", "MessageSearchResult",
    # errors
    "MnemoError", "RepositoryError", "ValidationError", "RecordNotFoundError",
    "DuplicateRecordError", "ConflictError", "TransactionError", "AuthenticationError",
    "AuthorizationError", "RateLimitedError", "PayloadTooLargeError", "UnavailableError",
    "RequestTimeoutError", "InternalError", "NotPrimaryError",
]
