#!/usr/bin/python3
"""Draws mnemo-bench's plots from results.json (the harness calls it at the end of a run).

Usage: /usr/bin/python3 bench/harness/plot.py RESULTS_JSON OUT_DIR

Writes OUT_DIR/recall_qps.png (recall@10 vs QPS, one line per system; log QPS axis) and
OUT_DIR/latency_cdf.png (CDF of per-request latency: wire search at each client-thread count at
the smallest ef reaching recall 0.95, the ingest batches, and the conversation operations).
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def recall_qps(results, path):
    fig, ax = plt.subplots(figsize=(8, 5))
    runs = results.get("search", {}).get("runs", [])
    for threads in sorted({run["threads"] for run in runs}):
        points = [run for run in runs if run["threads"] == threads]
        ax.plot([p["recall"] for p in points], [p["qps"] for p in points], marker="o",
                label=f"mnemo over the wire, {threads} client thread(s)")
    for name, system in results.get("inprocess", {}).items():
        points = system.get("points", [])
        if not points:
            continue
        style = "*" if name == "faiss-flat" else "s"
        ax.plot([p["recall"] for p in points], [p["qps"] for p in points], marker=style,
                linestyle="--", label=f"{name} in-process, 1 thread")
    ax.set_yscale("log")
    ax.set_xlabel("recall@10")
    ax.set_ylabel("queries per second")
    opts = results["options"]
    ax.set_title(f"recall@10 vs QPS, n={opts['n']} d={opts['d']}")
    ax.axvline(0.95, color="grey", linewidth=0.8, linestyle=":")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def cdf_line(ax, cdf, label):
    if cdf:
        ax.plot([p[0] for p in cdf], [p[1] for p in cdf], label=label)


def latency_cdf(results, path):
    fig, ax = plt.subplots(figsize=(8, 5))
    runs = results.get("search", {}).get("runs", [])
    for threads in sorted({run["threads"] for run in runs}):
        points = [run for run in runs if run["threads"] == threads]
        good = [run for run in points if run["recall"] >= 0.95] or points[-1:]
        if good:
            cdf_line(ax, good[0].get("latency_cdf"), f"search, ef={good[0]['ef']}, {threads} thread(s)")
    if "ingest" in results:
        cdf_line(ax, results["ingest"].get("batch_latency_cdf"), "ingest batch")
    for system, run in results.get("conversations", {}).items():
        for kind, op in run.get("ops", {}).items():
            cdf_line(ax, op.get("latency_cdf"), f"{system} {kind}")
    ax.set_xscale("log")
    ax.set_xlabel("latency (ms)")
    ax.set_ylabel("fraction of requests")
    ax.set_title("latency CDF over the wire")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    with open(sys.argv[1], encoding="utf-8") as handle:
        results = json.load(handle)
    recall_qps(results, f"{sys.argv[2]}/recall_qps.png")
    latency_cdf(results, f"{sys.argv[2]}/latency_cdf.png")


if __name__ == "__main__":
    main()
