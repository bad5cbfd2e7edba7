"""The operation table shared by Client and AsyncClient.

Each function validates its arguments, and returns an Op: how to encode the request for a given
request id, how to decode the response, and whether the request is a read (safe to resend once
when its connection broke) or a write (never resent).  The encoders and decoders are the native
core's (mnemo._native: the C++ client's codec), so Python and C++ clients speak the protocol
identically; the clients only add I/O around an Op.  Seed-style variants (Optional/bool/list
results) are built here from the same requests by wrapping the decoder.
"""

from __future__ import annotations

import math
import numbers
from datetime import timedelta
from typing import Any, Callable, Generic, Iterable, Optional, Sequence, TypeVar
from uuid import UUID

from . import _convert as conv
from ._native import Request, Response, dec, enc
from .errors import RecordNotFoundError, ValidationError
from .inputs import (CLEAR, ConversationFilter, DocumentFilter, MessageFilter,
                     MessageSearchFilters, NewChunk, NewConversation, NewDocument, NewMessage,
                     SearchFilters)
from .models import (AttachResult, Chunk, ContextResult, Conversation, Document, DocumentCounts,
                     Message, MessageSearchResult, Page, PartitionInfo, RankedSearchResult,
                     RetentionReport, SearchHit, SearchResult, ServerStats, TokenStats, UserStats)

T = TypeVar("T")
U = TypeVar("U")

_FLOAT32_MAX = 3.4e38
_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1
READ = True  # resent once on a fresh connection when the connection broke
WRITE = False  # never resent: it may have been applied
# FROZEN: the wire's Role values, in order.
ROLE_NAMES = ("user", "assistant", "system", "tool")


class Op(Generic[T]):
    """One request: ``encode(request_id) -> Request``, ``decode(Response) -> T``, ``retry``."""

    __slots__ = ("encode", "decode", "retry")

    def __init__(self, encode: Callable[[int], Request], decode: Callable[[Response], T],
                 retry: bool) -> None:
        self.encode = encode
        self.decode = decode
        self.retry = retry


class SearchSpec:
    """One search query, already validated: vector bytes plus options (read by the encoder)."""

    __slots__ = ("vector", "top_k", "min_similarity", "filters", "ef")

    def __init__(self, vector: memoryview, top_k: int, min_similarity: Optional[float],
                 filters: Optional[SearchFilters], ef: Optional[int]) -> None:
        self.vector = vector
        self.top_k = top_k
        self.min_similarity = min_similarity
        self.filters = filters
        self.ef = ef


class HybridSpec:
    """One hybrid search, already validated (read by the encoder); ``fusion`` is the wire value."""

    __slots__ = ("query_text", "vector", "top_k", "filters", "fusion", "rrf_k", "text_weight",
                 "candidates", "min_similarity", "ef")

    def __init__(self, query_text: str, vector: memoryview, top_k: int,
                 filters: Optional[SearchFilters], fusion: int, rrf_k: Optional[float],
                 text_weight: Optional[float], candidates: Optional[int],
                 min_similarity: Optional[float], ef: Optional[int]) -> None:
        self.query_text = query_text
        self.vector = vector
        self.top_k = top_k
        self.filters = filters
        self.fusion = fusion
        self.rrf_k = rrf_k
        self.text_weight = text_weight
        self.candidates = candidates
        self.min_similarity = min_similarity
        self.ef = ef


class MessageSearchSpec:
    """One message search, already validated (read by the encoder); ``vector`` is None without a
    vector leg, ``query_text`` None without a text leg; ``fusion`` is the wire value."""

    __slots__ = ("vector", "query_text", "top_k", "min_similarity", "filters", "ef", "fusion",
                 "rrf_k", "text_weight", "candidates")

    def __init__(self, vector: Optional[memoryview], query_text: Optional[str], top_k: int,
                 min_similarity: Optional[float], filters: Optional[MessageSearchFilters],
                 ef: Optional[int], fusion: int, rrf_k: Optional[float],
                 text_weight: Optional[float], candidates: Optional[int]) -> None:
        self.vector = vector
        self.query_text = query_text
        self.top_k = top_k
        self.min_similarity = min_similarity
        self.filters = filters
        self.ef = ef
        self.fusion = fusion
        self.rrf_k = rrf_k
        self.text_weight = text_weight
        self.candidates = candidates


