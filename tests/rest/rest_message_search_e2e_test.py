#!/usr/bin/python3
"""End-to-end test of mnemo-rest's message embeddings: `embedding` on message creation,
POST /api/v1/messages/search (by `embedding`, by keyword `query`, or both fused) and the memories
of POST /api/v1/conversations/{id}/context, with a
live mnemod and mnemo-rest on 127.0.0.1 ephemeral ports, over http.client (stdlib only).  Helpers
come from rest_e2e_test.py.

Usage: rest_message_search_e2e_test.py --mnemod PATH --rest PATH --workdir DIR
Every wait is bounded in count and time; no assertion depends on speed.
"""
import argparse
import os
import shutil
import sys
import unittest
import uuid

import rest_e2e_test as base
from rest_e2e_test import unit_vector

MNEMOD = None
MAIN = None
SEARCH = "/api/v1/messages/search"


def setUpModule():
    global MNEMOD, MAIN
    shutil.rmtree(base.ARGS.workdir, ignore_errors=True)
    os.makedirs(base.ARGS.workdir)
    MNEMOD = base.Mnemod(base.ARGS.workdir)
    MNEMOD.start()
    MAIN = base.Sidecar(base.ARGS.workdir, "main", MNEMOD.port, "--rate-create", "off",
                        "--rate-read", "off", "--rate-other", "off")


def tearDownModule():
    for p in (MAIN, MNEMOD):
        if p is not None:
            p.stop()


def new_user():
    return "user-" + uuid.uuid4().hex[:12]


def call(method, path, body=None, user=None):
    return MAIN.request(method, path, body, user=user)


def ok(method, path, body=None, user=None, status=200):
    got, _, answer = call(method, path, body, user)
    assert got == status, (method, path, got, answer)
    return answer


