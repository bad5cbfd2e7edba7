"""The native codec (mnemo._native: the C++ client's encoders and decoders) against the schema as
flatc's generated Python code reads and builds it: requests the native encoders write are read
back field by field with the generated readers, and responses built with the generated builders
are decoded natively into the expected dataclasses."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import flatbuffers
import numpy
import pytest

import mnemo
from mnemo import _convert, _ops
from mnemo._native import Response, dec, enc
from mnemo.wire import Conversation as w_conversation
from mnemo.wire import ConversationReply as w_conversation_reply
from mnemo.wire import Response as w_response
from mnemo.wire import SearchHit as w_hit
from mnemo.wire import SearchReply as w_reply
from mnemo.wire.Id import CreateId
from mnemo.wire.Request import Request
from mnemo.wire.RequestBody import RequestBody
from mnemo.wire.ResponseBody import ResponseBody
from mnemo.wire.SearchBatchRequest import SearchBatchRequest
from mnemo.wire.SearchRequest import SearchRequest

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _spec(seed: int, top_k=10, min_similarity=None, ef=None, filters=None, dimension=5):
    vector = numpy.random.default_rng(seed).standard_normal(dimension).astype(numpy.float32)
    return _ops.SearchSpec(_convert.vector_bytes(vector, "q"), top_k, min_similarity, filters, ef)


def _request(payload: bytes) -> Request:
    assert len(payload) % 8 == 0 and Request.RequestBufferHasIdentifier(payload, 0)
    return Request.GetRootAs(payload, 0)


def _queries(payload: bytes):
    """(request id, user, body type, [(vector, top_k, min_similarity, ef, has filters)])."""
    request = _request(payload)
    table = request.Body()
    if request.BodyType() == RequestBody.SearchRequest:
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
@pytest.mark.parametrize("user", ["u", "ünïcode-user", "x" * 255])
def test_search_requests_read_back_with_the_generated_readers(options, user):
    spec = _spec(1, **options)
    request = enc.search(77, user, spec)
    assert request.id == 77
    expected = [(numpy.frombuffer(spec.vector, dtype="<f4").tolist(), spec.top_k,
                 spec.min_similarity, spec.ef, False)]
    assert _queries(request.payload) == (77, user.encode(), RequestBody.SearchRequest, expected)


@pytest.mark.parametrize("count", [1, 2, 7])
def test_search_batch_requests_read_back_in_order(count):
    specs = [_spec(i, **SPECS[i % len(SPECS)]) for i in range(count)]
    _, _, body_type, queries = _queries(enc.search_batch(5, "user", specs).payload)
    assert body_type == RequestBody.SearchBatchRequest
    assert [q[0] for q in queries] == [numpy.frombuffer(s.vector, dtype="<f4").tolist() for s in specs]
    assert [q[1] for q in queries] == [s.top_k for s in specs]


def test_search_filters_read_back():
    document = mnemo.new_id()
    filters = mnemo.SearchFilters(document_ids=[document], file_types=["md", "pdf"],
                                  created_from=EPOCH + timedelta(days=1), created_until=7,
                                  metadata_equals={"lang": "en", "page": 3})
    request = _request(enc.search(1, "u", _spec(1, filters=filters)).payload)
    body = SearchRequest()
    body.Init(request.Body().Bytes, request.Body().Pos)
    wire = body.Query().Filters()
    assert _convert.id_from_halves(wire.DocumentIds(0).Hi(), wire.DocumentIds(0).Lo()) == document
    assert [wire.FileTypes(i) for i in range(wire.FileTypesLength())] == [b"md", b"pdf"]
    assert (wire.CreatedFrom(), wire.CreatedUntil()) == (86_400_000_000, 7)
    pairs = {wire.MetadataEquals(i).Key(): wire.MetadataEquals(i).Value()
             for i in range(wire.MetadataEqualsLength())}
    assert pairs == {b"lang": b'"en"', b"page": b"3"}


def test_a_float32_array_is_encoded_from_its_own_memory():
    vector = numpy.arange(8, dtype=numpy.float32)[::2]  # strided: converted once, then read
    dense = numpy.arange(4, dtype=numpy.float32)
    for query in (vector, dense):
        spec = _ops.SearchSpec(_convert.vector_bytes(query, "q"), 3, None, None, None)
        assert _queries(enc.search(1, "u", spec).payload)[3][0][0] == query.tolist()


def _response(b: flatbuffers.Builder, body_type: int, body: int) -> Response:
    w_response.Start(b)
    w_response.AddId(b, 9)
    w_response.AddBodyType(b, body_type)
    w_response.AddBody(b, body)
    b.Finish(w_response.End(b), b"MNEM")
    return Response.from_bytes(bytes(b.Output()))


def _search_reply(b: flatbuffers.Builder, hits: list[dict], **flags) -> int:
    offsets = []
    for hit in hits:
        text = b.CreateString(hit["text"]) if hit.get("text") is not None else 0
        filename = b.CreateString(hit["filename"]) if hit.get("filename") is not None else 0
        w_hit.Start(b)
        w_hit.AddChunkId(b, CreateId(b, *_convert.id_halves(hit["id"])))
        w_hit.AddDocumentId(b, CreateId(b, 1, 2))
        w_hit.AddChunkIndex(b, hit.get("index", 0))
        w_hit.AddChunkText(b, text)
        w_hit.AddFilename(b, filename)
        w_hit.AddSimilarity(b, hit.get("similarity", 0.0))
        w_hit.AddCreatedAt(b, hit.get("created_at", 0))
        offsets.append(w_hit.End(b))
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


HITS = [
    dict(id=mnemo.new_id(), index=3, text="first", filename="a.md", similarity=0.5,
         created_at=1_700_000_000_123_456),
    dict(id=mnemo.new_id(), index=0, text="", filename="", similarity=-0.25, created_at=-5),
    dict(id=mnemo.new_id(), text=None, filename=None),  # absent fields read as defaults
    dict(id=mnemo.new_id(), index=2**40, text="ünïcode ✓", filename="b.txt", similarity=1.0),
]


@pytest.mark.parametrize("hits, flags", [
    ([], {}),
    (HITS[:1], dict(exact=True, fewer=True, partitions=3)),
    (HITS, dict(ef_used=128, partitions=1)),
])
def test_search_replies_decode_to_the_expected_results(hits, flags):
    b = flatbuffers.Builder(256)
    result = dec.search_result(_response(b, ResponseBody.SearchReply, _search_reply(b, hits, **flags)))
    expected = [mnemo.SearchHit(
        chunk_id=hit["id"], document_id=uuid.UUID(int=(1 << 64) | 2),
        chunk_index=hit.get("index", 0), chunk_text=hit.get("text") or "",
        filename=hit.get("filename") or "", similarity=hit.get("similarity", 0.0),
        created_at=EPOCH + timedelta(microseconds=hit.get("created_at", 0))) for hit in hits]
    assert result == mnemo.SearchResult(hits=expected, exact=flags.get("exact", False),
                                        ef_used=flags.get("ef_used", 0),
                                        fewer_than_top_k=flags.get("fewer", False),
                                        partitions_searched=flags.get("partitions", 0))
    assert all(type(hit.chunk_id) is uuid.UUID for hit in result.hits)


@pytest.mark.parametrize("micros", [0, 1, -1, 1_700_000_000_123_456, -62_135_596_800_000_000,
                                    253_402_300_799_999_999, 951_782_400_000_000])
def test_conversations_decode_every_field(micros):
    b = flatbuffers.Builder(512)
    strings = {name: b.CreateString(value) for name, value in (
        ("user", "ünïcode"), ("title", "Trip ✓"), ("model", "m"), ("prompt", ""),
        ("metadata", '{"a": [1, 2], "b": null}'))}
    w_conversation.Start(b)
    w_conversation.AddId(b, CreateId(b, 0xFEDC_BA98_7654_3210, 0x0123_4567_89AB_CDEF))
    w_conversation.AddUserId(b, strings["user"])
    w_conversation.AddTitle(b, strings["title"])
    w_conversation.AddModel(b, strings["model"])
    w_conversation.AddSystemPrompt(b, strings["prompt"])
    w_conversation.AddMetadata(b, strings["metadata"])
    w_conversation.AddIsDeleted(b, True)
    w_conversation.AddDeletedAt(b, micros)
    w_conversation.AddCreatedAt(b, micros)
    w_conversation.AddUpdatedAt(b, micros)
    w_conversation.AddMessageCount(b, 2**40)
    w_conversation.AddTotalTokens(b, 7)
    row = w_conversation.End(b)
    w_conversation_reply.Start(b)
    w_conversation_reply.AddConversation(b, row)
    reply = w_conversation_reply.End(b)
    at = EPOCH + timedelta(microseconds=micros)
    assert dec.conversation(_response(b, ResponseBody.ConversationReply, reply)) == mnemo.Conversation(
        id=uuid.UUID("fedcba98-7654-3210-0123-456789abcdef"), user_id="ünïcode", title="Trip ✓",
        summary=None, model="m", system_prompt="", metadata={"a": [1, 2], "b": None},
        is_deleted=True, deleted_at=at, created_at=at, updated_at=at, message_count=2**40,
        total_tokens=7, last_message_at=None)


def test_errors_and_wrong_bodies_raise():
    from fake_server import error_response, user_stats_response

    with pytest.raises(mnemo.RateLimitedError) as info:
        dec.search_result(Response.from_bytes(error_response(3, 8, "slow down", "rate")))
    assert (info.value.message, info.value.field) == ("slow down", "rate")
    with pytest.raises(mnemo.InternalError):
        dec.search_result(Response.from_bytes(user_stats_response(3, 1)))
    with pytest.raises(mnemo.InternalError):
        Response.from_bytes(b"\x04\x00\x00\x00garbage!")


@pytest.mark.parametrize("bad, field", [
    (dict(title=5), "title"), (dict(summary=b"x"), "summary"), (dict(metadata={1j: 2}), "metadata"),
    (dict(id="not-a-uuid"), "id"), (dict(system_prompt=None), "system_prompt"),
])
def test_bad_inputs_name_their_field(bad, field):
    item = mnemo.NewConversation("t")
    for name, value in bad.items():
        setattr(item, name, value)
    with pytest.raises(mnemo.ValidationError) as info:
        enc.create_conversation(1, "u", item, False)
    assert info.value.field == field


def _frame(payload: bytes) -> bytes:
    return len(payload).to_bytes(4, "little") + payload


def test_split_frames_takes_whole_verified_frames_only():
    from fake_server import user_stats_response
    from mnemo._native import split_frames

    one, two = user_stats_response(1, 10), user_stats_response(2, 20)
    data = _frame(one) + _frame(two) + _frame(one)[:7]
    responses, used, error = split_frames(data, 1 << 20)
    assert error is None and used == len(_frame(one)) + len(_frame(two))
    assert [r.id for r in responses] == [1, 2]
    assert [dec.user_stats(r).total_conversations for r in responses] == [10, 20]
    assert split_frames(b"", 1 << 20) == ([], 0, None)
    assert split_frames(_frame(one)[:3], 1 << 20)[1:] == (0, None)


@pytest.mark.parametrize("bad, message", [
    (b"\x00\x00\x00\x00", "empty"),
    (b"\xff\xff\xff\x7f", "exceeds max_frame_bytes"),
    (_frame(b"\xff" * 8), "malformed"),
])
def test_split_frames_stops_at_a_bad_frame(bad, message):
    from fake_server import user_stats_response
    from mnemo._native import split_frames

    good = _frame(user_stats_response(5, 1))
    responses, used, error = split_frames(good + bad + good, 1 << 16)
    assert [r.id for r in responses] == [5] and used == len(good)
    assert message in error