class ContextSpec:
    """One context assembly, already validated (read by the encoder); ``vector`` is None without
    a vector leg, ``query_text`` empty without a keyword leg."""

    __slots__ = ("conversation_id", "token_budget", "max_messages", "vector", "query_text",
                 "k_chunks", "filters", "min_similarity", "message_budget", "k_memories",
                 "memory_filters")

    def __init__(self, conversation_id: UUID, token_budget: int, max_messages: int,
                 vector: Optional[memoryview], query_text: str, k_chunks: int,
                 filters: Optional[SearchFilters], min_similarity: Optional[float],
                 message_budget: Optional[int], k_memories: int,
                 memory_filters: Optional[MessageSearchFilters]) -> None:
        self.conversation_id = conversation_id
        self.token_budget = token_budget
        self.max_messages = max_messages
        self.vector = vector
        self.query_text = query_text
        self.k_chunks = k_chunks
        self.filters = filters
        self.min_similarity = min_similarity
        self.message_budget = message_budget
        self.k_memories = k_memories
        self.memory_filters = memory_filters


def check_int(value: Any, field: str) -> int:
    """An int64 argument (int or e.g. numpy.int64, not bool), or ValidationError."""
    if type(value) is int and _INT64_MIN <= value <= _INT64_MAX:  # the common case, quickly
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValidationError(f"must be an integer, got {value!r}", field)
    value = int(value)
    if not _INT64_MIN <= value <= _INT64_MAX:
        raise ValidationError(f"is out of range: {value}", field)
    return value


# ---- decoder wrappers -------------------------------------------------------------------------


def _then(decode: Callable[[Response], T], convert: Callable[[T], U]) -> Callable[[Response], U]:
    return lambda payload: convert(decode(payload))


def _or_none(decode: Callable[[Response], T]) -> Callable[[Response], Optional[T]]:
    """NOT_FOUND becomes None (the seeds' Optional results)."""

    def run(payload: Response) -> Optional[T]:
        try:
            return decode(payload)
        except RecordNotFoundError:
            return None

    return run


def _found(decode: Callable[[Response], Any]) -> Callable[[Response], bool]:
    """Success becomes True and NOT_FOUND False (the seeds' bool results)."""

    def run(payload: Response) -> bool:
        try:
            decode(payload)
            return True
        except RecordNotFoundError:
            return False

    return run


def _renamed(decode: Callable[[Response], T], server: str,
             argument: str) -> Callable[[Response], T]:
    """A ValidationError naming the server's field ``server`` names the argument instead."""

    def run(payload: Response) -> T:
        try:
            return decode(payload)
        except ValidationError as error:
            if error.field != server:
                raise
            raise ValidationError(error.message, argument) from error

    return run


# ---- argument checks --------------------------------------------------------------------------


def _user(user_id: Any) -> str:
    if not isinstance(user_id, str) or not user_id:
        raise ValidationError("must be a non-empty string", "user_id")
    return user_id


def _role(role: Any) -> str:
    if role not in ROLE_NAMES:
        raise ValidationError(f"must be one of {', '.join(ROLE_NAMES)}, got {role!r}", "role")
    return role


def _opt_number(value: Any, field: str, limit: float = math.inf) -> Optional[float]:
    """None, or a real number (not bool) within +-limit as a float."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) \
            or not -limit <= value <= limit:
        raise ValidationError(f"must be a number, got {value!r}", field)
    return float(value)


def _opt_int(value: Any, field: str) -> Optional[int]:
    return None if value is None else check_int(value, field)


def _filters(filters: Any) -> Optional[SearchFilters]:
    if filters is not None and not isinstance(filters, SearchFilters):
        raise ValidationError("must be a mnemo.SearchFilters", "filters")
    return filters


def _message_search_filters(filters: Any, field: str) -> Optional[MessageSearchFilters]:
    """None or a mnemo.MessageSearchFilters whose roles are known (``<field>.roles``); the rest
    is checked by the encoder (ids, timestamps) and the server (the time range)."""
    if filters is None:
        return None
    if not isinstance(filters, MessageSearchFilters):
        raise ValidationError("must be a mnemo.MessageSearchFilters", field)
    if isinstance(filters.roles, str):
        raise ValidationError("must be a list of roles", f"{field}.roles")
    for role in filters.roles:
        if role not in ROLE_NAMES:
            raise ValidationError(f"must each be one of {', '.join(ROLE_NAMES)}, got {role!r}",
                                  f"{field}.roles")
    return filters


def _filter(value: Any, cls: type) -> Any:
    """A list or count condition: None or an instance of ``cls`` (mnemo.ConversationFilter, ...)."""
    if value is not None and not isinstance(value, cls):
        raise ValidationError(f"must be a mnemo.{cls.__name__}", "filter")
    return value


def _message_filter(value: Any) -> Optional[MessageFilter]:
    checked = _filter(value, MessageFilter)
    if checked is not None and checked.role is not None:
        _role(checked.role)
    return checked


def _count(encode: Callable[[int], Request], exists_only: bool) -> Op[Any]:
    """A count request's Op: the count, or (exists_only) whether it is above zero."""
    return Op(encode, dec.exists if exists_only else dec.count, READ)


