"""Document, chunk and vector-search methods (DocumentRepository, EmbeddingRepository)."""

from __future__ import annotations

from array import array
from datetime import datetime, timedelta, timezone

import numpy
import pytest

import mnemo
from conftest import blend, unit_vector


def _document_with_chunks(client, user_id, filename="guide.md", count=3, seed=100, **metadata):
    document = client.create_document(user_id, filename, "md", "the whole text", metadata=metadata)
    chunks = [mnemo.NewChunk(document.id, i, f"{filename} chunk {i}", unit_vector(seed + i),
                             metadata={"i": i}) for i in range(count)]
    return document, client.add_chunks(user_id, chunks)


def test_documents(client, user_id):
    first = client.create_document(user_id, "Report.PDF", "pdf", "text", metadata={"p": 1})
    second = client.create_document(user_id, "notes.txt", "txt")
    assert first.filename == "Report.PDF" and first.file_type == "pdf" and first.content == "text"
    assert first.total_chunks == 0 and first.metadata == {"p": 1} and not first.is_deleted
    assert client.get_document(user_id, first.id) == first
    assert [d.id for d in client.get_user_documents(user_id)] == [second.id, first.id]
    page = client.list_documents(user_id, limit=1)
    assert page.total == 2 and page.next_cursor
    assert client.list_documents(user_id, limit=1, cursor=page.next_cursor).items[0].id == first.id
    assert [d.id for d in client.search_documents_by_filename(user_id, "report")] == [first.id]
    assert client.get_user_document_count(user_id) == 2
    assert client.soft_delete_document(user_id, first.id) is True
    assert client.soft_delete_document(user_id, mnemo.new_id()) is False
    with pytest.raises(mnemo.RecordNotFoundError):
        client.get_document(user_id, first.id)
    assert client.get_document(user_id, first.id, include_deleted=True).is_deleted
    counts = client.count_documents(user_id)
    assert (counts.total, counts.active, counts.deleted) == (2, 1, 1)
    assert len(client.get_user_documents(user_id, include_deleted=True)) == 2
    assert client.restore_document(user_id, first.id).is_deleted is False
    client.delete_document(user_id, second.id)
    with pytest.raises(mnemo.RecordNotFoundError):
        client.get_document(user_id, second.id, include_deleted=True)


def test_document_validation(client, user_id):
    with pytest.raises(mnemo.ValidationError) as info:
        client.create_document(user_id, "a.exe", "exe")
    assert info.value.field == "file_type"
    with pytest.raises(mnemo.ValidationError) as info:
        client.create_document(user_id, "", "txt")
    assert info.value.field == "filename"


def test_add_chunks_and_search(client, user_id):
    document, chunks = _document_with_chunks(client, user_id, count=3)
    assert [c.chunk_index for c in chunks] == [0, 1, 2]
    assert chunks[1].metadata == {"i": 1} and chunks[0].document_id == document.id
    assert client.get_document(user_id, document.id).total_chunks == 3
    result = client.search(user_id, unit_vector(101), top_k=2)
    assert len(result.hits) == 2 and result.hits[0].chunk_index == 1
    top = result.hits[0]
    assert top.similarity == pytest.approx(1.0, abs=1e-4)
    assert top.filename == "guide.md" and top.chunk_text == "guide.md chunk 1"
    assert top.chunk_id == chunks[1].id and top.document_id == document.id
    assert result.exact and not result.fewer_than_top_k and result.partitions_searched >= 1
    everything = client.search(user_id, unit_vector(101), top_k=10)
    assert len(everything.hits) == 3 and everything.fewer_than_top_k
    assert [h.similarity for h in everything.hits] == sorted(
        (h.similarity for h in everything.hits), reverse=True)


def test_vectors_as_list_array_and_numpy(client, user_id):
    document = client.create_document(user_id, "v.txt", "txt")
    base = unit_vector(7)
    client.add_chunks(user_id, [
        mnemo.NewChunk(document.id, 0, "list", base),
        mnemo.NewChunk(document.id, 1, "array", array("f", unit_vector(8))),
        mnemo.NewChunk(document.id, 2, "numpy32",
                       numpy.asarray(unit_vector(9), dtype=numpy.float32)),
        mnemo.NewChunk(document.id, 3, "numpy64", numpy.asarray(unit_vector(10))),
    ])
    for seed, text in ((7, "list"), (8, "array"), (9, "numpy32"), (10, "numpy64")):
        query_forms = (unit_vector(seed), array("f", unit_vector(seed)),
                       numpy.asarray(unit_vector(seed), dtype=numpy.float32),
                       numpy.asarray(unit_vector(seed))[::1],
                       memoryview(array("f", unit_vector(seed))))
        for query in query_forms:
            assert client.search_similar(user_id, query, limit=1)[0].chunk_text == text
    strided = numpy.asarray(unit_vector(7) * 2, dtype=numpy.float32)[::2]  # not contiguous
    assert client.search_similar(user_id, strided, limit=1)[0].chunk_text in {"list", "array",
                                                                               "numpy32", "numpy64"}


