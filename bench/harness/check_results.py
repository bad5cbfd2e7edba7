#!/usr/bin/python3
"""Checks that a mnemo-bench results.json is well formed (the CI smoke test's assertion).

Usage: /usr/bin/python3 check_results.py RESULTS_JSON.  Exit 0 when every expected key is present
with the expected type; no figure is judged (speed is never asserted in tests).
"""
import json
import sys


def main():
    with open(sys.argv[1], encoding="utf-8") as handle:
        results = json.load(handle)
    problems = []

    def need(node, key, kind, where):
        if not isinstance(node, dict) or key not in node:
            problems.append(f"missing {where}.{key}")
            return None
        if not isinstance(node[key], kind):
            problems.append(f"{where}.{key} is {type(node[key]).__name__}")
            return None
        return node[key]

    for key, kind in [("options", dict), ("machine", dict), ("data", dict), ("ingest", dict),
                      ("search", dict), ("filtered", dict), ("inprocess", dict),
                      ("restart", dict), ("conversations", dict), ("chat-turn", dict),
                      ("clients", dict), ("targets", list),
                      ("notes", list), ("total_s", (int, float))]:
        need(results, key, kind, "results")
    ingest = results.get("ingest", {})
    need(ingest, "vectors_per_s", (int, float), "ingest")
    need(ingest, "batch_latency", dict, "ingest")
    if ingest.get("failed_batches", 1) != 0:
        problems.append("ingest had failed batches")
    runs = need(results.get("search", {}), "runs", list, "search") or []
    if not runs:
        problems.append("no wire search runs")
    for run in runs:
        for key in ("ef", "threads", "recall", "qps", "latency"):
            need(run, key, (int, float, dict), "search.runs[]")
        if run.get("errors", 1) != 0:
            problems.append("wire search had errors")
    if not results.get("filtered", {}).get("buckets"):
        problems.append("no filtered buckets")
    for name in ("mnemo-engine", "mnemo", "hnswlib", "faiss-hnsw", "faiss-flat"):
        peer = results.get("inprocess", {}).get(name, {})
        need(peer, "points", list, f"inprocess.{name}")
        need(peer, "simd", str, f"inprocess.{name}")
        if any(point.get("errors", 0) for point in peer.get("points", [])):
            problems.append(f"inprocess.{name} searches had errors")
    need(results.get("machine", {}), "faiss_simd", str, "machine")
    need(results.get("restart", {}), "first_search_s", (int, float), "restart")
    mnemo_conv = results.get("conversations", {}).get("mnemo", {})
    for kind in ("get_conversation", "list_recent", "last_messages", "append_message"):
        op = need(mnemo_conv.get("ops", {}), kind, dict, "conversations.mnemo.ops")
        if op is not None and op.get("errors", 1) != 0:
            problems.append(f"mnemo {kind} had errors: {op.get('first_error')}")
    postgres = results.get("conversations", {}).get("postgres", {})
    if "ops" not in postgres and "error" not in postgres:
        problems.append("conversations.postgres has neither ops nor an error")
    turn = results.get("chat-turn", {})
    for kind in ("chat_turn", "turn_context"):
        op = need(turn.get("mnemo", {}).get("ops", {}), kind, dict, "chat-turn.mnemo.ops")
        if op is not None and op.get("errors", 1) != 0:
            problems.append(f"mnemo {kind} had errors: {op.get('first_error')}")
    if "ops" not in turn.get("postgres", {}) and "error" not in turn.get("postgres", {}):
        problems.append("chat-turn.postgres has neither ops nor an error")
    text = need(results, "text", dict, "results") or {}
    if "error" in text:
        problems.append(f"text phase: {text['error']}")
    need(text.get("ingest", {}), "chunks_per_s", (int, float), "text.ingest")
    need(text.get("ingest", {}), "added_share", (int, float), "text.ingest")
    need(text.get("index", {}), "stored_bytes", int, "text.index")
    for band in ("rare", "medium", "frequent", "chinese"):
        need(text.get("queries", {}).get(band, {}), "latency", dict, f"text.queries.{band}")
    need(text.get("hybrid", {}), "latency", dict, "text.hybrid")
    clients = results.get("clients", {})
    cells = need(clients, "cells", list, "clients") or []
    for op in ("search", "get", "append"):
        cpp = [c for c in cells if c.get("client") == "cpp" and c.get("op") == op]
        if len(cpp) != 2:
            problems.append(f"clients: expected 2 C++ {op} cells, got {len(cpp)}")
        for cell in cpp:
            need(cell, "qps", (int, float), "clients.cells[]")
            need(cell, "cpu_us_per_call", (int, float), "clients.cells[]")
            if "errors" in cell:
                problems.append(f"clients: C++ {op} had errors: {cell['errors']}")
    for cell in cells:
        if cell.get("client") == "python" and "error" in cell:
            problems.append(f"clients: Python {cell.get('op')} failed: {cell['error']}")
    for target in results.get("targets", []):
        need(target, "status", str, "targets[]")
    if problems:
        print("results.json problems:\n  " + "\n  ".join(problems))
        sys.exit(1)
    print("results.json OK")


if __name__ == "__main__":
    main()