def _new_chunks(chunks: Sequence[NewChunk]) -> list[NewChunk]:
    items = list(chunks)
    for index, item in enumerate(items):
        if not isinstance(item, NewChunk):
            raise ValidationError("must be a mnemo.NewChunk", f"chunks[{index}]")
    return items


def _query_text(text: Any, field: str) -> str:
    """A query text; its own rules (not blank, at most 4096 bytes, UTF-8) are the server's."""
    if not isinstance(text, str):
        raise ValidationError(f"must be a string, got {type(text).__name__}", field)
    return text


def _search_spec(vector: Any, top_k: Any, min_similarity: Any, filters: Optional[SearchFilters],
                 ef: Any, field: str) -> SearchSpec:
    top = check_int(top_k, "top_k")
    similarity = _opt_number(min_similarity, "min_similarity", _FLOAT32_MAX)
    beam = _opt_int(ef, "ef")
    return SearchSpec(conv.vector_bytes(vector, field), top, similarity, _filters(filters), beam)


# ---- conversations ----------------------------------------------------------------------------


def create_conversation(user_id: str, item: NewConversation) -> Op[Conversation]:
    user = _user(user_id)
    return Op(lambda rid: enc.create_conversation(rid, user, item, False), dec.conversation, WRITE)


def upsert_conversation(user_id: str, item: NewConversation) -> Op[Conversation]:
    user = _user(user_id)
    return Op(lambda rid: enc.create_conversation(rid, user, item, True), dec.conversation, WRITE)


def get_conversation(user_id: str, conversation_id: Any,
                     include_deleted: bool = False) -> Op[Conversation]:
    user, cid = _user(user_id), conv.to_uuid(conversation_id, "conversation_id")
    include = bool(include_deleted)
    return Op(lambda rid: enc.get_conversation(rid, user, cid, include), dec.conversation, READ)


def get_user_conversation(user_id: str, conversation_id: Any,
                          include_deleted: bool = False) -> Op[Optional[Conversation]]:
    op = get_conversation(user_id, conversation_id, include_deleted)
    return Op(op.encode, _or_none(dec.conversation), READ)


def list_conversations(user_id: str, *, skip: int = 0, limit: int = 20,
                       cursor: Optional[str] = None, include_deleted: bool = False,
                       order_by: str = "created_at",
                       title_contains: Optional[str] = None,
                       filter: Optional[ConversationFilter] = None) -> Op[Page[Conversation]]:
    user = _user(user_id)
    if order_by not in ("created_at", "updated_at"):
        raise ValidationError("must be 'created_at' or 'updated_at'", "order_by")
    by_updated = order_by == "updated_at"
    include = bool(include_deleted)
    chosen = _filter(filter, ConversationFilter)
    return Op(lambda rid: enc.list_conversations(rid, user, by_updated, skip, limit, cursor, include,
                                                 title_contains, chosen),
              dec.conversation_page, READ)


def count_conversations(user_id: str, *, include_deleted: bool = False,
                        filter: Optional[ConversationFilter] = None,
                        exists_only: bool = False) -> Op[Any]:
    """The matching conversations' count, or (exists_only) whether there is one."""
    user, chosen = _user(user_id), _filter(filter, ConversationFilter)
    include, exists = bool(include_deleted), bool(exists_only)
    return _count(lambda rid: enc.count_conversations(rid, user, chosen, include, exists), exists)


def get_user_conversations(user_id: str, skip: int = 0, limit: int = 10,
                           include_deleted: bool = False) -> Op[list[Conversation]]:
    op = list_conversations(user_id, skip=skip, limit=limit, include_deleted=include_deleted)
    return Op(op.encode, _then(op.decode, lambda page: page.items), READ)


def search_by_title(user_id: str, search_term: str, skip: int = 0,
                    limit: int = 10) -> Op[list[Conversation]]:
    if not isinstance(search_term, str):
        raise ValidationError("must be a string", "search_term")
    op = list_conversations(user_id, skip=skip, limit=limit, title_contains=search_term)
    return Op(op.encode, _then(op.decode, lambda page: page.items), READ)


def get_user_stats(user_id: str) -> Op[UserStats]:
    user = _user(user_id)
    return Op(lambda rid: enc.get_user_stats(rid, user), dec.user_stats, READ)


def count_user_conversations(user_id: str, include_deleted: bool = False) -> Op[int]:
    op = get_user_stats(user_id)

    def pick(stats: UserStats) -> int:
        return stats.total_conversations if include_deleted else stats.active_conversations

    return Op(op.encode, _then(op.decode, pick), READ)


