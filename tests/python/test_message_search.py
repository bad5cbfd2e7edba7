"""Message embeddings, search_messages and the memories of assemble_context, sync and async: the
embedding stored with create_message / batches (numpy float32 read in place), has_embedding on
the answers, hits with their message and similarity, keyword (query_text) and hybrid message
search with each leg's scores and ranks (RRF checked by hand), memories by keyword, memories and
their budget, the requests the native encoder writes read back with flatc's generated readers,
and every refusal naming its field."""

from __future__ import annotations

import math

import numpy
import pytest

import mnemo
from conftest import blend, unit_vector
from mnemo import _ops
from mnemo.wire.AppendMessageRequest import AppendMessageRequest
from mnemo.wire.AssembleContextRequest import AssembleContextRequest
from mnemo.wire.Request import Request
from mnemo.wire.RequestBody import RequestBody
from mnemo.wire.SearchMessagesRequest import SearchMessagesRequest


def _body(op, kind, cls):
    request = Request.GetRootAs(op.encode(7).payload, 0)
    assert request.BodyType() == kind
    body = cls()
    body.Init(request.Body().Bytes, request.Body().Pos)
    return body


def _conversations(client, user_id):
    trip = client.create_conversation(user_id, "Trip")
    food = client.create_conversation(user_id, "Food")
    kyoto = client.create_message(user_id, trip.id, "user", "Kyoto in spring?",
                                  embedding=numpy.asarray(unit_vector(11), dtype=numpy.float32))
    osaka = client.create_message(user_id, trip.id, "assistant", "Osaka is close",
                                  embedding=blend(unit_vector(11), unit_vector(12), 0.5))
    ramen = client.create_message(user_id, food.id, "user", "ramen", embedding=unit_vector(13))
    plain = client.create_message(user_id, trip.id, "user", "no embedding")
    return trip, food, [kyoto, osaka, ramen, plain]


def test_messages_say_whether_they_have_an_embedding(client, user_id):
    _, _, (kyoto, osaka, ramen, plain) = _conversations(client, user_id)
    assert kyoto.has_embedding and osaka.has_embedding and ramen.has_embedding
    assert not plain.has_embedding
    assert client.get_message(user_id, kyoto.id).has_embedding
    assert not client.get_message(user_id, plain.id).has_embedding


def test_search_messages_nearest_first(client, user_id):
    trip, food, (kyoto, osaka, ramen, _) = _conversations(client, user_id)
    query = numpy.asarray(unit_vector(11), dtype=numpy.float32)
    result = client.search_messages(user_id, query)
    assert isinstance(result, mnemo.MessageSearchResult)
    assert [h.message.id for h in result.hits][:2] == [kyoto.id, osaka.id]
    assert {h.message.id for h in result.hits} == {kyoto.id, osaka.id, ramen.id}
    top = result.hits[0]
    assert isinstance(top, mnemo.MessageHit)
    assert math.isclose(top.similarity, 1.0, abs_tol=1e-4)
    assert top.message.content == "Kyoto in spring?" and top.message.conversation_id == trip.id
    assert top.message.role == "user" and top.message.has_embedding
    assert result.hits[0].similarity >= result.hits[1].similarity >= result.hits[2].similarity
    assert result.exact and result.fewer_than_top_k

    one = client.search_messages(user_id, query, top_k=1)
    assert [h.message.id for h in one.hits] == [kyoto.id] and not one.fewer_than_top_k
    by_role = client.search_messages(user_id, query,
                                     filters=mnemo.MessageSearchFilters(roles=["assistant"]))
    assert [h.message.id for h in by_role.hits] == [osaka.id]
    by_conversation = client.search_messages(
        user_id, query, filters=mnemo.MessageSearchFilters(conversation_ids=[str(food.id)]))
    assert [h.message.id for h in by_conversation.hits] == [ramen.id]
    close = client.search_messages(user_id, query, min_similarity=0.99)
    assert [h.message.id for h in close.hits] == [kyoto.id]
    assert client.search_messages(user_id + "-other", query).hits == []


def test_batches_and_upserts_carry_the_embedding(client, user_id):
    conversation = client.create_conversation(user_id, "Batched")
    vector = numpy.asarray(unit_vector(21), dtype=numpy.float32)
    with client.batch(user_id) as b:
        b.append_message(conversation.id, "user", "with", embedding=vector)
        b.append_message(conversation.id, "user", "without")
        b.upsert_message(mnemo.NewMessage(conversation.id, "assistant", "upserted",
                                          id=mnemo.new_id(), embedding=unit_vector(22)))
    hits = client.search_messages(user_id, vector).hits
    assert [h.message.content for h in hits] == ["with", "upserted"]
    assert math.isclose(hits[0].similarity, 1.0, abs_tol=1e-4)


