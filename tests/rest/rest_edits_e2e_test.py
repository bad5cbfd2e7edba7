#!/usr/bin/python3
"""End-to-end tests of mnemo-rest's routes for single-row edits, counts and filters, chunks, batch
search, per-route rate limits and the seeds' error codes: a live mnemod and mnemo-rest on 127.0.0.1
ephemeral ports, over http.client (stdlib only).  Helpers come from rest_e2e_test.py.

Usage: rest_edits_e2e_test.py --mnemod PATH --rest PATH --workdir DIR
Every wait is bounded in count and time; no assertion depends on speed.
"""
import argparse
import os
import shutil
import sys
import unittest
import urllib.parse
import uuid

import rest_e2e_test as base
from rest_e2e_test import unit_vector

MNEMOD = None
MAIN = None   # no rate limits
LIMITED = None  # --dev-user-header, create 2/20s per route
SEED = None   # --error-codes seed


def setUpModule():
    global MNEMOD, MAIN, LIMITED, SEED
    shutil.rmtree(base.ARGS.workdir, ignore_errors=True)
    os.makedirs(base.ARGS.workdir)
    MNEMOD = base.Mnemod(base.ARGS.workdir)
    MNEMOD.start()
    MAIN = base.Sidecar(base.ARGS.workdir, "main", MNEMOD.port, "--rate-create", "off", "--rate-read", "off",
                        "--rate-other", "off")
    LIMITED = base.Sidecar(base.ARGS.workdir, "limited", MNEMOD.port, "--dev-user-header",
                           "--rate-create", "2/20s", "--rate-read", "off", "--rate-other", "off")
    SEED = base.Sidecar(base.ARGS.workdir, "seed", MNEMOD.port, "--error-codes", "seed")


def tearDownModule():
    for p in (MAIN, LIMITED, SEED, MNEMOD):
        if p is not None:
            p.stop()


def new_user():
    return "user-" + uuid.uuid4().hex[:12]


def call(method, path, body=None, user=None, sidecar=None):
    return (sidecar or MAIN).request(method, path, body, user=user)


def ok(method, path, body=None, user=None, status=200):
    got, _, answer = call(method, path, body, user)
    assert got == status, (method, path, got, answer)
    return answer


def field(answer):
    return answer["error"]["details"].get("field")


def query(params):
    return urllib.parse.urlencode(params)


