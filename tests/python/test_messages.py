"""Message methods (the seeds' MessageRepository), on both clients."""

from __future__ import annotations

import pytest

import mnemo


@pytest.fixture
def conversation(client, user_id):
    return client.create_conversation(user_id, "Messages")


def _fill(client, user_id, conversation_id):
    """user(10) / assistant(20, tool call) / tool / user(5) / system: five messages."""
    return [
        client.create_message(user_id, conversation_id, "user", "question", tokens_used=10),
        client.create_message(user_id, conversation_id, "assistant", "calling a tool",
                              tokens_used=20,
                              tool_calls=[{"id": "call_1", "name": "search", "input": {"q": "x"}}]),
        client.create_message(user_id, conversation_id, "tool", "tool output",
                              tool_results={"call_1": {"ok": True}}),
        client.create_message(user_id, conversation_id, "user", "thanks", tokens_used=5),
        client.create_message(user_id, conversation_id, "system", "note"),
    ]


def test_create_and_get_message(client, user_id, conversation):
    message = client.create_message(
        user_id, conversation.id, "assistant", "", tokens_used=3, metadata={"m": 1},
        parts=[{"type": "text", "text": "hi"}], attachments=[{"name": "a.png"}])
    assert message.role == "assistant" and message.content == ""
    assert message.parts == [{"type": "text", "text": "hi"}]
    assert message.attachments == [{"name": "a.png"}]
    assert message.tool_calls is None and message.tool_results is None
    assert message.tokens_used == 3 and message.metadata == {"m": 1}
    assert message.conversation_id == conversation.id
    assert client.get_message(user_id, message.id) == message
    after = client.get_conversation(user_id, conversation.id)
    assert after.message_count == 1 and after.total_tokens == 3
    assert after.last_message_at == message.created_at


def test_idempotent_create_with_client_id(client, user_id, conversation):
    message_id = mnemo.new_id()
    first = client.create_message(user_id, conversation.id, "user", "once", id=message_id)
    again = client.create_message(user_id, conversation.id, "user", "once", id=message_id)
    assert first.id == again.id == message_id
    assert client.get_conversation_message_count(user_id, conversation.id) == 1


def test_listing_orders_and_filters(client, user_id, conversation):
    messages = _fill(client, user_id, conversation.id)
    ids = [m.id for m in messages]
    assert [m.id for m in client.get_conversation_messages(user_id, conversation.id)] == ids
    assert [m.id for m in client.get_conversation_messages(user_id, conversation.id, skip=1,
                                                           limit=2)] == ids[1:3]
    # The newest two, returned chronologically (seed semantics).
    assert [m.id for m in client.get_conversation_messages_desc(user_id, conversation.id,
                                                                limit=2)] == ids[3:5]
    assert client.get_conversation_message_count(user_id, conversation.id) == 5
    assert [m.id for m in client.get_messages_by_role(user_id, conversation.id, "user")] == \
        [ids[0], ids[3]]
    assert [m.id for m in client.get_last_messages(user_id, conversation.id, 3)] == ids[2:5]
    assert client.get_last_user_message(user_id, conversation.id).id == ids[3]
    assert client.get_last_assistant_message(user_id, conversation.id).id == ids[1]
    with_tools = client.get_messages_with_tool_calls(user_id, conversation.id)
    assert [m.id for m in with_tools] == [ids[1]]
    assert with_tools[0].tool_calls[0]["name"] == "search"
    page = client.list_messages(user_id, conversation.id, descending=True, limit=2)
    assert [m.id for m in page.items] == [ids[4], ids[3]] and page.total == 5
    nxt = client.list_messages(user_id, conversation.id, descending=True, limit=2,
                               cursor=page.next_cursor)
    assert [m.id for m in nxt.items] == [ids[2], ids[1]]
    tools_page = client.list_messages(user_id, conversation.id, role="tool")
    assert [m.id for m in tools_page.items] == [ids[2]] and tools_page.total == 1


def test_last_message_of_missing_role_is_none(client, user_id, conversation):
    client.create_message(user_id, conversation.id, "user", "only me")
    assert client.get_last_assistant_message(user_id, conversation.id) is None


def test_token_usage_stats(client, user_id, conversation):
    _fill(client, user_id, conversation.id)
    stats = client.get_token_usage_stats(user_id, conversation.id)
    assert stats.message_count == 5
    assert stats.messages_with_tokens == 3
    assert stats.total_tokens == 35
    assert stats.average_tokens == pytest.approx(35 / 3)
    assert stats.average_tokens_per_message == pytest.approx(7.0)
    assert (stats.user_tokens, stats.assistant_tokens) == (15, 20)
    assert (stats.user_message_count, stats.assistant_message_count) == (2, 1)
    assert stats.per_role["tool"].message_count == 1
    assert stats.per_role["system"].total_tokens == 0


def test_update_tool_results(client, user_id, conversation):
    message = client.create_message(user_id, conversation.id, "assistant", "calling",
                                    tool_calls=[{"id": "c1", "name": "calc"}])
    updated = client.update_tool_results(user_id, message.id, {"c1": {"result": 42}})
    assert updated.tool_results == {"c1": {"result": 42}}
    assert client.get_message(user_id, message.id).tool_results == {"c1": {"result": 42}}
    assert client.update_tool_results(user_id, mnemo.new_id(), {}) is None


def test_delete_conversation_messages(client, user_id, conversation):
    _fill(client, user_id, conversation.id)
    assert client.delete_conversation_messages(user_id, conversation.id) == 5
    assert client.get_conversation_messages(user_id, conversation.id) == []
    assert client.get_conversation(user_id, conversation.id).message_count == 0


def test_message_validation(client, user_id, conversation):
    with pytest.raises(mnemo.ValidationError) as info:
        client.create_message(user_id, conversation.id, "robot", "hi")
    assert info.value.field == "role"
    with pytest.raises(mnemo.ValidationError) as info:
        client.create_message(user_id, conversation.id, "user", "")
    assert info.value.field == "content"
    with pytest.raises(mnemo.ValidationError) as info:
        client.create_message(user_id, conversation.id, "user", "x", tokens_used=-1)
    assert info.value.field == "tokens_used"
    with pytest.raises(mnemo.ValidationError) as info:
        client.get_messages_by_role(user_id, conversation.id, "robot")
    assert info.value.field == "role"
    with pytest.raises(mnemo.ValidationError) as info:
        client.create_message(user_id, conversation.id, "user", "x", tokens_used="many")
    assert info.value.field == "tokens_used"
    with pytest.raises(mnemo.ValidationError):
        client.get_conversation_messages(user_id, conversation.id, limit=201)
    assert client.get_conversation_message_count(user_id, conversation.id) == 0


def test_messages_need_a_live_conversation_of_the_user(client, user_id, conversation):
    with pytest.raises(mnemo.RecordNotFoundError):
        client.create_message(user_id, mnemo.new_id(), "user", "to nowhere")
    with pytest.raises(mnemo.RecordNotFoundError):
        client.create_message(user_id + "-other", conversation.id, "user", "not mine")
    client.soft_delete(user_id, conversation.id)
    with pytest.raises(mnemo.RecordNotFoundError):
        client.create_message(user_id, conversation.id, "user", "deleted")
