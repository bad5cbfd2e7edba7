"""Conversation routes on both stores: the seeds' flows and their error cases."""

from __future__ import annotations

import uuid

import pytest

from helpers import assert_error, new_conversation, ts

BASE = "/api/v1/conversations"


def total(api, user, **params) -> int:
    response = api.get(BASE, params=params, headers=user.headers)
    assert response.status_code == 200, response.text
    return response.json()["total"]


def test_create_answers_the_stored_row_with_defaults(api, alice):
    response = api.post(BASE, json={"title": "Trip planning", "system_prompt": "Be brief"},
                        headers=alice.headers)
    assert response.status_code == 201, response.text
    created = response.json()
    uuid.UUID(created["id"])
    assert created["user_id"] == alice.id
    assert created["title"] == "Trip planning"
    assert created["system_prompt"] == "Be brief"
    assert created["model"] == "claude-sonnet-4-5-20250929"
    assert created["metadata"] == {} and created["summary"] is None
    assert created["message_count"] == 0 and created["is_deleted"] is False
    assert created["created_at"] == created["updated_at"]
    assert response.headers["X-Request-ID"] and float(response.headers["X-Process-Time"]) >= 0

    fetched = api.get(f"{BASE}/{created['id']}", headers=alice.headers)
    assert fetched.status_code == 200 and fetched.json() == created


def test_create_keeps_every_given_field(api, alice):
    created = new_conversation(api, alice, "Notes", summary="s", model="gpt-x",
                               system_prompt="p", metadata={"tags": ["a"], "n": 1})
    fetched = api.get(f"{BASE}/{created['id']}", headers=alice.headers).json()
    assert (fetched["summary"], fetched["model"], fetched["system_prompt"]) == ("s", "gpt-x", "p")
    assert fetched["metadata"] == {"tags": ["a"], "n": 1}


@pytest.mark.parametrize("body, field", [
    ({}, "title"),
    ({"title": ""}, "title"),
    ({"title": "   "}, "title"),
    ({"title": "x" * 256}, "title"),
    ({"title": 7.5}, "title"),
    ({"title": "t", "model": ""}, "model"),
    ({"title": "t", "model": "m" * 101}, "model"),
    ({"title": "t", "metadata": ["not", "an", "object"]}, "metadata"),
    ({"title": "t", "colour": "red"}, "colour"),
    (["a", "list"], "body"),
])
def test_create_rejects_bad_bodies_naming_the_field(api, alice, body, field):
    response = api.post(BASE, json=body, headers=alice.headers)
    assert_error(response, 422, "VALIDATION_ERROR", field)
    assert total(api, alice) == 0


def test_create_rejects_a_body_that_is_not_json(api, alice):
    response = api.post(BASE, content=b"{title: nope", headers={
        **alice.headers, "Content-Type": "application/json"})
    assert_error(response, 422, "VALIDATION_ERROR")
    assert total(api, alice) == 0


def test_title_of_255_characters_is_accepted(api, alice):
    assert new_conversation(api, alice, "é" * 255)["title"] == "é" * 255


def test_user_id_header_is_required_and_bounded(api, alice):
    assert_error(api.post(BASE, json={"title": "t"}), 401, "AUTHENTICATION_ERROR", "X-User-ID")
    assert_error(api.get(BASE), 401, "AUTHENTICATION_ERROR", "X-User-ID")
    too_long = {"X-User-ID": "u" * 256}
    assert_error(api.post(BASE, json={"title": "t"}, headers=too_long), 422,
                 "VALIDATION_ERROR", "X-User-ID")
    longest = {"X-User-ID": "u" * (255 - len(alice.id)) + alice.id}
    assert api.post(BASE, json={"title": "t"}, headers=longest).status_code == 201


