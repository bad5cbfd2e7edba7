"""Document routes and the vector search, on both stores (search: mnemo answers, PostgreSQL
answers 501)."""

from __future__ import annotations

import math
import uuid

import pytest

from helpers import DIMENSION, assert_error, unit_vector

BASE = "/api/v1/documents"


def blend(a: list[float], b: list[float], weight: float) -> list[float]:
    mixed = [(1 - weight) * x + weight * y for x, y in zip(a, b)]
    norm = math.sqrt(sum(v * v for v in mixed))
    return [v / norm for v in mixed]


def create_document(api, user, filename="notes.md", file_type="md", chunks=(), **fields) -> dict:
    body = {"filename": filename, "file_type": file_type, "chunks": list(chunks), **fields}
    response = api.post(BASE, json=body, headers=user.headers)
    assert response.status_code == 201, response.text
    return response.json()


def chunk(text: str, seed: int, **fields) -> dict:
    return {"chunk_text": text, "embedding": unit_vector(seed), **fields}


def document_total(api, user) -> int:
    return api.get(BASE, headers=user.headers).json()["total"]


def test_create_writes_the_document_with_its_chunks(api, alice):
    created = create_document(api, alice, "kyoto.md", content="# Kyoto", metadata={"src": "w"},
                              chunks=[chunk("spring", 1), chunk("autumn", 2, chunk_index=7)])
    uuid.UUID(created["id"])
    assert (created["filename"], created["file_type"], created["content"]) == (
        "kyoto.md", "md", "# Kyoto")
    assert created["total_chunks"] == 2 and created["metadata"] == {"src": "w"}
    assert [c["chunk_index"] for c in created["chunks"]] == [0, 7]
    assert len({c["id"] for c in created["chunks"]}) == 2

    fetched = api.get(f"{BASE}/{created['id']}", headers=alice.headers)
    assert fetched.status_code == 200
    assert fetched.json() == {k: v for k, v in created.items() if k != "chunks"}


def test_list_pages_newest_first(api, alice, bob):
    ids = [create_document(api, alice, f"d{i}.txt", "txt")["id"] for i in range(3)]
    create_document(api, bob, "bob.txt", "txt")
    page = api.get(BASE, params={"limit": 2}, headers=alice.headers).json()
    assert [d["id"] for d in page["items"]] == ids[::-1][:2]
    assert (page["total"], page["skip"], page["limit"]) == (3, 0, 2)
    assert_error(api.get(BASE, params={"limit": 0}, headers=alice.headers), 422,
                 "VALIDATION_ERROR", "limit")


def test_soft_and_hard_delete(api, alice, bob):
    created = create_document(api, alice, chunks=[chunk("x", 3)])
    url = f"{BASE}/{created['id']}"
    assert_error(api.delete(url, headers=bob.headers), 404, "NOT_FOUND")
    assert_error(api.get(url, headers=bob.headers), 404, "NOT_FOUND")
    assert api.delete(url, headers=alice.headers).status_code == 204
    assert_error(api.get(url, headers=alice.headers), 404, "NOT_FOUND")
    assert document_total(api, alice) == 0
    assert api.delete(url, headers=alice.headers).status_code == 204  # idempotent
    assert api.delete(url, params={"hard": True}, headers=alice.headers).status_code == 204
    assert_error(api.delete(url, params={"hard": True}, headers=alice.headers), 404, "NOT_FOUND")
    assert_error(api.delete(f"{BASE}/{uuid.uuid4()}", headers=alice.headers), 404, "NOT_FOUND")


@pytest.mark.parametrize("body, field", [
    ({"file_type": "md"}, "filename"),
    ({"filename": "", "file_type": "md"}, "filename"),
    ({"filename": "f" * 256, "file_type": "md"}, "filename"),
    ({"filename": "a.exe", "file_type": "exe"}, "file_type"),
    ({"filename": "a", "file_type": "md", "chunks": [{"embedding": [1.0]}]},
     "chunks[0].chunk_text"),
    ({"filename": "a", "file_type": "md", "chunks": [{"chunk_text": "", "embedding": [1.0]}]},
     "chunks[0].chunk_text"),
    ({"filename": "a", "file_type": "md", "chunks": [{"chunk_text": "t"}]},
     "chunks[0].embedding"),
    ({"filename": "a", "file_type": "md",
      "chunks": [{"chunk_text": "t", "embedding": [1.0], "chunk_index": -1}]},
     "chunks[0].chunk_index"),
])
def test_create_rejects_bad_documents_and_stores_nothing(api, alice, body, field):
    assert_error(api.post(BASE, json=body, headers=alice.headers), 422, "VALIDATION_ERROR", field)
    assert document_total(api, alice) == 0