class MessageEdits(unittest.TestCase):
    def setUp(self):
        self.user = new_user()
        self.cid = ok("POST", "/api/v1/conversations", {"title": "edits"}, self.user, 201)["id"]
        self.messages = [ok("POST", f"/api/v1/conversations/{self.cid}/messages",
                            {"role": role, "content": f"m{i}", "tokens_used": 10,
                             "metadata": {"lang": "en" if i % 2 == 0 else "fr"}}, self.user, 201)
                         for i, role in enumerate(["user", "assistant", "user", "assistant"])]

    def test_get_patch_tool_results_delete(self):
        mid = self.messages[1]["id"]
        self.assertEqual(ok("GET", f"/api/v1/messages/{mid}", user=self.user)["content"], "m1")
        edited = ok("PATCH", f"/api/v1/messages/{mid}",
                    {"content": "edited", "tool_calls": [], "tokens_used": 25}, self.user)
        self.assertEqual((edited["content"], edited["tool_calls"], edited["tokens_used"]), ("edited", [], 25))
        conv = ok("GET", f"/api/v1/conversations/{self.cid}", user=self.user)
        self.assertEqual(conv["total_tokens"], 55)
        cleared = ok("PATCH", f"/api/v1/messages/{mid}", {"tool_calls": None, "tokens_used": None}, self.user)
        self.assertEqual((cleared["tool_calls"], cleared["tokens_used"]), (None, None))
        with_results = ok("PUT", f"/api/v1/messages/{mid}/tool_results", {"tool_results": {"temp": 21}}, self.user)
        self.assertEqual(with_results["tool_results"], {"temp": 21})

        status, _, answer = call("PATCH", f"/api/v1/messages/{mid}", {}, self.user)
        self.assertEqual((status, field(answer)), (422, "body"))
        status, _, answer = call("PATCH", f"/api/v1/messages/{mid}", {"role": "robot"}, self.user)
        self.assertEqual((status, field(answer)), (422, "role"))
        status, _, answer = call("PATCH", f"/api/v1/messages/{mid}", {"content": ""}, self.user)
        self.assertEqual((status, field(answer)), (422, "content"))  # mnemod: content or parts
        status, _, answer = call("PUT", f"/api/v1/messages/{mid}/tool_results", {"x": 1}, self.user)
        self.assertEqual((status, field(answer)), (422, "tool_results"))
        self.assertEqual(call("GET", f"/api/v1/messages/{mid}", user=new_user())[0], 404)
        self.assertEqual(call("PATCH", f"/api/v1/messages/{mid}", {"content": "x"}, new_user())[0], 404)
        self.assertEqual(call("GET", "/api/v1/messages/not-an-id", user=self.user)[0], 422)

        self.assertEqual(call("DELETE", f"/api/v1/messages/{mid}", user=self.user)[0], 204)
        self.assertEqual(call("GET", f"/api/v1/messages/{mid}", user=self.user)[0], 404)
        self.assertEqual(call("DELETE", f"/api/v1/messages/{mid}", user=self.user)[0], 404)
        conv = ok("GET", f"/api/v1/conversations/{self.cid}", user=self.user)
        self.assertEqual((conv["message_count"], conv["total_tokens"]), (3, 30))

    def test_last_count_filters_and_delete_all(self):
        base_path = f"/api/v1/conversations/{self.cid}/messages"
        last = ok("GET", f"{base_path}/last?count=2", user=self.user)
        self.assertEqual([m["content"] for m in last["items"]], ["m2", "m3"])
        last = ok("GET", f"{base_path}/last?count=5&role=user", user=self.user)
        self.assertEqual([m["content"] for m in last["items"]], ["m0", "m2"])
        status, _, answer = call("GET", f"{base_path}/last?count=0", user=self.user)
        self.assertEqual((status, field(answer)), (422, "count"))

        self.assertEqual(ok("GET", f"{base_path}/count", user=self.user), {"count": 4})
        self.assertEqual(ok("GET", f"{base_path}/count?role=assistant", user=self.user), {"count": 2})
        fr = query({"metadata": '{"lang":"fr"}'})
        self.assertEqual(ok("GET", f"{base_path}/count?{fr}", user=self.user), {"count": 2})
        self.assertEqual(ok("GET", f"{base_path}/count?tool_calls_only=true&exists=true", user=self.user),
                         {"exists": False})
        page = ok("GET", f"{base_path}?{fr}&order=desc", user=self.user)
        self.assertEqual(([m["content"] for m in page["items"]], page["total"]), (["m3", "m1"], 2))
        since = query({"created_from": self.messages[2]["created_at"]})
        self.assertEqual(ok("GET", f"{base_path}?{since}", user=self.user)["total"], 2)
        status, _, answer = call("GET", f"{base_path}?created_from=soon", user=self.user)
        self.assertEqual((status, field(answer)), (422, "created_from"))
        bad_range = query({"created_from": "2026-01-02T00:00:00Z", "created_until": "2026-01-01T00:00:00Z"})
        status, _, answer = call("GET", f"{base_path}/count?{bad_range}", user=self.user)
        self.assertEqual((status, field(answer)), (422, "created_until"))

        self.assertEqual(ok("DELETE", base_path, user=self.user), {"deleted": 4})
        self.assertEqual(ok("GET", f"{base_path}/count", user=self.user), {"count": 0})
        self.assertEqual(call("DELETE", base_path, user=new_user())[0], 404)


