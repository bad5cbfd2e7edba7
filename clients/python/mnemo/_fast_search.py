"""Fast reader for the hot path: SearchReply / SearchBatchReply payloads -> SearchResult.

The flatc-generated readers spend ~35 Python calls per search hit; this module reads the same
bytes with a few precompiled struct unpacks, several times faster.  It relies only on the
FlatBuffers binary format (tables located through their vtables) and on the field order of
Response, SearchReply and SearchHit in protocol/schema/mnemo.fbs, which the schema's evolution
rules freeze (fields are only appended).  tests/python/test_api.py checks that it decodes
exactly what the generated readers decode.  Errors and unexpected bodies are left to the generic
decoders (mnemo._decode), which raise the typed exceptions.
"""

from __future__ import annotations

import struct
from typing import Optional
from uuid import UUID

from . import _convert as conv
from .errors import InternalError
from .models import SearchHit, SearchResult

_U8 = struct.Struct("<B").unpack_from
_U16 = struct.Struct("<H").unpack_from
_I32 = struct.Struct("<i").unpack_from
_U32 = struct.Struct("<I").unpack_from
_I64 = struct.Struct("<q").unpack_from
_F32 = struct.Struct("<f").unpack_from
_ID = struct.Struct("<QQ").unpack_from

# FROZEN slot numbers (field order in mnemo.fbs).
_RESPONSE_ERROR, _RESPONSE_BODY_TYPE, _RESPONSE_BODY = 1, 2, 3
_HIT_FIELDS = 7  # chunk_id, document_id, chunk_index, chunk_text, filename, similarity, created_at
_REPLY_FIELDS = 5  # hits, exact, ef_used, fewer_than_top_k, partitions_searched


def _fields(buf: bytes, table: int, count: int) -> list[int]:
    """Absolute positions of a table's first ``count`` fields (0 = absent)."""
    vtable = table - _I32(buf, table)[0]
    present = (_U16(buf, vtable)[0] - 4) // 2
    offsets = struct.unpack_from(f"<{min(present, count)}H", buf, vtable + 4)
    positions = [table + offset if offset else 0 for offset in offsets]
    positions.extend([0] * (count - len(positions)))
    return positions


def _indirect(buf: bytes, position: int) -> int:
    return position + _U32(buf, position)[0]


def _text(buf: bytes, position: int) -> str:
    if not position:
        return ""
    start = _indirect(buf, position)
    length = _U32(buf, start)[0]
    return buf[start + 4:start + 4 + length].decode("utf-8")


def _uuid(buf: bytes, position: int) -> UUID:
    if not position:
        raise InternalError("a record without its id")
    hi, lo = _ID(buf, position)
    return UUID(int=(hi << 64) | lo)


def _hit(buf: bytes, table: int) -> SearchHit:
    chunk_id, document_id, index, text, filename, similarity, created = _fields(buf, table,
                                                                               _HIT_FIELDS)
    return SearchHit(
        chunk_id=_uuid(buf, chunk_id), document_id=_uuid(buf, document_id),
        chunk_index=_I64(buf, index)[0] if index else 0, chunk_text=_text(buf, text),
        filename=_text(buf, filename), similarity=_F32(buf, similarity)[0] if similarity else 0.0,
        created_at=conv.from_micros(_I64(buf, created)[0] if created else 0))


def _reply(buf: bytes, table: int) -> SearchResult:
    hits, exact, ef_used, fewer, partitions = _fields(buf, table, _REPLY_FIELDS)
    items: list[SearchHit] = []
    if hits:
        vector = _indirect(buf, hits)
        for i in range(_U32(buf, vector)[0]):
            items.append(_hit(buf, _indirect(buf, vector + 4 + 4 * i)))
    return SearchResult(hits=items, exact=bool(exact and _U8(buf, exact)[0]),
                        ef_used=_U32(buf, ef_used)[0] if ef_used else 0,
                        fewer_than_top_k=bool(fewer and _U8(buf, fewer)[0]),
                        partitions_searched=_I32(buf, partitions)[0] if partitions else 0)


def _body(buf: bytes, body_type: int) -> Optional[int]:
    """The body table's position when the response is a success of ``body_type``; else None."""
    fields = _fields(buf, _U32(buf, 0)[0], 4)
    if fields[_RESPONSE_ERROR] or not fields[_RESPONSE_BODY_TYPE] or not fields[_RESPONSE_BODY]:
        return None
    if _U8(buf, fields[_RESPONSE_BODY_TYPE])[0] != body_type:
        return None
    return _indirect(buf, fields[_RESPONSE_BODY])


def search_result(buf: bytes, body_type: int) -> Optional[SearchResult]:
    """The SearchResult of a successful SearchReply response, or None (use the generic path)."""
    body = _body(buf, body_type)
    return None if body is None else _reply(buf, body)


def search_results(buf: bytes, body_type: int) -> Optional[list[SearchResult]]:
    """The results of a successful SearchBatchReply response, or None (use the generic path)."""
    body = _body(buf, body_type)
    if body is None:
        return None
    results_field = _fields(buf, body, 1)[0]
    if not results_field:
        return []
    vector = _indirect(buf, results_field)
    return [_reply(buf, _indirect(buf, vector + 4 + 4 * i)) for i in range(_U32(buf, vector)[0])]