def test_memories_in_assembled_contexts(client, user_id):
    trip, food, (kyoto, osaka, ramen, plain) = _conversations(client, user_id)
    query = unit_vector(13)
    # The trip's messages are the recent window; the food conversation's ramen is a memory.
    context = client.assemble_context(user_id, trip.id, 1000, query_embedding=query, k_chunks=0)
    assert [m.message.id for m in context.memories] == [ramen.id]
    memory = context.memories[0]
    assert isinstance(memory, mnemo.ContextMemory)
    assert math.isclose(memory.similarity, 1.0, abs_tol=1e-4)
    assert memory.tokens > 0 and memory.token_source == "estimated"
    assert memory.message.content == "ramen"
    budget = context.budget
    assert budget.memory_tokens == memory.tokens and budget.memories_left_out == 0
    assert budget.remaining == (budget.budget - budget.system_prompt_tokens -
                                budget.message_tokens - budget.chunk_tokens -
                                budget.memory_tokens)
    # Outside a one-message window, the trip's own older messages can be memories too.
    narrow = client.assemble_context(user_id, trip.id, 1000, query_embedding=unit_vector(11),
                                     max_messages=1, k_memories=2, k_chunks=0)
    assert [m.message.id for m in narrow.memories] == [kyoto.id, osaka.id]
    filtered = client.assemble_context(
        user_id, trip.id, 1000, query_embedding=unit_vector(11), max_messages=1, k_chunks=0,
        memory_filters=mnemo.MessageSearchFilters(roles=["assistant"]))
    assert [m.message.id for m in filtered.memories] == [osaka.id]
    assert client.assemble_context(user_id, trip.id, 1000, query_embedding=query,
                                   k_memories=0).memories == []
    assert client.assemble_context(user_id, trip.id, 1000).memories == []  # no embedding


def test_refusals_name_the_field(client, user_id):
    conversation = client.create_conversation(user_id, "Errors")
    cid = conversation.id
    query = unit_vector(1)
    cases = [
        (lambda: client.create_message(user_id, cid, "user", "x", embedding=[1.0, 2.0]),
         "embedding"),
        (lambda: client.create_message(user_id, cid, "user", "x", embedding="abc"), "embedding"),
        (lambda: client.create_message(user_id, cid, "user", "x",
                                       embedding=[0.0] * len(query)), "embedding"),
        (lambda: client.search_messages(user_id, [1.0, 2.0]), "query_embedding"),
        (lambda: client.search_messages(user_id, "abc"), "query_embedding"),
        (lambda: client.search_messages(user_id, query, top_k=0), "top_k"),
        (lambda: client.search_messages(user_id, query, top_k=1001), "top_k"),
        (lambda: client.search_messages(user_id, query, top_k="3"), "top_k"),
        (lambda: client.search_messages(user_id, query,
                                        filters=mnemo.MessageSearchFilters(roles=["robot"])),
         "filters.roles"),
        (lambda: client.search_messages(user_id, query,
                                        filters=mnemo.MessageSearchFilters(roles="user")),
         "filters.roles"),
        (lambda: client.search_messages(user_id, query, filters={"roles": ["user"]}), "filters"),
        (lambda: client.search_messages(
            user_id, query, filters=mnemo.MessageSearchFilters(created_from=200,
                                                               created_until=100)),
         "filters.created_until"),
        (lambda: client.search_messages(user_id, query, min_similarity=2.0), "min_similarity"),
        (lambda: client.assemble_context(user_id, cid, 100, query_embedding=query,
                                         k_memories=-1), "k_memories"),
        (lambda: client.assemble_context(user_id, cid, 100, query_embedding=query,
                                         k_memories=1001), "k_memories"),
        (lambda: client.assemble_context(user_id, cid, 100, k_memories=1.5), "k_memories"),
        (lambda: client.assemble_context(
            user_id, cid, 100, query_embedding=query,
            memory_filters=mnemo.MessageSearchFilters(roles=["robot"])), "memory_filters.roles"),
    ]
    for call, field in cases:
        with pytest.raises(mnemo.ValidationError) as info:
            call()
        assert info.value.field == field, (field, info.value)


def test_the_server_names_unknown_roles_too(client, user_id, monkeypatch):
    # With the local check gone, mnemod refuses the name itself, naming the same field, and the
    # client passes the field through.
    monkeypatch.setattr(_ops, "_message_search_filters", lambda filters, field: filters)
    robots = mnemo.MessageSearchFilters(roles=["robot"])
    with pytest.raises(mnemo.ValidationError) as info:
        client.search_messages(user_id, unit_vector(1), filters=robots)
    assert info.value.field == "filters.roles"
    conversation = client.create_conversation(user_id, "Roles")
    with pytest.raises(mnemo.ValidationError) as info:
        client.assemble_context(user_id, conversation.id, 100, query_embedding=unit_vector(1),
                                memory_filters=robots)
    assert info.value.field == "memory_filters.roles"


