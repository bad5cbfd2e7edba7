"""assemble_context: the conversation, the messages that fit a token budget and the retrieved
chunks in one round trip, sync and async; the request the native encoder writes, read back with
flatc's generated readers; and every refusal, local or mnemod's, naming its field."""

from __future__ import annotations

import math

import numpy
import pytest

import mnemo
from conftest import unit_vector
from mnemo import _ops
from mnemo.wire.AssembleContextRequest import AssembleContextRequest
from mnemo.wire.Request import Request
from mnemo.wire.RequestBody import RequestBody

PROMPT = "You plan trips."  # 15 ASCII bytes: 4 estimated tokens


def _conversation(client, user_id):
    conversation = client.create_conversation(user_id, "Trip", system_prompt=PROMPT)
    messages = [client.create_message(user_id, conversation.id, "user", content, tokens_used=n)
                for content, n in (("first question", 50), ("second question", 6))]
    # No tokens_used: estimated from its 16 ASCII bytes as 4 tokens.
    messages.append(client.create_message(user_id, conversation.id, "assistant",
                                          "an answer, here."))
    document = client.create_document(user_id, "guide.md", "md")
    chunks = client.add_chunks(user_id, [
        mnemo.NewChunk(document.id, 0, "Kyoto in spring", unit_vector(901)),  # 4 tokens
        mnemo.NewChunk(document.id, 1, "Osaka street food", unit_vector(902)),  # 5 tokens
    ])
    return conversation, messages, chunks


def test_round_trip_with_messages_and_chunks(client, user_id):
    conversation, messages, chunks = _conversation(client, user_id)
    # 4 prompt + 4 + 6 messages = 14 of 20; the 50-token message does not fit.
    query = numpy.asarray(unit_vector(901), dtype=numpy.float32)
    context = client.assemble_context(user_id, conversation.id, 20, query_embedding=query,
                                      k_chunks=2)
    assert isinstance(context, mnemo.ContextResult)
    assert context.conversation.id == conversation.id
    assert context.conversation.system_prompt == PROMPT
    assert [m.message.id for m in context.messages] == [messages[1].id, messages[2].id]
    assert [(m.tokens, m.token_source) for m in context.messages] == \
        [(6, "measured"), (4, "estimated")]
    assert context.retrieval == "vector"
    # "Kyoto in spring" (4) fits the 6 left; "Osaka street food" (5) then does not.
    assert [c.hit.hit.chunk_id for c in context.chunks] == [chunks[0].id]
    top = context.chunks[0]
    assert top.tokens == 4 and top.hit.vector_rank == 1 and top.hit.text_rank == 0
    assert math.isclose(top.hit.similarity, 1.0, abs_tol=1e-4)
    assert top.hit.hit.filename == "guide.md"
    assert context.budget == mnemo.ContextBudget(
        budget=20, system_prompt_tokens=4, message_tokens=10, chunk_tokens=4, remaining=2,
        messages_left_out=1, chunks_left_out=1)


def test_keyword_hybrid_and_no_retrieval(client, user_id):
    conversation, messages, chunks = _conversation(client, user_id)
    keyword = client.assemble_context(user_id, str(conversation.id), 1000, query_text="osaka")
    assert keyword.retrieval == "keyword"
    assert [c.hit.hit.chunk_id for c in keyword.chunks] == [chunks[1].id]
    assert keyword.chunks[0].hit.bm25 > 0 and keyword.chunks[0].hit.similarity is None
    assert [m.message.id for m in keyword.messages] == [m.id for m in messages]
    hybrid = client.assemble_context(user_id, conversation.id, 1000, query_text="kyoto",
                                     query_embedding=unit_vector(901), k_chunks=1)
    assert hybrid.retrieval == "hybrid"
    assert [c.hit.hit.chunk_id for c in hybrid.chunks] == [chunks[0].id]
    filtered = client.assemble_context(user_id, conversation.id, 1000, query_text="kyoto",
                                       filters=mnemo.SearchFilters(file_types=["pdf"]))
    assert filtered.chunks == [] and filtered.retrieval == "keyword"
    plain = client.assemble_context(user_id, conversation.id, 1000, max_messages=1)
    assert plain.retrieval == "none" and plain.chunks == []
    assert [m.message.id for m in plain.messages] == [messages[2].id]
    assert plain.budget.messages_left_out == 0
    assert plain.budget.remaining == 1000 - 4 - 4


def test_message_budget_leaves_room_for_chunks(client, user_id):
    conversation, messages, chunks = _conversation(client, user_id)
    query = unit_vector(901)
    # Without it the three messages (50 + 6 + 4) fit in 70 and leave 6: one chunk of 4 fits.
    full = client.assemble_context(user_id, conversation.id, 70, query_embedding=query,
                                   k_chunks=2)
    assert len(full.messages) == 3 and len(full.chunks) == 1
    # With 10 for the messages, the two newest fit and both chunks (4 + 5) get the rest.
    capped = client.assemble_context(user_id, conversation.id, 70, query_embedding=query,
                                     k_chunks=2, message_budget=10)
    assert [m.message.id for m in capped.messages] == [messages[1].id, messages[2].id]
    assert [c.hit.hit.chunk_id for c in capped.chunks] == [chunks[0].id, chunks[1].id]
    assert capped.budget.message_tokens == 10 and capped.budget.messages_left_out == 1
    assert capped.budget.remaining == 70 - 4 - 10 - 9
    for bad in (-1, 10_000_001):
        with pytest.raises(mnemo.ValidationError) as raised:
            client.assemble_context(user_id, conversation.id, 70, message_budget=bad)
        assert raised.value.field == "message_budget"