def update_conversation(user_id: str, conversation_id: Any, *, title: Optional[str] = None,
                        summary: Optional[str] = None, model: Optional[str] = None,
                        system_prompt: Optional[str] = None,
                        metadata: Any = None) -> Op[Conversation]:
    user, cid = _user(user_id), conv.to_uuid(conversation_id, "conversation_id")
    return Op(lambda rid: enc.update_conversation(rid, user, cid, title, summary, model,
                                                  system_prompt, metadata),
              dec.conversation, WRITE)


def update_title_and_summary(user_id: str, conversation_id: Any, title: Optional[str] = None,
                             summary: Optional[str] = None) -> Op[Optional[Conversation]]:
    if title is None and summary is None:
        return get_user_conversation(user_id, conversation_id)
    op = update_conversation(user_id, conversation_id, title=title, summary=summary)
    return Op(op.encode, _or_none(dec.conversation), WRITE)


def soft_delete(user_id: str, conversation_id: Any) -> Op[bool]:
    user, cid = _user(user_id), conv.to_uuid(conversation_id, "conversation_id")
    return Op(lambda rid: enc.delete_conversation(rid, user, cid, False),
              _found(dec.conversation), WRITE)


def undelete(user_id: str, conversation_id: Any) -> Op[bool]:
    user, cid = _user(user_id), conv.to_uuid(conversation_id, "conversation_id")
    return Op(lambda rid: enc.restore_conversation(rid, user, cid), _found(dec.conversation),
              WRITE)


def delete_conversation(user_id: str, conversation_id: Any) -> Op[None]:
    user, cid = _user(user_id), conv.to_uuid(conversation_id, "conversation_id")
    return Op(lambda rid: enc.delete_conversation(rid, user, cid, True), dec.done, WRITE)


# ---- messages ---------------------------------------------------------------------------------


def create_message(user_id: str, item: NewMessage) -> Op[Message]:
    user = _user(user_id)
    return Op(lambda rid: enc.append_message(rid, user, item, False), dec.message, WRITE)


def upsert_message(user_id: str, item: NewMessage) -> Op[Message]:
    user = _user(user_id)
    return Op(lambda rid: enc.append_message(rid, user, item, True), dec.message, WRITE)


def get_message(user_id: str, message_id: Any) -> Op[Message]:
    user, mid = _user(user_id), conv.to_uuid(message_id, "message_id")
    return Op(lambda rid: enc.get_message(rid, user, mid), dec.message, READ)


def list_messages(user_id: str, conversation_id: Any, *, descending: bool = False, skip: int = 0,
                  limit: int = 50, cursor: Optional[str] = None, role: Optional[str] = None,
                  only_with_tool_calls: bool = False,
                  filter: Optional[MessageFilter] = None) -> Op[Page[Message]]:
    user, cid = _user(user_id), conv.to_uuid(conversation_id, "conversation_id")
    role = None if role is None else _role(role)
    order, tools = bool(descending), bool(only_with_tool_calls)
    chosen = _message_filter(filter)
    return Op(lambda rid: enc.list_messages(rid, user, cid, order, skip, limit, cursor, role, tools,
                                            chosen),
              dec.message_page, READ)


def count_messages(user_id: str, conversation_id: Any, *, filter: Optional[MessageFilter] = None,
                   exists_only: bool = False) -> Op[Any]:
    """The conversation's matching messages' count, or (exists_only) whether there is one."""
    user, cid = _user(user_id), conv.to_uuid(conversation_id, "conversation_id")
    chosen, exists = _message_filter(filter), bool(exists_only)
    return _count(lambda rid: enc.count_messages(rid, user, cid, chosen, exists), exists)


def update_message(user_id: str, message_id: Any, *, role: Optional[str] = None,
                   content: Optional[str] = None, parts: Any = None, tool_calls: Any = None,
                   tool_results: Any = None, attachments: Any = None, tokens_used: Any = None,
                   metadata: Any = None) -> Op[Message]:
    """None leaves a field unchanged; CLEAR sets parts, tool_calls, tool_results, attachments or
    tokens_used to null."""
    user, mid = _user(user_id), conv.to_uuid(message_id, "message_id")
    role = None if role is None else _role(role)
    if metadata is CLEAR:
        raise ValidationError("cannot be cleared; pass {} for no metadata", "metadata")
    if tokens_used is not None and tokens_used is not CLEAR:
        tokens_used = check_int(tokens_used, "tokens_used")
    return Op(lambda rid: enc.update_message(rid, user, mid, role, content, parts, tool_calls,
                                             tool_results, attachments, tokens_used, metadata,
                                             CLEAR),
              dec.message, WRITE)


