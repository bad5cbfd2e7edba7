"""The Python half of mnemo-bench's ``clients`` phase: the calls the C++ half makes, from Python.

mnemo-bench loads the data, writes a plan (JSON) and runs this script with the interpreter that
has the mnemo package; the script prints one JSON object per measurement on stdout:
``{"op", "mode", "concurrency", "calls", "seconds", "qps", "cpu_us_per_call",
"server_cpu_us_per_call"}``.  CPU is this process's own (time.process_time: the interpreter and
the native core's I/O thread), so ``cpu_us_per_call`` is what one call costs the client; the
server's comes from /proc/<plan's server_pid>/stat over the same window.

Modes: ``sync`` runs a blocking mnemo.Client on ``concurrency`` threads (1 in mnemo-bench);
``async`` runs ``concurrency`` asyncio tasks (64 in mnemo-bench) sharing one AsyncClient.  Ops:
``search`` (top-10 of the plan's query vectors for its search user), ``get`` (a conversation),
``append`` (a ~200-byte message, durable).  Call i of every worker uses the plan's item
(i * 7919 + worker * 104729) mod its length, the sequence the C++ half uses too.

Usage: python client_bench.py --plan PLAN.json --op search --mode async --concurrency 64
       [--seconds 3] [--warmup 0.5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import threading
import time
import uuid
from typing import Any, Callable

import numpy

import mnemo

MESSAGE = ("message appended by the client benchmark: the quick brown fox jumps over the lazy "
           "dog while the assistant explains retrieval augmented generation to a curious user")


def load_plan(path: str) -> dict[str, Any]:
    with open(path, encoding="utf-8") as file:
        plan = json.load(file)
    queries = numpy.fromfile(plan["queries_file"], dtype="<f4")
    plan["queries"] = list(queries.reshape(-1, plan["dimension"]))
    plan["conversations"] = [(user, uuid.UUID(cid)) for user, cid in plan["conversations"]]
    return plan


def server_cpu(pid: int) -> float:
    """CPU seconds (user + system) process ``pid`` has used; 0 when unknown."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as file:
            fields = file.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def pick(items: list[Any], worker: int, i: int) -> Any:
    return items[(i * 7919 + worker * 104729) % len(items)]


def make_calls(plan: dict[str, Any]) -> dict[str, Callable[..., Any]]:
    """op -> f(client, worker, i) returning the client call (a value, or a coroutine)."""
    search_user = plan["search_user"]

    def search(client: Any, worker: int, i: int) -> Any:
        return client.search(search_user, pick(plan["queries"], worker, i), 10)

    def get(client: Any, worker: int, i: int) -> Any:
        user, cid = pick(plan["conversations"], worker, i)
        return client.get_conversation(user, cid)

    def append(client: Any, worker: int, i: int) -> Any:
        user, cid = pick(plan["conversations"], worker, i)
        return client.create_message(user, cid, "user", MESSAGE, tokens_used=42)

    return {"search": search, "get": get, "append": append}


def measure_sync(plan: dict[str, Any], call: Callable[..., Any], concurrency: int,
                 seconds: float, warmup: float) -> tuple[int, float, float, float]:
    counts = [0] * concurrency
    state = {"measuring": False, "stop": False}
    with mnemo.Client(port=plan["port"], client_name="mnemo-bench-python") as client:

        def worker(w: int) -> None:
            i = 0
            while not state["stop"]:
                call(client, w, i)
                i += 1
                if state["measuring"]:
                    counts[w] += 1

        threads = [threading.Thread(target=worker, args=(w,)) for w in range(concurrency)]
        for thread in threads:
            thread.start()
        time.sleep(warmup)
        cpu, wall, server = time.process_time(), time.perf_counter(), server_cpu(plan["server_pid"])
        state["measuring"] = True
        time.sleep(seconds)
        state["measuring"] = False
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        server = server_cpu(plan["server_pid"]) - server
        state["stop"] = True
        for thread in threads:
            thread.join()
    return sum(counts), wall, cpu, server


async def measure_async(plan: dict[str, Any], call: Callable[..., Any], concurrency: int,
                        seconds: float, warmup: float) -> tuple[int, float, float, float]:
    counts = [0] * concurrency
    state = {"measuring": False, "stop": False}
    async with mnemo.AsyncClient(port=plan["port"], client_name="mnemo-bench-python") as client:

        async def worker(w: int) -> None:
            i = 0
            while not state["stop"]:
                await call(client, w, i)
                i += 1
                if state["measuring"]:
                    counts[w] += 1

        tasks = [asyncio.create_task(worker(w)) for w in range(concurrency)]
        await asyncio.sleep(warmup)
        cpu, wall, server = time.process_time(), time.perf_counter(), server_cpu(plan["server_pid"])
        state["measuring"] = True
        await asyncio.sleep(seconds)
        state["measuring"] = False
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        server = server_cpu(plan["server_pid"]) - server
        state["stop"] = True
        await asyncio.gather(*tasks)
    return sum(counts), wall, cpu, server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--plan", required=True)
    parser.add_argument("--op", choices=("search", "get", "append"), required=True)
    parser.add_argument("--mode", choices=("sync", "async"), required=True)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--warmup", type=float, default=0.5)
    args = parser.parse_args()
    plan = load_plan(args.plan)
    call = make_calls(plan)[args.op]
    if args.mode == "sync":
        calls, wall, cpu, server = measure_sync(plan, call, args.concurrency, args.seconds,
                                                args.warmup)
    else:
        calls, wall, cpu, server = asyncio.run(
            measure_async(plan, call, args.concurrency, args.seconds, args.warmup))
    print(json.dumps({"op": args.op, "mode": args.mode, "concurrency": args.concurrency,
                      "calls": calls, "seconds": wall, "qps": calls / wall if wall else 0.0,
                      "cpu_us_per_call": 1e6 * cpu / calls if calls else 0.0,
                      "server_cpu_us_per_call": 1e6 * server / calls if calls else 0.0}),
          flush=True)


if __name__ == "__main__":
    main()