class MessageSearch(unittest.TestCase):
    def setUp(self):
        self.user = new_user()
        self.trip = ok("POST", "/api/v1/conversations", {"title": "Trip"}, self.user, 201)["id"]
        self.food = ok("POST", "/api/v1/conversations", {"title": "Food"}, self.user, 201)["id"]

        def append(conversation, role, content, embedding=None):
            body = {"role": role, "content": content}
            if embedding is not None:
                body["embedding"] = embedding
            return ok("POST", f"/api/v1/conversations/{conversation}/messages", body, self.user,
                      201)

        self.kyoto = append(self.trip, "user", "Kyoto in spring?", unit_vector(71))
        self.osaka = append(self.trip, "assistant", "Osaka is close", unit_vector(72))
        self.ramen = append(self.food, "user", "ramen", unit_vector(73))
        self.plain = append(self.trip, "user", "no embedding")

    def test_messages_say_whether_they_have_an_embedding(self):
        self.assertTrue(self.kyoto["has_embedding"])
        self.assertFalse(self.plain["has_embedding"])
        self.assertTrue(ok("GET", f"/api/v1/messages/{self.kyoto['id']}", user=self.user)
                        ["has_embedding"])

    def test_search_nearest_first_with_filters(self):
        answer = ok("POST", SEARCH, {"embedding": unit_vector(71)}, self.user)
        ids = [item["id"] for item in answer["items"]]
        self.assertEqual(ids[0], self.kyoto["id"])
        self.assertEqual(set(ids), {self.kyoto["id"], self.osaka["id"], self.ramen["id"]})
        self.assertEqual(answer["total"], 3)
        top = answer["items"][0]
        self.assertAlmostEqual(top["similarity"], 1.0, places=4)
        self.assertEqual((top["content"], top["role"], top["conversation_id"]),
                         ("Kyoto in spring?", "user", self.trip))
        self.assertTrue(answer["exact"] and answer["fewer_than_top_k"])
        one = ok("POST", SEARCH, {"embedding": unit_vector(71), "top_k": 1}, self.user)
        self.assertEqual([i["id"] for i in one["items"]], [self.kyoto["id"]])
        self.assertFalse(one["fewer_than_top_k"])
        by_role = ok("POST", SEARCH, {"embedding": unit_vector(71),
                                      "filters": {"roles": ["assistant"]}}, self.user)
        self.assertEqual([i["id"] for i in by_role["items"]], [self.osaka["id"]])
        by_conversation = ok("POST", SEARCH, {"embedding": unit_vector(71),
                                              "filters": {"conversation_ids": [self.food]}},
                             self.user)
        self.assertEqual([i["id"] for i in by_conversation["items"]], [self.ramen["id"]])
        close = ok("POST", SEARCH, {"embedding": unit_vector(71), "min_similarity": 0.99},
                   self.user)
        self.assertEqual([i["id"] for i in close["items"]], [self.kyoto["id"]])
        self.assertEqual(ok("POST", SEARCH, {"embedding": unit_vector(71)}, new_user())["items"],
                         [])

    def test_keyword_and_hybrid_search(self):
        answer = ok("POST", SEARCH, {"query": "kyoto"}, self.user)
        self.assertEqual(answer["mode"], "keyword")
        self.assertEqual([i["id"] for i in answer["items"]], [self.kyoto["id"]])
        top = answer["items"][0]
        self.assertGreater(top["bm25"], 0)
        self.assertEqual((top["score"], top["text_rank"], top["vector_rank"]),
                         (top["bm25"], 1, 0))
        self.assertTrue(answer["text"]["ran"])
        self.assertFalse(answer["vector"]["ran"])
        # Messages without an embedding are found by keyword too.
        plain = ok("POST", SEARCH, {"query": "embedding"}, self.user)
        self.assertEqual([i["id"] for i in plain["items"]], [self.plain["id"]])
        hybrid = ok("POST", SEARCH, {"query": "kyoto", "embedding": unit_vector(72),
                                     "fusion": "weighted"}, self.user)
        self.assertEqual((hybrid["mode"], hybrid["fusion"]), ("hybrid", "weighted"))
        self.assertTrue(hybrid["text"]["ran"] and hybrid["vector"]["ran"])
        by_id = {i["id"]: i for i in hybrid["items"]}
        self.assertEqual(by_id[self.kyoto["id"]]["text_rank"], 1)
        self.assertIsNone(by_id[self.osaka["id"]]["bm25"])
        vector = ok("POST", SEARCH, {"embedding": unit_vector(71)}, self.user)
        self.assertEqual(vector["mode"], "vector")
        memories = ok("POST", f"/api/v1/conversations/{self.food}/context",
                      {"token_budget": 1000, "query_text": "osaka", "k_chunks": 0,
                       "max_messages": 0}, self.user)["memories"]
        self.assertEqual([m["id"] for m in memories], [self.osaka["id"]])
        self.assertEqual(memories[0]["score"], memories[0]["bm25"])

    def test_context_memories(self):
        path = f"/api/v1/conversations/{self.trip}/context"
        answer = ok("POST", path, {"token_budget": 1000, "query_embedding": unit_vector(73),
                                   "k_chunks": 0}, self.user)
        self.assertEqual([m["id"] for m in answer["memories"]], [self.ramen["id"]])
        memory = answer["memories"][0]
        self.assertAlmostEqual(memory["similarity"], 1.0, places=4)
        self.assertEqual((memory["content"], memory["token_source"]), ("ramen", "estimated"))
        budget = answer["budget"]
        self.assertEqual(budget["memory_tokens"], memory["tokens"])
        self.assertEqual(budget["memories_left_out"], 0)
        self.assertEqual(budget["remaining"], budget["budget"] - budget["system_prompt_tokens"] -
                         budget["message_tokens"] - budget["chunk_tokens"] -
                         budget["memory_tokens"])
        narrow = ok("POST", path, {"token_budget": 1000, "query_embedding": unit_vector(72),
                                   "max_messages": 1, "k_chunks": 0, "k_memories": 1,
                                   "memory_filters": {"roles": ["assistant"]}}, self.user)
        self.assertEqual([m["id"] for m in narrow["memories"]], [self.osaka["id"]])
        none = ok("POST", path, {"token_budget": 1000, "query_embedding": unit_vector(73),
                                 "k_memories": 0}, self.user)
        self.assertEqual(none["memories"], [])

    def test_errors_name_the_field(self):
        messages = f"/api/v1/conversations/{self.trip}/messages"
        context = f"/api/v1/conversations/{self.trip}/context"
        cases = [
            (messages, {"role": "user", "content": "x", "embedding": [1.0, 2.0]}, "embedding"),
            (messages, {"role": "user", "content": "x", "embedding": [1, "a"] + [0] * 1534},
             "embedding"),
            (messages, {"role": "user", "content": "x", "embedding": [0.0] * 1536}, "embedding"),
            (SEARCH, {"embedding": [1.0, 2.0]}, "embedding"),
            (SEARCH, {}, "embedding"),
            (SEARCH, {"query": "   "}, "query"),
            (SEARCH, {"query": "x" * 4097}, "query"),
            (SEARCH, {"query": "kyoto", "embedding": unit_vector(1), "fusion": "max"}, "fusion"),
            (SEARCH, {"embedding": unit_vector(1), "top_k": 0}, "top_k"),
            (SEARCH, {"embedding": unit_vector(1), "top_k": 1001}, "top_k"),
            (SEARCH, {"embedding": unit_vector(1), "filters": {"roles": ["robot"]}},
             "filters.roles"),
            (SEARCH, {"embedding": unit_vector(1),
                      "filters": {"created_from": "2026-02-01T00:00:00Z",
                                  "created_until": "2026-01-01T00:00:00Z"}},
             "filters.created_until"),
            (context, {"token_budget": 100, "k_memories": -1}, "k_memories"),
            (context, {"token_budget": 100, "k_memories": 1001}, "k_memories"),
            (context, {"token_budget": 100, "query_embedding": unit_vector(1),
                       "memory_filters": {"roles": ["robot"]}}, "memory_filters.roles"),
        ]
        for path, body, name in cases:
            status, _, answer = call("POST", path, body, self.user)
            self.assertEqual((status, answer["error"]["code"], answer["error"]["details"].get("field")),
                             (422, "VALIDATION_ERROR", name), (path, name))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mnemod", required=True)
    parser.add_argument("--rest", required=True)
    parser.add_argument("--workdir", required=True)
    base.ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0], "-v", *rest])


if __name__ == "__main__":
    main()