def delete_message(user_id: str, message_id: Any) -> Op[Message]:
    user, mid = _user(user_id), conv.to_uuid(message_id, "message_id")
    return Op(lambda rid: enc.delete_message(rid, user, mid), dec.message, WRITE)


def _items_of(op: Op[Page[T]], reverse: bool = False) -> Op[list[T]]:
    if reverse:
        return Op(op.encode, _then(op.decode, lambda page: page.items[::-1]), READ)
    return Op(op.encode, _then(op.decode, lambda page: page.items), READ)


def get_conversation_messages(user_id: str, conversation_id: Any, skip: int = 0,
                              limit: int = 50) -> Op[list[Message]]:
    return _items_of(list_messages(user_id, conversation_id, skip=skip, limit=limit))


def get_conversation_messages_desc(user_id: str, conversation_id: Any, skip: int = 0,
                                   limit: int = 50) -> Op[list[Message]]:
    return _items_of(list_messages(user_id, conversation_id, descending=True, skip=skip,
                                   limit=limit), reverse=True)


def get_conversation_message_count(user_id: str, conversation_id: Any) -> Op[int]:
    op = list_messages(user_id, conversation_id, limit=1)
    return Op(op.encode, _then(op.decode, lambda page: page.total), READ)


def get_messages_by_role(user_id: str, conversation_id: Any, role: str, skip: int = 0,
                         limit: int = 50) -> Op[list[Message]]:
    return _items_of(list_messages(user_id, conversation_id, role=role, skip=skip, limit=limit))


def get_messages_with_tool_calls(user_id: str, conversation_id: Any, skip: int = 0,
                                 limit: int = 200) -> Op[list[Message]]:
    return _items_of(list_messages(user_id, conversation_id, descending=True, skip=skip,
                                   limit=limit, only_with_tool_calls=True))


def get_last_messages(user_id: str, conversation_id: Any, count: int = 50) -> Op[list[Message]]:
    user, cid = _user(user_id), conv.to_uuid(conversation_id, "conversation_id")
    return Op(lambda rid: enc.last_messages(rid, user, cid, count), dec.messages, READ)


def get_last_message_by_role(user_id: str, conversation_id: Any,
                             role: str) -> Op[Optional[Message]]:
    user, cid = _user(user_id), conv.to_uuid(conversation_id, "conversation_id")
    checked = _role(role)
    return Op(lambda rid: enc.last_message_by_role(rid, user, cid, checked),
              dec.optional_message, READ)


def update_tool_results(user_id: str, message_id: Any, tool_results: Any) -> Op[Optional[Message]]:
    user, mid = _user(user_id), conv.to_uuid(message_id, "message_id")
    return Op(lambda rid: enc.set_tool_results(rid, user, mid, tool_results),
              _or_none(dec.message), WRITE)


def get_token_usage_stats(user_id: str, conversation_id: Any) -> Op[TokenStats]:
    user, cid = _user(user_id), conv.to_uuid(conversation_id, "conversation_id")
    return Op(lambda rid: enc.get_token_stats(rid, user, cid), dec.token_stats, READ)


def delete_conversation_messages(user_id: str, conversation_id: Any) -> Op[int]:
    user, cid = _user(user_id), conv.to_uuid(conversation_id, "conversation_id")
    return Op(lambda rid: enc.delete_messages(rid, user, cid), dec.count, WRITE)


# ---- documents --------------------------------------------------------------------------------


def create_document(user_id: str, item: NewDocument) -> Op[Document]:
    user = _user(user_id)
    return Op(lambda rid: enc.create_document(rid, user, item), dec.document, WRITE)


def get_document(user_id: str, document_id: Any, include_deleted: bool = False) -> Op[Document]:
    user, did = _user(user_id), conv.to_uuid(document_id, "document_id")
    include = bool(include_deleted)
    return Op(lambda rid: enc.get_document(rid, user, did, include), dec.document, READ)


def list_documents(user_id: str, *, skip: int = 0, limit: int = 20, cursor: Optional[str] = None,
                   include_deleted: bool = False,
                   filename_contains: Optional[str] = None,
                   filter: Optional[DocumentFilter] = None) -> Op[Page[Document]]:
    user = _user(user_id)
    include = bool(include_deleted)
    chosen = _filter(filter, DocumentFilter)
    return Op(lambda rid: enc.list_documents(rid, user, skip, limit, cursor, include,
                                             filename_contains, chosen),
              dec.document_page, READ)