def test_the_encoded_requests_read_back():
    cid = mnemo.new_id()
    vector = numpy.arange(8, dtype=numpy.float32)[::2]  # not contiguous: converted once
    append = _body(_ops.create_message("u", mnemo.NewMessage(cid, "user", "hi", embedding=vector)),
                   RequestBody.AppendMessageRequest, AppendMessageRequest)
    assert append.Message().EmbeddingAsNumpy().tolist() == [0.0, 2.0, 4.0, 6.0]
    plain = _body(_ops.create_message("u", mnemo.NewMessage(cid, "user", "hi")),
                  RequestBody.AppendMessageRequest, AppendMessageRequest)
    assert plain.Message().EmbeddingIsNone()

    other = mnemo.new_id()
    search = _body(_ops.search_messages(
        "u", numpy.ones(4, dtype=numpy.float32), top_k=3, min_similarity=0.0, ef=40,
        filters=mnemo.MessageSearchFilters(conversation_ids=[other], roles=["tool", "user"],
                                           created_from=5, created_until=9)),
        RequestBody.SearchMessagesRequest, SearchMessagesRequest)
    assert search.QueryAsNumpy().tolist() == [1.0] * 4
    assert search.TopK() == 3 and search.MinSimilarity() == 0.0 and search.Ef() == 40
    filters = search.Filters()
    assert filters.ConversationIdsLength() == 1
    assert (filters.Roles(0), filters.Roles(1)) == (b"tool", b"user")
    assert (filters.CreatedFrom(), filters.CreatedUntil()) == (5, 9)
    defaults = _body(_ops.search_messages("u", [1.0]), RequestBody.SearchMessagesRequest,
                     SearchMessagesRequest)
    assert defaults.TopK() == 10 and defaults.Filters() is None
    assert defaults.MinSimilarity() is None and defaults.Ef() is None

    context = _body(_ops.assemble_context(
        "u", cid, 100, k_memories=2, memory_filters=mnemo.MessageSearchFilters(roles=["user"])),
        RequestBody.AssembleContextRequest, AssembleContextRequest)
    assert context.KMemories() == 2 and context.MemoryFilters().Roles(0) == b"user"
    absent = _body(_ops.assemble_context("u", cid, 100), RequestBody.AssembleContextRequest,
                   AssembleContextRequest)
    assert absent.KMemories() == 5 and absent.MemoryFilters() is None


def _texts(client, user_id):
    trip = client.create_conversation(user_id, "Trip")
    food = client.create_conversation(user_id, "Food")
    temples = client.create_message(user_id, trip.id, "user", "Temples of Kyoto in spring",
                                    embedding=unit_vector(11))
    tofu = client.create_message(user_id, food.id, "assistant", "Kyoto tofu, 京都の豆腐料理")
    noodles = client.create_message(user_id, food.id, "user", "我想吃拉面和饺子",
                                    embedding=unit_vector(12))
    return trip, food, temples, tofu, noodles


def test_keyword_message_search_finds_every_message(client, user_id):
    trip, food, temples, tofu, noodles = _texts(client, user_id)
    result = client.search_messages(user_id, query_text="kyoto")
    assert {h.message.id for h in result.hits} == {temples.id, tofu.id}  # embedding or not
    assert result.text.ran and not result.vector.ran
    assert result.text.terms == ["kyoto"] and result.text.rows == 3
    for rank, hit in enumerate(result.hits, start=1):
        assert hit.bm25 is not None and hit.score == hit.bm25 and hit.bm25 > 0
        assert hit.text_rank == rank and hit.vector_rank == 0 and hit.similarity == 0.0
    assert [h.message.id for h in client.search_messages(user_id, query_text="拉面").hits] == \
        [noodles.id]
    assert [h.message.id for h in client.search_messages(user_id, query_text="豆腐").hits] == \
        [tofu.id]
    by_role = client.search_messages(user_id, query_text="kyoto",
                                     filters=mnemo.MessageSearchFilters(roles=["assistant"]))
    assert [h.message.id for h in by_role.hits] == [tofu.id]
    # The brief's call form, keywords throughout.
    keywords = client.search_messages(user_id, query_embedding=None, top_k=1, filters=None,
                                      query_text="kyoto", fusion="rrf")
    assert len(keywords.hits) == 1 and not keywords.fewer_than_top_k
    stop = client.search_messages(user_id, query_text="the and of")
    assert stop.hits == [] and not stop.text.ran and stop.text.stopwords_ignored == 3
    unknown = client.search_messages(user_id, query_text="zyzzyva")
    assert unknown.hits == [] and unknown.text.unknown_terms == ["zyzzyva"]
    assert client.search_messages(user_id + "-other", query_text="kyoto").hits == []
    # Edits and deletes reach the index at once.
    client.update_message(user_id, tofu.id, content="Osaka tofu")
    assert [h.message.id for h in client.search_messages(user_id, query_text="kyoto").hits] == \
        [temples.id]
    client.delete_conversation(user_id, trip.id)
    assert client.search_messages(user_id, query_text="kyoto").hits == []


