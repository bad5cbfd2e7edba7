#!/usr/bin/python3
"""End-to-end test of mnemo-rest's context route, POST /api/v1/conversations/{id}/context: a live
mnemod and mnemo-rest on 127.0.0.1 ephemeral ports, over http.client (stdlib only).  Helpers come
from rest_e2e_test.py.

Usage: rest_context_e2e_test.py --mnemod PATH --rest PATH --workdir DIR
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
PROMPT = "You plan trips."  # 15 ASCII bytes: 4 estimated tokens


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


class Context(unittest.TestCase):
    def setUp(self):
        self.user = new_user()
        self.cid = ok("POST", "/api/v1/conversations", {"title": "Trip", "system_prompt": PROMPT},
                      self.user, 201)["id"]
        self.path = f"/api/v1/conversations/{self.cid}/context"
        self.messages = [ok("POST", f"/api/v1/conversations/{self.cid}/messages",
                            {"role": "user", "content": content, "tokens_used": tokens}, self.user, 201)
                         for content, tokens in (("first question", 50), ("second question", 6),
                                                 ("third question", 5))]
        document = ok("POST", "/api/v1/documents",
                      {"filename": "guide.md", "file_type": "md",
                       "chunks": [{"chunk_text": "Kyoto in spring", "embedding": unit_vector(61)},
                                  {"chunk_text": "Osaka street food", "embedding": unit_vector(62)}]},
                      self.user, 201)
        self.chunks = [c["id"] for c in document["chunks"]]

    def test_round_trip(self):
        # 4 prompt + 5 + 6 = 15 of 20: the 50-token message is left out, one chunk fits.
        answer = ok("POST", self.path, {"token_budget": 20, "query_embedding": unit_vector(61),
                                        "k_chunks": 2}, self.user)
        self.assertEqual(answer["conversation"]["id"], self.cid)
        self.assertEqual(answer["conversation"]["system_prompt"], PROMPT)
        self.assertEqual([m["id"] for m in answer["messages"]],
                         [self.messages[1]["id"], self.messages[2]["id"]])
        self.assertEqual([(m["content"], m["tokens"], m["token_source"]) for m in answer["messages"]],
                         [("second question", 6, "measured"), ("third question", 5, "measured")])
        self.assertEqual(answer["retrieval"], "vector")
        self.assertEqual([c["chunk_id"] for c in answer["chunks"]], [self.chunks[0]])
        chunk = answer["chunks"][0]
        self.assertEqual((chunk["tokens"], chunk["filename"], chunk["vector_rank"], chunk["bm25"]),
                         (4, "guide.md", 1, None))
        self.assertAlmostEqual(chunk["similarity"], 1.0, places=4)
        self.assertEqual(answer["budget"], {"budget": 20, "system_prompt_tokens": 4,
                                            "message_tokens": 11, "chunk_tokens": 4, "remaining": 1,
                                            "messages_left_out": 1, "chunks_left_out": 1,
                                            "memory_tokens": 0, "memories_left_out": 0})
        keyword = ok("POST", self.path, {"token_budget": 1000, "query_text": "osaka",
                                         "max_messages": 1, "filters": {"file_types": ["md"]}},
                     self.user)
        self.assertEqual(keyword["retrieval"], "keyword")
        self.assertEqual([c["chunk_id"] for c in keyword["chunks"]], [self.chunks[1]])
        self.assertEqual([m["content"] for m in keyword["messages"]], ["third question"])
        plain = ok("POST", self.path, {"token_budget": 100}, self.user)
        self.assertEqual((plain["retrieval"], plain["chunks"]), ("none", []))

    def test_errors(self):
        cases = [
            ({}, "token_budget"),
            ({"token_budget": 0}, "token_budget"),
            ({"token_budget": 3}, "token_budget"),  # below the system prompt: mnemod's check
            ({"token_budget": "20"}, "token_budget"),
            ({"token_budget": 20, "k_chunks": -1}, "k_chunks"),
            ({"token_budget": 20, "max_messages": 1001}, "max_messages"),
            ({"token_budget": 20, "query_embedding": [1.0, 2.0]}, "query_embedding"),
            ({"token_budget": 20, "query_text": "   "}, "query_text"),  # mnemod's check
            ({"token_budget": 20, "min_similarity": 2}, "min_similarity"),
            ({"token_budget": 20, "query_text": "kyoto", "min_similarity": 0.5}, "min_similarity"),
            ({"token_budget": 20, "filters": {"created_from": "yesterday"}}, "filters.created_from"),
        ]
        for body, name in cases:
            status, _, answer = call("POST", self.path, body, self.user)
            self.assertEqual((status, answer["error"]["code"], answer["error"]["details"].get("field")),
                             (422, "VALIDATION_ERROR", name), body)
        status, _, answer = call("POST", self.path, {"token_budget": 20}, new_user())
        self.assertEqual((status, answer["error"]["code"]), (404, "NOT_FOUND"))  # another user's
        status, _, _ = call("POST", f"/api/v1/conversations/{uuid.uuid4()}/context",
                            {"token_budget": 20}, self.user)
        self.assertEqual(status, 404)
        status, _, answer = call("POST", "/api/v1/conversations/not-a-uuid/context",
                                 {"token_budget": 20}, self.user)
        self.assertEqual((status, answer["error"]["details"].get("field")), (422, "id"))
        self.assertEqual(call("GET", self.path, user=self.user)[0], 405)
        self.assertEqual(call("DELETE", f"/api/v1/conversations/{self.cid}", user=self.user)[0], 204)
        self.assertEqual(call("POST", self.path, {"token_budget": 20}, self.user)[0], 404)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mnemod", required=True)
    parser.add_argument("--rest", required=True)
    parser.add_argument("--workdir", required=True)
    base.ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0], "-v", *rest])


if __name__ == "__main__":
    main()
