"""Keyword (BM25) and hybrid search: search_text and search_hybrid, sync and async."""

from __future__ import annotations

import math

import pytest

import mnemo
from conftest import unit_vector


def _corpus(client, user_id):
    document = client.create_document(user_id, "kb.md", "md", "knowledge base")
    texts = ["我们在北京大学学习机器学习", "RocksDB compaction tuning", "the rocksdb block cache",
             "Searching connections"]
    chunks = [mnemo.NewChunk(document.id, i, text, unit_vector(700 + i))
              for i, text in enumerate(texts)]
    return document, client.add_chunks(user_id, chunks)


def test_search_text(client, user_id):
    document, chunks = _corpus(client, user_id)
    result = client.search_text(user_id, "机器学习")
    assert isinstance(result, mnemo.RankedSearchResult)
    assert [h.hit.chunk_id for h in result.hits] == [chunks[0].id]
    top = result.hits[0]
    assert top.hit.chunk_text == "我们在北京大学学习机器学习" and top.hit.document_id == document.id
    assert top.bm25 == top.score > 0 and top.similarity is None
    assert (top.text_rank, top.vector_rank) == (1, 0)
    assert result.text.ran and result.text.terms == ["机器", "学习"]
    assert result.text.rows == 4 and result.text.exact
    assert not result.vector.ran
    # Stemming and case folding apply to queries and chunks alike.
    assert [h.hit.chunk_id for h in client.search_text(user_id, "SEARCH connection").hits] == \
        [chunks[3].id]
    both = client.search_text(user_id, "rocksdb", top_k=1)
    assert len(both.hits) == 1 and not both.fewer_than_top_k
    filtered = client.search_text(user_id, "rocksdb",
                                  filters=mnemo.SearchFilters(file_types=["pdf"]))
    assert filtered.hits == [] and filtered.fewer_than_top_k


def test_search_text_empty_answers_say_why(client, user_id):
    _corpus(client, user_id)
    stop = client.search_text(user_id, "the of and")
    assert stop.hits == [] and not stop.text.ran and stop.text.stopwords_ignored == 3
    unknown = client.search_text(user_id, "zebra quokka")
    assert unknown.hits == [] and unknown.text.ran
    assert unknown.text.unknown_terms == ["zebra", "quokka"]
    # Another user's rows are not this user's.
    assert client.search_text(user_id + "-other", "rocksdb").hits == []


def test_search_hybrid(client, user_id):
    _, chunks = _corpus(client, user_id)
    result = client.search_hybrid(user_id, "compaction", unit_vector(702), top_k=3)
    assert result.fusion == "rrf" and result.text.ran and result.vector.ran
    by_id = {h.hit.chunk_id: h for h in result.hits}
    assert by_id[chunks[1].id].text_rank == 1 and by_id[chunks[1].id].bm25 > 0
    assert by_id[chunks[2].id].vector_rank == 1
    assert math.isclose(by_id[chunks[2].id].similarity, 1.0, abs_tol=1e-3)
    for hit in result.hits:
        expected = sum(1.0 / (60 + rank) for rank in (hit.text_rank, hit.vector_rank) if rank)
        assert math.isclose(hit.score, expected, rel_tol=1e-9)
    weighted = client.search_hybrid(user_id, "compaction", unit_vector(702), top_k=2,
                                    fusion="weighted", text_weight=1.0, candidates=4, ef=16)
    assert weighted.fusion == "weighted" and weighted.hits[0].hit.chunk_id == chunks[1].id


def test_text_search_bad_input(client, user_id):
    _corpus(client, user_id)
    cases = [
        (lambda: client.search_text(user_id, ""), "query"),
        (lambda: client.search_text(user_id, "  \t"), "query"),
        (lambda: client.search_text(user_id, "x" * 5000), "query"),
        (lambda: client.search_text(user_id, 42), "query"),
        (lambda: client.search_text(user_id, "rocksdb", top_k=0), "top_k"),
        (lambda: client.search_text(user_id, "rocksdb", filters={"file_types": ["md"]}), "filters"),
        (lambda: client.search_hybrid(user_id, " ", unit_vector(1)), "query_text"),
        (lambda: client.search_hybrid(user_id, "x", [1.0, 2.0]), "query_embedding"),
        (lambda: client.search_hybrid(user_id, "x", unit_vector(1), fusion="max"), "fusion"),
        (lambda: client.search_hybrid(user_id, "x", unit_vector(1), text_weight=2), "text_weight"),
        (lambda: client.search_hybrid(user_id, "x", unit_vector(1), rrf_k=-1), "rrf_k"),
        (lambda: client.search_hybrid(user_id, "x", unit_vector(1), top_k=10, candidates=3),
         "candidates"),
    ]
    for call, field in cases:
        with pytest.raises(mnemo.ValidationError) as info:
            call()
        assert info.value.field == field
    # Nothing stored was lost.
    assert len(client.search_text(user_id, "rocksdb").hits) == 2
