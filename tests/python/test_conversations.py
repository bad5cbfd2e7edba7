"""Conversation methods (the seeds' ConversationRepository), on both clients."""

from __future__ import annotations

from datetime import timezone

import pytest

import mnemo


def test_create_and_get(client, user_id):
    created = client.create_conversation(user_id, "First chat", summary="about x",
                                         system_prompt="be brief", metadata={"lang": "en"})
    assert created.user_id == user_id
    assert created.title == "First chat"
    assert created.summary == "about x"
    assert created.model == mnemo.DEFAULT_MODEL
    assert created.system_prompt == "be brief"
    assert created.metadata == {"lang": "en"}
    assert not created.is_deleted and created.deleted_at is None
    assert created.message_count == 0 and created.total_tokens == 0
    assert created.last_message_at is None
    assert created.created_at.tzinfo == timezone.utc
    assert client.get_conversation(user_id, created.id) == created
    assert client.get_conversation(user_id, str(created.id)) == created  # text ids too
    assert client.get_user_conversation(user_id, created.id) == created


def test_create_with_client_id_is_idempotent(client, user_id):
    conversation_id = mnemo.new_id()
    first = client.create_conversation(user_id, "Idempotent", id=conversation_id, model="m-1")
    again = client.create_conversation(user_id, "Idempotent", id=conversation_id, model="m-1")
    assert first.id == again.id == conversation_id
    assert client.count_user_conversations(user_id) == 1
    with pytest.raises(mnemo.DuplicateRecordError):
        client.create_conversation(user_id + "-other", "Not yours", id=conversation_id)


def test_other_users_rows_are_not_found(client, user_id):
    mine = client.create_conversation(user_id, "Private")
    with pytest.raises(mnemo.RecordNotFoundError):
        client.get_conversation(user_id + "-other", mine.id)
    assert client.get_user_conversation(user_id + "-other", mine.id) is None
    assert client.soft_delete(user_id + "-other", mine.id) is False


def test_list_pages_newest_first(client, user_id):
    ids = [client.create_conversation(user_id, f"Chat {i}").id for i in range(5)]
    listed = client.get_user_conversations(user_id, limit=3)
    assert [c.id for c in listed] == ids[::-1][:3]
    assert [c.id for c in client.get_user_conversations(user_id, skip=3, limit=3)] == ids[1::-1]
    page = client.list_conversations(user_id, limit=2)
    assert page.total == 5 and len(page.items) == 2 and page.next_cursor
    seen = [c.id for c in page.items]
    while page.next_cursor:
        page = client.list_conversations(user_id, limit=2, cursor=page.next_cursor)
        seen += [c.id for c in page.items]
    assert seen == ids[::-1]
    # updated_at order: a new message moves a conversation to the front.
    client.create_message(user_id, ids[0], "user", "bump")
    by_update = client.list_conversations(user_id, order_by="updated_at", limit=1)
    assert by_update.items[0].id == ids[0]


def test_search_by_title_is_case_insensitive(client, user_id):
    trip = client.create_conversation(user_id, "Trip to KYOTO")
    client.create_conversation(user_id, "Groceries")
    assert [c.id for c in client.search_by_title(user_id, "kyoto")] == [trip.id]
    assert client.search_by_title(user_id, "nothing like this") == []
    client.soft_delete(user_id, trip.id)
    assert client.search_by_title(user_id, "kyoto") == []


def test_soft_delete_undelete_and_stats(client, user_id):
    keep = client.create_conversation(user_id, "Keep")
    gone = client.create_conversation(user_id, "Gone")
    assert client.soft_delete(user_id, gone.id) is True
    with pytest.raises(mnemo.RecordNotFoundError):
        client.get_conversation(user_id, gone.id)
    deleted = client.get_conversation(user_id, gone.id, include_deleted=True)
    assert deleted.is_deleted and deleted.deleted_at is not None
    assert [c.id for c in client.get_user_conversations(user_id)] == [keep.id]
    assert len(client.get_user_conversations(user_id, include_deleted=True)) == 2
    assert client.count_user_conversations(user_id) == 1
    assert client.count_user_conversations(user_id, include_deleted=True) == 2
    stats = client.get_user_stats(user_id)
    assert (stats.total_conversations, stats.active_conversations,
            stats.deleted_conversations) == (2, 1, 1)
    assert stats.last_activity is not None
    assert client.undelete(user_id, gone.id) is True
    assert not client.get_conversation(user_id, gone.id).is_deleted
    assert client.undelete(user_id, mnemo.new_id()) is False
    assert client.soft_delete(user_id, mnemo.new_id()) is False


