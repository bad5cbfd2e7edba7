#!/usr/bin/python3
"""End-to-end tests of mnemo-rest (issue 5): a live mnemod and mnemo-rest on 127.0.0.1 ephemeral
ports, driven over HTTP with http.client (stdlib only).  Covers every route (the OpenAPI document
is checked against them), identity (missing/expired/forged JWT, X-User-ID only in dev mode),
isolation between users, validation errors, body limit, request ids, CORS, rate limits with
recovery, metrics, and mnemod down -> 503 -> recovery.

Usage: rest_e2e_test.py --mnemod PATH --rest PATH --workdir DIR
Every wait is bounded in count and time; no assertion depends on speed.
"""
import argparse
import base64
import hashlib
import hmac
import http.client
import json
import math
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import unittest
import uuid

ARGS = None
SECRET = "e2e-secret"
DIM = 1536
ORIGIN = "http://app.example"


# ---- helpers ------------------------------------------------------------------------------

def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_jwt(sub, secret=SECRET, exp_in=3600, alg="HS256", extra=None):
    header = {"alg": alg, "typ": "JWT"}
    payload = {"sub": sub, "exp": int(time.time()) + exp_in}
    payload.update(extra or {})
    signing_input = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(payload).encode())
    if alg == "none":
        return signing_input + "."
    mac = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64url(mac)