@pytest.mark.parametrize("bad_vector, why", [
    ([0.5] * (DIMENSION - 1), "one value short"),
    ([0.5] * (DIMENSION + 1), "one value long"),
    ([0.0] * DIMENSION, "the zero vector"),
    ([float("nan")] + [0.5] * (DIMENSION - 1), "NaN"),
    ([float("inf")] + [0.5] * (DIMENSION - 1), "infinity"),
])
def test_create_rejects_bad_embeddings_naming_the_chunk(api, alice, bad_vector, why):
    body = {"filename": "a.md", "file_type": "md",
            "chunks": [chunk("good", 1), {"chunk_text": "bad", "embedding": bad_vector}]}
    response = api.post(BASE, json=body, headers=alice.headers)
    assert_error(response, 422, "VALIDATION_ERROR", "chunks[1].embedding")
    assert document_total(api, alice) == 0, why


def test_create_rejects_a_repeated_chunk_index(api, alice):
    body = {"filename": "a.md", "file_type": "md",
            "chunks": [chunk("a", 1), chunk("b", 2, chunk_index=0)]}
    assert_error(api.post(BASE, json=body, headers=alice.headers), 422, "VALIDATION_ERROR",
                 "chunks")
    assert document_total(api, alice) == 0


def test_search_on_postgres_is_not_implemented(api, alice):
    if api.store != "postgres":
        pytest.skip("PostgreSQL stack only")
    response = api.post(f"{BASE}/search", json={"embedding": unit_vector(1)},
                        headers=alice.headers)
    assert_error(response, 501, "NOT_IMPLEMENTED")


def test_search_finds_the_callers_live_chunks_best_first(api, alice, bob):
    if api.store != "mnemo":
        pytest.skip("vector search needs mnemo (PostgreSQL answers 501)")
    query = unit_vector(100)
    near, far = blend(query, unit_vector(101), 0.2), blend(query, unit_vector(102), 0.6)
    kept = create_document(api, alice, "kept.md", chunks=[
        {"chunk_text": "near", "embedding": near}, {"chunk_text": "far", "embedding": far}])
    dropped = create_document(api, alice, "dropped.md", chunks=[
        {"chunk_text": "exact, but deleted", "embedding": query}])
    create_document(api, bob, "bob.md", chunks=[{"chunk_text": "bob's", "embedding": query}])
    assert api.delete(f"{BASE}/{dropped['id']}", headers=alice.headers).status_code == 204

    response = api.post(f"{BASE}/search", json={"embedding": query, "top_k": 5},
                        headers=alice.headers)
    assert response.status_code == 200, response.text
    result = response.json()
    assert [hit["chunk_text"] for hit in result["items"]] == ["near", "far"]
    assert result["total"] == 2
    best = result["items"][0]
    assert best["document_id"] == kept["id"] and best["filename"] == "kept.md"
    assert best["chunk_id"] == kept["chunks"][0]["id"] and best["chunk_index"] == 0
    assert 1.0 >= best["similarity"] > result["items"][1]["similarity"] > 0

    threshold = (best["similarity"] + result["items"][1]["similarity"]) / 2
    above = api.post(f"{BASE}/search", json={"embedding": query, "threshold": threshold},
                     headers=alice.headers).json()
    assert [hit["chunk_text"] for hit in above["items"]] == ["near"]
    by_document = api.post(f"{BASE}/search", json={"embedding": query,
                                                   "document_ids": [dropped["id"]]},
                           headers=alice.headers).json()
    assert by_document["items"] == []


@pytest.mark.parametrize("body, field", [
    ({"top_k": 3}, "embedding"),
    ({"embedding": [0.5] * (DIMENSION - 1)}, "embedding"),
    ({"embedding": [0.0] * DIMENSION}, "embedding"),
    ({"embedding": unit_vector(1), "top_k": 0}, "top_k"),
    ({"embedding": unit_vector(1), "top_k": 1001}, "top_k"),
    ({"embedding": unit_vector(1), "threshold": 1.5}, "threshold"),
    ({"embedding": unit_vector(1), "file_types": ["exe"]}, "file_types[0]"),
    ({"embedding": unit_vector(1), "document_ids": ["nope"]}, "document_ids[0]"),
])
def test_search_rejects_bad_requests_on_both_stores(api, alice, body, field):
    assert_error(api.post(f"{BASE}/search", json=body, headers=alice.headers), 422,
                 "VALIDATION_ERROR", field)