def test_updates(client, user_id):
    conversation = client.create_conversation(user_id, "Old title")
    updated = client.update_conversation(user_id, conversation.id, title="New title",
                                         model="other-model", system_prompt="sys",
                                         metadata={"k": [1, 2]})
    assert (updated.title, updated.model, updated.system_prompt) == \
        ("New title", "other-model", "sys")
    assert updated.metadata == {"k": [1, 2]}
    assert updated.updated_at > conversation.updated_at
    renamed = client.update_title_and_summary(user_id, conversation.id, summary="short")
    assert renamed.title == "New title" and renamed.summary == "short"
    unchanged = client.update_title_and_summary(user_id, conversation.id)
    assert unchanged == renamed
    assert client.update_title_and_summary(user_id, mnemo.new_id(), title="x") is None
    with pytest.raises(mnemo.RecordNotFoundError):
        client.update_conversation(user_id, mnemo.new_id(), title="x")
    with pytest.raises(mnemo.ValidationError) as info:
        client.update_conversation(user_id, conversation.id, title="   ")
    assert info.value.field == "title"


def test_hard_delete_cascades(client, user_id):
    conversation = client.create_conversation(user_id, "Doomed")
    message = client.create_message(user_id, conversation.id, "user", "hello")
    client.delete_conversation(user_id, conversation.id)
    with pytest.raises(mnemo.RecordNotFoundError):
        client.get_conversation(user_id, conversation.id, include_deleted=True)
    with pytest.raises(mnemo.RecordNotFoundError):
        client.get_message(user_id, message.id)
    with pytest.raises(mnemo.RecordNotFoundError):
        client.delete_conversation(user_id, conversation.id)


@pytest.mark.parametrize("bad_title", ["", "   ", "x" * 256])
def test_invalid_titles_are_rejected(client, user_id, bad_title):
    with pytest.raises(mnemo.ValidationError) as info:
        client.create_conversation(user_id, bad_title)
    assert info.value.field == "title"
    assert client.count_user_conversations(user_id, include_deleted=True) == 0


def test_invalid_arguments_fail_before_sending(client, user_id):
    with pytest.raises(mnemo.ValidationError) as info:
        client.get_conversation(user_id, "not-a-uuid")
    assert info.value.field == "conversation_id"
    with pytest.raises(mnemo.ValidationError) as info:
        client.get_user_conversations("")
    assert info.value.field == "user_id"
    with pytest.raises(mnemo.ValidationError) as info:
        client.create_conversation(user_id, 42)
    assert info.value.field == "title"
    with pytest.raises(mnemo.ValidationError) as info:
        client.create_conversation(user_id, "ok", metadata={"bad": {1, 2}})
    assert info.value.field == "metadata"
    with pytest.raises(mnemo.ValidationError) as info:
        client.list_conversations(user_id, order_by="title")
    assert info.value.field == "order_by"
    with pytest.raises(mnemo.ValidationError) as info:
        client.get_user_conversations(user_id, limit="10")
    assert info.value.field == "limit"


def test_server_side_limits(client, user_id):
    with pytest.raises(mnemo.ValidationError) as info:
        client.get_user_conversations(user_id, limit=101)
    assert info.value.field == "limit"
    with pytest.raises(mnemo.ValidationError):
        client.get_user_conversations(user_id, skip=-1)
    with pytest.raises(mnemo.ValidationError):
        client.create_conversation(user_id, "bad metadata", metadata=[1, 2])  # not an object