class ConversationAndDocumentFilters(unittest.TestCase):
    def test_conversation_filters_and_counts(self):
        user = new_user()
        ok("POST", "/api/v1/conversations", {"title": "a", "model": "gpt-4o", "metadata": {"team": "red"}}, user, 201)
        b = ok("POST", "/api/v1/conversations", {"title": "b", "metadata": {"team": "blue"}}, user, 201)
        self.assertEqual(ok("GET", "/api/v1/conversations/count?model=gpt-4o", user=user), {"count": 1})
        red = query({"metadata": '{"team":"red"}'})
        page = ok("GET", f"/api/v1/conversations?{red}", user=user)
        self.assertEqual(([c["title"] for c in page["items"]], page["total"]), (["a"], 1))
        since = query({"created_from": b["created_at"]})
        self.assertEqual([c["title"] for c in ok("GET", f"/api/v1/conversations?{since}", user=user)["items"]], ["b"])
        self.assertEqual(ok("GET", "/api/v1/conversations/count?model=none&exists=true", user=user), {"exists": False})
        ok("DELETE", f"/api/v1/conversations/{b['id']}", user=user, status=204)
        self.assertEqual(ok("GET", "/api/v1/conversations/count", user=user), {"count": 1})
        self.assertEqual(ok("GET", "/api/v1/conversations/count?include_deleted=true", user=user), {"count": 2})
        # last_activity counts active conversations only.
        stats = ok("GET", "/api/v1/conversations/stats", user=user)
        self.assertEqual(stats["active"], 1)
        status, _, answer = call("GET", "/api/v1/conversations?metadata=notjson", user=user)
        self.assertEqual((status, field(answer)), (422, "metadata"))
        status, _, answer = call("GET", "/api/v1/conversations/count?model=", user=user)
        self.assertEqual((status, field(answer)), (422, "model"))

    def test_document_update_restore_and_filters(self):
        user = new_user()
        doc = ok("POST", "/api/v1/documents",
                 {"filename": "notes.md", "file_type": "md",
                  "chunks": [{"chunk_text": "alpha", "embedding": unit_vector(31)}]}, user, 201)
        ok("POST", "/api/v1/documents", {"filename": "paper.pdf", "file_type": "pdf"}, user, 201)
        self.assertEqual(ok("GET", "/api/v1/documents/count?file_type=pdf", user=user), {"count": 1})
        self.assertEqual(ok("GET", "/api/v1/documents?file_type=md,pdf", user=user)["total"], 2)
        renamed = ok("PATCH", f"/api/v1/documents/{doc['id']}", {"filename": "renamed.pdf", "file_type": "pdf"}, user)
        self.assertEqual((renamed["filename"], renamed["file_type"]), ("renamed.pdf", "pdf"))
        self.assertEqual(ok("GET", "/api/v1/documents/count?file_type=pdf", user=user), {"count": 2})
        hits = ok("POST", "/api/v1/documents/search", {"embedding": unit_vector(31), "top_k": 1}, user)["items"]
        self.assertEqual(hits[0]["filename"], "renamed.pdf")  # search sees the rename at once
        status, _, answer = call("PATCH", f"/api/v1/documents/{doc['id']}", {"file_type": "exe"}, user)
        self.assertEqual((status, field(answer)), (422, "file_type"))
        status, _, answer = call("GET", "/api/v1/documents?file_type=zip", user=user)
        self.assertEqual((status, field(answer)), (422, "file_types"))
        ok("DELETE", f"/api/v1/documents/{doc['id']}", user=user, status=204)
        self.assertEqual(ok("POST", "/api/v1/documents/search", {"embedding": unit_vector(31)}, user)["items"], [])
        restored = ok("POST", f"/api/v1/documents/{doc['id']}/restore", user=user)
        self.assertFalse(restored["is_deleted"])
        self.assertEqual(len(ok("POST", "/api/v1/documents/search", {"embedding": unit_vector(31)}, user)["items"]), 1)
        self.assertEqual(call("POST", f"/api/v1/documents/{doc['id']}/restore", user=new_user())[0], 404)


