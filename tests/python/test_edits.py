"""Single-row edits, filtered lists and counts, chunk operations and retention, through both
clients against a real mnemod; and how the new requests are encoded."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import mnemo
from conftest import blend, unit_vector
from mnemo import _ops
from mnemo.wire.ApplyRetentionRequest import ApplyRetentionRequest
from mnemo.wire.Request import Request
from mnemo.wire.RequestBody import RequestBody
from mnemo.wire.UpdateMessageRequest import UpdateMessageRequest


def _body(op: _ops.Op, body_type: int, cls: type):
    request = Request.GetRootAs(op.encode(1).payload, 0)
    assert request.BodyType() == body_type
    body = cls()
    body.Init(request.Body().Bytes, request.Body().Pos)
    return body


# ---- encoding (no server) ---------------------------------------------------------------------


def test_update_message_encodes_unchanged_set_and_cleared_fields():
    op = _ops.update_message("u", mnemo.new_id(), content="new", tool_calls=mnemo.CLEAR,
                             tool_results=[{"ok": True}], tokens_used=mnemo.CLEAR)
    body = _body(op, RequestBody.UpdateMessageRequest, UpdateMessageRequest)
    assert body.Content() == b"new"
    assert body.ToolCalls() == b"null"  # CLEAR: set to null
    assert body.ToolResults() == b'[{"ok":true}]'
    assert body.Role() is None and body.Parts() is None and body.Metadata() is None  # unchanged
    assert body.TokensUsed() is None and body.ClearTokensUsed()

    op = _ops.update_message("u", mnemo.new_id(), tokens_used=12)
    body = _body(op, RequestBody.UpdateMessageRequest, UpdateMessageRequest)
    assert body.TokensUsed() == 12 and not body.ClearTokensUsed()


def test_apply_retention_without_arguments_asks_for_the_configured_policy():
    body = _body(_ops.apply_retention(), RequestBody.ApplyRetentionRequest, ApplyRetentionRequest)
    assert body.Configured()
    body = _body(_ops.apply_retention(keep_months=2, purge_after=timedelta(days=30)),
                 RequestBody.ApplyRetentionRequest, ApplyRetentionRequest)
    assert not body.Configured()
    assert (body.KeepMonths(), body.ArchiveDir(), body.PurgeAfterSeconds()) == (2, None, 30 * 86400)


@pytest.mark.parametrize("make, field", [
    (lambda: _ops.update_message("u", "not-a-uuid"), "message_id"),
    (lambda: _ops.update_message("u", mnemo.new_id(), role="robot"), "role"),
    (lambda: _ops.update_message("u", mnemo.new_id(), metadata=mnemo.CLEAR), "metadata"),
    (lambda: _ops.update_message("u", mnemo.new_id(), tokens_used="3"), "tokens_used"),
    (lambda: _ops.count_conversations("u", filter=mnemo.DocumentFilter()), "filter"),
    (lambda: _ops.count_messages("u", mnemo.new_id(), filter=mnemo.MessageFilter(role="x")),
     "role"),
    (lambda: _ops.list_documents("", filter=mnemo.DocumentFilter()), "user_id"),
    (lambda: _ops.replace_chunks("u", mnemo.new_id(), ["text"]), "chunks[0]"),
    (lambda: _ops.get_chunk("u", 17), "chunk_id"),
    (lambda: _ops.apply_retention(keep_months=-1), "keep_months"),
    (lambda: _ops.apply_retention(keep_months=1 << 31), "keep_months"),
    (lambda: _ops.apply_retention(purge_after=30), "purge_after"),
])
def test_bad_arguments_fail_before_sending(make, field):
    with pytest.raises(mnemo.ValidationError) as info:
        make()
    assert info.value.field == field


@pytest.mark.parametrize("filters, field", [
    (mnemo.DocumentFilter(file_types="pdf"), "filter.file_types"),
    (mnemo.DocumentFilter(created_from="yesterday"), "filter.created_from"),
    (mnemo.ConversationFilter(metadata_equals=[("a", 1)]), "filter.metadata_equals"),
    (mnemo.ConversationFilter(model=3), "filter.model"),
])
def test_bad_filter_fields_fail_when_encoding(filters, field):
    if isinstance(filters, mnemo.DocumentFilter):
        op = _ops.count_matching_documents("u", filter=filters)
    else:
        op = _ops.count_conversations("u", filter=filters)
    with pytest.raises(mnemo.ValidationError) as info:
        op.encode(1)
    assert info.value.field == field


# ---- messages ---------------------------------------------------------------------------------


def test_update_message_moves_the_conversation_counters(client, user_id):
    conversation = client.create_conversation(user_id, "edits")
    first = client.create_message(user_id, conversation.id, "user", "hi", tokens_used=10,
                                  tool_calls=[{"name": "f"}], metadata={"lang": "en"})
    client.create_message(user_id, conversation.id, "assistant", "hello", tokens_used=5)
    assert client.get_conversation(user_id, conversation.id).total_tokens == 15

    updated = client.update_message(user_id, first.id, content="hi there", tokens_used=30)
    assert (updated.content, updated.tokens_used) == ("hi there", 30)
    assert updated.tool_calls == [{"name": "f"}] and updated.metadata == {"lang": "en"}
    assert client.get_conversation(user_id, conversation.id).total_tokens == 35

    cleared = client.update_message(user_id, first.id, tool_calls=mnemo.CLEAR,
                                    tokens_used=mnemo.CLEAR, metadata={})
    assert cleared.tool_calls is None and cleared.tokens_used is None and cleared.metadata == {}
    assert client.get_message(user_id, first.id) == cleared
    assert client.get_conversation(user_id, conversation.id).total_tokens == 5

    with pytest.raises(mnemo.RecordNotFoundError):
        client.update_message(user_id, mnemo.new_id(), content="x")
    with pytest.raises(mnemo.RecordNotFoundError):  # another user's message
        client.update_message(user_id + "-other", first.id, content="x")
    with pytest.raises(mnemo.ValidationError):  # the server checks the token count
        client.update_message(user_id, first.id, tokens_used=-1)


def test_delete_message(client, user_id):
    conversation = client.create_conversation(user_id, "delete one")
    messages = [client.create_message(user_id, conversation.id, "user", f"m{i}", tokens_used=i)
                for i in range(1, 4)]
    deleted = client.delete_message(user_id, messages[2].id)
    assert deleted.id == messages[2].id and deleted.content == "m3"
    after = client.get_conversation(user_id, conversation.id)
    assert (after.message_count, after.total_tokens) == (2, 3)
    assert after.last_message_at == messages[1].created_at
    assert [m.content for m in client.get_conversation_messages(user_id, conversation.id)] == [
        "m1", "m2"]
    with pytest.raises(mnemo.RecordNotFoundError):
        client.get_message(user_id, messages[2].id)
    with pytest.raises(mnemo.RecordNotFoundError):
        client.delete_message(user_id, messages[2].id)
    with pytest.raises(mnemo.RecordNotFoundError):
        client.delete_message(user_id + "-other", messages[0].id)


def test_message_counts_and_filters(client, user_id):
    conversation = client.create_conversation(user_id, "filters")
    client.create_message(user_id, conversation.id, "user", "q", metadata={"topic": "a"})
    client.create_message(user_id, conversation.id, "assistant", "t",
                          tool_calls=[{"name": "search"}])
    client.create_message(user_id, conversation.id, "assistant", "e", tool_calls=[])
    last = client.create_message(user_id, conversation.id, "user", "q2", metadata={"topic": "b"})

    assert client.count_messages(user_id, conversation.id) == 4
    assert client.count_messages(user_id, conversation.id,
                                 filter=mnemo.MessageFilter(role="assistant")) == 2
    with_tools = mnemo.MessageFilter(only_with_tool_calls=True)
    assert client.count_messages(user_id, conversation.id, filter=with_tools) == 1  # [] is none
    topic_b = mnemo.MessageFilter(metadata_equals={"topic": "b"})
    assert [m.id for m in client.list_messages(user_id, conversation.id,
                                               filter=topic_b).items] == [last.id]
    before_last = mnemo.MessageFilter(created_until=last.created_at)
    page = client.list_messages(user_id, conversation.id, filter=before_last)
    assert page.total == 3 and last.id not in {m.id for m in page.items}
    assert client.messages_exist(user_id, conversation.id, filter=topic_b)
    assert not client.messages_exist(user_id, conversation.id,
                                      filter=mnemo.MessageFilter(role="system"))
    with pytest.raises(mnemo.RecordNotFoundError):
        client.count_messages(user_id, mnemo.new_id())
    with pytest.raises(mnemo.ValidationError):
        client.list_messages(user_id, conversation.id,
                             filter=mnemo.MessageFilter(created_from=10, created_until=5))


# ---- conversations ----------------------------------------------------------------------------


def test_conversation_counts_and_filters(client, user_id):
    a = client.create_conversation(user_id, "Alpha", model="m-1", metadata={"team": "x"})
    b = client.create_conversation(user_id, "Beta", model="m-2", metadata={"team": "y"})
    c = client.create_conversation(user_id, "alphabet", model="m-1")
    client.soft_delete(user_id, c.id)

    assert client.count_conversations(user_id) == 2
    assert client.count_conversations(user_id, include_deleted=True) == 3
    by_model = mnemo.ConversationFilter(model="m-1")
    assert client.count_conversations(user_id, filter=by_model) == 1
    assert client.count_conversations(user_id, filter=by_model, include_deleted=True) == 2
    page = client.list_conversations(user_id, filter=by_model, include_deleted=True)
    assert {x.id for x in page.items} == {a.id, c.id} and page.total == 2
    team = mnemo.ConversationFilter(metadata_equals={"team": "y"})
    assert [x.id for x in client.list_conversations(user_id, filter=team).items] == [b.id]
    title = mnemo.ConversationFilter(title_contains="ALPHA", model="m-1")
    assert [x.id for x in client.list_conversations(user_id, filter=title).items] == [a.id]
    since_b = mnemo.ConversationFilter(created_from=b.created_at)
    assert {x.id for x in client.list_conversations(user_id, filter=since_b).items} == {b.id}
    client.update_conversation(user_id, a.id, summary="touched")
    touched_at = client.get_conversation(user_id, a.id).updated_at
    touched = mnemo.ConversationFilter(updated_from=touched_at)
    assert [x.id for x in client.list_conversations(user_id, filter=touched).items] == [a.id]

    assert client.conversations_exist(user_id, filter=team)
    assert not client.conversations_exist(user_id, filter=mnemo.ConversationFilter(model="none"))
    assert not client.conversations_exist(user_id + "-other")
    with pytest.raises(mnemo.ValidationError):
        client.count_conversations(user_id, filter=mnemo.ConversationFilter(
            updated_from=b.updated_at, updated_until=a.created_at))


# ---- documents --------------------------------------------------------------------------------


def test_update_document_and_document_counts(client, user_id):
    report = client.create_document(user_id, "report.pdf", "pdf", "text", metadata={"year": 2024})
    notes = client.create_document(user_id, "notes.md", "md")
    client.add_chunks(user_id, [mnemo.NewChunk(report.id, 0, "body", unit_vector(900))])

    updated = client.update_document(user_id, report.id, filename="annual.pdf",
                                     metadata={"year": 2025})
    assert (updated.filename, updated.file_type, updated.content) == ("annual.pdf", "pdf", "text")
    assert updated.metadata == {"year": 2025} and updated.updated_at >= report.updated_at
    hit = client.search_similar(user_id, unit_vector(900), limit=1)[0]
    assert hit.filename == "annual.pdf"  # search shows the new name at once
    client.update_document(user_id, report.id, file_type="txt")
    txt_only = mnemo.SearchFilters(file_types=["txt"])
    assert [h.document_id for h in client.search_similar(user_id, unit_vector(900),
                                                         filters=txt_only)] == [report.id]

    assert client.count_matching_documents(user_id) == 2
    md = mnemo.DocumentFilter(file_types=["md", "html"])
    assert client.count_matching_documents(user_id, filter=md) == 1
    assert [d.id for d in client.list_documents(user_id, filter=md).items] == [notes.id]
    year = mnemo.DocumentFilter(metadata_equals={"year": 2025}, filename_contains="ANNUAL")
    assert client.documents_exist(user_id, filter=year)
    client.soft_delete_document(user_id, report.id)
    assert not client.documents_exist(user_id, filter=year)
    assert client.documents_exist(user_id, filter=year, include_deleted=True)

    with pytest.raises(mnemo.RecordNotFoundError):  # soft-deleted documents are not edited
        client.update_document(user_id, report.id, filename="x.pdf")
    with pytest.raises(mnemo.ValidationError):
        client.update_document(user_id, notes.id, file_type="exe")
    with pytest.raises(mnemo.RecordNotFoundError):
        client.update_document(user_id, mnemo.new_id(), filename="x.md")


# ---- chunks -----------------------------------------------------------------------------------


def test_chunk_soft_delete_restore_and_hard_delete(client, user_id):
    document = client.create_document(user_id, "c.txt", "txt")
    chunks = client.add_chunks(user_id, [mnemo.NewChunk(document.id, i, f"c{i}",
                                                        unit_vector(700 + i)) for i in range(5)])
    target = chunks[2]
    assert client.get_chunk(user_id, target.id) == target and not target.is_deleted

    deleted = client.soft_delete_chunk(user_id, target.id)
    assert deleted.is_deleted and deleted.deleted_at is not None
    assert target.id not in {h.chunk_id for h in
                             client.search_similar(user_id, unit_vector(702), limit=5)}
    with pytest.raises(mnemo.RecordNotFoundError):
        client.get_chunk(user_id, target.id)
    assert client.get_chunk(user_id, target.id, include_deleted=True).is_deleted
    assert client.get_document(user_id, document.id).total_chunks == 4
    assert [c.chunk_index for c in client.list_chunks(user_id, document.id).items] == [0, 1, 3, 4]
    with pytest.raises(mnemo.DuplicateRecordError):  # the index stays taken while deleted
        client.add_chunks(user_id, [mnemo.NewChunk(document.id, 2, "dup", unit_vector(1))])

    restored = client.restore_chunk(user_id, target.id)
    assert not restored.is_deleted and restored.deleted_at is None
    assert client.search_similar(user_id, unit_vector(702), limit=1)[0].chunk_id == target.id
    assert client.restore_chunk(user_id, target.id) == restored  # restoring again changes nothing

    gone = client.delete_chunk(user_id, target.id)
    assert gone.id == target.id
    with pytest.raises(mnemo.RecordNotFoundError):
        client.get_chunk(user_id, target.id, include_deleted=True)
    with pytest.raises(mnemo.RecordNotFoundError):
        client.soft_delete_chunk(user_id, target.id)
    with pytest.raises(mnemo.RecordNotFoundError):
        client.get_chunk(user_id + "-other", chunks[0].id)


def test_list_chunks_pages_in_index_order(client, user_id):
    document = client.create_document(user_id, "paged.txt", "txt")
    client.add_chunks(user_id, [mnemo.NewChunk(document.id, i, f"p{i}", unit_vector(800 + i))
                                for i in (4, 0, 3, 1, 2)])
    client.soft_delete_chunk(user_id, client.list_chunks(user_id, document.id).items[1].id)
    seen, cursor = [], None
    while True:
        page = client.list_chunks(user_id, document.id, limit=2, cursor=cursor)
        assert page.total == 4
        seen += [c.chunk_index for c in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == [0, 2, 3, 4]
    every = client.list_chunks(user_id, document.id, include_deleted=True)
    assert [c.chunk_index for c in every.items] == [0, 1, 2, 3, 4]
    assert [c.is_deleted for c in every.items] == [False, True, False, False, False]
    assert [c.chunk_index for c in client.list_chunks(user_id, document.id, skip=3).items] == [4]
    for bad in (0, 1001):
        with pytest.raises(mnemo.ValidationError):
            client.list_chunks(user_id, document.id, limit=bad)
    with pytest.raises(mnemo.RecordNotFoundError):
        client.list_chunks(user_id, mnemo.new_id())


def test_replace_chunks(client, user_id):
    document = client.create_document(user_id, "r.txt", "txt")
    old = client.add_chunks(user_id, [mnemo.NewChunk(document.id, i, f"old{i}",
                                                     unit_vector(600 + i)) for i in range(3)])
    client.soft_delete_chunk(user_id, old[0].id)
    near = [blend(unit_vector(600 + i), unit_vector(650), 0.5) for i in range(2)]
    new = client.replace_chunks(user_id, document.id, [
        mnemo.NewChunk(document.id, i, f"new{i}", vector) for i, vector in enumerate(near)])
    assert [c.chunk_text for c in new] == ["new0", "new1"]
    listed = client.list_chunks(user_id, document.id, include_deleted=True).items
    assert [c.id for c in listed] == [c.id for c in new]  # soft-deleted ones replaced too
    assert client.get_document(user_id, document.id).total_chunks == 2
    hits = client.search_similar(user_id, unit_vector(650), limit=5)
    assert {h.chunk_text for h in hits} == {"new0", "new1"}

    with pytest.raises(mnemo.DuplicateRecordError):  # all or none: one bad chunk fails the call
        client.replace_chunks(user_id, document.id, [
            mnemo.NewChunk(document.id, 0, "a", unit_vector(1)),
            mnemo.NewChunk(document.id, 0, "b", unit_vector(2))])
    assert [c.id for c in client.list_chunks(user_id, document.id).items] == [c.id for c in new]
    with pytest.raises(mnemo.ValidationError):  # chunks of another document
        client.replace_chunks(user_id, document.id,
                              [mnemo.NewChunk(mnemo.new_id(), 0, "a", unit_vector(1))])
    assert client.replace_chunks(user_id, document.id, []) == []
    assert client.list_chunks(user_id, document.id).total == 0
    with pytest.raises(mnemo.RecordNotFoundError):
        client.replace_chunks(user_id, mnemo.new_id(), [])


# ---- retention (service principal) ------------------------------------------------------------


def test_retention_retires_old_months_and_purges(connect, own_mnemod, tmp_path: Path):
    client = connect(own_mnemod.port)
    document = client.create_document("u", "history.txt", "txt")
    back_then = datetime(2020, 3, 15, tzinfo=timezone.utc)
    client.add_chunks("u", [mnemo.NewChunk(document.id, i, f"old {i}", unit_vector(500 + i),
                                           created_at=back_then) for i in range(3)])
    client.add_chunks("u", [mnemo.NewChunk(document.id, 3, "now", unit_vector(503))])
    gone = client.create_conversation("u", "to purge")
    client.soft_delete("u", gone.id)
    time.sleep(1.2)  # deleted more than a second before the run below

    report = client.apply_retention(keep_months=1, archive_dir=str(tmp_path),
                                    purge_after=timedelta(seconds=1))
    assert [(m.month, m.rows) for m in report.retired] == [("2020-03", 3)]
    assert report.retired[0].archive_path and Path(report.retired[0].archive_path).exists()
    assert report.month_cutoff is not None and report.month_cutoff <= report.now
    assert report.conversations_purged == 1
    assert client.get_user_conversation("u", gone.id, include_deleted=True) is None
    assert [h.chunk_text for h in client.search_similar("u", unit_vector(500), limit=5)] == ["now"]
    assert "2020-03" not in {p.month for p in client.list_partitions()}

    attached = client.attach_archive(report.retired[0].archive_path)  # the archive is usable
    assert attached.attached == 3

    configured = client.apply_retention()  # mnemod's own policy: no month retention here
    assert configured.retired == [] and configured.month_cutoff is None
    assert configured.purge_cutoff is not None  # the default purge age is on
    assert configured.now - configured.purge_cutoff == timedelta(days=30)
    with pytest.raises(mnemo.ValidationError):  # checked by the server
        client.apply_retention(purge_after=timedelta(seconds=-5))