def test_refusals_name_the_field(client, user_id):
    conversation, _, _ = _conversation(client, user_id)
    cid = conversation.id
    with pytest.raises(mnemo.RecordNotFoundError):
        client.assemble_context(user_id + "-other", cid, 100)  # another user's conversation
    with pytest.raises(mnemo.RecordNotFoundError):
        client.assemble_context(user_id, mnemo.new_id(), 100)
    cases = [
        (lambda: client.assemble_context(user_id, cid, 3), "token_budget"),  # prompt needs 4
        (lambda: client.assemble_context(user_id, cid, 0), "token_budget"),
        (lambda: client.assemble_context(user_id, cid, -1), "token_budget"),
        (lambda: client.assemble_context(user_id, cid, 10_000_001), "token_budget"),
        (lambda: client.assemble_context(user_id, cid, "100"), "token_budget"),
        (lambda: client.assemble_context(user_id, cid, 1.5), "token_budget"),
        (lambda: client.assemble_context(user_id, cid, 100, k_chunks=-1), "k_chunks"),
        (lambda: client.assemble_context(user_id, cid, 100, k_chunks=1001), "k_chunks"),
        (lambda: client.assemble_context(user_id, cid, 100, max_messages=-1), "max_messages"),
        (lambda: client.assemble_context(user_id, cid, 100, max_messages=1001), "max_messages"),
        (lambda: client.assemble_context(user_id, cid, 100, query_embedding=[1.0, 2.0]),
         "query_embedding"),
        (lambda: client.assemble_context(user_id, cid, 100, query_embedding=[]),
         "query_embedding"),
        (lambda: client.assemble_context(user_id, cid, 100, query_embedding="abc"),
         "query_embedding"),
        (lambda: client.assemble_context(user_id, cid, 100, query_text=" \t"), "query_text"),
        (lambda: client.assemble_context(user_id, cid, 100, query_text=7), "query_text"),
        (lambda: client.assemble_context(user_id, cid, 100, query_embedding=unit_vector(1),
                                         min_similarity=1.5), "min_similarity"),
        (lambda: client.assemble_context(user_id, cid, 100, query_text="kyoto",
                                         min_similarity=0.5), "min_similarity"),
        (lambda: client.assemble_context(user_id, cid, 100, filters={"file_types": ["md"]}),
         "filters"),
        (lambda: client.assemble_context(user_id, "not-a-uuid", 100), "conversation_id"),
        (lambda: client.assemble_context("", cid, 100), "user_id"),
    ]
    for call, field in cases:
        with pytest.raises(mnemo.ValidationError) as info:
            call()
        assert info.value.field == field, (field, info.value)
    client.soft_delete(user_id, cid)
    with pytest.raises(mnemo.RecordNotFoundError):
        client.assemble_context(user_id, cid, 100)


def _request(op) -> tuple[Request, AssembleContextRequest]:
    payload = op.encode(7).payload
    request = Request.GetRootAs(payload, 0)
    assert request.BodyType() == RequestBody.AssembleContextRequest
    body = AssembleContextRequest()
    body.Init(request.Body().Bytes, request.Body().Pos)
    return request, body


def test_the_encoded_request_reads_back():
    cid = mnemo.new_id()
    vector = numpy.arange(8, dtype=numpy.float32)[::2]  # not contiguous: converted once
    op = _ops.assemble_context("ü-user", cid, 4096, query_embedding=vector, query_text="kyoto",
                               k_chunks=3, max_messages=0,
                               filters=mnemo.SearchFilters(file_types=["md"]), min_similarity=0.0,
                               message_budget=300)
    assert op.retry  # a read: resent once when its connection broke
    request, body = _request(op)
    assert request.Id() == 7 and request.UserId() == "ü-user".encode()
    assert body.TokenBudget() == 4096 and body.MaxMessages() == 0 and body.KChunks() == 3
    assert body.QueryEmbeddingAsNumpy().tolist() == [0.0, 2.0, 4.0, 6.0]
    assert body.QueryText() == b"kyoto" and body.Filters().FileTypes(0) == b"md"
    assert body.MinSimilarity() == 0.0  # zero is present, not absent
    assert body.MessageBudget() == 300
    _, defaults = _request(_ops.assemble_context("u", cid, 1))
    assert (defaults.MaxMessages(), defaults.KChunks()) == (20, 5)
    assert defaults.QueryEmbeddingIsNone() and defaults.QueryText() is None
    assert defaults.Filters() is None and defaults.MinSimilarity() is None
    assert defaults.MessageBudget() is None
