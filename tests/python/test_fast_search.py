"""The hand-written fast path of search (mnemo._fast_search) must match the flatc-generated
builders and readers exactly: requests are compared field by field through the generated
readers, responses built with the generated builders are decoded both ways."""

from __future__ import annotations

import flatbuffers
import numpy
import pytest

import mnemo
from mnemo import _convert, _decode, _encode
from mnemo.wire import Response as w_response
from mnemo.wire import SearchBatchReply as w_batch_reply
from mnemo.wire import SearchHit as w_hit
from mnemo.wire import SearchReply as w_reply
from mnemo.wire.Id import CreateId
from mnemo.wire.Request import Request
from mnemo.wire.ResponseBody import ResponseBody
from mnemo.wire.SearchBatchRequest import SearchBatchRequest
from mnemo.wire.SearchRequest import SearchRequest


def _spec(seed: int, top_k=10, min_similarity=None, ef=None, filters=None, dimension=5):
    vector = numpy.random.default_rng(seed).standard_normal(dimension).astype(numpy.float32)
    return _encode.SearchSpec(_convert.vector_bytes(vector, "q"), top_k, min_similarity, filters,
                              ef)


def _queries(frame: memoryview):
    """(request id, user, body type, [(vector, top_k, min_similarity, ef, has filters)])."""
    data = bytes(frame)
    assert int.from_bytes(data[:4], "little") == len(data) - 4
    payload = data[4:]
    assert len(payload) % 8 == 0 and Request.RequestBufferHasIdentifier(payload, 0)
    request = Request.GetRootAs(payload, 0)
    table = request.Body()
    if request.BodyType() == 26:  # SearchRequest
        body = SearchRequest()
        body.Init(table.Bytes, table.Pos)
        queries = [body.Query()]
    else:
        body = SearchBatchRequest()
        body.Init(table.Bytes, table.Pos)
        queries = [body.Queries(i) for i in range(body.QueriesLength())]
    return (request.Id(), request.UserId(), request.BodyType(),
            [(q.QueryAsNumpy().tolist(), q.TopK(), q.MinSimilarity(), q.Ef(),
              q.Filters() is not None) for q in queries])


SPECS = [
    dict(),
    dict(top_k=1000),
    dict(min_similarity=0.75),
    dict(ef=64),
    dict(min_similarity=-1.0, ef=400, top_k=3),
    dict(dimension=1536),
]


@pytest.mark.parametrize("options", SPECS)
@pytest.mark.parametrize("user", ["u", "user-with-a-longer-id", "ünïcode-user", "x" * 255])
def test_fast_search_request_matches_the_generated_builder(options, user):
    spec = _spec(1, **options)
    fast = _encode.search(77, user, spec)
    reference = _encode.search_generated(77, user, spec)
    assert _queries(fast) == _queries(reference)


@pytest.mark.parametrize("count", [1, 2, 7])
def test_fast_search_batch_request_matches_the_generated_builder(count):
    specs = [_spec(i, **SPECS[i % len(SPECS)]) for i in range(count)]
    fast = _encode.search_batch(5, "user", specs)
    assert _queries(fast) == _queries(_encode.search_batch_generated(5, "user", specs))


def test_filters_take_the_generated_path():
    spec = _spec(1, filters=mnemo.SearchFilters(file_types=["md"]))
    assert bytes(_encode.search(1, "u", spec)) == bytes(_encode.search_generated(1, "u", spec))
    assert _queries(_encode.search(1, "u", spec))[3][0][4] is True


def _reply(b: flatbuffers.Builder, hits: list[dict], **flags) -> int:
    offsets = []
    for hit in hits:
        text = b.CreateString(hit["text"]) if hit.get("text") is not None else 0
        filename = b.CreateString(hit["filename"]) if hit.get("filename") is not None else 0
        w_hit.Start(b)
        if hit.get("id"):
            w_hit.AddChunkId(b, CreateId(b, *_convert.id_halves(hit["id"])))
        w_hit.AddDocumentId(b, CreateId(b, 1, 2))
        w_hit.AddChunkIndex(b, hit.get("index", 0))
        w_hit.AddChunkText(b, text)
        w_hit.AddFilename(b, filename)
        w_hit.AddSimilarity(b, hit.get("similarity", 0.0))
        w_hit.AddCreatedAt(b, hit.get("created_at", 0))
        offsets.append(w_hit.End(b))
    vector = 0
    if flags.pop("with_hits", True):
        b.StartVector(4, len(offsets), 4)
        for offset in reversed(offsets):
            b.PrependUOffsetTRelative(offset)
        vector = b.EndVector()
    w_reply.Start(b)
    w_reply.AddHits(b, vector)
    w_reply.AddExact(b, flags.get("exact", False))
    w_reply.AddEfUsed(b, flags.get("ef_used", 0))
    w_reply.AddFewerThanTopK(b, flags.get("fewer", False))
    w_reply.AddPartitionsSearched(b, flags.get("partitions", 0))
    return w_reply.End(b)


def _response(b: flatbuffers.Builder, body_type: int, body: int) -> bytes:
    w_response.Start(b)
    w_response.AddId(b, 9)
    w_response.AddBodyType(b, body_type)
    w_response.AddBody(b, body)
    b.Finish(w_response.End(b))
    return bytes(b.Output())


HITS = [
    dict(id=mnemo.new_id(), index=3, text="first", filename="a.md", similarity=0.9,
         created_at=1_700_000_000_123_456),
    dict(id=mnemo.new_id(), index=0, text="", filename="", similarity=-0.25, created_at=-5),
    dict(id=mnemo.new_id(), text=None, filename=None),  # absent fields read as defaults
    dict(id=mnemo.new_id(), index=2**40, text="ünïcode ✓", filename="b.txt", similarity=1.0),
]


@pytest.mark.parametrize("hits, flags", [
    ([], {}),
    (HITS[:1], dict(exact=True, fewer=True, partitions=3)),
    (HITS, dict(ef_used=128, partitions=1)),
    ([], dict(with_hits=False)),
])
def test_fast_reply_reader_matches_the_generated_reader(hits, flags):
    b = flatbuffers.Builder(256)
    payload = _response(b, ResponseBody.SearchReply, _reply(b, hits, **dict(flags)))
    assert _decode.search_result(payload) == _decode.search_result_generated(payload)
    b = flatbuffers.Builder(256)
    replies = [_reply(b, hits, **dict(flags)), _reply(b, HITS[:2])]
    b.StartVector(4, 2, 4)
    for reply in reversed(replies):
        b.PrependUOffsetTRelative(reply)
    vector = b.EndVector()
    w_batch_reply.Start(b)
    w_batch_reply.AddResults(b, vector)
    payload = _response(b, ResponseBody.SearchBatchReply, w_batch_reply.End(b))
    assert _decode.search_results(payload) == _decode.search_results_generated(payload)


def test_a_hit_without_its_id_is_an_internal_error():
    b = flatbuffers.Builder(256)
    payload = _response(b, ResponseBody.SearchReply, _reply(b, [dict(text="no id")]))
    with pytest.raises(mnemo.InternalError):
        _decode.search_result_generated(payload)
    with pytest.raises(mnemo.InternalError):
        _decode.search_result(payload)


def test_errors_and_other_bodies_use_the_generic_path():
    from fake_server import error_response, user_stats_response

    with pytest.raises(mnemo.RateLimitedError):
        _decode.search_result(error_response(3, 8))
    with pytest.raises(mnemo.InternalError):
        _decode.search_result(user_stats_response(3, 1))
    with pytest.raises(mnemo.InternalError):
        _decode.search_result(b"\x04\x00\x00\x00garbage")