def count_matching_documents(user_id: str, *, include_deleted: bool = False,
                             filter: Optional[DocumentFilter] = None,
                             exists_only: bool = False) -> Op[Any]:
    """The matching documents' count, or (exists_only) whether there is one."""
    user, chosen = _user(user_id), _filter(filter, DocumentFilter)
    include, exists = bool(include_deleted), bool(exists_only)
    return _count(lambda rid: enc.count_matching_documents(rid, user, chosen, include, exists),
                  exists)


def update_document(user_id: str, document_id: Any, *, filename: Optional[str] = None,
                    file_type: Optional[str] = None, content: Optional[str] = None,
                    metadata: Any = None) -> Op[Document]:
    user, did = _user(user_id), conv.to_uuid(document_id, "document_id")
    return Op(lambda rid: enc.update_document(rid, user, did, filename, file_type, content,
                                              metadata),
              dec.document, WRITE)


def get_user_documents(user_id: str, skip: int = 0, limit: int = 20,
                       include_deleted: bool = False) -> Op[list[Document]]:
    return _items_of(list_documents(user_id, skip=skip, limit=limit,
                                    include_deleted=include_deleted))


def search_documents_by_filename(user_id: str, search_term: str, skip: int = 0,
                                 limit: int = 100) -> Op[list[Document]]:
    if not isinstance(search_term, str):
        raise ValidationError("must be a string", "search_term")
    return _items_of(list_documents(user_id, skip=skip, limit=limit,
                                    filename_contains=search_term))


def count_documents(user_id: str) -> Op[DocumentCounts]:
    user = _user(user_id)
    return Op(lambda rid: enc.count_documents(rid, user), dec.document_counts, READ)


def get_user_document_count(user_id: str) -> Op[int]:
    op = count_documents(user_id)
    return Op(op.encode, _then(op.decode, lambda counts: counts.active), READ)


def soft_delete_document(user_id: str, document_id: Any) -> Op[bool]:
    user, did = _user(user_id), conv.to_uuid(document_id, "document_id")
    return Op(lambda rid: enc.delete_document(rid, user, did, False), _found(dec.document), WRITE)


def restore_document(user_id: str, document_id: Any) -> Op[Document]:
    user, did = _user(user_id), conv.to_uuid(document_id, "document_id")
    return Op(lambda rid: enc.restore_document(rid, user, did), dec.document, WRITE)


def delete_document(user_id: str, document_id: Any) -> Op[None]:
    user, did = _user(user_id), conv.to_uuid(document_id, "document_id")
    return Op(lambda rid: enc.delete_document(rid, user, did, True), dec.done, WRITE)


# ---- chunks and vector search -----------------------------------------------------------------


def add_chunks(user_id: str, chunks: Sequence[NewChunk]) -> Op[list[Chunk]]:
    user, items = _user(user_id), _new_chunks(chunks)
    return Op(lambda rid: enc.add_chunks(rid, user, items), dec.chunks, WRITE)


def replace_chunks(user_id: str, document_id: Any, chunks: Sequence[NewChunk]) -> Op[list[Chunk]]:
    user, did = _user(user_id), conv.to_uuid(document_id, "document_id")
    items = _new_chunks(chunks)
    return Op(lambda rid: enc.replace_chunks(rid, user, did, items), dec.chunks, WRITE)


def get_chunk(user_id: str, chunk_id: Any, include_deleted: bool = False) -> Op[Chunk]:
    user, cid = _user(user_id), conv.to_uuid(chunk_id, "chunk_id")
    include = bool(include_deleted)
    return Op(lambda rid: enc.get_chunk(rid, user, cid, include), dec.chunk, READ)


def list_chunks(user_id: str, document_id: Any, *, skip: int = 0, limit: int = 100,
                cursor: Optional[str] = None, include_deleted: bool = False) -> Op[Page[Chunk]]:
    user, did = _user(user_id), conv.to_uuid(document_id, "document_id")
    include = bool(include_deleted)
    return Op(lambda rid: enc.list_chunks(rid, user, did, skip, limit, cursor, include),
              dec.chunk_page, READ)


def delete_chunk(user_id: str, chunk_id: Any, hard: bool) -> Op[Chunk]:
    user, cid = _user(user_id), conv.to_uuid(chunk_id, "chunk_id")
    return Op(lambda rid: enc.delete_chunk(rid, user, cid, bool(hard)), dec.chunk, WRITE)


def restore_chunk(user_id: str, chunk_id: Any) -> Op[Chunk]:
    user, cid = _user(user_id), conv.to_uuid(chunk_id, "chunk_id")
    return Op(lambda rid: enc.restore_chunk(rid, user, cid), dec.chunk, WRITE)