def test_search_similar_threshold_and_batch(client, user_id):
    document = client.create_document(user_id, "t.md", "md")
    anchor, other = unit_vector(1), unit_vector(2)
    client.add_chunks(user_id, [
        mnemo.NewChunk(document.id, 0, "exact", anchor),
        mnemo.NewChunk(document.id, 1, "close", blend(anchor, other, 0.3)),
        mnemo.NewChunk(document.id, 2, "far", other),
    ])
    hits = client.search_similar(user_id, anchor, limit=5, threshold=0.7)
    assert [h.chunk_text for h in hits] == ["exact", "close"]
    assert all(h.similarity >= 0.7 for h in hits)
    assert client.search_similar(user_id, anchor, limit=1)[0].chunk_text == "exact"
    batch = client.search_similar_batch(user_id, [anchor, other], limit=1)
    assert [[h.chunk_text for h in hits] for hits in batch] == [["exact"], ["far"]]
    results = client.search_batch(user_id, [anchor, other], top_k=2, min_similarity=0.5)
    assert [len(r.hits) for r in results] == [2, 1]


def test_search_filters(client, user_id):
    first, _ = _document_with_chunks(client, user_id, "a.md", count=2, seed=200)
    second = client.create_document(user_id, "b.txt", "txt")
    past = datetime.now(timezone.utc) - timedelta(days=62)
    client.add_chunks(user_id, [mnemo.NewChunk(second.id, 0, "old one", unit_vector(300),
                                               metadata={"lang": "de"}, created_at=past)])
    query = unit_vector(200)
    by_doc = client.search(user_id, query, filters=mnemo.SearchFilters(document_ids=[second.id]))
    assert [h.chunk_text for h in by_doc.hits] == ["old one"]
    by_type = client.search(user_id, query, filters=mnemo.SearchFilters(file_types=["md"]))
    assert {h.document_id for h in by_type.hits} == {first.id}
    by_meta = client.search(user_id, query, filters=mnemo.SearchFilters(metadata_equals={"i": 1}))
    assert [h.chunk_text for h in by_meta.hits] == ["a.md chunk 1"]
    recent = client.search(user_id, query, filters=mnemo.SearchFilters(
        created_from=datetime.now(timezone.utc) - timedelta(days=1)))
    assert "old one" not in {h.chunk_text for h in recent.hits} and len(recent.hits) == 2
    older = client.search(user_id, query, filters=mnemo.SearchFilters(
        created_until=past + timedelta(seconds=1)))
    assert [h.chunk_text for h in older.hits] == ["old one"]
    assert older.hits[0].created_at == past  # back-filled, microsecond precision


def test_search_is_isolated_per_user(client, user_id):
    _document_with_chunks(client, user_id, count=2, seed=400)
    assert client.search_similar(user_id + "-other", unit_vector(400), limit=5) == []


def test_soft_deleted_document_leaves_search_at_once(client, user_id):
    document, _ = _document_with_chunks(client, user_id, count=2, seed=500)
    assert len(client.search_similar(user_id, unit_vector(500), limit=5)) == 2
    client.soft_delete_document(user_id, document.id)
    assert client.search_similar(user_id, unit_vector(500), limit=5) == []
    client.restore_document(user_id, document.id)
    assert len(client.search_similar(user_id, unit_vector(500), limit=5)) == 2


@pytest.mark.parametrize("bad, field", [
    ([], "query"),
    ("text", "query"),
    ([1.0, "x"], "query"),
    (numpy.zeros((2, 3), dtype=numpy.float32), "query"),
])
def test_bad_query_vectors_fail_locally(client, user_id, bad, field):
    with pytest.raises(mnemo.ValidationError) as info:
        client.search(user_id, bad)
    assert info.value.field == field


def test_bad_vectors_rejected_by_server(client, user_id):
    document = client.create_document(user_id, "bad.txt", "txt")
    for vector in ([0.5] * 10, [0.0] * 1536, [float("nan")] + [0.1] * 1535):
        with pytest.raises(mnemo.ValidationError):
            client.add_chunks(user_id, [mnemo.NewChunk(document.id, 0, "x", vector)])
    with pytest.raises(mnemo.ValidationError):
        client.search(user_id, [0.5] * 10)
    with pytest.raises(mnemo.ValidationError) as info:
        client.search(user_id, unit_vector(1), top_k=0)
    assert info.value.field == "top_k"
    with pytest.raises(mnemo.ValidationError):
        client.add_chunks(user_id, [mnemo.NewChunk(document.id, 0, "", unit_vector(1))])
    with pytest.raises(mnemo.ValidationError) as info:
        client.add_chunks(user_id, [{"document_id": document.id}])
    assert info.value.field == "chunks[0]"
    assert client.get_document(user_id, document.id).total_chunks == 0


def test_chunks_all_or_none(client, user_id):
    document = client.create_document(user_id, "atomic.txt", "txt")
    with pytest.raises(mnemo.MnemoError):
        client.add_chunks(user_id, [
            mnemo.NewChunk(document.id, 0, "good", unit_vector(1)),
            mnemo.NewChunk(mnemo.new_id(), 0, "no document", unit_vector(2))])
    assert client.get_document(user_id, document.id).total_chunks == 0
    assert client.search_similar(user_id, unit_vector(1), limit=5) == []


def test_numpy_scalars_are_accepted(client, user_id):
    document = client.create_document(user_id, "np.txt", "txt")
    client.add_chunks(user_id, [mnemo.NewChunk(document.id, numpy.int64(0), "np",
                                               numpy.asarray(unit_vector(3), dtype=numpy.float32))])
    hits = client.search_similar(user_id, unit_vector(3), numpy.int32(3), numpy.float32(0.5))
    assert [h.chunk_text for h in hits] == ["np"]
    with pytest.raises(mnemo.ValidationError):
        client.search(user_id, unit_vector(3), min_similarity=float("nan"))