def wait_for_file(path, proc, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(path):
            with open(path) as f:
                text = f.read().strip()
            if text:
                return int(text)
        if proc.poll() is not None:
            raise RuntimeError(f"process exited early with {proc.returncode}")
        time.sleep(0.05)
    raise RuntimeError(f"{path} not written within {timeout}s")


def stop(proc):
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


class Mnemod:
    def __init__(self, workdir):
        self.data = os.path.join(workdir, "data")
        self.port_file = os.path.join(workdir, "mnemod.port")
        self.log = open(os.path.join(workdir, "mnemod.log"), "ab")
        self.proc = None
        self.port = 0

    def start(self, port=0):
        if os.path.exists(self.port_file):
            os.remove(self.port_file)
        self.proc = subprocess.Popen(
            [ARGS.mnemod, "--data", self.data, "--listen", f"127.0.0.1:{port}", "--port-file",
             self.port_file, "--io-threads", "2", "--workers", "2", "--log-level", "info"],
            stdout=self.log, stderr=self.log)
        self.port = wait_for_file(self.port_file, self.proc)

    def stop(self):
        stop(self.proc)


class Sidecar:
    def __init__(self, workdir, name, upstream_port, *flags):
        self.port_file = os.path.join(workdir, f"{name}.port")
        if os.path.exists(self.port_file):
            os.remove(self.port_file)
        self.log = open(os.path.join(workdir, f"{name}.log"), "ab")
        self.proc = subprocess.Popen(
            [ARGS.rest, "--listen", "127.0.0.1:0", "--port-file", self.port_file,
             "--upstream", f"127.0.0.1:{upstream_port}", "--jwt-secret", SECRET,
             "--upstream-timeout-ms", "5000", "--log-level", "info", *flags],
            stdout=self.log, stderr=self.log)
        self.port = wait_for_file(self.port_file, self.proc)

    def request(self, method, path, body=None, headers=None, user=None, raw=None, timeout=30):
        """One request on a fresh connection; returns (status, headers dict lower-case, parsed body)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        hdrs = dict(headers or {})
        if user is not None:
            hdrs["Authorization"] = "Bearer " + make_jwt(user)
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        try:
            conn.request(method, path, body=data, headers=hdrs)
            resp = conn.getresponse()
            payload = resp.read()
            resp_headers = {k.lower(): v for k, v in resp.getheaders()}
        finally:
            conn.close()
        parsed = None
        if payload:
            ctype = resp_headers.get("content-type", "")
            parsed = json.loads(payload) if ctype.startswith("application/json") else payload.decode()
        return resp.status, resp_headers, parsed

    def stop(self):
        stop(self.proc)


def unit_vector(seed):
    rng = random.Random(seed)
    v = [rng.gauss(0, 1) for _ in range(DIM)]
    n = math.sqrt(sum(x * x for x in v))
    return [x / n for x in v]


def poll(fn, want, timeout=30.0, interval=0.2, max_tries=500):
    """Calls fn() until it returns `want` (bounded in time and count); returns the last value."""
    deadline = time.monotonic() + timeout
    value = None
    for _ in range(max_tries):
        value = fn()
        if value == want or time.monotonic() > deadline:
            break
        time.sleep(interval)
    return value


# ---- fixture ------------------------------------------------------------------------------

MNEMOD = None
MAIN = None   # JWT only, no rate limits, 4 MiB body limit, CORS for ORIGIN
DEV = None    # --dev-user-header, small rate limits


def setUpModule():
    global MNEMOD, MAIN, DEV
    shutil.rmtree(ARGS.workdir, ignore_errors=True)
    os.makedirs(ARGS.workdir)
    MNEMOD = Mnemod(ARGS.workdir)
    MNEMOD.start()
    MAIN = Sidecar(ARGS.workdir, "main", MNEMOD.port, "--rate-create", "off", "--rate-read", "off",
                   "--rate-other", "off", "--max-body-bytes", str(4 << 20), "--cors-origins", ORIGIN)
    DEV = Sidecar(ARGS.workdir, "dev", MNEMOD.port, "--dev-user-header", "--rate-read", "3/20s",
                  "--rate-create", "2/20s")


def tearDownModule():
    for p in (MAIN, DEV, MNEMOD):
        if p is not None:
            p.stop()


def new_user():
    return "user-" + uuid.uuid4().hex[:12]


def create_conversation(user, title="Trip planning", **extra):
    status, _, body = MAIN.request("POST", "/api/v1/conversations", {"title": title, **extra}, user=user)
    assert status == 201, (status, body)
    return body


def create_document(user, n_chunks=3, seed=0, filename="notes.md"):
    chunks = [{"chunk_text": f"chunk {i}", "embedding": unit_vector(seed * 1000 + i)} for i in range(n_chunks)]
    status, _, body = MAIN.request("POST", "/api/v1/documents",
                                   {"filename": filename, "file_type": "md", "content": "full text",
                                    "chunks": chunks}, user=user)
    assert status == 201, (status, body)
    return body


# ---- tests --------------------------------------------------------------------------------

class Conversations(unittest.TestCase):
    def test_lifecycle(self):
        user = new_user()
        conv = create_conversation(user, system_prompt="be brief", metadata={"tag": "x"})
        self.assertEqual(str(uuid.UUID(conv["id"])), conv["id"])
        self.assertEqual(conv["user_id"], user)
        self.assertEqual(conv["metadata"], {"tag": "x"})
        self.assertTrue(conv["created_at"].endswith("Z"))
        cid = conv["id"]

        status, _, got = MAIN.request("GET", f"/api/v1/conversations/{cid}", user=user)
        self.assertEqual((status, got["title"]), (200, "Trip planning"))

        status, _, got = MAIN.request("PATCH", f"/api/v1/conversations/{cid}",
                                      {"title": "Renamed", "summary": "s"}, user=user)
        self.assertEqual((status, got["title"], got["summary"]), (200, "Renamed", "s"))

        status, headers, body = MAIN.request("DELETE", f"/api/v1/conversations/{cid}", user=user)
        self.assertEqual((status, body), (204, None))
        self.assertEqual(MAIN.request("GET", f"/api/v1/conversations/{cid}", user=user)[0], 404)
        status, _, got = MAIN.request("GET", f"/api/v1/conversations/{cid}?include_deleted=true", user=user)
        self.assertEqual((status, got["is_deleted"]), (200, True))
        self.assertIsNotNone(got["deleted_at"])

        status, _, got = MAIN.request("POST", f"/api/v1/conversations/{cid}/restore", user=user)
        self.assertEqual((status, got["is_deleted"]), (200, False))

        self.assertEqual(MAIN.request("DELETE", f"/api/v1/conversations/{cid}?hard=true", user=user)[0], 204)
        self.assertEqual(MAIN.request("GET", f"/api/v1/conversations/{cid}?include_deleted=true", user=user)[0], 404)

    def test_list_search_and_stats(self):
        user = new_user()
        for i in range(5):
            create_conversation(user, title=f"Budget review {i}" if i % 2 == 0 else f"Holiday {i}")
        status, _, page = MAIN.request("GET", "/api/v1/conversations?skip=1&limit=2", user=user)
        self.assertEqual(status, 200)
        self.assertEqual((page["total"], page["skip"], page["limit"], len(page["items"])), (5, 1, 2, 2))
        status, _, page = MAIN.request("GET", "/api/v1/conversations/search?q=budget", user=user)
        self.assertEqual((status, page["total"]), (200, 3))
        self.assertTrue(all("Budget" in c["title"] for c in page["items"]))
        status, _, stats = MAIN.request("GET", "/api/v1/conversations/stats", user=user)
        self.assertEqual((status, stats["total"], stats["active"], stats["deleted"]), (200, 5, 5, 0))

    def test_client_supplied_id_conflict(self):
        user = new_user()
        cid = str(uuid.uuid4())
        self.assertEqual(create_conversation(user, id=cid)["id"], cid)
        # Same id again with a different title: DUPLICATE_RECORD -> 409, or idempotent 201.
        status, _, body = MAIN.request("POST", "/api/v1/conversations", {"id": cid, "title": "Other"}, user=user)
        self.assertIn(status, (201, 409), body)
        other = new_user()
        status, _, body = MAIN.request("POST", "/api/v1/conversations", {"id": cid, "title": "Mine"}, user=other)
        self.assertEqual(status, 409, body)
        self.assertEqual(body["error"]["code"], "DUPLICATE_RECORD")


class Messages(unittest.TestCase):
    def test_append_list_and_token_stats(self):
        user = new_user()
        cid = create_conversation(user)["id"]
        for i, role in enumerate(["user", "assistant", "user", "assistant"]):
            status, _, msg = MAIN.request("POST", f"/api/v1/conversations/{cid}/messages",
                                          {"role": role, "content": f"m{i}", "tokens_used": 10 * (i + 1),
                                           "parts": [{"type": "text", "text": f"m{i}"}]}, user=user)
            self.assertEqual(status, 201, msg)
            self.assertEqual((msg["conversation_id"], msg["role"]), (cid, role))
        status, _, page = MAIN.request("GET", f"/api/v1/conversations/{cid}/messages?limit=3", user=user)
        self.assertEqual((status, page["total"], len(page["items"])), (200, 4, 3))
        self.assertEqual([m["content"] for m in page["items"]], ["m0", "m1", "m2"])
        status, _, page = MAIN.request("GET", f"/api/v1/conversations/{cid}/messages?order=desc&role=assistant",
                                       user=user)
        self.assertEqual([m["content"] for m in page["items"]], ["m3", "m1"])
        status, _, stats = MAIN.request("GET", f"/api/v1/conversations/{cid}/messages/stats", user=user)
        self.assertEqual((status, stats["total_tokens"], stats["message_count"]), (200, 100, 4))
        self.assertEqual(stats["per_role"]["assistant"]["total_tokens"], 60)
        conv = MAIN.request("GET", f"/api/v1/conversations/{cid}", user=user)[2]
        self.assertEqual((conv["message_count"], conv["total_tokens"]), (4, 100))

    def test_message_errors(self):
        user = new_user()
        cid = create_conversation(user)["id"]
        status, _, body = MAIN.request("POST", f"/api/v1/conversations/{cid}/messages",
                                       {"role": "robot", "content": "x"}, user=user)
        self.assertEqual((status, body["error"]["details"]["field"]), (422, "role"))
        status, _, body = MAIN.request("POST", f"/api/v1/conversations/{uuid.uuid4()}/messages",
                                       {"role": "user", "content": "x"}, user=user)
        self.assertEqual(status, 404, body)


class Documents(unittest.TestCase):
    def test_create_get_list_search_delete(self):
        user = new_user()
        doc = create_document(user, n_chunks=3, seed=1)
        did = doc["id"]
        self.assertEqual((doc["total_chunks"], len(doc["chunks"])), (3, 3))
        status, _, got = MAIN.request("GET", f"/api/v1/documents/{did}", user=user)
        self.assertEqual((status, got["filename"], got["content"]), (200, "notes.md", "full text"))
        status, _, page = MAIN.request("GET", "/api/v1/documents", user=user)
        self.assertEqual((status, page["total"]), (200, 1))
        status, _, page = MAIN.request("GET", "/api/v1/documents?q=NOTES", user=user)
        self.assertEqual((status, page["total"]), (200, 1))

        query = unit_vector(1000 + 2)  # the third chunk's vector
        status, _, res = MAIN.request("POST", "/api/v1/documents/search",
                                      {"embedding": query, "top_k": 10}, user=user)
        self.assertEqual(status, 200, res)
        self.assertEqual(len(res["items"]), 3)
        self.assertEqual(res["items"][0]["chunk_text"], "chunk 2")
        self.assertAlmostEqual(res["items"][0]["similarity"], 1.0, places=3)
        self.assertEqual(res["items"][0]["document_id"], did)
        self.assertTrue(res["fewer_than_top_k"])
        status, _, res = MAIN.request("POST", "/api/v1/documents/search",
                                      {"embedding": query, "top_k": 10, "threshold": 0.9,
                                       "filters": {"file_types": ["md"], "document_ids": [did]}}, user=user)
        self.assertEqual((status, len(res["items"])), (200, 1))

        self.assertEqual(MAIN.request("DELETE", f"/api/v1/documents/{did}", user=user)[0], 204)
        status, _, res = MAIN.request("POST", "/api/v1/documents/search", {"embedding": query}, user=user)
        self.assertEqual((status, res["items"]), (200, []))
        self.assertEqual(MAIN.request("GET", f"/api/v1/documents/{did}", user=user)[0], 404)
        self.assertEqual(MAIN.request("DELETE", f"/api/v1/documents/{did}?hard=true", user=user)[0], 204)
        self.assertEqual(MAIN.request("GET", f"/api/v1/documents/{did}?include_deleted=true", user=user)[0], 404)

    def test_keyword_and_hybrid_search(self):
        user = new_user()
        texts = ["机器学习的向量数据库", "RocksDB compaction tuning", "the rocksdb block cache"]
        chunks = [{"chunk_text": t, "embedding": unit_vector(5000 + i)} for i, t in enumerate(texts)]
        status, _, doc = MAIN.request("POST", "/api/v1/documents",
                                      {"filename": "kb.md", "file_type": "md", "chunks": chunks}, user=user)
        self.assertEqual(status, 201, doc)
        # query alone: keyword search, as the seeds' endpoint took `query`.
        status, _, res = MAIN.request("POST", "/api/v1/documents/search", {"query": "机器学习"}, user=user)
        self.assertEqual(status, 200, res)
        self.assertEqual((res["mode"], [i["chunk_text"] for i in res["items"]]), ("keyword", [texts[0]]))
        self.assertEqual(res["items"][0]["text_rank"], 1)
        self.assertIsNone(res["items"][0]["similarity"])
        self.assertGreater(res["items"][0]["bm25"], 0)
        self.assertEqual(res["text"]["terms"], ["机器", "学习"])
        status, _, res = MAIN.request("POST", "/api/v1/documents/search", {"query": "RocksDB"}, user=user)
        self.assertEqual({i["chunk_text"] for i in res["items"]}, {texts[1], texts[2]})
        # Stop words only: an empty answer that says so.
        status, _, res = MAIN.request("POST", "/api/v1/documents/search", {"query": "the of"}, user=user)
        self.assertEqual((status, res["items"], res["text"]["ran"], res["text"]["stopwords_ignored"]),
                         (200, [], False, 2))
        # Both: hybrid, the vector leg's best row (the third chunk's own vector) and the keyword match.
        status, _, res = MAIN.request("POST", "/api/v1/documents/search",
                                      {"query": "compaction", "embedding": unit_vector(5002), "top_k": 3},
                                      user=user)
        self.assertEqual(status, 200, res)
        self.assertEqual((res["mode"], res["fusion"], res["vector"]["ran"], res["text"]["ran"]),
                         ("hybrid", "rrf", True, True))
        by_text = {i["chunk_text"]: i for i in res["items"]}
        self.assertEqual(by_text[texts[1]]["text_rank"], 1)
        self.assertEqual(by_text[texts[2]]["vector_rank"], 1)
        self.assertAlmostEqual(by_text[texts[2]]["similarity"], 1.0, places=3)
        # Bad input: 422 naming the field; nothing stored is lost.
        for body, field in (({"query": "   "}, "query"), ({"query": "x" * 5000}, "query"),
                            ({"query": 5}, "query"), ({"top_k": 3}, "embedding"),
                            ({"query": "x", "embedding": unit_vector(1), "fusion": "max"}, "fusion"),
                            ({"query": "x", "embedding": unit_vector(1), "text_weight": -1}, "text_weight")):
            status, _, err = MAIN.request("POST", "/api/v1/documents/search", body, user=user)
            self.assertEqual((status, err["error"]["details"].get("field")), (422, field), body)
        status, _, res = MAIN.request("POST", "/api/v1/documents/search", {"query": "rocksdb"}, user=user)
        self.assertEqual(len(res["items"]), 2)

    def test_embedding_validation(self):
        user = new_user()
        status, _, body = MAIN.request("POST", "/api/v1/documents/search", {"embedding": [0.1] * 10}, user=user)
        self.assertEqual((status, body["error"]["details"]["field"]), (422, "embedding"))
        status, _, body = MAIN.request("POST", "/api/v1/documents",
                                       {"filename": "a.md", "file_type": "md",
                                        "chunks": [{"chunk_text": "x", "embedding": unit_vector(5)},
                                                   {"chunk_text": "y", "embedding": [1.0] * 7}]}, user=user)
        self.assertEqual((status, body["error"]["details"]["field"]), (422, "chunks[1].embedding"))
        status, _, body = MAIN.request("POST", "/api/v1/documents",
                                       {"filename": "a.md", "file_type": "md",
                                        "chunks": [{"chunk_text": "x", "embedding": [0.0] * DIM}]}, user=user)
        self.assertEqual(status, 422, body)  # zero-norm vector, refused by mnemod
        status, _, body = MAIN.request("POST", "/api/v1/documents", {"filename": "a.exe", "file_type": "exe"},
                                       user=user)
        self.assertEqual(status, 422, body)
        self.assertEqual(body["error"]["details"].get("field"), "file_type")
        # Nothing was written by the refused requests (atomic batch).
        self.assertEqual(MAIN.request("GET", "/api/v1/documents", user=user)[2]["total"], 0)


class Isolation(unittest.TestCase):
    def test_other_users_rows_are_not_found(self):
        alice, mallory = new_user(), new_user()
        cid = create_conversation(alice)["id"]
        doc = create_document(alice, n_chunks=2, seed=7)
        for method, path, body in [
            ("GET", f"/api/v1/conversations/{cid}", None),
            ("PATCH", f"/api/v1/conversations/{cid}", {"title": "pwned"}),
            ("DELETE", f"/api/v1/conversations/{cid}", None),
            ("POST", f"/api/v1/conversations/{cid}/restore", None),
            ("GET", f"/api/v1/conversations/{cid}/messages", None),
            ("POST", f"/api/v1/conversations/{cid}/messages", {"role": "user", "content": "hi"}),
            ("GET", f"/api/v1/conversations/{cid}/messages/stats", None),
            ("GET", f"/api/v1/documents/{doc['id']}", None),
            ("DELETE", f"/api/v1/documents/{doc['id']}?hard=true", None),
        ]:
            status, _, resp = MAIN.request(method, path, body, user=mallory)
            self.assertEqual(status, 404, (method, path, resp))
        # Headers cannot switch the user: X-User-ID is ignored when a JWT is present.
        status, _, _ = MAIN.request("GET", f"/api/v1/conversations/{cid}", user=mallory,
                                    headers={"X-User-ID": alice})
        self.assertEqual(status, 404)
        status, _, res = MAIN.request("POST", "/api/v1/documents/search", {"embedding": unit_vector(7000)},
                                      user=mallory)
        self.assertEqual((status, res["items"]), (200, []))
        self.assertEqual(MAIN.request("GET", "/api/v1/conversations", user=mallory)[2]["total"], 0)
        # Alice's rows are intact.
        self.assertEqual(MAIN.request("GET", f"/api/v1/conversations/{cid}", user=alice)[2]["title"], "Trip planning")


class Identity(unittest.TestCase):
    PATH = "/api/v1/conversations"

    def assert_401(self, headers):
        status, resp_headers, body = MAIN.request("GET", self.PATH, headers=headers)
        self.assertEqual(status, 401, body)
        self.assertEqual(body["error"]["code"], "AUTHENTICATION_ERROR")
        self.assertEqual(body["error"]["request_id"], resp_headers["x-request-id"])
        self.assertIsInstance(body["error"]["details"], dict)
        return body["error"]["message"]

    def test_missing_expired_forged_tokens(self):
        self.assertIn("missing", self.assert_401({}))
        self.assertIn("expired", self.assert_401({"Authorization": "Bearer " + make_jwt("a", exp_in=-10)}))
        self.assertIn("signature", self.assert_401({"Authorization": "Bearer " + make_jwt("a", secret="wrong")}))
        self.assert_401({"Authorization": "Bearer " + make_jwt("a", alg="none")})
        self.assert_401({"Authorization": "Bearer " + make_jwt("a", alg="HS512")})
        self.assert_401({"Authorization": "Bearer not.a.token"})
        self.assert_401({"Authorization": "Bearer "})
        self.assert_401({"Authorization": "Basic YWxpY2U6cHc="})
        self.assert_401({"Authorization": "Bearer " + make_jwt("", exp_in=100)})
        # Without --dev-user-header, X-User-ID is not an identity.
        self.assert_401({"X-User-ID": "alice"})

    def test_dev_user_header(self):
        user = new_user()
        status, _, body = DEV.request("POST", "/api/v1/conversations", {"title": "dev"},
                                      headers={"X-User-ID": user})
        self.assertEqual((status, body["user_id"]), (201, user))
        status, _, body = DEV.request("GET", "/api/v1/conversations")
        self.assertEqual(status, 401)


class Validation(unittest.TestCase):
    def test_bad_requests(self):
        user = new_user()
        cases = [
            ("POST", "/api/v1/conversations", b"{not json", "body"),
            ("POST", "/api/v1/conversations", b"[1,2,3]", "body"),
            ("POST", "/api/v1/conversations", b"", "body"),
            ("POST", "/api/v1/conversations", json.dumps({"title": 42}).encode(), "title"),
            ("POST", "/api/v1/conversations", json.dumps({"title": "t", "metadata": "x"}).encode(), "metadata"),
            ("POST", "/api/v1/conversations", json.dumps({"title": "   "}).encode(), "title"),
            ("POST", "/api/v1/conversations", json.dumps({"title": "x" * 300}).encode(), "title"),
            ("GET", "/api/v1/conversations?limit=1000", None, "limit"),
            ("GET", "/api/v1/conversations?skip=abc", None, "skip"),
            ("GET", "/api/v1/conversations/not-a-uuid", None, "id"),
            ("POST", "/api/v1/documents/search", json.dumps({"embedding": unit_vector(1), "top_k": "5"}).encode(),
             "top_k"),
            ("POST", "/api/v1/documents/search", json.dumps({"embedding": "abc"}).encode(), "embedding"),
        ]
        for method, path, raw, field in cases:
            status, _, body = MAIN.request(method, path, raw=raw, user=user,
                                           headers={"Content-Type": "application/json"})
            self.assertEqual(status, 422, (method, path, raw, body))
            self.assertEqual(body["error"]["code"], "VALIDATION_ERROR")
            self.assertEqual(body["error"]["details"].get("field"), field, (path, raw, body))

    def test_routing_errors(self):
        user = new_user()
        status, _, body = MAIN.request("GET", "/api/v1/nothing", user=user)
        self.assertEqual((status, body["error"]["code"]), (404, "NOT_FOUND"))
        status, headers, body = MAIN.request("PUT", "/api/v1/conversations", user=user)
        self.assertEqual(status, 405)
        self.assertIn("POST", headers["allow"])
        status, _, _ = MAIN.request("POST", "/api/v1/conversations", raw=b"title=x", user=user,
                                    headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(status, 415)

    def test_huge_body(self):
        user = new_user()
        raw = b'{"title": "' + b"x" * (5 << 20) + b'"}'
        status, headers, body = MAIN.request("POST", "/api/v1/conversations", raw=raw, user=user,
                                             headers={"Content-Type": "application/json",
                                                      "X-Request-ID": "big-1"})
        self.assertEqual(status, 413)
        self.assertEqual(body["error"]["code"], "PAYLOAD_TOO_LARGE")
        self.assertEqual(headers["x-request-id"], "big-1")
        self.assertEqual(MAIN.request("GET", "/ready")[0], 200)  # the sidecar is fine afterwards


class Headers(unittest.TestCase):
    def test_request_id_and_process_time(self):
        user = new_user()
        status, headers, _ = MAIN.request("GET", "/api/v1/conversations", user=user,
                                          headers={"X-Request-ID": "req-abc-123"})
        self.assertEqual((status, headers["x-request-id"]), (200, "req-abc-123"))
        self.assertGreaterEqual(float(headers["x-process-time"]), 0.0)
        status, headers, _ = MAIN.request("GET", "/api/v1/conversations", user=user)
        uuid.UUID(headers["x-request-id"])  # generated
        _, headers, body = MAIN.request("GET", f"/api/v1/conversations/{uuid.uuid4()}", user=user,
                                        headers={"X-Request-ID": "nf-1"})
        self.assertEqual(body["error"]["request_id"], "nf-1")
        self.assertEqual(set(body["error"]), {"code", "message", "request_id", "details"})

    def test_request_id_reaches_mnemod_log(self):
        user = new_user()
        status, _, _ = MAIN.request("GET", f"/api/v1/conversations/{uuid.uuid4()}", user=user,
                                    headers={"X-Request-ID": "trace-to-mnemod-7"})
        self.assertEqual(status, 404)
        log_path = os.path.join(ARGS.workdir, "mnemod.log")

        def traced():
            with open(log_path, "rb") as f:
                return b"[trace trace-to-mnemod-7] GetConversation" in f.read()
        self.assertTrue(poll(traced, True, timeout=5.0))

    def test_cors(self):
        user = new_user()
        _, headers, _ = MAIN.request("GET", "/api/v1/conversations", user=user, headers={"Origin": ORIGIN})
        self.assertEqual(headers.get("access-control-allow-origin"), ORIGIN)
        self.assertIn("X-Request-ID", headers.get("access-control-expose-headers", ""))
        _, headers, _ = MAIN.request("GET", "/api/v1/conversations", user=user,
                                     headers={"Origin": "http://evil.example"})
        self.assertNotIn("access-control-allow-origin", headers)
        status, headers, _ = MAIN.request("OPTIONS", "/api/v1/conversations",
                                          headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST",
                                                   "Access-Control-Request-Headers": "authorization,content-type"})
        self.assertEqual(status, 204)
        self.assertIn("POST", headers["access-control-allow-methods"])
        status, _, _ = MAIN.request("OPTIONS", "/api/v1/conversations",
                                    headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"})
        self.assertEqual(status, 403)


class Service(unittest.TestCase):
    def test_health_ready_metrics(self):
        status, _, body = MAIN.request("GET", "/health")
        self.assertEqual((status, body["status"]), (200, "healthy"))
        self.assertEqual(MAIN.request("GET", "/ready")[0], 200)
        user = new_user()
        MAIN.request("GET", "/api/v1/conversations", user=user)
        status, headers, text = MAIN.request("GET", "/metrics")
        self.assertEqual(status, 200)
        self.assertTrue(headers["content-type"].startswith("text/plain"))
        self.assertIn('mnemo_rest_requests_total{route="/api/v1/conversations",method="GET",status="200"}', text)
        self.assertIn('mnemo_rest_request_duration_seconds_bucket{route="/api/v1/conversations",method="GET",'
                      'status="200",le="+Inf"}', text)
        self.assertIn('mnemo_rest_upstream_duration_seconds_count{route="/api/v1/conversations",outcome="ok"}', text)

    def test_every_openapi_route_answers(self):
        status, _, doc = MAIN.request("GET", "/api/openapi.json")
        self.assertEqual(status, 200)
        self.assertTrue(doc["openapi"].startswith("3."))
        user = new_user()
        conv = create_conversation(user)
        doc_row = create_document(user, n_chunks=1, seed=11)
        cid, did, kid = conv["id"], doc_row["id"], doc_row["chunks"][0]["id"]
        mid = MAIN.request("POST", f"/api/v1/conversations/{cid}/messages", {"role": "user", "content": "q"},
                           user=user)[2]["id"]
        # One valid request per operation; {cid}, {did}, {mid}, {kid}: a conversation's, document's,
        # message's and chunk's id.
        requests = {
            ("post", "/api/v1/conversations"): {"title": "t"},
            ("get", "/api/v1/conversations"): None,
            ("get", "/api/v1/conversations/search?q=trip"): None,
            ("get", "/api/v1/conversations/stats"): None,
            ("get", "/api/v1/conversations/count"): None,
            ("get", "/api/v1/conversations/{cid}"): None,
            ("patch", "/api/v1/conversations/{cid}"): {"summary": "x"},
            ("post", "/api/v1/conversations/{cid}/restore"): None,
            ("get", "/api/v1/conversations/{cid}/messages"): None,
            ("post", "/api/v1/conversations/{cid}/messages"): {"role": "user", "content": "hi"},
            ("get", "/api/v1/conversations/{cid}/messages/last"): None,
            ("get", "/api/v1/conversations/{cid}/messages/count"): None,
            ("get", "/api/v1/conversations/{cid}/messages/stats"): None,
            ("post", "/api/v1/conversations/{cid}/context"): {"token_budget": 1000,
                                                              "query_embedding": unit_vector(3)},
            ("post", "/api/v1/messages/search"): {"embedding": unit_vector(3)},
            ("get", "/api/v1/messages/{mid}"): None,
            ("patch", "/api/v1/messages/{mid}"): {"content": "edited"},
            ("put", "/api/v1/messages/{mid}/tool_results"): {"tool_results": {"ok": True}},
            ("post", "/api/v1/documents"): {"filename": "b.txt", "file_type": "txt"},
            ("get", "/api/v1/documents"): None,
            ("get", "/api/v1/documents/count"): None,
            ("post", "/api/v1/documents/search"): {"embedding": unit_vector(3)},
            ("post", "/api/v1/documents/search/batch"): {"queries": [{"embedding": unit_vector(3)}]},
            ("get", "/api/v1/documents/{did}"): None,
            ("patch", "/api/v1/documents/{did}"): {"filename": "renamed.md"},
            ("get", "/api/v1/documents/{did}/chunks"): None,
            ("post", "/api/v1/documents/{did}/chunks"): {"chunks": [{"chunk_index": 5, "chunk_text": "more",
                                                                     "embedding": unit_vector(12)}]},
            ("get", "/api/v1/chunks/{kid}"): None,
            ("delete", "/api/v1/chunks/{kid}"): None,
            ("post", "/api/v1/chunks/{kid}/restore"): None,
            ("put", "/api/v1/documents/{did}/chunks"): {"chunks": []},
            ("delete", "/api/v1/messages/{mid}"): None,
            ("delete", "/api/v1/conversations/{cid}/messages"): None,
            ("delete", "/api/v1/documents/{did}"): None,
            ("post", "/api/v1/documents/{did}/restore"): None,
            ("delete", "/api/v1/conversations/{cid}"): None,
            ("get", "/health"): None,
            ("get", "/ready"): None,
            ("get", "/metrics"): None,
            ("get", "/api/openapi.json"): None,
        }

        def template(path):
            path = path.split("?")[0]
            for placeholder in ("{cid}", "{did}", "{mid}", "{kid}"):
                path = path.replace(placeholder, "{id}")
            return path

        documented = {(m, p) for p, ops in doc["paths"].items() for m in ops}
        self.assertEqual(documented, {(m, template(p)) for m, p in requests})
        for (method, path), body in requests.items():  # dict order: deletes come last
            op = doc["paths"][template(path)][method]
            success = {int(code) for code in op["responses"] if code.startswith("2")}
            url = path.replace("{cid}", cid).replace("{did}", did).replace("{mid}", mid).replace("{kid}", kid)
            if op.get("requestBody") and body is None:
                self.fail(f"{method} {path} needs a body")
            status, _, resp = MAIN.request(method.upper(), url, body, user=user)
            self.assertIn(status, success, (method, url, resp))


class RateLimits(unittest.TestCase):
    def test_429_then_recovery(self):
        user = new_user()
        hdrs = {"X-User-ID": user}
        seen = None
        for _ in range(20):  # 3 reads per 20 s: a 429 must come within 20 requests
            status, headers, body = DEV.request("GET", "/api/v1/conversations", headers=hdrs)
            if status == 429:
                seen = (headers, body)
                break
            self.assertEqual(status, 200, body)
        self.assertIsNotNone(seen, "no 429 within 20 requests")
        headers, body = seen
        self.assertEqual(body["error"]["code"], "RATE_LIMITED")
        self.assertGreaterEqual(int(headers["retry-after"]), 1)
        # Another user is not limited by this one's bucket.
        self.assertEqual(DEV.request("GET", "/api/v1/conversations", headers={"X-User-ID": new_user()})[0], 200)
        # Tokens come back (one per ~6.7 s).
        status = poll(lambda: DEV.request("GET", "/api/v1/conversations", headers=hdrs)[0], 200,
                      timeout=40, interval=1.0, max_tries=60)
        self.assertEqual(status, 200)


class ZUpstreamDown(unittest.TestCase):
    """Runs last (unittest orders classes by name): stops and restarts mnemod."""

    def test_503_then_recovery(self):
        user = new_user()
        cid = create_conversation(user)["id"]
        port = MNEMOD.port
        MNEMOD.stop()
        status, _, body = MAIN.request("GET", f"/api/v1/conversations/{cid}", user=user)
        self.assertEqual(status, 503, body)
        self.assertEqual(body["error"]["code"], "UNAVAILABLE")
        self.assertEqual(MAIN.request("GET", "/health")[0], 503)
        self.assertEqual(MAIN.request("GET", "/ready")[0], 200)  # the sidecar itself is up

        started = False
        for _ in range(50):  # the port may linger briefly; bounded retries
            try:
                MNEMOD.start(port)
                started = True
                break
            except RuntimeError:
                time.sleep(0.2)
        self.assertTrue(started, "mnemod did not restart on its port")
        status = poll(lambda: MAIN.request("GET", f"/api/v1/conversations/{cid}", user=user)[0], 200,
                      timeout=30, interval=0.3)
        self.assertEqual(status, 200)
        self.assertEqual(poll(lambda: MAIN.request("GET", "/health")[0], 200, timeout=30), 200)


def main():
    global ARGS
    parser = argparse.ArgumentParser()
    parser.add_argument("--mnemod", required=True)
    parser.add_argument("--rest", required=True)
    parser.add_argument("--workdir", required=True)
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0], "-v", *rest])


if __name__ == "__main__":
    main()
