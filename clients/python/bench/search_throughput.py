"""Async vector-search throughput of the Python client from one process.

Loads ``--vectors`` random 1536-d unit vectors for ``--user`` (``--load``), then runs
``--concurrency`` asyncio tasks sharing one AsyncClient that issue top-k searches for
``--seconds`` (after a 1 s warm-up) and prints queries/s and the client's own CPU time per
query (the client's ceiling: 1e6 / that = queries/s one process could drive at most).
Compare with the C++ client: ``mnemo_cpp_search_bench --port P`` on the same data
(built by clients/python/CMakeLists.txt).

Usage: python search_throughput.py --port P [--load] [--vectors 10000] [--concurrency 64]
       [--pool 4] [--seconds 10] [--top-k 10] [--numpy]
"""

from __future__ import annotations

import argparse
import asyncio
import time

import numpy

import mnemo


def unit_vectors(count: int, dimension: int, seed: int) -> numpy.ndarray:
    rng = numpy.random.default_rng(seed)
    vectors = rng.standard_normal((count, dimension), dtype=numpy.float32)
    vectors /= numpy.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors


async def load(client: mnemo.AsyncClient, user: str, count: int, dimension: int) -> None:
    vectors = unit_vectors(count, dimension, seed=1)
    document = await client.create_document(user, "bench.txt", "txt")
    for start in range(0, count, 500):
        await client.add_chunks(user, [
            mnemo.NewChunk(document.id, i, f"chunk {i}", vectors[i])
            for i in range(start, min(start + 500, count))])


async def run(args: argparse.Namespace) -> None:
    async with mnemo.AsyncClient(port=args.port, host=args.host, pool_size=args.pool,
                                 client_name="mnemo-python-search-bench") as client:
        dimension = client.server_info.dimension
        if args.load:
            await load(client, args.user, args.vectors, dimension)
        queries = unit_vectors(256, dimension, seed=7)
        query_list = [list(map(float, q)) for q in queries] if not args.numpy else list(queries)
        state = {"measuring": False, "stop": False, "answered": 0, "exact": False}

        async def worker(offset: int) -> None:
            i = offset
            while not state["stop"]:
                result = await client.search(args.user, query_list[i % len(query_list)],
                                             args.top_k)
                i += 1
                if state["measuring"]:
                    state["answered"] += 1
                    state["exact"] = state["exact"] or result.exact

        tasks = [asyncio.create_task(worker(i)) for i in range(args.concurrency)]
        await asyncio.sleep(1.0)  # warm-up
        state["measuring"] = True
        start, cpu_start = time.perf_counter(), time.process_time()
        await asyncio.sleep(args.seconds)
        state["measuring"] = False
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        state["stop"] = True
        await asyncio.gather(*tasks)
        print(f"python async client: {state['answered'] / elapsed:.0f} queries/s "
              f"(concurrency={args.concurrency} pool={args.pool} top_k={args.top_k} "
              f"dim={dimension} vectors as {'numpy float32' if args.numpy else 'lists'}, "
              f"{state['answered']} answered, "
              f"client CPU {cpu * 1e6 / max(state['answered'], 1):.0f} us/query, "
              f"{'exact scans seen' if state['exact'] else 'graph search'})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--user", default="bench")
    parser.add_argument("--load", action="store_true", help="load --vectors chunks first")
    parser.add_argument("--vectors", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--pool", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--top-k", type=int, default=10)
    parser.add_argument("--numpy", action="store_true", help="queries as numpy float32 arrays")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