# ---- encoding -----------------------------------------------------------------------------------
#
# A search request without filters is written front to back with struct.pack_into, ~10x fewer
# Python calls than the generated builder.  Layout of the payload (offsets from its start; every
# scalar aligned to its size, every uoffset pointing forward, as the verifier requires):
#   root uoffset, "MNEM", Request vtable + table, SearchRequest (or SearchBatchRequest + its
#   offsets vector) vtable + table, per query a SearchQuery vtable + table, the user_id string,
#   then the query float vectors.  The whole frame carries the u32 length prefix in front.

_PACK_U16S = {n: struct.Struct(f"<{n}H").pack_into for n in (3, 5, 6, 7)}
_PACK_U32 = struct.Struct("<I").pack_into
_PACK_I32 = struct.Struct("<i").pack_into
_PACK_U64 = struct.Struct("<Q").pack_into
_PACK_I64 = struct.Struct("<q").pack_into
_PACK_F32 = struct.Struct("<f").pack_into
_PACK_U8 = struct.Struct("<B").pack_into
_FILE_IDENTIFIER = b"MNEM"
_PREFIX = 4  # the frame's length prefix precedes the payload


class _Writer:
    """Appends aligned blocks to a frame; positions are absolute, alignment is payload-relative."""

    __slots__ = ("buf", "end")

    def __init__(self, capacity: int) -> None:
        self.buf = bytearray(capacity)
        self.end = _PREFIX

    def alloc(self, size: int, align: int) -> int:
        start = self.end + (-(self.end - _PREFIX)) % align
        self.end = start + size
        if self.end > len(self.buf):
            self.buf.extend(bytes(self.end - len(self.buf) + 256))
        return start

    def vtable_and_table(self, vtable: tuple[int, ...], table_size: int) -> int:
        """Writes a vtable followed by its table (8-aligned); returns the table's position."""
        vtable_at = self.alloc(2 * len(vtable), 2)
        _PACK_U16S[len(vtable)](self.buf, vtable_at, *vtable)
        table = self.alloc(table_size, 8)
        _PACK_I32(self.buf, table, table - vtable_at)
        return table

    def point(self, at: int, target: int) -> None:
        """Sets the uoffset at ``at`` to refer to ``target`` (which lies after it)."""
        _PACK_U32(self.buf, at, target - at)


def _query_table(w: _Writer, top_k: int, min_similarity: Optional[float],
                 ef: Optional[int]) -> int:
    """A SearchQuery table without filters; returns its position (query uoffset at +4)."""
    # Fields: soffset @0, query @4, top_k @8, ef @16 (optional), min_similarity after.
    ef_at = 16 if ef is not None else 0
    min_at = (24 if ef is not None else 16) if min_similarity is not None else 0
    size = max(16, ef_at + 8 if ef_at else 0, min_at + 4 if min_at else 0)
    table = w.vtable_and_table((14, size, 4, 8, min_at, 0, ef_at), size)
    _PACK_I64(w.buf, table + 8, top_k)
    if ef_at:
        _PACK_I64(w.buf, table + ef_at, ef)
    if min_at:
        _PACK_F32(w.buf, table + min_at, min_similarity)
    return table


def encode_search(request_id: int, user_id: str, specs: list, body_type: int,
                  batch: bool) -> Optional[memoryview]:
    """The framed SearchRequest (``batch``: SearchBatchRequest) for filter-free queries, or None
    when a query has filters (the generated builder handles those)."""
    for spec in specs:
        if spec.filters is not None and not spec.filters.is_empty():
            return None
    user = user_id.encode("utf-8")
    w = _Writer(512 + len(user) + sum(len(spec.vector) + 96 for spec in specs))
    buf = w.buf
    root = w.alloc(8, 4)
    buf[root + 4:root + 8] = _FILE_IDENTIFIER
    # Request: soffset @0, user_id @4, id @8, body @16, body_type @20.
    request = w.vtable_and_table((12, 24, 8, 4, 20, 16), 24)
    w.point(root, request)
    _PACK_U64(buf, request + 8, request_id)
    _PACK_U8(buf, request + 20, body_type)
    # SearchRequest / SearchBatchRequest: soffset @0, query(ies) @4.
    body = w.vtable_and_table((6, 8, 4), 8)
    w.point(request + 16, body)
    if batch:
        offsets = w.alloc(4 + 4 * len(specs), 4)
        _PACK_U32(buf, offsets, len(specs))
        w.point(body + 4, offsets)
        slots = [offsets + 4 + 4 * i for i in range(len(specs))]
    else:
        slots = [body + 4]
    tables = []
    for slot, spec in zip(slots, specs):
        table = _query_table(w, spec.top_k, spec.min_similarity, spec.ef)
        w.point(slot, table)
        tables.append(table)
    text = w.alloc(4 + len(user) + 1, 4)
    _PACK_U32(buf, text, len(user))
    buf[text + 4:text + 4 + len(user)] = user
    w.point(request + 4, text)
    for table, spec in zip(tables, specs):
        vector = w.alloc(4 + len(spec.vector), 4)
        _PACK_U32(buf, vector, len(spec.vector) // 4)
        buf[vector + 4:vector + 4 + len(spec.vector)] = spec.vector
        w.point(table + 4, vector)
    end = w.alloc(0, 8)  # pad the payload to a multiple of 8
    _PACK_U32(w.buf, 0, end - _PREFIX)
    return memoryview(w.buf)[:end]