def test_list_pages_newest_first_with_the_total(api, alice, bob):
    ids = [new_conversation(api, alice, f"c{i}")["id"] for i in range(5)]
    new_conversation(api, bob, "not alice's")
    page = api.get(BASE, params={"skip": 0, "limit": 2}, headers=alice.headers).json()
    assert [c["id"] for c in page["items"]] == ids[::-1][:2]
    assert (page["total"], page["skip"], page["limit"]) == (5, 0, 2)
    rest = api.get(BASE, params={"skip": 2, "limit": 100}, headers=alice.headers).json()
    assert [c["id"] for c in rest["items"]] == ids[::-1][2:]
    default = api.get(BASE, headers=alice.headers).json()
    assert default["limit"] == 10 and len(default["items"]) == 5


@pytest.mark.parametrize("params, field", [
    ({"limit": 0}, "limit"), ({"limit": 101}, "limit"), ({"skip": -1}, "skip"),
    ({"limit": "ten"}, "limit"), ({"include_deleted": "maybe"}, "include_deleted"),
])
def test_list_rejects_bad_paging(api, alice, params, field):
    assert_error(api.get(BASE, params=params, headers=alice.headers), 422, "VALIDATION_ERROR",
                 field)


def test_update_changes_only_the_given_fields(api, alice):
    created = new_conversation(api, alice, "Old", summary="keep", metadata={"a": 1})
    url = f"{BASE}/{created['id']}"
    response = api.patch(url, json={"title": "New", "metadata": {"b": 2}}, headers=alice.headers)
    assert response.status_code == 200, response.text
    updated = response.json()
    assert (updated["title"], updated["summary"], updated["metadata"]) == ("New", "keep", {"b": 2})
    assert ts(updated["updated_at"]) > ts(created["updated_at"])
    assert api.get(url, headers=alice.headers).json() == updated

    unchanged = api.patch(url, json={}, headers=alice.headers)
    assert unchanged.status_code == 200 and unchanged.json()["title"] == "New"


@pytest.mark.parametrize("body, field", [
    ({"title": ""}, "title"), ({"title": " "}, "title"), ({"model": "m" * 101}, "model"),
    ({"metadata": 3}, "metadata"), ({"owner": "bob"}, "owner"),
])
def test_update_rejects_bad_fields_and_keeps_the_row(api, alice, body, field):
    created = new_conversation(api, alice, "Stays")
    url = f"{BASE}/{created['id']}"
    assert_error(api.patch(url, json=body, headers=alice.headers), 422, "VALIDATION_ERROR", field)
    assert api.get(url, headers=alice.headers).json() == created


def test_soft_delete_restore_and_hard_delete(api, alice):
    kept = new_conversation(api, alice, "kept")
    created = new_conversation(api, alice, "going")
    url = f"{BASE}/{created['id']}"

    deleted = api.delete(url, headers=alice.headers)
    assert deleted.status_code == 204 and deleted.content == b""
    assert_error(api.get(url, headers=alice.headers), 404, "NOT_FOUND")
    shown = api.get(url, params={"include_deleted": True}, headers=alice.headers).json()
    assert shown["is_deleted"] is True and shown["deleted_at"] is not None
    assert [c["id"] for c in api.get(BASE, headers=alice.headers).json()["items"]] == [kept["id"]]
    assert total(api, alice, include_deleted=True) == 2
    assert api.delete(url, headers=alice.headers).status_code == 204  # idempotent, as the seeds
    assert_error(api.patch(url, json={"title": "x"}, headers=alice.headers), 404, "NOT_FOUND")

    restored = api.post(f"{url}/restore", headers=alice.headers)
    assert restored.status_code == 200, restored.text
    assert restored.json()["is_deleted"] is False and restored.json()["deleted_at"] is None
    assert api.get(url, headers=alice.headers).json()["title"] == "going"

    assert api.delete(url, params={"hard": True}, headers=alice.headers).status_code == 204
    assert_error(api.get(url, params={"include_deleted": True}, headers=alice.headers), 404,
                 "NOT_FOUND")
    assert_error(api.post(f"{url}/restore", headers=alice.headers), 404, "NOT_FOUND")
    assert total(api, alice, include_deleted=True) == 1