class Chunks(unittest.TestCase):
    def test_add_list_soft_delete_restore_replace(self):
        user = new_user()
        doc = ok("POST", "/api/v1/documents", {"filename": "kb.md", "file_type": "md"}, user, 201)
        did = doc["id"]
        added = ok("POST", f"/api/v1/documents/{did}/chunks",
                   {"chunks": [{"chunk_text": f"c{i}", "embedding": unit_vector(40 + i)} for i in range(3)]},
                   user, 201)
        self.assertEqual([c["chunk_index"] for c in added["items"]], [0, 1, 2])
        kid = added["items"][1]["id"]

        def top(seed):
            items = ok("POST", "/api/v1/documents/search", {"embedding": unit_vector(seed), "top_k": 1,
                                                            "threshold": 0.99}, user)["items"]
            return items[0]["chunk_id"] if items else None

        self.assertEqual(top(41), kid)
        self.assertEqual(call("DELETE", f"/api/v1/chunks/{kid}", user=user)[0], 204)
        self.assertIsNone(top(41))
        self.assertEqual(call("GET", f"/api/v1/chunks/{kid}", user=user)[0], 404)
        hidden = ok("GET", f"/api/v1/chunks/{kid}?include_deleted=true", user=user)
        self.assertTrue(hidden["is_deleted"])
        page = ok("GET", f"/api/v1/documents/{did}/chunks?include_deleted=true", user=user)
        self.assertEqual((page["total"], [c["is_deleted"] for c in page["items"]]), (3, [False, True, False]))
        self.assertEqual(ok("GET", f"/api/v1/documents/{did}", user=user)["total_chunks"], 2)
        status, _, answer = call("POST", f"/api/v1/documents/{did}/chunks",
                                 {"chunks": [{"chunk_index": 1, "chunk_text": "x", "embedding": unit_vector(9)}]}, user)
        self.assertEqual(status, 409, answer)  # the soft-deleted chunk keeps its index
        self.assertEqual(ok("POST", f"/api/v1/chunks/{kid}/restore", user=user)["is_deleted"], False)
        self.assertEqual(top(41), kid)

        status, _, answer = call("PUT", f"/api/v1/documents/{did}/chunks",
                                 {"chunks": [{"chunk_text": "new", "embedding": [0.5] * 3}]}, user)
        self.assertEqual((status, field(answer)), (422, "chunks[0].embedding"))
        self.assertEqual(top(41), kid)  # the refused replacement changed nothing
        replaced = ok("PUT", f"/api/v1/documents/{did}/chunks",
                      {"chunks": [{"chunk_text": "new", "embedding": unit_vector(50)}]}, user)
        self.assertEqual(len(replaced["items"]), 1)
        self.assertIsNone(top(41))
        self.assertEqual(top(50), replaced["items"][0]["id"])
        self.assertEqual(call("DELETE", f"/api/v1/chunks/{replaced['items'][0]['id']}?hard=true", user=user)[0], 204)
        self.assertEqual(ok("GET", f"/api/v1/documents/{did}", user=user)["total_chunks"], 0)

        stranger = new_user()
        self.assertEqual(call("GET", f"/api/v1/documents/{did}/chunks", user=stranger)[0], 404)
        self.assertEqual(call("POST", f"/api/v1/documents/{did}/chunks",
                              {"chunks": [{"chunk_text": "x", "embedding": unit_vector(1)}]}, stranger)[0], 404)
        status, _, answer = call("POST", f"/api/v1/documents/{did}/chunks", {"chunks": []}, user)
        self.assertEqual((status, field(answer)), (422, "chunks"))

    def test_batch_search(self):
        user = new_user()
        ok("POST", "/api/v1/documents", {"filename": "b.md", "file_type": "md",
                                         "chunks": [{"chunk_text": f"b{i}", "embedding": unit_vector(60 + i)}
                                                    for i in range(2)]}, user, 201)
        answer = ok("POST", "/api/v1/documents/search/batch",
                    {"queries": [{"embedding": unit_vector(60), "top_k": 1}, {"embedding": unit_vector(61), "top_k": 1}]},
                    user)
        self.assertEqual([r["items"][0]["chunk_text"] for r in answer["results"]], ["b0", "b1"])
        status, _, answer = call("POST", "/api/v1/documents/search/batch", {"queries": []}, user)
        self.assertEqual((status, field(answer)), (422, "queries"))
        status, _, answer = call("POST", "/api/v1/documents/search/batch",
                                 {"queries": [{"embedding": unit_vector(1)}, {"embedding": [1.0]}]}, user)
        self.assertEqual((status, field(answer)), (422, "queries[1].embedding"))


class PerRouteLimitsAndSeedCodes(unittest.TestCase):
    def test_each_create_route_has_its_own_bucket(self):
        hdrs = {"X-User-ID": new_user()}
        created = [LIMITED.request("POST", "/api/v1/conversations", {"title": f"c{i}"}, headers=hdrs) for i in range(3)]
        self.assertEqual([c[0] for c in created[:2]], [201, 201])
        self.assertEqual(created[2][0], 429)
        cid = created[0][2]["id"]
        # Appending messages is limited on its own: the conversation bucket being empty does not matter.
        status, _, body = LIMITED.request("POST", f"/api/v1/conversations/{cid}/messages",
                                          {"role": "user", "content": "still allowed"}, headers=hdrs)
        self.assertEqual(status, 201, body)

    def test_seed_error_codes(self):
        user = new_user()
        status, _, answer = SEED.request("GET", f"/api/v1/conversations/{uuid.uuid4()}", user=user)
        self.assertEqual((status, answer["error"]["code"]), (404, "RECORD_NOT_FOUND"))
        status, _, answer = SEED.request("GET", "/api/v1/nothing-here", user=user)
        self.assertEqual((status, answer["error"]["code"]), (404, "NOT_FOUND"))  # no route: not a record
        status, _, answer = SEED.request("POST", "/api/v1/conversations", {"title": ""}, user=user)
        self.assertEqual((status, answer["error"]["code"]), (422, "VALIDATION_ERROR"))
        status, _, answer = MAIN.request("GET", f"/api/v1/conversations/{uuid.uuid4()}", user=user)
        self.assertEqual(answer["error"]["code"], "NOT_FOUND")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mnemod", required=True)
    parser.add_argument("--rest", required=True)
    parser.add_argument("--workdir", required=True)
    base.ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0], "-v", *rest])


if __name__ == "__main__":
    main()
