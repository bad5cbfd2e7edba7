"""The chat backend benchmark's load generator: a process of its own, driven by bench.py.

It reads one JSON command per line on stdin and answers one JSON line on stdout:

    {"op": "phase", "base_url": "http://127.0.0.1:PORT", "key": "mnemo/c8", "phase": "create",
     "concurrency": 8, ...workload sizes...}
    -> {"requests": N, "errors": E, "seconds": S, "latencies_us": {...}, "cpu_seconds": C}

A phase opens ``concurrency`` keep-alive HTTP/1.1 connections (not timed), then every connection
runs its own closed loop of requests, each waiting for the previous answer.  The users (and their
conversations) are split statically between connections, so one conversation's messages are
appended in order by one connection, as one chat client would.  ``key`` names the state that
later phases use (the conversation ids a create phase made).

HTTP is spoken directly over asyncio streams on uvloop: a minimal client costs a few tens of
microseconds per request, a small fraction of what the server spends, and ``cpu_seconds`` (this
process's CPU during the phase) lets bench.py show that it was not the bottleneck.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from typing import Any, Optional

PHASES = ("create", "append", "list", "history")
CONTENT = ("Could you suggest a three-day itinerary for Kyoto in early April, with temples, a "
           "tea ceremony and a day trip to Nara? We travel with two children and prefer to "
           "avoid long bus rides. ") * 2


class HttpError(Exception):
    pass


class Connection:
    """One keep-alive HTTP/1.1 connection; requests are sent one at a time."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.reader: Optional[asyncio.StreamReader] = None
        self.writer: Optional[asyncio.StreamWriter] = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except OSError:
                pass

    async def request(self, method: str, path: str, user_id: str,
                      body: Optional[bytes] = None) -> tuple[int, bytes]:
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\nX-User-ID: {user_id}\r\n"
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        self.writer.write(head.encode() + b"\r\n" + (body or b""))
        header = await self.reader.readuntil(b"\r\n\r\n")
        status = int(header[9:12])
        length = 0
        for line in header.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                raise HttpError("chunked answers are not expected from this app")
        payload = await self.reader.readexactly(length) if length else b""
        return status, payload


def user_ids(key: str, users: int) -> list[str]:
    return [f"bench-{key.replace('/', '-')}-u{i}" for i in range(users)]


class LoadGen:
    def __init__(self) -> None:
        # key -> user id -> conversation ids
        self.conversations: dict[str, dict[str, list[str]]] = {}

    def work(self, command: dict[str, Any]) -> list[list[tuple[str, str, str, Optional[bytes]]]]:
        """Each connection's requests, in order: (method, path, user id, body)."""
        key, phase, concurrency = command["key"], command["phase"], command["concurrency"]
        users = user_ids(key, command["users"])
        owned = [users[i::concurrency] for i in range(concurrency)]
        plans: list[list[tuple[str, str, str, Optional[bytes]]]] = []
        for mine in owned:
            plan: list[tuple[str, str, str, Optional[bytes]]] = []
            if phase == "create":
                for n in range(command["conversations_per_user"]):
                    for user in mine:
                        body = json.dumps({"title": f"Conversation {n}",
                                           "system_prompt": "You are a helpful assistant."})
                        plan.append(("POST", "/api/v1/conversations", user, body.encode()))
            elif phase == "append":
                chats = [(user, cid) for user in mine for cid in self.conversations[key][user]]
                for n in range(command["messages_per_conversation"]):
                    body = json.dumps({"role": "user" if n % 2 == 0 else "assistant",
                                       "content": CONTENT, "tokens_used": 60}).encode()
                    for user, cid in chats:
                        plan.append(("POST", f"/api/v1/conversations/{cid}/messages", user, body))
            elif phase == "list":
                count = command["reads"] // concurrency
                plan = [("GET", "/api/v1/conversations?skip=0&limit=20", mine[i % len(mine)],
                         None) for i in range(count)]
            elif phase == "history":
                chats = [(user, cid) for user in mine for cid in self.conversations[key][user]]
                count = command["reads"] // concurrency
                plan = [("GET", f"/api/v1/conversations/{chats[i % len(chats)][1]}/messages"
                         f"?limit=50", chats[i % len(chats)][0], None) for i in range(count)]
            else:
                raise ValueError(f"unknown phase {phase!r}")
            plans.append(plan)
        return plans

    async def run_phase(self, command: dict[str, Any]) -> dict[str, Any]:
        host, port = command["base_url"].removeprefix("http://").split(":")
        plans = self.work(command)
        connections = [Connection(host, int(port)) for _ in plans]
        await asyncio.gather(*(c.open() for c in connections))
        created: dict[str, list[str]] = {}
        latencies: list[float] = []
        errors: list[str] = []  # the first few, for the report
        error_count = 0

        async def loop(connection: Connection, plan) -> None:
            nonlocal error_count
            for method, path, user, body in plan:
                start = time.perf_counter()
                status, payload = await connection.request(method, path, user, body)
                latencies.append(time.perf_counter() - start)
                if status >= 300:
                    error_count += 1
                    if len(errors) < 5:
                        errors.append(f"{method} {path}: {status} {payload[:200]!r}")
                elif command["phase"] == "create":
                    created.setdefault(user, []).append(json.loads(payload)["id"])

        cpu_before = resource.getrusage(resource.RUSAGE_SELF)
        start = time.perf_counter()
        await asyncio.gather(*(loop(c, plan) for c, plan in zip(connections, plans)))
        seconds = time.perf_counter() - start
        cpu_after = resource.getrusage(resource.RUSAGE_SELF)
        await asyncio.gather(*(c.close() for c in connections))
        if command["phase"] == "create":
            self.conversations[command["key"]] = created
        latencies.sort()
        return {
            "requests": len(latencies),
            "errors": error_count,
            "first_errors": errors,
            "seconds": seconds,
            "latency_us": {name: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1e6
                           for name, q in (("p50", 0.50), ("p90", 0.90), ("p99", 0.99))}
            if latencies else {},
            "cpu_seconds": (cpu_after.ru_utime - cpu_before.ru_utime
                            + cpu_after.ru_stime - cpu_before.ru_stime),
        }


async def main() -> None:
    generator = LoadGen()
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        command = json.loads(line)
        if command["op"] == "quit":
            break
        try:
            answer = await generator.run_phase(command)
        except (OSError, HttpError, asyncio.IncompleteReadError, KeyError, ValueError) as error:
            answer = {"failed": f"{type(error).__name__}: {error}"}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    try:
        import uvloop
        uvloop.install()
    except ImportError:
        pass
    asyncio.run(main())
