"""Response decoders: one Response FlatBuffer payload -> dataclasses of mnemo.models.

Every decoder first raises the response's error as the matching typed exception (mnemo.errors),
then checks that the body has the expected type.  The buffer comes from the server the client
connected to; a buffer that cannot be read raises InternalError instead of a low-level error.
"""

from __future__ import annotations

import struct
from datetime import datetime
from typing import Any, Callable, Optional, TypeVar

from . import _convert as conv
from . import _fast_search
from .errors import InternalError, error_for_code
from .models import (AttachResult, Chunk, Conversation, Document, DocumentCounts, Message,
                     OpStats, Page, PartitionInfo, RankedHit, RankedSearchResult, RetentionReport,
                     RetiredMonth, RoleTokens, SearchHit, SearchResult, ServerInfo, ServerStats,
                     TextLegInfo, TokenStats, UserStats, VectorLegInfo)
from .wire.AttachReply import AttachReply
from .wire.BatchReply import BatchReply
from .wire.ChunkList import ChunkList
from .wire.ChunkPage import ChunkPage
from .wire.ChunkReply import ChunkReply
from .wire.ConversationPage import ConversationPage
from .wire.ConversationReply import ConversationReply
from .wire.CountReply import CountReply
from .wire.DocumentCounts import DocumentCounts as WireDocumentCounts
from .wire.DocumentPage import DocumentPage
from .wire.DocumentReply import DocumentReply
from .wire.HelloReply import HelloReply
from .wire.MessageList import MessageList
from .wire.MessageReply import MessageReply
from .wire.PartitionList import PartitionList
from .wire.RetentionReply import RetentionReply
from .wire.Response import Response
from .wire.ResponseBody import ResponseBody
from .wire.SearchBatchReply import SearchBatchReply
from .wire.RankedSearchReply import RankedSearchReply
from .wire.SearchReply import SearchReply
from .wire.StatsReply import StatsReply
from .wire.TokenStats import TokenStats as WireTokenStats
from .wire.UserStats import UserStats as WireUserStats

T = TypeVar("T")

# FROZEN: the wire's Role values.
ROLE_NAMES = ("user", "assistant", "system", "tool")
# Hybrid fusion names by wire value (the schema's Fusion enum).
FUSION_NAMES = ("rrf", "weighted")
_BODY_NAMES = {value: name for name, value in vars(ResponseBody).items()
               if not name.startswith("_")}


def response_id(payload: bytes) -> int:
    """The request id a response answers (0: the server could not read a frame of ours)."""
    return Response.GetRootAs(payload, 0).Id()


def guarded(decode: Callable[[bytes], T]) -> Callable[[bytes], T]:
    """Wraps a decoder so that an unreadable buffer raises InternalError."""

    def run(payload: bytes) -> T:
        try:
            return decode(payload)
        except (struct.error, IndexError, UnicodeDecodeError, ValueError, TypeError) as error:
            raise InternalError(f"malformed response from server: {error}") from None

    return run


def raise_error(payload: bytes) -> None:
    """Raises the response's error, if it carries one."""
    error = Response.GetRootAs(payload, 0).Error()
    if error is not None:
        raise error_for_code(error.Code(), _str(error.Message()), _opt_str(error.Field()))


def _body(payload: bytes, expected: int, cls: type) -> Any:
    response = Response.GetRootAs(payload, 0)
    error = response.Error()
    if error is not None:
        raise error_for_code(error.Code(), _str(error.Message()), _opt_str(error.Field()))
    body_type = response.BodyType()
    table = response.Body()
    if body_type != expected or table is None:
        raise InternalError(f"unexpected response body {_BODY_NAMES.get(body_type, body_type)} "
                            f"(expected {_BODY_NAMES[expected]})")
    body = cls()
    body.Init(table.Bytes, table.Pos)
    return body


def _str(raw: Optional[bytes]) -> str:
    return raw.decode("utf-8") if raw else ""


def _opt_str(raw: Optional[bytes]) -> Optional[str]:
    return None if raw is None else raw.decode("utf-8")


def _uuid(wire_id: Any) -> Any:
    if wire_id is None:
        raise InternalError("a record without its id")
    return conv.id_from_halves(wire_id.Hi(), wire_id.Lo())


# ---- records ----------------------------------------------------------------------------------


