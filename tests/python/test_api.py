"""The package without a server: API parity of the two clients, the seeds' method names,
conversions (ids, timestamps, zero-copy vectors) and the request encoding."""

from __future__ import annotations

import inspect
from array import array
from datetime import datetime, timedelta, timezone

import numpy
import pytest

import mnemo
from mnemo import _convert, _ops
from mnemo._native import enc
from mnemo.errors import error_for_code
from mnemo.wire.Request import Request
from mnemo.wire.RequestBody import RequestBody
from mnemo.wire.SearchRequest import SearchRequest

SEED_METHODS = [
    "get_user_conversations", "get_user_conversation", "count_user_conversations",
    "search_by_title", "soft_delete", "undelete", "update_title_and_summary", "get_user_stats",
    "get_conversation_messages", "get_conversation_messages_desc",
    "get_conversation_message_count", "get_messages_by_role", "get_last_user_message",
    "get_last_assistant_message", "get_token_usage_stats", "update_tool_results",
    "get_messages_with_tool_calls", "delete_conversation_messages", "get_user_documents",
    "get_user_document_count", "soft_delete_document", "search_documents_by_filename",
    "search_similar", "search_similar_batch", "bulk_upsert", "batch",
]


def _public_methods(cls):
    return {name: member for name, member in inspect.getmembers(cls, inspect.isfunction)
            if not name.startswith("_") and name not in ("connect", "close")}


def test_both_clients_have_the_same_methods():
    sync_methods, async_methods = _public_methods(mnemo.Client), _public_methods(mnemo.AsyncClient)
    assert sorted(sync_methods) == sorted(async_methods)
    for name, method in sync_methods.items():
        other = async_methods[name]
        ours, theirs = inspect.signature(method), inspect.signature(other)
        assert ours.parameters == theirs.parameters, name
        if name != "batch":  # BatchBlock vs AsyncBatchBlock
            assert ours.return_annotation == theirs.return_annotation, name
        assert inspect.iscoroutinefunction(other) == (name != "batch"), name
        assert method.__doc__ and other.__doc__, name


@pytest.mark.parametrize("name", SEED_METHODS)
def test_seed_repository_methods_exist(name):
    assert callable(getattr(mnemo.Client, name)) and callable(getattr(mnemo.AsyncClient, name))


def test_errors_share_one_base():
    for code in range(1, 12):
        error = error_for_code(code, "m", "f")
        assert isinstance(error, mnemo.MnemoError) and error.field == "f"
    assert type(error_for_code(99, "m")) is mnemo.InternalError
    assert issubclass(mnemo.RequestTimeoutError, TimeoutError)
    assert mnemo.ValidationError("bad").field is None


def test_new_id_is_a_time_ordered_v7_uuid():
    ids = [mnemo.new_id() for _ in range(100)]
    assert len(set(ids)) == 100
    assert all(i.version == 7 and i.variant == "specified in RFC 4122" for i in ids)
    assert ids[0].int >> 80 <= ids[-1].int >> 80  # millisecond prefix never goes back


def test_ids_accept_uuid_and_text_only():
    value = mnemo.new_id()
    assert _convert.to_uuid(str(value), "f") == value
    assert _convert.to_uuid(str(value).upper(), "f") == value
    hi, lo = _convert.id_halves(value)
    assert _convert.id_from_halves(hi, lo) == value
    for bad in ("", "xyz", 12, None, b"0" * 16):
        with pytest.raises(mnemo.ValidationError) as info:
            _convert.to_uuid(bad, "some_id")
        assert info.value.field == "some_id"


def test_timestamps():
    moment = datetime(2024, 2, 29, 23, 59, 59, 123456, tzinfo=timezone.utc)
    micros = _convert.to_micros(moment, "t")
    assert _convert.from_micros(micros) == moment
    assert _convert.to_micros(moment.replace(tzinfo=None), "t") == micros  # naive = UTC
    plus_two = moment.astimezone(timezone(timedelta(hours=2)))
    assert _convert.to_micros(plus_two, "t") == micros
    assert _convert.to_micros(42, "t") == 42
    before_epoch = datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=timezone.utc)
    assert _convert.from_micros(-1) == before_epoch
    for bad in ("2024-01-01", 1.5, True):
        with pytest.raises(mnemo.ValidationError):
            _convert.to_micros(bad, "t")


def test_float32_vectors_are_not_copied():
    as_numpy = numpy.arange(8, dtype=numpy.float32)
    assert _convert.vector_bytes(as_numpy, "v").obj is as_numpy
    as_array = array("f", range(8))
    assert _convert.vector_bytes(as_array, "v").obj is as_array
    view = memoryview(as_array)
    assert _convert.vector_bytes(view, "v").obj is as_array


def test_other_vectors_are_converted_once():
    expected = array("f", [0.5, -1.0, 2.0]).tobytes()
    for vector in ([0.5, -1.0, 2.0], (0.5, -1, 2), array("d", [0.5, -1.0, 2.0]),
                   numpy.array([0.5, -1.0, 2.0]), numpy.array([0.5, -1.0, 2.0], dtype=">f4"),
                   numpy.array([0.5, 9.0, -1.0, 9.0, 2.0], dtype=numpy.float32)[::2]):
        assert _convert.vector_bytes(vector, "v").tobytes() == expected


@pytest.mark.parametrize("bad", [[], "abc", b"abcd", [1.0, None], numpy.zeros((2, 2)),
                                 numpy.array([], dtype=numpy.float32), numpy.array(["a"])])
def test_bad_vectors(bad):
    with pytest.raises(mnemo.ValidationError) as info:
        _convert.vector_bytes(bad, "embedding")
    assert info.value.field == "embedding"


def test_search_request_encoding_round_trips():
    query = numpy.asarray([0.25, -0.5, 1.0], dtype=numpy.float32)
    spec = _ops.SearchSpec(_convert.vector_bytes(query, "q"), 7, 0.5,
                           mnemo.SearchFilters(file_types=["md"]), None)
    payload = enc.search(41, "alice", spec).payload
    assert Request.RequestBufferHasIdentifier(payload, 0)
    request = Request.GetRootAs(payload, 0)
    assert (request.Id(), request.UserId(), request.BodyType()) == (41, b"alice",
                                                                     RequestBody.SearchRequest)
    body = SearchRequest()
    body.Init(request.Body().Bytes, request.Body().Pos)
    wire_query = body.Query()
    assert list(wire_query.QueryAsNumpy()) == [0.25, -0.5, 1.0]
    assert (wire_query.TopK(), wire_query.MinSimilarity(), wire_query.Ef()) == (7, 0.5, None)
    assert wire_query.Filters().FileTypes(0) == b"md"


def test_payloads_are_aligned_for_the_verifier():
    # FlatBuffers offsets are relative to the payload, which must be a multiple of 8 bytes long
    # so 8-byte fields stay aligned when the server copies it into aligned storage.
    for user in ("a", "bb", "ccc", "dddd", "eeeee"):
        assert len(enc.get_user_stats(3, user).payload) % 8 == 0