def search(user_id: str, query: Any, top_k: int = 10, *, min_similarity: Optional[float] = None,
           filters: Optional[SearchFilters] = None, ef: Optional[int] = None) -> Op[SearchResult]:
    user = _user(user_id)
    spec = _search_spec(query, top_k, min_similarity, filters, ef, "query")
    return Op(lambda rid: enc.search(rid, user, spec), dec.search_result, READ)


def search_similar(user_id: str, query_embedding: Any, limit: int = 5,
                   threshold: Optional[float] = None, *,
                   filters: Optional[SearchFilters] = None) -> Op[list[SearchHit]]:
    op = search(user_id, query_embedding, limit, min_similarity=threshold, filters=filters)
    return Op(op.encode, _then(op.decode, lambda result: result.hits), READ)


def search_batch(user_id: str, queries: Iterable[Any], top_k: int = 10, *,
                 min_similarity: Optional[float] = None, filters: Optional[SearchFilters] = None,
                 ef: Optional[int] = None) -> Op[list[SearchResult]]:
    user = _user(user_id)
    if isinstance(queries, (str, bytes)):
        raise ValidationError("must be a sequence of vectors", "queries")
    specs = [_search_spec(query, top_k, min_similarity, filters, ef, f"queries[{i}]")
             for i, query in enumerate(queries)]
    return Op(lambda rid: enc.search_batch(rid, user, specs), dec.search_results, READ)


def search_similar_batch(user_id: str, query_embeddings: Iterable[Any], limit: int = 5,
                         threshold: Optional[float] = None, *,
                         filters: Optional[SearchFilters] = None) -> Op[list[list[SearchHit]]]:
    op = search_batch(user_id, query_embeddings, limit, min_similarity=threshold, filters=filters)
    return Op(op.encode, _then(op.decode, lambda results: [r.hits for r in results]), READ)


def search_text(user_id: str, query: Any, top_k: int = 10,
                filters: Optional[SearchFilters] = None) -> Op[RankedSearchResult]:
    user = _user(user_id)
    text = _query_text(query, "query")
    top = check_int(top_k, "top_k")
    chosen = _filters(filters)
    return Op(lambda rid: enc.search_text(rid, user, text, top, chosen), dec.ranked_search_result,
              READ)


def _fusion(fusion: Any) -> int:
    """The wire value of a fusion name ("rrf" or "weighted")."""
    if fusion not in dec.FUSION_NAMES:
        raise ValidationError(f"must be one of {', '.join(dec.FUSION_NAMES)}, got {fusion!r}",
                              "fusion")
    return dec.FUSION_NAMES.index(fusion)


def search_hybrid(user_id: str, query_text: Any, query_embedding: Any, top_k: int = 10,
                  filters: Optional[SearchFilters] = None, fusion: str = "rrf", *,
                  text_weight: Optional[float] = None, rrf_k: Optional[float] = None,
                  candidates: Optional[int] = None, min_similarity: Optional[float] = None,
                  ef: Optional[int] = None) -> Op[RankedSearchResult]:
    user = _user(user_id)
    spec = HybridSpec(
        _query_text(query_text, "query_text"),
        conv.vector_bytes(query_embedding, "query_embedding"),
        check_int(top_k, "top_k"),
        _filters(filters),
        _fusion(fusion),
        _opt_number(rrf_k, "rrf_k"),
        _opt_number(text_weight, "text_weight"),
        _opt_int(candidates, "candidates"),
        _opt_number(min_similarity, "min_similarity", _FLOAT32_MAX),
        _opt_int(ef, "ef"))
    return Op(lambda rid: enc.search_hybrid(rid, user, spec), dec.ranked_search_result, READ)


def search_messages(user_id: str, query_embedding: Any = None, top_k: int = 10,
                    filters: Optional[MessageSearchFilters] = None,
                    min_similarity: Optional[float] = None, ef: Optional[int] = None,
                    query_text: Any = None, fusion: str = "rrf", *,
                    text_weight: Optional[float] = None, rrf_k: Optional[float] = None,
                    candidates: Optional[int] = None) -> Op[MessageSearchResult]:
    """Types and role names are checked here; ranges, the dimension and the text's rules are
    the server's."""
    user = _user(user_id)
    if query_embedding is None and query_text is None:
        raise ValidationError("needs query_embedding, query_text or both", "query_embedding")
    spec = MessageSearchSpec(
        None if query_embedding is None else conv.vector_bytes(query_embedding, "query_embedding"),
        None if query_text is None else _query_text(query_text, "query_text"),
        check_int(top_k, "top_k"),
        _opt_number(min_similarity, "min_similarity", _FLOAT32_MAX),
        _message_search_filters(filters, "filters"),
        _opt_int(ef, "ef"),
        _fusion(fusion),
        _opt_number(rrf_k, "rrf_k"),
        _opt_number(text_weight, "text_weight"),
        _opt_int(candidates, "candidates"))
    # mnemod names the query `query`; here it is the argument query_embedding.
    return Op(lambda rid: enc.search_messages(rid, user, spec),
              _renamed(dec.message_search_result, "query", "query_embedding"), READ)