def test_another_users_conversation_is_not_found_and_untouched(api, alice, bob):
    created = new_conversation(api, alice, "private")
    url = f"{BASE}/{created['id']}"
    assert_error(api.get(url, headers=bob.headers), 404, "NOT_FOUND")
    assert_error(api.get(url, params={"include_deleted": True}, headers=bob.headers), 404,
                 "NOT_FOUND")
    assert_error(api.patch(url, json={"title": "mine"}, headers=bob.headers), 404, "NOT_FOUND")
    assert_error(api.delete(url, headers=bob.headers), 404, "NOT_FOUND")
    assert_error(api.delete(url, params={"hard": True}, headers=bob.headers), 404, "NOT_FOUND")
    assert_error(api.post(f"{url}/restore", headers=bob.headers), 404, "NOT_FOUND")
    assert api.get(url, headers=alice.headers).json() == created


def test_unknown_and_malformed_ids(api, alice):
    assert_error(api.get(f"{BASE}/{uuid.uuid4()}", headers=alice.headers), 404, "NOT_FOUND")
    assert_error(api.get(f"{BASE}/not-a-uuid", headers=alice.headers), 422, "VALIDATION_ERROR",
                 "conversation_id")
    assert_error(api.delete(f"{BASE}/{uuid.uuid4()}", headers=alice.headers), 404, "NOT_FOUND")


def test_search_by_title_is_a_case_insensitive_literal_substring(api, alice, bob):
    trip = new_conversation(api, alice, "Trip to KYOTO")
    percent = new_conversation(api, alice, "100% done_ok")
    gone = new_conversation(api, alice, "kyoto, deleted")
    new_conversation(api, bob, "bob's kyoto")
    api.delete(f"{BASE}/{gone['id']}", headers=alice.headers)

    def found(term):
        response = api.get(f"{BASE}/search", params={"q": term}, headers=alice.headers)
        assert response.status_code == 200, response.text
        return [c["id"] for c in response.json()]

    assert found("kyoto") == [trip["id"]]
    assert found("0% D") == [percent["id"]]
    assert found("%") == [percent["id"]] and found("_") == [percent["id"]]
    assert found("p_t") == [] and found("p%o") == []
    assert_error(api.get(f"{BASE}/search", headers=alice.headers), 422, "VALIDATION_ERROR", "q")


def test_stats_count_live_and_deleted(api, alice):
    empty = api.get(f"{BASE}/stats", headers=alice.headers).json()
    assert empty == {"total_conversations": 0, "active_conversations": 0,
                     "deleted_conversations": 0, "last_activity": None}
    first = new_conversation(api, alice, "a")
    new_conversation(api, alice, "b")
    api.delete(f"{BASE}/{first['id']}", headers=alice.headers)
    stats = api.get(f"{BASE}/stats", headers=alice.headers).json()
    assert (stats["total_conversations"], stats["active_conversations"],
            stats["deleted_conversations"]) == (2, 1, 1)
    assert stats["last_activity"] is not None


def test_error_answers_carry_the_callers_request_id(api, alice):
    response = api.get(f"{BASE}/{uuid.uuid4()}", headers={**alice.headers,
                                                          "X-Request-ID": "trace-42"})
    assert response.headers["X-Request-ID"] == "trace-42"
    assert assert_error(response, 404, "NOT_FOUND")["request_id"] == "trace-42"
    odd = api.get(BASE, headers={**alice.headers, "X-Request-ID": "has space"})
    assert odd.headers["X-Request-ID"] != "has space"
    uuid.UUID(odd.headers["X-Request-ID"])


def test_unknown_routes_and_methods_answer_with_the_seeds_body(api, alice):
    assert_error(api.get("/api/v1/nothing", headers=alice.headers), 404, "NOT_FOUND")
    assert_error(api.put(BASE, json={}, headers=alice.headers), 405, "METHOD_NOT_ALLOWED")
