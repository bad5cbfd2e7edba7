"""Message routes on both stores: append, page, token statistics, and their error cases."""

from __future__ import annotations

import uuid

import pytest

from helpers import assert_error, new_conversation, ts


def messages_url(conversation_id: str) -> str:
    return f"/api/v1/conversations/{conversation_id}/messages"


def append(api, user, conversation_id, role="user", content="hello", **fields) -> dict:
    response = api.post(messages_url(conversation_id),
                        json={"role": role, "content": content, **fields}, headers=user.headers)
    assert response.status_code == 201, response.text
    return response.json()


def conversation(api, user, conversation_id) -> dict:
    response = api.get(f"/api/v1/conversations/{conversation_id}", headers=user.headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_append_answers_the_message_and_moves_the_conversation(api, alice):
    created = new_conversation(api, alice)
    message = append(api, alice, created["id"], "user", "Where should we go?", tokens_used=6,
                     metadata={"lang": "en"})
    uuid.UUID(message["id"])
    assert message["conversation_id"] == created["id"]
    assert (message["role"], message["content"], message["tokens_used"]) == (
        "user", "Where should we go?", 6)
    assert message["metadata"] == {"lang": "en"}
    assert message["tool_calls"] is None and message["tool_results"] is None

    after = conversation(api, alice, created["id"])
    assert after["message_count"] == 1
    # updated_at strictly increases per change, so it may be a microsecond past created_at.
    assert ts(after["updated_at"]) >= ts(message["created_at"]) > ts(created["updated_at"])


def test_history_is_chronological_and_pages(api, alice):
    cid = new_conversation(api, alice)["id"]
    roles = ["system", "user", "assistant", "user", "assistant", "tool"]
    sent = [append(api, alice, cid, role, f"m{i}", tokens_used=i)["id"]
            for i, role in enumerate(roles)]

    def ids(**params):
        response = api.get(messages_url(cid), params=params, headers=alice.headers)
        assert response.status_code == 200, response.text
        return [m["id"] for m in response.json()]

    assert ids() == sent
    assert ids(skip=1, limit=2) == sent[1:3]
    assert ids(order="desc", limit=2) == sent[::-1][:2]
    assert ids(role="user") == [sent[1], sent[3]]
    assert ids(role="assistant", order="desc") == [sent[4], sent[2]]
    assert ids(skip=6) == []
    assert conversation(api, alice, cid)["message_count"] == 6


def test_tool_calls_and_results_round_trip(api, alice):
    cid = new_conversation(api, alice)["id"]
    calls = [{"id": "call_1", "name": "weather", "arguments": {"city": "Kyoto"}}]
    message = append(api, alice, cid, "assistant", "Checking", tool_calls=calls,
                     tool_results={"call_1": {"temp": 21.5}})
    listed = api.get(messages_url(cid), headers=alice.headers).json()
    assert listed == [message]
    assert listed[0]["tool_calls"] == calls
    assert listed[0]["tool_results"] == {"call_1": {"temp": 21.5}}


def test_token_usage_stats(api, alice):
    cid = new_conversation(api, alice)["id"]
    empty = api.get(f"{messages_url(cid)}/stats", headers=alice.headers).json()
    assert empty["total_tokens"] == 0 and empty["message_count"] == 0
    assert empty["average_tokens_per_message"] == 0
    append(api, alice, cid, "user", "a", tokens_used=10)
    append(api, alice, cid, "assistant", "b", tokens_used=30)
    append(api, alice, cid, "user", "c")
    append(api, alice, cid, "system", "d", tokens_used=2)
    stats = api.get(f"{messages_url(cid)}/stats", headers=alice.headers).json()
    assert stats == {"total_tokens": 42, "user_tokens": 10, "assistant_tokens": 30,
                     "average_tokens_per_message": 10.5, "message_count": 4,
                     "user_message_count": 2, "assistant_message_count": 1}


@pytest.mark.parametrize("body, field", [
    ({"content": "no role"}, "role"),
    ({"role": "robot", "content": "x"}, "role"),
    ({"role": "user"}, "content"),
    ({"role": "user", "content": ""}, "content"),
    ({"role": "user", "content": 42}, "content"),
    ({"role": "user", "content": "x", "tokens_used": -1}, "tokens_used"),
    ({"role": "user", "content": "x", "tokens_used": 2**31}, "tokens_used"),
    ({"role": "user", "content": "x", "tokens_used": "many"}, "tokens_used"),
    ({"role": "user", "content": "x", "metadata": "tags"}, "metadata"),
    ({"role": "user", "content": "x", "conversation_id": "other"}, "conversation_id"),
])
def test_append_rejects_bad_bodies_and_stores_nothing(api, alice, body, field):
    cid = new_conversation(api, alice)["id"]
    response = api.post(messages_url(cid), json=body, headers=alice.headers)
    assert_error(response, 422, "VALIDATION_ERROR", field)
    assert conversation(api, alice, cid)["message_count"] == 0
    assert api.get(messages_url(cid), headers=alice.headers).json() == []


def test_largest_token_count_is_accepted(api, alice):
    cid = new_conversation(api, alice)["id"]
    assert append(api, alice, cid, tokens_used=2**31 - 1)["tokens_used"] == 2**31 - 1


def test_messages_of_missing_deleted_or_foreign_conversations_are_not_found(api, alice, bob):
    cid = new_conversation(api, alice)["id"]
    append(api, alice, cid)
    body = {"role": "user", "content": "hi"}
    for user, url in [(bob, messages_url(cid)), (alice, messages_url(str(uuid.uuid4())))]:
        assert_error(api.post(url, json=body, headers=user.headers), 404, "NOT_FOUND")
        assert_error(api.get(url, headers=user.headers), 404, "NOT_FOUND")
        assert_error(api.get(f"{url}/stats", headers=user.headers), 404, "NOT_FOUND")
    assert conversation(api, alice, cid)["message_count"] == 1

    api.delete(f"/api/v1/conversations/{cid}", headers=alice.headers)
    assert_error(api.post(messages_url(cid), json=body, headers=alice.headers), 404, "NOT_FOUND")
    assert_error(api.get(messages_url(cid), headers=alice.headers), 404, "NOT_FOUND")
    api.post(f"/api/v1/conversations/{cid}/restore", headers=alice.headers)
    assert len(api.get(messages_url(cid), headers=alice.headers).json()) == 1


def test_hard_delete_removes_the_messages(api, alice):
    cid = new_conversation(api, alice)["id"]
    append(api, alice, cid)
    api.delete(f"/api/v1/conversations/{cid}", params={"hard": True}, headers=alice.headers)
    assert_error(api.get(messages_url(cid), headers=alice.headers), 404, "NOT_FOUND")


@pytest.mark.parametrize("params, field", [
    ({"limit": 0}, "limit"), ({"limit": 201}, "limit"), ({"skip": -1}, "skip"),
    ({"role": "robot"}, "role"), ({"order": "sideways"}, "order"),
])
def test_history_rejects_bad_queries(api, alice, params, field):
    cid = new_conversation(api, alice)["id"]
    assert_error(api.get(messages_url(cid), params=params, headers=alice.headers), 422,
                 "VALIDATION_ERROR", field)


def test_malformed_conversation_id(api, alice):
    assert_error(api.get(messages_url("123"), headers=alice.headers), 422, "VALIDATION_ERROR",
                 "conversation_id")
