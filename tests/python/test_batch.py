"""Atomic writes: ``with client.batch(user_id) as b:``, apply_batch and bulk_upsert."""

from __future__ import annotations

import pytest

import mnemo
from conftest import unit_vector


def test_batch_block_writes_everything(client, user_id):
    with client.batch(user_id) as b:
        conversation_id = b.create_conversation("Batched", metadata={"src": "batch"})
        first = b.append_message(conversation_id, "user", "hello", tokens_used=4)
        b.append_message(conversation_id, "assistant", "hi", tokens_used=6)
        document_id = b.create_document("doc.md", "md", "text")
        chunk_id = b.add_chunk(document_id, 0, "chunk", unit_vector(11), metadata={"k": 1})
        assert len(b) == 5
    assert b.ids[0] == conversation_id and b.ids[1] == first and b.ids[4] == chunk_id
    conversation = client.get_conversation(user_id, conversation_id)
    assert conversation.message_count == 2 and conversation.total_tokens == 10
    assert client.get_document(user_id, document_id).total_chunks == 1
    assert client.search_similar(user_id, unit_vector(11), limit=1)[0].chunk_id == chunk_id


def test_failing_op_writes_nothing(client, user_id):
    with pytest.raises(mnemo.ValidationError) as info:
        with client.batch(user_id) as b:
            conversation_id = b.create_conversation("Never")
            b.append_message(conversation_id, "user", "ok")
            b.append_message(conversation_id, "robot", "bad role")
    assert "op 2" in info.value.message
    assert client.get_user_conversation(user_id, conversation_id) is None
    assert client.count_user_conversations(user_id, include_deleted=True) == 0


def test_exception_in_block_sends_nothing(client, user_id):
    with pytest.raises(RuntimeError):
        with client.batch(user_id) as b:
            conversation_id = b.create_conversation("Abandoned")
            raise RuntimeError("changed my mind")
    assert b.ids == []
    assert client.get_user_conversation(user_id, conversation_id) is None


def test_empty_block_sends_nothing(client, user_id):
    with client.batch(user_id) as b:
        pass
    assert b.ids == []


def test_apply_batch(client, user_id):
    batch = mnemo.Batch()
    conversation_id = batch.create_conversation("Explicit")
    batch.upsert_message(mnemo.NewMessage(conversation_id, "user", "upserted", id=mnemo.new_id()))
    ids = client.apply_batch(user_id, batch)
    assert len(ids) == 2 and ids[0] == conversation_id
    assert client.get_message(user_id, ids[1]).content == "upserted"


def test_bulk_upsert(client, user_id):
    conversation_id, message_id, document_id = mnemo.new_id(), mnemo.new_id(), mnemo.new_id()
    written = client.bulk_upsert(user_id, [
        mnemo.NewConversation("v1", id=conversation_id),
        mnemo.NewMessage(conversation_id, "user", "first version", id=message_id),
        mnemo.NewDocument("bulk.txt", "txt", id=document_id),
        mnemo.NewChunk(document_id, 0, "bulk chunk", unit_vector(21), id=mnemo.new_id()),
    ])
    assert written == 4
    # Upserting again replaces by id and adds nothing.
    assert client.bulk_upsert(user_id, [
        mnemo.NewConversation("v2", id=conversation_id),
        mnemo.NewMessage(conversation_id, "user", "second version", id=message_id),
    ]) == 2
    assert client.get_conversation(user_id, conversation_id).title == "v2"
    assert client.get_message(user_id, message_id).content == "second version"
    assert client.get_conversation_message_count(user_id, conversation_id) == 1
    with pytest.raises(mnemo.ValidationError) as info:
        client.bulk_upsert(user_id, [mnemo.NewConversation("x", id=mnemo.new_id()), {"title": "x"}])
    assert info.value.field == "records[1]"
    with pytest.raises(mnemo.ValidationError):
        client.bulk_upsert(user_id, [mnemo.NewMessage(conversation_id, "user", "no id")])