def _conversation(c: Any) -> Conversation:
    return Conversation(
        id=_uuid(c.Id()), user_id=_str(c.UserId()), title=_str(c.Title()),
        summary=_opt_str(c.Summary()), model=_str(c.Model()),
        system_prompt=_str(c.SystemPrompt()), metadata=conv.from_json_object(c.Metadata()),
        is_deleted=bool(c.IsDeleted()), deleted_at=conv.opt_from_micros(c.DeletedAt()),
        created_at=conv.from_micros(c.CreatedAt()), updated_at=conv.from_micros(c.UpdatedAt()),
        message_count=c.MessageCount(), total_tokens=c.TotalTokens(),
        last_message_at=conv.opt_from_micros(c.LastMessageAt()))


def _message(m: Any) -> Message:
    role = m.Role()
    return Message(
        id=_uuid(m.Id()), conversation_id=_uuid(m.ConversationId()),
        role=ROLE_NAMES[role] if role < len(ROLE_NAMES) else str(role),
        content=_str(m.Content()), parts=conv.from_json(m.Parts()),
        tool_calls=conv.from_json(m.ToolCalls()), tool_results=conv.from_json(m.ToolResults()),
        attachments=conv.from_json(m.Attachments()), tokens_used=m.TokensUsed(),
        metadata=conv.from_json_object(m.Metadata()), created_at=conv.from_micros(m.CreatedAt()))


def _document(d: Any) -> Document:
    return Document(
        id=_uuid(d.Id()), user_id=_str(d.UserId()), filename=_str(d.Filename()),
        file_type=_str(d.FileType()), content=_str(d.Content()), total_chunks=d.TotalChunks(),
        metadata=conv.from_json_object(d.Metadata()), is_deleted=bool(d.IsDeleted()),
        deleted_at=conv.opt_from_micros(d.DeletedAt()),
        created_at=conv.from_micros(d.CreatedAt()), updated_at=conv.from_micros(d.UpdatedAt()))


def _chunk(c: Any) -> Chunk:
    return Chunk(id=_uuid(c.Id()), document_id=_uuid(c.DocumentId()), chunk_index=c.ChunkIndex(),
                 chunk_text=_str(c.ChunkText()), metadata=conv.from_json_object(c.Metadata()),
                 created_at=conv.from_micros(c.CreatedAt()), is_deleted=bool(c.IsDeleted()),
                 deleted_at=conv.opt_from_micros(c.DeletedAt()))


def _hit(h: Any) -> SearchHit:
    return SearchHit(chunk_id=_uuid(h.ChunkId()), document_id=_uuid(h.DocumentId()),
                     chunk_index=h.ChunkIndex(), chunk_text=_str(h.ChunkText()),
                     filename=_str(h.Filename()), similarity=h.Similarity(),
                     created_at=conv.from_micros(h.CreatedAt()))


def _search_result(r: Any) -> SearchResult:
    hits = [_hit(r.Hits(i)) for i in range(r.HitsLength())]
    return SearchResult(hits=hits, exact=bool(r.Exact()), ef_used=r.EfUsed(),
                        fewer_than_top_k=bool(r.FewerThanTopK()),
                        partitions_searched=r.PartitionsSearched())


def _ranked_hit(h: Any) -> RankedHit:
    return RankedHit(hit=_hit(h.Hit()), score=h.Score(), bm25=h.Bm25(), similarity=h.Similarity(),
                     text_rank=h.TextRank(), vector_rank=h.VectorRank())


def _text_leg(t: Any) -> TextLegInfo:
    if t is None:
        return TextLegInfo(ran=False, terms=[], stopwords_ignored=0, unknown_terms=[],
                           candidates=0, rows=0, postings=0, rows_scored=0, exact=True)
    return TextLegInfo(ran=bool(t.Ran()), terms=[_str(t.Terms(i)) for i in range(t.TermsLength())],
                       stopwords_ignored=t.StopwordsIgnored(),
                       unknown_terms=[_str(t.UnknownTerms(i)) for i in range(t.UnknownTermsLength())],
                       candidates=t.Candidates(), rows=t.Rows(), postings=t.Postings(),
                       rows_scored=t.RowsScored(), exact=bool(t.Exact()))


def _vector_leg(v: Any) -> VectorLegInfo:
    if v is None:
        return VectorLegInfo(ran=False, exact=True, ef_used=0, partitions_searched=0, candidates=0)
    return VectorLegInfo(ran=bool(v.Ran()), exact=bool(v.Exact()), ef_used=v.EfUsed(),
                         partitions_searched=v.PartitionsSearched(), candidates=v.Candidates())


