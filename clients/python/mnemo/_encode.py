"""Request encoders: Python values -> one framed Request FlatBuffer (protocol/schema/mnemo.fbs).

Each function builds the request with the flatc-generated builders of ``mnemo.wire`` and returns
the whole frame (u32 little-endian payload length + payload) as a memoryview, ready to write.
Nested objects are built before the table that refers to them, as FlatBuffers requires; ids are
structs written inline.  Embeddings are copied once, straight into the builder's buffer.
"""

from __future__ import annotations

import numbers
from typing import Any, Mapping, Optional, Sequence
from uuid import UUID

import flatbuffers

from . import _convert as conv
from . import _fast_search
from .errors import ValidationError
from .inputs import (CLEAR, ConversationFilter, DocumentFilter, MessageFilter, NewChunk,
                     NewConversation, NewDocument, NewMessage, SearchFilters)
from .wire import AddChunksRequest as w_add_chunks
from .wire import AppendMessageRequest as w_append
from .wire import ApplyBatchRequest as w_apply_batch
from .wire import ApplyRetentionRequest as w_apply_retention
from .wire import ArchivePartitionRequest as w_archive
from .wire import AttachArchiveRequest as w_attach
from .wire import BatchOp as w_batch_op
from .wire import ConversationFilter as w_conversation_filter
from .wire import CountConversationsRequest as w_count_conversations
from .wire import CountDocumentsRequest as w_count_documents
from .wire import CountMatchingDocumentsRequest as w_count_matching_documents
from .wire import CountMessagesRequest as w_count_messages
from .wire import CreateBackupRequest as w_backup
from .wire import CreateConversationRequest as w_create_conversation
from .wire import CreateDocumentRequest as w_create_document
from .wire import DeleteChunkRequest as w_delete_chunk
from .wire import DeleteConversationRequest as w_delete_conversation
from .wire import DeleteDocumentRequest as w_delete_document
from .wire import DeleteMessageRequest as w_delete_message
from .wire import DeleteMessagesRequest as w_delete_messages
from .wire import DocumentFilter as w_document_filter
from .wire import DropPartitionRequest as w_drop
from .wire import GetChunkRequest as w_get_chunk
from .wire import GetConversationRequest as w_get_conversation
from .wire import GetDocumentRequest as w_get_document
from .wire import GetMessageRequest as w_get_message
from .wire import GetStatsRequest as w_get_stats
from .wire import GetTokenStatsRequest as w_token_stats
from .wire import GetUserStatsRequest as w_user_stats
from .wire import Hello as w_hello
from .wire import LastMessageByRoleRequest as w_last_by_role
from .wire import LastMessagesRequest as w_last_messages
from .wire import ListChunksRequest as w_list_chunks
from .wire import ListConversationsRequest as w_list_conversations
from .wire import ListDocumentsRequest as w_list_documents
from .wire import ListMessagesRequest as w_list_messages
from .wire import ListPartitionsRequest as w_list_partitions
from .wire import MessageFilter as w_message_filter
from .wire import MetadataEquals as w_metadata_equals
from .wire import NewChunk as w_new_chunk
from .wire import NewConversation as w_new_conversation
from .wire import NewDocument as w_new_document
from .wire import NewMessage as w_new_message
from .wire import RebuildPartitionRequest as w_rebuild
from .wire import ReplaceChunksRequest as w_replace_chunks
from .wire import Request as w_request
from .wire import RestoreChunkRequest as w_restore_chunk
from .wire import RestoreConversationRequest as w_restore_conversation
from .wire import RestoreDocumentRequest as w_restore_document
from .wire import SearchBatchRequest as w_search_batch
from .wire import SearchFilters as w_search_filters
from .wire import SearchQuery as w_search_query
from .wire import SearchHybridRequest as w_search_hybrid
from .wire import SearchRequest as w_search
from .wire import SearchTextRequest as w_search_text
from .wire import SetToolResultsRequest as w_set_tool_results
from .wire import UpdateConversationRequest as w_update_conversation
from .wire import UpdateDocumentRequest as w_update_document
from .wire import UpdateMessageRequest as w_update_message
from .wire import UpsertConversationRequest as w_upsert_conversation
from .wire import UpsertMessageRequest as w_upsert_message
from .wire.Id import CreateId
from .wire.RequestBody import RequestBody

_FILE_IDENTIFIER = b"MNEM"
_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1


class SearchSpec:
    """One search query, already validated: vector bytes plus options."""

    __slots__ = ("vector", "top_k", "min_similarity", "filters", "ef")

    def __init__(self, vector: memoryview, top_k: int, min_similarity: Optional[float],
                 filters: Optional[SearchFilters], ef: Optional[int]) -> None:
        self.vector = vector
        self.top_k = top_k
        self.min_similarity = min_similarity
        self.filters = filters
        self.ef = ef


# ---- small helpers ----------------------------------------------------------------------------


def check_int(value: Any, field: str) -> int:
    """An int64 argument (int or e.g. numpy.int64, not bool), or ValidationError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValidationError(f"must be an integer, got {value!r}", field)
    value = int(value)
    if not _INT64_MIN <= value <= _INT64_MAX:
        raise ValidationError(f"is out of range: {value}", field)
    return value


def _text(b: flatbuffers.Builder, value: Any, field: str) -> int:
    if not isinstance(value, str):
        raise ValidationError(f"must be a string, got {type(value).__name__}", field)
    return b.CreateString(value)


def _opt_text(b: flatbuffers.Builder, value: Any, field: str) -> int:
    """The string's offset, or 0 (absent) for None."""
    return 0 if value is None else _text(b, value, field)