def test_hybrid_message_search_fuses_both_legs(client, user_id):
    _, _, temples, tofu, noodles = _texts(client, user_id)
    query = blend(unit_vector(12), unit_vector(11), 0.3)
    text = client.search_messages(user_id, query_text="kyoto")
    vector = client.search_messages(user_id, query)
    assert vector.vector.ran and not vector.text.ran
    both = client.search_messages(user_id, query, query_text="kyoto")
    assert both.fusion == "rrf" and both.text.ran and both.vector.ran
    expected = {}
    for leg in (text, vector):
        for rank, hit in enumerate(leg.hits, start=1):
            expected[hit.message.id] = expected.get(hit.message.id, 0.0) + 1.0 / (60 + rank)
    assert [h.message.id for h in both.hits] == sorted(expected, key=lambda i: -expected[i])
    for hit in both.hits:
        assert math.isclose(hit.score, expected[hit.message.id], rel_tol=1e-12)
    by_id = {h.message.id: h for h in both.hits}
    assert by_id[tofu.id].vector_rank == 0 and by_id[tofu.id].bm25 is not None
    assert by_id[noodles.id].text_rank == 0 and by_id[noodles.id].bm25 is None
    weighted = client.search_messages(user_id, query, query_text="kyoto", fusion="weighted",
                                      text_weight=1.0)
    assert weighted.fusion == "weighted"
    assert weighted.hits[0].message.id == text.hits[0].message.id
    assert weighted.hits[0].score == 1.0


def test_context_memories_by_keyword(client, user_id):
    past = client.create_conversation(user_id, "Past")
    now = client.create_conversation(user_id, "Now")
    dog = client.create_message(user_id, past.id, "user", "my dog is called biscuit")
    client.create_message(user_id, now.id, "user", "what does biscuit like?")
    context = client.assemble_context(user_id, now.id, 10_000, query_text="biscuit", k_chunks=0)
    assert [m.message.id for m in context.memories] == [dog.id]  # the recent window is left out
    assert context.memories[0].bm25 is not None
    assert context.memories[0].score == context.memories[0].bm25


def test_keyword_refusals_name_the_field(client, user_id):
    query = unit_vector(1)
    cases = [
        (lambda: client.search_messages(user_id), "query_embedding"),
        (lambda: client.search_messages(user_id, query_text="   "), "query_text"),
        (lambda: client.search_messages(user_id, query_text=""), "query_text"),
        (lambda: client.search_messages(user_id, query_text=123), "query_text"),
        (lambda: client.search_messages(user_id, query_text="x" * 4097), "query_text"),
        (lambda: client.search_messages(user_id, query_text="bad \udcff"), "query_text"),
        (lambda: client.search_messages(user_id, query_text="kyoto", min_similarity=0.5),
         "min_similarity"),
        (lambda: client.search_messages(user_id, query, query_text="kyoto", fusion="max"),
         "fusion"),
        (lambda: client.search_messages(user_id, query, query_text="kyoto", rrf_k=0), "rrf_k"),
        (lambda: client.search_messages(user_id, query, query_text="kyoto", text_weight=2),
         "text_weight"),
        (lambda: client.search_messages(user_id, query, query_text="kyoto", candidates=1),
         "candidates"),
        (lambda: client.search_messages(user_id, [1.0, 2.0], query_text="kyoto"),
         "query_embedding"),
    ]
    for call, field in cases:
        with pytest.raises(mnemo.ValidationError) as info:
            call()
        assert info.value.field == field, (field, info.value)


def test_the_encoded_keyword_requests_read_back():
    text = _body(_ops.search_messages("u", query_text="kyoto temples", fusion="weighted",
                                      rrf_k=30, text_weight=0.25, candidates=80),
                 RequestBody.SearchMessagesRequest, SearchMessagesRequest)
    assert text.QueryText() == "kyoto temples".encode() and text.QueryIsNone()
    assert text.Fusion() == 1 and text.RrfK() == 30 and text.TextWeight() == 0.25
    assert text.Candidates() == 80
    vector = _body(_ops.search_messages("u", [1.0]), RequestBody.SearchMessagesRequest,
                   SearchMessagesRequest)
    assert vector.QueryText() is None and vector.Fusion() == 0
    assert vector.RrfK() is None and vector.TextWeight() is None and vector.Candidates() is None