def _partition(p: Any) -> PartitionInfo:
    return PartitionInfo(month=_str(p.Month()), rows=p.Rows(), vector_bytes=p.VectorBytes(),
                         index_bytes=p.IndexBytes(), pending_rows=p.PendingRows(),
                         deleted_in_index=p.DeletedInIndex())


def _page(r: Any, item: Callable[[Any], T]) -> Page[T]:
    """A page body (items, total, next_cursor) with its items read by ``item``."""
    items = [item(r.Items(i)) for i in range(r.ItemsLength())]
    return Page(items=items, total=r.Total(), next_cursor=_opt_str(r.NextCursor()) or None)


# ---- decoders (payload -> value) ----------------------------------------------------------------


@guarded
def hello_reply(payload: bytes) -> ServerInfo:
    r = _body(payload, ResponseBody.HelloReply, HelloReply)
    return ServerInfo(protocol_version=r.ProtocolVersion(), server_version=_str(r.ServerVersion()),
                      max_frame_bytes=r.MaxFrameBytes(), max_in_flight=r.MaxInFlight(),
                      dimension=r.Dimension(), principal=_str(r.Principal()))


@guarded
def conversation(payload: bytes) -> Conversation:
    r = _body(payload, ResponseBody.ConversationReply, ConversationReply)
    c = r.Conversation()
    if c is None:
        raise InternalError("ConversationReply without a conversation")
    return _conversation(c)


@guarded
def conversation_page(payload: bytes) -> Page[Conversation]:
    return _page(_body(payload, ResponseBody.ConversationPage, ConversationPage), _conversation)


@guarded
def user_stats(payload: bytes) -> UserStats:
    r = _body(payload, ResponseBody.UserStats, WireUserStats)
    return UserStats(total_conversations=r.Total(), active_conversations=r.Active(),
                     deleted_conversations=r.Deleted(),
                     last_activity=conv.opt_from_micros(r.LastActivity()))


@guarded
def optional_message(payload: bytes) -> Optional[Message]:
    r = _body(payload, ResponseBody.MessageReply, MessageReply)
    m = r.Message()
    return None if m is None else _message(m)


def message(payload: bytes) -> Message:
    found = optional_message(payload)
    if found is None:
        raise InternalError("MessageReply without a message")
    return found


@guarded
def message_page(payload: bytes) -> Page[Message]:
    return _page(_body(payload, ResponseBody.MessageList, MessageList), _message)


@guarded
def token_stats(payload: bytes) -> TokenStats:
    r = _body(payload, ResponseBody.TokenStats, WireTokenStats)
    per_role = {name: RoleTokens() for name in ROLE_NAMES}
    for i in range(r.PerRoleLength()):
        entry = r.PerRole(i)
        role = entry.Role()
        if role < len(ROLE_NAMES):
            per_role[ROLE_NAMES[role]] = RoleTokens(entry.MessageCount(), entry.TotalTokens())
    return TokenStats(message_count=r.MessageCount(), messages_with_tokens=r.MessagesWithTokens(),
                      total_tokens=r.TotalTokens(), average_tokens=r.AverageTokens(),
                      per_role=per_role)


@guarded
def count(payload: bytes) -> int:
    return _body(payload, ResponseBody.CountReply, CountReply).Count()


def exists(payload: bytes) -> bool:
    """A CountReply of an exists_only request as a yes/no."""
    return count(payload) > 0


@guarded
def document(payload: bytes) -> Document:
    r = _body(payload, ResponseBody.DocumentReply, DocumentReply)
    d = r.Document()
    if d is None:
        raise InternalError("DocumentReply without a document")
    return _document(d)


@guarded
def document_page(payload: bytes) -> Page[Document]:
    return _page(_body(payload, ResponseBody.DocumentPage, DocumentPage), _document)


@guarded
def document_counts(payload: bytes) -> DocumentCounts:
    r = _body(payload, ResponseBody.DocumentCounts, WireDocumentCounts)
    return DocumentCounts(total=r.Total(), active=r.Active(), deleted=r.Deleted())


@guarded
def chunks(payload: bytes) -> list[Chunk]:
    r = _body(payload, ResponseBody.ChunkList, ChunkList)
    return [_chunk(r.Chunks(i)) for i in range(r.ChunksLength())]


