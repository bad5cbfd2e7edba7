"""The native codec of keyword and hybrid search against the schema as flatc's generated Python
code reads and builds it: search_text / search_hybrid requests the native encoders write are read
back field by field, and RankedSearchReply responses built with the generated builders decode into
the expected mnemo.RankedSearchResult."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import flatbuffers
import numpy
import pytest

import mnemo
from mnemo import _convert, _ops
from mnemo._native import Response, dec, enc
from mnemo.wire import RankedHit as w_ranked_hit
from mnemo.wire import RankedSearchReply as w_reply
from mnemo.wire import Response as w_response
from mnemo.wire import SearchHit as w_hit
from mnemo.wire import TextLegInfo as w_text
from mnemo.wire import VectorLegInfo as w_vector
from mnemo.wire.Fusion import Fusion
from mnemo.wire.Id import CreateId
from mnemo.wire.Request import Request
from mnemo.wire.RequestBody import RequestBody
from mnemo.wire.ResponseBody import ResponseBody
from mnemo.wire.SearchHybridRequest import SearchHybridRequest
from mnemo.wire.SearchTextRequest import SearchTextRequest

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _body(payload: bytes, body_type: int, cls):
    request = Request.GetRootAs(payload, 0)
    assert request.BodyType() == body_type
    body = cls()
    body.Init(request.Body().Bytes, request.Body().Pos)
    return request, body


def test_fusion_names_are_the_schemas():
    assert dec.FUSION_NAMES == ("rrf", "weighted")
    assert [dec.FUSION_NAMES.index(name) for name in dec.FUSION_NAMES] == \
        [Fusion.rrf, Fusion.weighted]


@pytest.mark.parametrize("query, top_k", [("机器学习", 10), ("x" * 5000, 1), ("", 1000)])
def test_search_text_requests_read_back(query, top_k):
    request, body = _body(enc.search_text(41, "ü-user", query, top_k, None).payload,
                          RequestBody.SearchTextRequest, SearchTextRequest)
    assert (request.Id(), request.UserId()) == (41, "ü-user".encode())
    assert (body.Query().decode(), body.TopK(), body.Filters()) == (query, top_k, None)
    filters = mnemo.SearchFilters(file_types=["md"], created_until=5)
    _, body = _body(enc.search_text(1, "u", "q", 3, filters).payload,
                    RequestBody.SearchTextRequest, SearchTextRequest)
    assert body.Filters().FileTypes(0) == b"md" and body.Filters().CreatedUntil() == 5


def _hybrid(vector, **options):
    spec = dict(top_k=10, filters=None, fusion=0, rrf_k=None, text_weight=None, candidates=None,
                min_similarity=None, ef=None)
    spec.update(options)
    return _ops.HybridSpec("compaction", _convert.vector_bytes(vector, "query_embedding"), **spec)


@pytest.mark.parametrize("options", [
    dict(),
    dict(fusion=1, text_weight=0.25, rrf_k=30.5, candidates=200, min_similarity=-0.5, ef=64,
         top_k=3, filters=mnemo.SearchFilters(file_types=["pdf"])),
    dict(text_weight=0.0, min_similarity=0.0),  # zero is present, not absent
])
def test_search_hybrid_requests_read_back(options):
    vector = numpy.arange(1536, dtype=numpy.float32) / 1536
    request, body = _body(enc.search_hybrid(9, "u", _hybrid(vector, **options)).payload,
                          RequestBody.SearchHybridRequest, SearchHybridRequest)
    assert request.Id() == 9 and body.QueryText() == b"compaction"
    assert body.QueryEmbeddingAsNumpy().tolist() == vector.tolist()
    assert body.TopK() == options.get("top_k", 10) and body.Fusion() == options.get("fusion", 0)
    assert body.RrfK() == options.get("rrf_k") and body.TextWeight() == options.get("text_weight")
    assert body.Candidates() == options.get("candidates") and body.Ef() == options.get("ef")
    assert body.MinSimilarity() == options.get("min_similarity")
    assert (body.Filters() is not None) == ("filters" in options)


def test_a_hybrid_query_embedding_is_encoded_from_its_own_memory():
    for vector in (numpy.arange(8, dtype=numpy.float32)[::2], numpy.arange(4, dtype=numpy.float32),
                   [0.5, 1.5, 2.5]):
        _, body = _body(enc.search_hybrid(1, "u", _hybrid(vector)).payload,
                        RequestBody.SearchHybridRequest, SearchHybridRequest)
        assert body.QueryEmbeddingAsNumpy().tolist() == list(vector)


def _strings(b: flatbuffers.Builder, items: list[str], start) -> int:
    offsets = [b.CreateString(item) for item in items]
    start(b, len(offsets))
    for offset in reversed(offsets):
        b.PrependUOffsetTRelative(offset)
    return b.EndVector()


def _ranked_reply(b: flatbuffers.Builder, hits: list[dict], text: dict | None,
                  vector: dict | None, fusion: int, fewer: bool) -> int:
    offsets = []
    for hit in hits:
        chunk_text = b.CreateString(hit["text"])
        w_hit.Start(b)
        w_hit.AddChunkId(b, CreateId(b, *_convert.id_halves(hit["id"])))
        w_hit.AddDocumentId(b, CreateId(b, 3, 4))
        w_hit.AddChunkText(b, chunk_text)
        w_hit.AddSimilarity(b, hit.get("cosine", 0.0))
        w_hit.AddCreatedAt(b, 1_000_000)
        inner = w_hit.End(b)
        w_ranked_hit.Start(b)
        w_ranked_hit.AddHit(b, inner)
        w_ranked_hit.AddScore(b, hit["score"])
        if hit.get("bm25") is not None:
            w_ranked_hit.AddBm25(b, hit["bm25"])
        if hit.get("similarity") is not None:
            w_ranked_hit.AddSimilarity(b, hit["similarity"])
        w_ranked_hit.AddTextRank(b, hit.get("text_rank", 0))
        w_ranked_hit.AddVectorRank(b, hit.get("vector_rank", 0))
        offsets.append(w_ranked_hit.End(b))
    w_reply.StartHitsVector(b, len(offsets))
    for offset in reversed(offsets):
        b.PrependUOffsetTRelative(offset)
    hit_vector = b.EndVector()
    text_offset = vector_offset = 0
    if text is not None:
        terms = _strings(b, text["terms"], w_text.StartTermsVector)
        unknown = _strings(b, text["unknown_terms"], w_text.StartUnknownTermsVector)
        w_text.Start(b)
        w_text.AddRan(b, text["ran"])
        w_text.AddTerms(b, terms)
        w_text.AddStopwordsIgnored(b, text["stopwords_ignored"])
        w_text.AddUnknownTerms(b, unknown)
        w_text.AddCandidates(b, text["candidates"])
        w_text.AddRows(b, text["rows"])
        w_text.AddPostings(b, text["postings"])
        w_text.AddRowsScored(b, text["rows_scored"])
        w_text.AddExact(b, text["exact"])
        text_offset = w_text.End(b)
    if vector is not None:
        w_vector.Start(b)
        w_vector.AddRan(b, vector["ran"])
        w_vector.AddExact(b, vector["exact"])
        w_vector.AddEfUsed(b, vector["ef_used"])
        w_vector.AddPartitionsSearched(b, vector["partitions_searched"])
        w_vector.AddCandidates(b, vector["candidates"])
        vector_offset = w_vector.End(b)
    w_reply.Start(b)
    w_reply.AddHits(b, hit_vector)
    w_reply.AddFewerThanTopK(b, fewer)
    w_reply.AddFusion(b, fusion)
    if text_offset:
        w_reply.AddText(b, text_offset)
    if vector_offset:
        w_reply.AddVector(b, vector_offset)
    return w_reply.End(b)


def _response(b: flatbuffers.Builder, body: int) -> Response:
    w_response.Start(b)
    w_response.AddId(b, 9)
    w_response.AddBodyType(b, ResponseBody.RankedSearchReply)
    w_response.AddBody(b, body)
    b.Finish(w_response.End(b), b"MNEM")
    return Response.from_bytes(bytes(b.Output()))


HITS = [
    dict(id=mnemo.new_id(), text="北京", score=2.5, bm25=2.5, text_rank=1),
    dict(id=mnemo.new_id(), text="both", score=0.0325, bm25=0.75, similarity=0.5, cosine=0.5,
         text_rank=2, vector_rank=1),
    dict(id=mnemo.new_id(), text="", score=0.0, similarity=-1.0, cosine=-1.0, vector_rank=2**31 - 1),
]
TEXT = dict(ran=True, terms=["机器", "学习"], stopwords_ignored=2, unknown_terms=["zebra"],
            candidates=2, rows=2**40, postings=7, rows_scored=3, exact=False)
VECTOR = dict(ran=True, exact=False, ef_used=2**32 - 1, partitions_searched=4, candidates=50)


@pytest.mark.parametrize("hits, text, vector, fusion, fewer", [
    ([], None, None, Fusion.rrf, True),  # absent legs read as "did not run"
    (HITS[:1], TEXT, None, Fusion.rrf, False),
    (HITS, TEXT, VECTOR, Fusion.weighted, True),
])
def test_ranked_replies_decode_to_the_expected_results(hits, text, vector, fusion, fewer):
    b = flatbuffers.Builder(512)
    result = dec.ranked_search_result(_response(b, _ranked_reply(b, hits, text, vector, fusion,
                                                                 fewer)))
    expected_hits = [mnemo.RankedHit(
        hit=mnemo.SearchHit(chunk_id=hit["id"], document_id=uuid.UUID(int=(3 << 64) | 4),
                            chunk_index=0, chunk_text=hit["text"], filename="",
                            similarity=hit.get("cosine", 0.0),
                            created_at=EPOCH + timedelta(seconds=1)),
        score=hit["score"], bm25=hit.get("bm25"), similarity=hit.get("similarity"),
        text_rank=hit.get("text_rank", 0), vector_rank=hit.get("vector_rank", 0)) for hit in hits]
    expected_text = mnemo.TextLegInfo(**text) if text else mnemo.TextLegInfo(
        ran=False, terms=[], stopwords_ignored=0, unknown_terms=[], candidates=0, rows=0,
        postings=0, rows_scored=0, exact=True)
    expected_vector = mnemo.VectorLegInfo(**vector) if vector else mnemo.VectorLegInfo(
        ran=False, exact=True, ef_used=0, partitions_searched=0, candidates=0)
    assert result == mnemo.RankedSearchResult(
        hits=expected_hits, fewer_than_top_k=fewer, fusion=dec.FUSION_NAMES[fusion],
        text=expected_text, vector=expected_vector)
    assert all(type(h.hit.chunk_id) is uuid.UUID and type(h.score) is float for h in result.hits)


def test_a_ranked_decoder_refuses_other_bodies_and_raises_errors():
    from fake_server import error_response, user_stats_response

    with pytest.raises(mnemo.ValidationError) as info:
        dec.ranked_search_result(Response.from_bytes(error_response(3, 1, "blank", "query")))
    assert info.value.field == "query"
    with pytest.raises(mnemo.InternalError):
        dec.ranked_search_result(Response.from_bytes(user_stats_response(3, 1)))


@pytest.mark.parametrize("call, field", [
    (lambda: _ops.search_text("u", b"bytes"), "query"),
    (lambda: _ops.search_text("u", "q", top_k=1.5), "top_k"),
    (lambda: _ops.search_text("u", "q", top_k=True), "top_k"),
    (lambda: _ops.search_text("", "q"), "user_id"),
    (lambda: _ops.search_hybrid("u", None, [1.0]), "query_text"),
    (lambda: _ops.search_hybrid("u", "q", "not a vector"), "query_embedding"),
    (lambda: _ops.search_hybrid("u", "q", [1.0], fusion=None), "fusion"),
    (lambda: _ops.search_hybrid("u", "q", [1.0], rrf_k="60"), "rrf_k"),
    (lambda: _ops.search_hybrid("u", "q", [1.0], text_weight=True), "text_weight"),
    (lambda: _ops.search_hybrid("u", "q", [1.0], candidates=2.0), "candidates"),
    (lambda: _ops.search_hybrid("u", "q", [1.0], min_similarity=1e39), "min_similarity"),
    (lambda: _ops.search_hybrid("u", "q", [1.0], ef=2**63), "ef"),
    (lambda: _ops.search_hybrid("u", "q", [1.0], filters=["md"]), "filters"),
])
def test_bad_arguments_name_their_field_before_anything_is_sent(call, field):
    with pytest.raises(mnemo.ValidationError) as info:
        call()
    assert info.value.field == field