# ---- context assembly -------------------------------------------------------------------------


def assemble_context(user_id: str, conversation_id: Any, token_budget: int,
                     query_embedding: Any = None, query_text: Any = None, k_chunks: int = 5,
                     max_messages: int = 20, filters: Optional[SearchFilters] = None,
                     min_similarity: Optional[float] = None,
                     message_budget: Optional[int] = None, k_memories: int = 5,
                     memory_filters: Optional[MessageSearchFilters] = None) -> Op[ContextResult]:
    """Types are checked here; ranges, the dimension and the budget against the system prompt
    are the server's (ValidationError naming the field either way)."""
    user = _user(user_id)
    spec = ContextSpec(
        conv.to_uuid(conversation_id, "conversation_id"),
        check_int(token_budget, "token_budget"),
        check_int(max_messages, "max_messages"),
        None if query_embedding is None else conv.vector_bytes(query_embedding, "query_embedding"),
        "" if query_text is None else _query_text(query_text, "query_text"),
        check_int(k_chunks, "k_chunks"),
        _filters(filters),
        _opt_number(min_similarity, "min_similarity", _FLOAT32_MAX),
        _opt_int(message_budget, "message_budget"),
        check_int(k_memories, "k_memories"),
        _message_search_filters(memory_filters, "memory_filters"))
    return Op(lambda rid: enc.assemble_context(rid, user, spec), dec.context, READ)


# ---- atomic batches ---------------------------------------------------------------------------


def apply_batch(user_id: str, ops: Sequence[tuple[str, Any]]) -> Op[list[UUID]]:
    user = _user(user_id)
    items = list(ops)
    return Op(lambda rid: enc.apply_batch(rid, user, items), dec.batch_ids, WRITE)


_UPSERT_KINDS = ((NewConversation, "upsert_conversation"), (NewMessage, "upsert_message"),
                 (NewDocument, "create_document"), (NewChunk, "add_chunk"))


def bulk_upsert(user_id: str, records: Iterable[Any]) -> Op[int]:
    ops = []
    for index, record in enumerate(records):
        kind = next((name for cls, name in _UPSERT_KINDS if isinstance(record, cls)), None)
        if kind is None:
            raise ValidationError("must be a NewConversation, NewMessage, NewDocument or NewChunk",
                                  f"records[{index}]")
        ops.append((kind, record))
    op = apply_batch(user_id, ops)
    return Op(op.encode, _then(op.decode, len), WRITE)


# ---- administration (service principal) -------------------------------------------------------


def get_stats() -> Op[ServerStats]:
    return Op(enc.get_stats, dec.stats, READ)


def list_partitions() -> Op[list[PartitionInfo]]:
    return Op(enc.list_partitions, dec.partitions, READ)


def rebuild_partition(month: str) -> Op[None]:
    return Op(lambda rid: enc.rebuild_partition(rid, month), dec.done, WRITE)


def archive_partition(month: str, path: str) -> Op[int]:
    return Op(lambda rid: enc.archive_partition(rid, month, path), dec.count, WRITE)


def drop_partition(month: str) -> Op[int]:
    return Op(lambda rid: enc.drop_partition(rid, month), dec.count, WRITE)


def attach_archive(path: str) -> Op[AttachResult]:
    return Op(lambda rid: enc.attach_archive(rid, path), dec.attach, WRITE)


def create_backup(path: str) -> Op[None]:
    return Op(lambda rid: enc.create_backup(rid, path), dec.done, WRITE)


def apply_retention(keep_months: Optional[int] = None, archive_dir: Optional[str] = None,
                    purge_after: Optional[timedelta] = None) -> Op[RetentionReport]:
    """All None: the server's configured policy; otherwise this one (parts left None are off)."""
    months = None if keep_months is None else check_int(keep_months, "keep_months")
    if months is not None and not 0 <= months < (1 << 31):
        raise ValidationError(f"must be between 0 and 2^31-1, got {months}", "keep_months")
    seconds = None
    if purge_after is not None:
        if not isinstance(purge_after, timedelta):
            raise ValidationError("must be a datetime.timedelta", "purge_after")
        seconds = int(purge_after.total_seconds())
    return Op(lambda rid: enc.apply_retention(rid, months, archive_dir, seconds), dec.retention,
              WRITE)