@guarded
def chunk(payload: bytes) -> Chunk:
    c = _body(payload, ResponseBody.ChunkReply, ChunkReply).Chunk()
    if c is None:
        raise InternalError("ChunkReply without a chunk")
    return _chunk(c)


@guarded
def chunk_page(payload: bytes) -> Page[Chunk]:
    return _page(_body(payload, ResponseBody.ChunkPage, ChunkPage), _chunk)


@guarded
def search_result(payload: bytes) -> SearchResult:
    fast = _fast_search.search_result(payload, ResponseBody.SearchReply)
    return fast if fast is not None else search_result_generated(payload)


def search_result_generated(payload: bytes) -> SearchResult:
    """search_result through the generated readers (errors, other bodies; test reference)."""
    return _search_result(_body(payload, ResponseBody.SearchReply, SearchReply))


@guarded
def search_results(payload: bytes) -> list[SearchResult]:
    fast = _fast_search.search_results(payload, ResponseBody.SearchBatchReply)
    return fast if fast is not None else search_results_generated(payload)


def search_results_generated(payload: bytes) -> list[SearchResult]:
    """search_results through the generated readers (errors, other bodies; test reference)."""
    r = _body(payload, ResponseBody.SearchBatchReply, SearchBatchReply)
    return [_search_result(r.Results(i)) for i in range(r.ResultsLength())]


@guarded
def ranked_search_result(payload: bytes) -> RankedSearchResult:
    r = _body(payload, ResponseBody.RankedSearchReply, RankedSearchReply)
    return RankedSearchResult(hits=[_ranked_hit(r.Hits(i)) for i in range(r.HitsLength())],
                              fewer_than_top_k=bool(r.FewerThanTopK()),
                              fusion=FUSION_NAMES[r.Fusion()] if r.Fusion() < len(FUSION_NAMES)
                              else "rrf",
                              text=_text_leg(r.Text()), vector=_vector_leg(r.Vector()))


@guarded
def batch_ids(payload: bytes) -> list[Any]:
    r = _body(payload, ResponseBody.BatchReply, BatchReply)
    return [_uuid(r.Ids(i)) for i in range(r.IdsLength())]


@guarded
def partitions(payload: bytes) -> list[PartitionInfo]:
    r = _body(payload, ResponseBody.PartitionList, PartitionList)
    return [_partition(r.Partitions(i)) for i in range(r.PartitionsLength())]


@guarded
def attach(payload: bytes) -> AttachResult:
    r = _body(payload, ResponseBody.AttachReply, AttachReply)
    return AttachResult(attached=r.Attached(), skipped=r.Skipped())


@guarded
def stats(payload: bytes) -> ServerStats:
    r = _body(payload, ResponseBody.StatsReply, StatsReply)
    ops = []
    for i in range(r.OpsLength()):
        op = r.Ops(i)
        ops.append(OpStats(name=_str(op.Name()), count=op.Count(), errors=op.Errors(),
                           p50_us=op.P50Us(), p99_us=op.P99Us()))
    partitions = [_partition(r.Partitions(i)) for i in range(r.PartitionsLength())]
    return ServerStats(uptime_seconds=r.UptimeSeconds(), connections=r.Connections(),
                       partitions=partitions, ops=ops, data_bytes=r.DataBytes())


@guarded
def done(payload: bytes) -> None:
    raise_error(payload)


def _opt_time(micros: int) -> Optional[datetime]:
    """A cut-off: 0 means "off"."""
    return conv.from_micros(micros) if micros else None


@guarded
def retention(payload: bytes) -> RetentionReport:
    r = _body(payload, ResponseBody.RetentionReply, RetentionReply)
    retired = []
    for i in range(r.RetiredLength()):
        month = r.Retired(i)
        retired.append(RetiredMonth(month=_str(month.Month()), rows=month.Rows(),
                                    archive_path=_str(month.ArchivePath()) or None))
    return RetentionReport(now=conv.from_micros(r.Now()), month_cutoff=_opt_time(r.MonthCutoff()),
                           purge_cutoff=_opt_time(r.PurgeCutoff()), retired=retired,
                           conversations_purged=r.ConversationsPurged(),
                           documents_purged=r.DocumentsPurged(), chunks_purged=r.ChunksPurged())