def _opt_json(b: flatbuffers.Builder, value: Any, field: str) -> int:
    return 0 if value is None else b.CreateString(conv.to_json(value, field))


def _id(b: flatbuffers.Builder, value: UUID) -> int:
    hi, lo = conv.id_halves(value)
    return CreateId(b, hi, lo)


def _floats(b: flatbuffers.Builder, data: memoryview) -> int:
    """A [float] vector from little-endian float32 bytes, copied once into the buffer."""
    b.StartVector(4, len(data) // 4, 4)
    b.head = b.head - len(data)
    b.Bytes[b.head:b.head + len(data)] = data
    return b.EndVector()


def _finish(b: flatbuffers.Builder, request_id: int, user_id: Optional[str], body_type: int,
            body: int) -> memoryview:
    """Finishes the Request and returns the framed bytes (length prefix + payload)."""
    user = _text(b, user_id, "user_id") if user_id else 0
    w_request.Start(b)
    w_request.AddId(b, request_id)
    w_request.AddUserId(b, user)
    w_request.AddBodyType(b, body_type)
    w_request.AddBody(b, body)
    b.Finish(w_request.End(b), _FILE_IDENTIFIER)
    head = b.Head()
    size = len(b.Bytes) - head
    if head >= 4:  # the builder fills its buffer from the back: the prefix fits in front
        b.Bytes[head - 4:head] = size.to_bytes(4, "little")
        return memoryview(b.Bytes)[head - 4:]
    return memoryview(size.to_bytes(4, "little") + bytes(b.Bytes[head:]))


def _id_only(module: Any, body_type: int, request_id: int, user_id: Optional[str], value: UUID,
             flag: Optional[bool] = None) -> memoryview:
    """Requests whose table is (id: Id [, a bool]) — gets, deletes, restores."""
    b = flatbuffers.Builder(128)
    module.Start(b)
    module.AddId(b, _id(b, value))
    if flag:
        # The second field is include_deleted or hard, depending on the request.
        b.PrependBoolSlot(1, True, False)
    return _finish(b, request_id, user_id, body_type, module.End(b))


def _empty(module: Any, body_type: int, request_id: int, user_id: Optional[str]) -> memoryview:
    b = flatbuffers.Builder(64)
    module.Start(b)
    return _finish(b, request_id, user_id, body_type, module.End(b))


# ---- records ----------------------------------------------------------------------------------


def _new_conversation(b: flatbuffers.Builder, item: NewConversation) -> int:
    title = _text(b, item.title, "title")
    summary = _opt_text(b, item.summary, "summary")
    model = _opt_text(b, item.model, "model")
    system_prompt = _text(b, item.system_prompt, "system_prompt")
    metadata = _opt_json(b, item.metadata, "metadata")
    conversation_id = conv.opt_uuid(item.id, "id")
    w_new_conversation.Start(b)
    if conversation_id is not None:
        w_new_conversation.AddId(b, _id(b, conversation_id))
    w_new_conversation.AddTitle(b, title)
    w_new_conversation.AddSummary(b, summary)
    w_new_conversation.AddModel(b, model)
    w_new_conversation.AddSystemPrompt(b, system_prompt)
    w_new_conversation.AddMetadata(b, metadata)
    return w_new_conversation.End(b)


def _new_message(b: flatbuffers.Builder, item: NewMessage) -> int:
    role = _text(b, item.role, "role")
    content = _text(b, item.content, "content")
    parts = _opt_json(b, item.parts, "parts")
    tool_calls = _opt_json(b, item.tool_calls, "tool_calls")
    tool_results = _opt_json(b, item.tool_results, "tool_results")
    attachments = _opt_json(b, item.attachments, "attachments")
    metadata = _opt_json(b, item.metadata, "metadata")
    message_id = conv.opt_uuid(item.id, "id")
    conversation_id = conv.to_uuid(item.conversation_id, "conversation_id")
    tokens = None if item.tokens_used is None else check_int(item.tokens_used, "tokens_used")
    w_new_message.Start(b)
    if message_id is not None:
        w_new_message.AddId(b, _id(b, message_id))
    w_new_message.AddConversationId(b, _id(b, conversation_id))
    w_new_message.AddRole(b, role)
    w_new_message.AddContent(b, content)
    w_new_message.AddParts(b, parts)
    w_new_message.AddToolCalls(b, tool_calls)
    w_new_message.AddToolResults(b, tool_results)
    w_new_message.AddAttachments(b, attachments)
    if tokens is not None:
        w_new_message.AddTokensUsed(b, tokens)
    w_new_message.AddMetadata(b, metadata)
    return w_new_message.End(b)


def _new_document(b: flatbuffers.Builder, item: NewDocument) -> int:
    filename = _text(b, item.filename, "filename")
    file_type = _text(b, item.file_type, "file_type")
    content = _text(b, item.content, "content")
    metadata = _opt_json(b, item.metadata, "metadata")
    document_id = conv.opt_uuid(item.id, "id")
    w_new_document.Start(b)
    if document_id is not None:
        w_new_document.AddId(b, _id(b, document_id))
    w_new_document.AddFilename(b, filename)
    w_new_document.AddFileType(b, file_type)
    w_new_document.AddContent(b, content)
    w_new_document.AddMetadata(b, metadata)
    return w_new_document.End(b)


def _new_chunk(b: flatbuffers.Builder, item: NewChunk, field: str) -> int:
    text = _text(b, item.chunk_text, f"{field}.chunk_text")
    embedding = _floats(b, conv.vector_bytes(item.embedding, f"{field}.embedding"))
    metadata = _opt_json(b, item.metadata, f"{field}.metadata")
    chunk_id = conv.opt_uuid(item.id, f"{field}.id")
    document_id = conv.to_uuid(item.document_id, f"{field}.document_id")
    index = check_int(item.chunk_index, f"{field}.chunk_index")
    created_at = conv.opt_micros(item.created_at, f"{field}.created_at")
    w_new_chunk.Start(b)
    if chunk_id is not None:
        w_new_chunk.AddId(b, _id(b, chunk_id))
    w_new_chunk.AddDocumentId(b, _id(b, document_id))
    w_new_chunk.AddChunkIndex(b, index)
    w_new_chunk.AddChunkText(b, text)
    w_new_chunk.AddEmbedding(b, embedding)
    w_new_chunk.AddMetadata(b, metadata)
    if created_at is not None:
        w_new_chunk.AddCreatedAt(b, created_at)
    return w_new_chunk.End(b)


def _offsets_vector(b: flatbuffers.Builder, offsets: Sequence[int]) -> int:
    b.StartVector(4, len(offsets), 4)
    for offset in reversed(offsets):
        b.PrependUOffsetTRelative(offset)
    return b.EndVector()


def _metadata_equals(b: flatbuffers.Builder, values: Any, field: str) -> int:
    """A [MetadataEquals] vector from {key: JSON value}, or 0 (absent) when empty."""
    if not values:
        return 0
    if not isinstance(values, Mapping):
        raise ValidationError("must be a mapping of metadata keys to values", field)
    items = []
    for key, value in values.items():
        key_offset = _text(b, key, field)
        value_offset = b.CreateString(conv.to_json(value, field))
        w_metadata_equals.Start(b)
        w_metadata_equals.AddKey(b, key_offset)
        w_metadata_equals.AddValue(b, value_offset)
        items.append(w_metadata_equals.End(b))
    return _offsets_vector(b, items)


def _file_types(b: flatbuffers.Builder, values: Any, field: str) -> int:
    if not values:
        return 0
    if isinstance(values, str):
        raise ValidationError("must be a list of file types", field)
    return _offsets_vector(b, [_text(b, value, field) for value in values])


def _add_times(module: Any, b: flatbuffers.Builder, filters: Any, names: Sequence[str]) -> None:
    """Adds the filter's set timestamps; REQUIRES: module.Start(b) was called."""
    for name in names:
        value = getattr(filters, name)
        if value is not None:
            adder = getattr(module, "Add" + name.title().replace("_", ""))
            adder(b, conv.to_micros(value, f"filter.{name}"))


def _conversation_filter(b: flatbuffers.Builder, filters: Optional[ConversationFilter]) -> int:
    if filters is None:
        return 0
    model = _opt_text(b, filters.model, "filter.model")
    title = _opt_text(b, filters.title_contains, "filter.title_contains")
    metadata = _metadata_equals(b, filters.metadata_equals, "filter.metadata_equals")
    w_conversation_filter.Start(b)
    _add_times(w_conversation_filter, b, filters,
               ("created_from", "created_until", "updated_from", "updated_until"))
    w_conversation_filter.AddModel(b, model)
    w_conversation_filter.AddTitleContains(b, title)
    w_conversation_filter.AddMetadataEquals(b, metadata)
    return w_conversation_filter.End(b)


def _message_filter(b: flatbuffers.Builder, filters: Optional[MessageFilter]) -> int:
    if filters is None:
        return 0
    role = _opt_text(b, filters.role, "filter.role")
    metadata = _metadata_equals(b, filters.metadata_equals, "filter.metadata_equals")
    w_message_filter.Start(b)
    w_message_filter.AddRole(b, role)
    w_message_filter.AddOnlyWithToolCalls(b, bool(filters.only_with_tool_calls))
    _add_times(w_message_filter, b, filters, ("created_from", "created_until"))
    w_message_filter.AddMetadataEquals(b, metadata)
    return w_message_filter.End(b)


def _document_filter(b: flatbuffers.Builder, filters: Optional[DocumentFilter]) -> int:
    if filters is None:
        return 0
    file_types = _file_types(b, filters.file_types, "filter.file_types")
    filename = _opt_text(b, filters.filename_contains, "filter.filename_contains")
    metadata = _metadata_equals(b, filters.metadata_equals, "filter.metadata_equals")
    w_document_filter.Start(b)
    _add_times(w_document_filter, b, filters, ("created_from", "created_until"))
    w_document_filter.AddFileTypes(b, file_types)
    w_document_filter.AddFilenameContains(b, filename)
    w_document_filter.AddMetadataEquals(b, metadata)
    return w_document_filter.End(b)


def _search_filters(b: flatbuffers.Builder, filters: Optional[SearchFilters]) -> int:
    if filters is None or filters.is_empty():
        return 0
    document_ids = 0
    if filters.document_ids:
        ids = [conv.to_uuid(value, "filters.document_ids") for value in filters.document_ids]
        b.StartVector(16, len(ids), 8)
        for value in reversed(ids):
            _id(b, value)
        document_ids = b.EndVector()
    file_types = _file_types(b, filters.file_types, "filters.file_types")
    metadata_equals = _metadata_equals(b, filters.metadata_equals, "filters.metadata_equals")
    created_from = conv.opt_micros(filters.created_from, "filters.created_from")
    created_until = conv.opt_micros(filters.created_until, "filters.created_until")
    w_search_filters.Start(b)
    w_search_filters.AddDocumentIds(b, document_ids)
    w_search_filters.AddFileTypes(b, file_types)
    if created_from is not None:
        w_search_filters.AddCreatedFrom(b, created_from)
    if created_until is not None:
        w_search_filters.AddCreatedUntil(b, created_until)
    w_search_filters.AddMetadataEquals(b, metadata_equals)
    return w_search_filters.End(b)


def _search_query(b: flatbuffers.Builder, spec: SearchSpec) -> int:
    query = _floats(b, spec.vector)
    filters = _search_filters(b, spec.filters)
    w_search_query.SearchQueryStart(b)
    w_search_query.SearchQueryAddQuery(b, query)
    w_search_query.SearchQueryAddTopK(b, spec.top_k)
    if spec.min_similarity is not None:
        w_search_query.SearchQueryAddMinSimilarity(b, spec.min_similarity)
    w_search_query.SearchQueryAddFilters(b, filters)
    if spec.ef is not None:
        w_search_query.SearchQueryAddEf(b, spec.ef)
    return w_search_query.SearchQueryEnd(b)


# ---- requests ---------------------------------------------------------------------------------


def hello(request_id: int, protocol_version: int, api_key: Optional[str],
          client_name: str) -> memoryview:
    b = flatbuffers.Builder(128)
    key = _text(b, api_key, "api_key") if api_key else 0
    name = _text(b, client_name, "client_name") if client_name else 0
    w_hello.Start(b)
    w_hello.AddProtocolVersion(b, protocol_version)
    w_hello.AddApiKey(b, key)
    w_hello.AddClientName(b, name)
    return _finish(b, request_id, None, RequestBody.Hello, w_hello.End(b))


def create_conversation(request_id: int, user_id: str, item: NewConversation,
                        upsert: bool = False) -> memoryview:
    b = flatbuffers.Builder(256)
    conversation = _new_conversation(b, item)
    module = w_upsert_conversation if upsert else w_create_conversation
    module.Start(b)
    module.AddConversation(b, conversation)
    body_type = (RequestBody.UpsertConversationRequest if upsert
                 else RequestBody.CreateConversationRequest)
    return _finish(b, request_id, user_id, body_type, module.End(b))


def get_conversation(request_id: int, user_id: str, conversation_id: UUID,
                     include_deleted: bool) -> memoryview:
    return _id_only(w_get_conversation, RequestBody.GetConversationRequest, request_id, user_id,
                    conversation_id, include_deleted)


def list_conversations(request_id: int, user_id: str, *, by_updated: bool, skip: int, limit: int,
                       cursor: Optional[str], include_deleted: bool,
                       title_contains: Optional[str],
                       filters: Optional[ConversationFilter] = None) -> memoryview:
    b = flatbuffers.Builder(192)
    cursor_offset = _text(b, cursor, "cursor") if cursor else 0
    title = _opt_text(b, title_contains, "search_term")
    filter_offset = _conversation_filter(b, filters)
    w_list_conversations.Start(b)
    w_list_conversations.AddOrder(b, 1 if by_updated else 0)
    w_list_conversations.AddSkip(b, check_int(skip, "skip"))
    w_list_conversations.AddLimit(b, check_int(limit, "limit"))
    w_list_conversations.AddCursor(b, cursor_offset)
    w_list_conversations.AddIncludeDeleted(b, bool(include_deleted))
    w_list_conversations.AddTitleContains(b, title)
    w_list_conversations.AddFilter(b, filter_offset)
    return _finish(b, request_id, user_id, RequestBody.ListConversationsRequest,
                   w_list_conversations.End(b))


def get_user_stats(request_id: int, user_id: str) -> memoryview:
    return _empty(w_user_stats, RequestBody.GetUserStatsRequest, request_id, user_id)


def update_conversation(request_id: int, user_id: str, conversation_id: UUID, *,
                        title: Optional[str], summary: Optional[str], model: Optional[str],
                        system_prompt: Optional[str], metadata: Any) -> memoryview:
    b = flatbuffers.Builder(256)
    title_offset = _opt_text(b, title, "title")
    summary_offset = _opt_text(b, summary, "summary")
    model_offset = _opt_text(b, model, "model")
    prompt_offset = _opt_text(b, system_prompt, "system_prompt")
    metadata_offset = _opt_json(b, metadata, "metadata")
    w_update_conversation.Start(b)
    w_update_conversation.AddId(b, _id(b, conversation_id))
    w_update_conversation.AddTitle(b, title_offset)
    w_update_conversation.AddSummary(b, summary_offset)
    w_update_conversation.AddModel(b, model_offset)
    w_update_conversation.AddSystemPrompt(b, prompt_offset)
    w_update_conversation.AddMetadata(b, metadata_offset)
    return _finish(b, request_id, user_id, RequestBody.UpdateConversationRequest,
                   w_update_conversation.End(b))


def delete_conversation(request_id: int, user_id: str, conversation_id: UUID,
                        hard: bool) -> memoryview:
    return _id_only(w_delete_conversation, RequestBody.DeleteConversationRequest, request_id,
                    user_id, conversation_id, hard)


def restore_conversation(request_id: int, user_id: str, conversation_id: UUID) -> memoryview:
    return _id_only(w_restore_conversation, RequestBody.RestoreConversationRequest, request_id,
                    user_id, conversation_id)


def append_message(request_id: int, user_id: str, item: NewMessage,
                   upsert: bool = False) -> memoryview:
    b = flatbuffers.Builder(512)
    message = _new_message(b, item)
    module = w_upsert_message if upsert else w_append
    module.Start(b)
    module.AddMessage(b, message)
    body_type = RequestBody.UpsertMessageRequest if upsert else RequestBody.AppendMessageRequest
    return _finish(b, request_id, user_id, body_type, module.End(b))


def get_message(request_id: int, user_id: str, message_id: UUID) -> memoryview:
    return _id_only(w_get_message, RequestBody.GetMessageRequest, request_id, user_id, message_id)


def list_messages(request_id: int, user_id: str, conversation_id: UUID, *, descending: bool,
                  skip: int, limit: int, cursor: Optional[str], role: Optional[str],
                  only_with_tool_calls: bool,
                  filters: Optional[MessageFilter] = None) -> memoryview:
    b = flatbuffers.Builder(192)
    cursor_offset = _text(b, cursor, "cursor") if cursor else 0
    role_offset = _opt_text(b, role, "role")
    filter_offset = _message_filter(b, filters)
    w_list_messages.Start(b)
    w_list_messages.AddConversationId(b, _id(b, conversation_id))
    w_list_messages.AddOrder(b, 1 if descending else 0)
    w_list_messages.AddSkip(b, check_int(skip, "skip"))
    w_list_messages.AddLimit(b, check_int(limit, "limit"))
    w_list_messages.AddCursor(b, cursor_offset)
    w_list_messages.AddRole(b, role_offset)
    w_list_messages.AddOnlyWithToolCalls(b, bool(only_with_tool_calls))
    w_list_messages.AddFilter(b, filter_offset)
    return _finish(b, request_id, user_id, RequestBody.ListMessagesRequest, w_list_messages.End(b))


def last_messages(request_id: int, user_id: str, conversation_id: UUID, count: int) -> memoryview:
    b = flatbuffers.Builder(128)
    w_last_messages.Start(b)
    w_last_messages.AddConversationId(b, _id(b, conversation_id))
    w_last_messages.AddCount(b, check_int(count, "count"))
    return _finish(b, request_id, user_id, RequestBody.LastMessagesRequest, w_last_messages.End(b))


def last_message_by_role(request_id: int, user_id: str, conversation_id: UUID,
                         role: str) -> memoryview:
    b = flatbuffers.Builder(128)
    role_offset = _text(b, role, "role")
    w_last_by_role.Start(b)
    w_last_by_role.AddConversationId(b, _id(b, conversation_id))
    w_last_by_role.AddRole(b, role_offset)
    return _finish(b, request_id, user_id, RequestBody.LastMessageByRoleRequest,
                   w_last_by_role.End(b))


def set_tool_results(request_id: int, user_id: str, message_id: UUID,
                     tool_results: Any) -> memoryview:
    b = flatbuffers.Builder(256)
    results = b.CreateString(conv.to_json(tool_results, "tool_results"))
    w_set_tool_results.Start(b)
    w_set_tool_results.AddMessageId(b, _id(b, message_id))
    w_set_tool_results.AddToolResults(b, results)
    return _finish(b, request_id, user_id, RequestBody.SetToolResultsRequest,
                   w_set_tool_results.End(b))


def _conversation_scoped(module: Any, body_type: int, request_id: int, user_id: str,
                         conversation_id: UUID) -> memoryview:
    b = flatbuffers.Builder(128)
    module.Start(b)
    module.AddConversationId(b, _id(b, conversation_id))
    return _finish(b, request_id, user_id, body_type, module.End(b))


def get_token_stats(request_id: int, user_id: str, conversation_id: UUID) -> memoryview:
    return _conversation_scoped(w_token_stats, RequestBody.GetTokenStatsRequest, request_id,
                                user_id, conversation_id)


def delete_messages(request_id: int, user_id: str, conversation_id: UUID) -> memoryview:
    return _conversation_scoped(w_delete_messages, RequestBody.DeleteMessagesRequest, request_id,
                                user_id, conversation_id)


def _count(b: flatbuffers.Builder, module: Any, body_type: int, request_id: int, user_id: str,
           filter_offset: int, exists_only: bool, *, include_deleted: bool = False,
           conversation_id: Optional[UUID] = None) -> memoryview:
    """The count requests: (conversation_id | include_deleted), filter, exists_only."""
    module.Start(b)
    if conversation_id is not None:
        module.AddConversationId(b, _id(b, conversation_id))
    if include_deleted:
        module.AddIncludeDeleted(b, True)
    module.AddFilter(b, filter_offset)
    if exists_only:
        module.AddExistsOnly(b, True)
    return _finish(b, request_id, user_id, body_type, module.End(b))


def count_conversations(request_id: int, user_id: str, filters: Optional[ConversationFilter],
                        include_deleted: bool, exists_only: bool) -> memoryview:
    b = flatbuffers.Builder(192)
    return _count(b, w_count_conversations, RequestBody.CountConversationsRequest, request_id,
                  user_id, _conversation_filter(b, filters), exists_only,
                  include_deleted=include_deleted)


def count_messages(request_id: int, user_id: str, conversation_id: UUID,
                   filters: Optional[MessageFilter], exists_only: bool) -> memoryview:
    b = flatbuffers.Builder(192)
    return _count(b, w_count_messages, RequestBody.CountMessagesRequest, request_id, user_id,
                  _message_filter(b, filters), exists_only, conversation_id=conversation_id)


def count_matching_documents(request_id: int, user_id: str, filters: Optional[DocumentFilter],
                             include_deleted: bool, exists_only: bool) -> memoryview:
    b = flatbuffers.Builder(192)
    return _count(b, w_count_matching_documents, RequestBody.CountMatchingDocumentsRequest,
                  request_id, user_id, _document_filter(b, filters), exists_only,
                  include_deleted=include_deleted)


def _update_json(b: flatbuffers.Builder, value: Any, field: str) -> int:
    """An update's JSON field: 0 (unchanged) for None, JSON null for CLEAR."""
    if value is None:
        return 0
    return b.CreateString("null" if value is CLEAR else conv.to_json(value, field))


def update_message(request_id: int, user_id: str, message_id: UUID, *, role: Optional[str],
                   content: Optional[str], parts: Any, tool_calls: Any, tool_results: Any,
                   attachments: Any, tokens_used: Any, metadata: Any) -> memoryview:
    b = flatbuffers.Builder(512)
    role_offset = _opt_text(b, role, "role")
    content_offset = _opt_text(b, content, "content")
    json_offsets = [_update_json(b, value, name) for name, value in (
        ("parts", parts), ("tool_calls", tool_calls), ("tool_results", tool_results),
        ("attachments", attachments))]
    metadata_offset = _opt_json(b, metadata, "metadata")
    w_update_message.Start(b)
    w_update_message.AddId(b, _id(b, message_id))
    w_update_message.AddRole(b, role_offset)
    w_update_message.AddContent(b, content_offset)
    w_update_message.AddParts(b, json_offsets[0])
    w_update_message.AddToolCalls(b, json_offsets[1])
    w_update_message.AddToolResults(b, json_offsets[2])
    w_update_message.AddAttachments(b, json_offsets[3])
    if tokens_used is CLEAR:
        w_update_message.AddClearTokensUsed(b, True)
    elif tokens_used is not None:
        w_update_message.AddTokensUsed(b, check_int(tokens_used, "tokens_used"))
    w_update_message.AddMetadata(b, metadata_offset)
    return _finish(b, request_id, user_id, RequestBody.UpdateMessageRequest,
                   w_update_message.End(b))


def delete_message(request_id: int, user_id: str, message_id: UUID) -> memoryview:
    return _id_only(w_delete_message, RequestBody.DeleteMessageRequest, request_id, user_id,
                    message_id)


def create_document(request_id: int, user_id: str, item: NewDocument) -> memoryview:
    b = flatbuffers.Builder(256 + len(item.content) * 2 if isinstance(item.content, str) else 256)
    document = _new_document(b, item)
    w_create_document.Start(b)
    w_create_document.AddDocument(b, document)
    return _finish(b, request_id, user_id, RequestBody.CreateDocumentRequest,
                   w_create_document.End(b))


def get_document(request_id: int, user_id: str, document_id: UUID,
                 include_deleted: bool) -> memoryview:
    return _id_only(w_get_document, RequestBody.GetDocumentRequest, request_id, user_id,
                    document_id, include_deleted)


def list_documents(request_id: int, user_id: str, *, skip: int, limit: int,
                   cursor: Optional[str], include_deleted: bool,
                   filename_contains: Optional[str],
                   filters: Optional[DocumentFilter] = None) -> memoryview:
    b = flatbuffers.Builder(192)
    cursor_offset = _text(b, cursor, "cursor") if cursor else 0
    filename = _opt_text(b, filename_contains, "search_term")
    filter_offset = _document_filter(b, filters)
    w_list_documents.Start(b)
    w_list_documents.AddSkip(b, check_int(skip, "skip"))
    w_list_documents.AddLimit(b, check_int(limit, "limit"))
    w_list_documents.AddCursor(b, cursor_offset)
    w_list_documents.AddIncludeDeleted(b, bool(include_deleted))
    w_list_documents.AddFilenameContains(b, filename)
    w_list_documents.AddFilter(b, filter_offset)
    return _finish(b, request_id, user_id, RequestBody.ListDocumentsRequest,
                   w_list_documents.End(b))


def count_documents(request_id: int, user_id: str) -> memoryview:
    return _empty(w_count_documents, RequestBody.CountDocumentsRequest, request_id, user_id)


def delete_document(request_id: int, user_id: str, document_id: UUID, hard: bool) -> memoryview:
    return _id_only(w_delete_document, RequestBody.DeleteDocumentRequest, request_id, user_id,
                    document_id, hard)


def restore_document(request_id: int, user_id: str, document_id: UUID) -> memoryview:
    return _id_only(w_restore_document, RequestBody.RestoreDocumentRequest, request_id, user_id,
                    document_id)


def update_document(request_id: int, user_id: str, document_id: UUID, *,
                    filename: Optional[str], file_type: Optional[str], content: Optional[str],
                    metadata: Any) -> memoryview:
    b = flatbuffers.Builder(256 + len(content) * 2 if isinstance(content, str) else 256)
    filename_offset = _opt_text(b, filename, "filename")
    file_type_offset = _opt_text(b, file_type, "file_type")
    content_offset = _opt_text(b, content, "content")
    metadata_offset = _opt_json(b, metadata, "metadata")
    w_update_document.Start(b)
    w_update_document.AddId(b, _id(b, document_id))
    w_update_document.AddFilename(b, filename_offset)
    w_update_document.AddFileType(b, file_type_offset)
    w_update_document.AddContent(b, content_offset)
    w_update_document.AddMetadata(b, metadata_offset)
    return _finish(b, request_id, user_id, RequestBody.UpdateDocumentRequest,
                   w_update_document.End(b))


def add_chunks(request_id: int, user_id: str, chunks: Sequence[NewChunk]) -> memoryview:
    b = flatbuffers.Builder(1024 + 8 * 1024 * len(chunks))
    offsets = [_new_chunk(b, chunk, f"chunks[{i}]") for i, chunk in enumerate(chunks)]
    vector = _offsets_vector(b, offsets)
    w_add_chunks.Start(b)
    w_add_chunks.AddChunks(b, vector)
    return _finish(b, request_id, user_id, RequestBody.AddChunksRequest, w_add_chunks.End(b))


def get_chunk(request_id: int, user_id: str, chunk_id: UUID, include_deleted: bool) -> memoryview:
    return _id_only(w_get_chunk, RequestBody.GetChunkRequest, request_id, user_id, chunk_id,
                    include_deleted)


def list_chunks(request_id: int, user_id: str, document_id: UUID, *, skip: int, limit: int,
                cursor: Optional[str], include_deleted: bool) -> memoryview:
    b = flatbuffers.Builder(192)
    cursor_offset = _text(b, cursor, "cursor") if cursor else 0
    w_list_chunks.Start(b)
    w_list_chunks.AddDocumentId(b, _id(b, document_id))
    w_list_chunks.AddSkip(b, check_int(skip, "skip"))
    w_list_chunks.AddLimit(b, check_int(limit, "limit"))
    w_list_chunks.AddCursor(b, cursor_offset)
    w_list_chunks.AddIncludeDeleted(b, bool(include_deleted))
    return _finish(b, request_id, user_id, RequestBody.ListChunksRequest, w_list_chunks.End(b))


def delete_chunk(request_id: int, user_id: str, chunk_id: UUID, hard: bool) -> memoryview:
    return _id_only(w_delete_chunk, RequestBody.DeleteChunkRequest, request_id, user_id,
                    chunk_id, hard)


def restore_chunk(request_id: int, user_id: str, chunk_id: UUID) -> memoryview:
    return _id_only(w_restore_chunk, RequestBody.RestoreChunkRequest, request_id, user_id,
                    chunk_id)


def replace_chunks(request_id: int, user_id: str, document_id: UUID,
                   chunks: Sequence[NewChunk]) -> memoryview:
    b = flatbuffers.Builder(1024 + 8 * 1024 * len(chunks))
    vector = _offsets_vector(b, [_new_chunk(b, chunk, f"chunks[{i}]")
                                 for i, chunk in enumerate(chunks)])
    w_replace_chunks.Start(b)
    w_replace_chunks.AddDocumentId(b, _id(b, document_id))
    w_replace_chunks.AddChunks(b, vector)
    return _finish(b, request_id, user_id, RequestBody.ReplaceChunksRequest,
                   w_replace_chunks.End(b))


def search(request_id: int, user_id: str, spec: SearchSpec) -> memoryview:
    fast = _fast_search.encode_search(request_id, user_id, [spec], RequestBody.SearchRequest,
                                      batch=False)
    return fast if fast is not None else search_generated(request_id, user_id, spec)


def search_generated(request_id: int, user_id: str, spec: SearchSpec) -> memoryview:
    """search() through the generated builders (filters; the reference in tests)."""
    b = flatbuffers.Builder(len(spec.vector) + 512)
    query = _search_query(b, spec)
    w_search.SearchRequestStart(b)
    w_search.SearchRequestAddQuery(b, query)
    return _finish(b, request_id, user_id, RequestBody.SearchRequest, w_search.SearchRequestEnd(b))


def search_batch(request_id: int, user_id: str, specs: Sequence[SearchSpec]) -> memoryview:
    fast = _fast_search.encode_search(request_id, user_id, list(specs),
                                      RequestBody.SearchBatchRequest, batch=True)
    return fast if fast is not None else search_batch_generated(request_id, user_id, specs)


def search_batch_generated(request_id: int, user_id: str,
                           specs: Sequence[SearchSpec]) -> memoryview:
    """search_batch() through the generated builders (filters; the reference in tests)."""
    b = flatbuffers.Builder(sum(len(spec.vector) + 256 for spec in specs) + 512)
    queries = _offsets_vector(b, [_search_query(b, spec) for spec in specs])
    w_search_batch.Start(b)
    w_search_batch.AddQueries(b, queries)
    return _finish(b, request_id, user_id, RequestBody.SearchBatchRequest, w_search_batch.End(b))


class HybridSpec:
    """One hybrid search, already validated (fusion is the wire enum value)."""

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


def search_text(request_id: int, user_id: str, query: str, top_k: int,
                filters: Optional[SearchFilters]) -> memoryview:
    b = flatbuffers.Builder(len(query) * 3 + 512)
    text = _text(b, query, "query")
    filter_offset = _search_filters(b, filters)
    w_search_text.Start(b)
    w_search_text.AddQuery(b, text)
    w_search_text.AddTopK(b, top_k)
    w_search_text.AddFilters(b, filter_offset)
    return _finish(b, request_id, user_id, RequestBody.SearchTextRequest, w_search_text.End(b))


def search_hybrid(request_id: int, user_id: str, spec: HybridSpec) -> memoryview:
    b = flatbuffers.Builder(len(spec.vector) + len(spec.query_text) * 3 + 512)
    text = _text(b, spec.query_text, "query_text")
    embedding = _floats(b, spec.vector)
    filter_offset = _search_filters(b, spec.filters)
    w_search_hybrid.Start(b)
    w_search_hybrid.AddQueryText(b, text)
    w_search_hybrid.AddQueryEmbedding(b, embedding)
    w_search_hybrid.AddTopK(b, spec.top_k)
    w_search_hybrid.AddFilters(b, filter_offset)
    w_search_hybrid.AddFusion(b, spec.fusion)
    if spec.rrf_k is not None:
        w_search_hybrid.AddRrfK(b, spec.rrf_k)
    if spec.text_weight is not None:
        w_search_hybrid.AddTextWeight(b, spec.text_weight)
    if spec.candidates is not None:
        w_search_hybrid.AddCandidates(b, spec.candidates)
    if spec.min_similarity is not None:
        w_search_hybrid.AddMinSimilarity(b, spec.min_similarity)
    if spec.ef is not None:
        w_search_hybrid.AddEf(b, spec.ef)
    return _finish(b, request_id, user_id, RequestBody.SearchHybridRequest,
                   w_search_hybrid.End(b))


# Batch op kinds -> the BatchOp field they set.
_BATCH_FIELDS = {
    "create_conversation": (w_batch_op.AddCreateConversation, _new_conversation),
    "upsert_conversation": (w_batch_op.AddUpsertConversation, _new_conversation),
    "append_message": (w_batch_op.AddAppendMessage, _new_message),
    "upsert_message": (w_batch_op.AddUpsertMessage, _new_message),
    "create_document": (w_batch_op.AddCreateDocument, _new_document),
}


def apply_batch(request_id: int, user_id: str, ops: Sequence[tuple[str, Any]]) -> memoryview:
    b = flatbuffers.Builder(1024 + sum(8 * 1024 for kind, _ in ops if kind == "add_chunk"))
    offsets = []
    for index, (kind, item) in enumerate(ops):
        if kind == "add_chunk":
            inner = _new_chunk(b, item, f"ops[{index}]")
            w_batch_op.Start(b)
            w_batch_op.AddAddChunk(b, inner)
        else:
            add, build = _BATCH_FIELDS[kind]
            inner = build(b, item)
            w_batch_op.Start(b)
            add(b, inner)
        offsets.append(w_batch_op.End(b))
    vector = _offsets_vector(b, offsets)
    w_apply_batch.Start(b)
    w_apply_batch.AddOps(b, vector)
    return _finish(b, request_id, user_id, RequestBody.ApplyBatchRequest, w_apply_batch.End(b))


# ---- administration ---------------------------------------------------------------------------


def get_stats(request_id: int) -> memoryview:
    return _empty(w_get_stats, RequestBody.GetStatsRequest, request_id, None)


def list_partitions(request_id: int) -> memoryview:
    return _empty(w_list_partitions, RequestBody.ListPartitionsRequest, request_id, None)


def _strings(module: Any, body_type: int, request_id: int, **fields: str) -> memoryview:
    """Admin requests made of string fields only (months and paths)."""
    b = flatbuffers.Builder(256)
    offsets = {name: _text(b, value, name) for name, value in fields.items()}
    module.Start(b)
    for name, offset in offsets.items():
        getattr(module, "Add" + name.title().replace("_", ""))(b, offset)
    return _finish(b, request_id, None, body_type, module.End(b))


def rebuild_partition(request_id: int, month: str) -> memoryview:
    return _strings(w_rebuild, RequestBody.RebuildPartitionRequest, request_id, month=month)


def archive_partition(request_id: int, month: str, path: str) -> memoryview:
    return _strings(w_archive, RequestBody.ArchivePartitionRequest, request_id, month=month,
                    path=path)


def drop_partition(request_id: int, month: str) -> memoryview:
    return _strings(w_drop, RequestBody.DropPartitionRequest, request_id, month=month)


def attach_archive(request_id: int, path: str) -> memoryview:
    return _strings(w_attach, RequestBody.AttachArchiveRequest, request_id, path=path)


def create_backup(request_id: int, path: str) -> memoryview:
    return _strings(w_backup, RequestBody.CreateBackupRequest, request_id, path=path)


def apply_retention(request_id: int, keep_months: Optional[int], archive_dir: Optional[str],
                    purge_after_seconds: Optional[int]) -> memoryview:
    """All of them None: the server's configured policy; otherwise this one (None parts off)."""
    b = flatbuffers.Builder(256)
    archive = _opt_text(b, archive_dir, "archive_dir")
    configured = keep_months is None and archive_dir is None and purge_after_seconds is None
    w_apply_retention.Start(b)
    if configured:
        w_apply_retention.AddConfigured(b, True)
    if keep_months is not None:
        w_apply_retention.AddKeepMonths(b, keep_months)
    w_apply_retention.AddArchiveDir(b, archive)
    if purge_after_seconds is not None:
        w_apply_retention.AddPurgeAfterSeconds(b, purge_after_seconds)
    return _finish(b, request_id, None, RequestBody.ApplyRetentionRequest,
                   w_apply_retention.End(b))
