"""Many callers on one pool: 100 concurrent asyncio tasks, and threads sharing a blocking Client.
Asserts results (every write counted exactly once, every answer to its own caller), never speed."""

from __future__ import annotations

import asyncio
import threading
import uuid

import mnemo
from conftest import unit_vector

TASKS = 100


def test_hundred_concurrent_tasks_on_one_pool(mnemod, loop):
    user = f"user-{uuid.uuid4().hex[:12]}"

    async def scenario():
        async with mnemo.AsyncClient(port=mnemod.port, pool_size=2) as client:
            conversation = await client.create_conversation(user, "Busy")
            document = await client.create_document(user, "busy.md", "md")
            await client.add_chunks(user, [
                mnemo.NewChunk(document.id, i, f"chunk {i}", unit_vector(1000 + i))
                for i in range(10)])

            async def one(i: int):
                message = await client.create_message(user, conversation.id, "user", f"m{i}",
                                                      tokens_used=i)
                fetched = await client.get_message(user, message.id)
                hits = await client.search_similar(user, unit_vector(1000 + i % 10), limit=1)
                return i, fetched.content, hits[0].chunk_index

            results = await asyncio.gather(*(one(i) for i in range(TASKS)))
            after = await client.get_conversation(user, conversation.id)
            return results, after

    results, after = loop.run_until_complete(scenario())
    assert [(i, content, index) for i, content, index in results] == \
        [(i, f"m{i}", i % 10) for i in range(TASKS)]
    assert after.message_count == TASKS
    assert after.total_tokens == sum(range(TASKS))


def test_threads_share_one_blocking_client(mnemod):
    user = f"user-{uuid.uuid4().hex[:12]}"
    errors: list[BaseException] = []
    with mnemo.Client(port=mnemod.port, pool_size=2) as client:
        conversation = client.create_conversation(user, "Threads")

        def worker(worker_id: int) -> None:
            try:
                for j in range(10):
                    text = f"w{worker_id}-{j}"
                    message = client.create_message(user, conversation.id, "assistant", text)
                    assert client.get_message(user, message.id).content == text
            except BaseException as error:  # noqa: BLE001 - reported by the main thread
                errors.append(error)

        threads = [threading.Thread(target=worker, args=(w,)) for w in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert not any(thread.is_alive() for thread in threads)
        assert errors == []
        assert client.get_conversation_message_count(user, conversation.id) == 80
