"""The AsyncClient over the native core: calls finish on the event loop that made them, a
cancelled call leaves the client usable, close() fails what is still waiting, and argument errors
surface when the call is awaited (as from any coroutine)."""

from __future__ import annotations

import asyncio

import pytest

import mnemo
from fake_server import FakeServer, user_stats_response

BOUND_S = 20  # every scenario is bounded: a lost completion fails instead of hanging


def test_cancelled_calls_leave_the_client_usable(loop):
    async def scenario(port):
        async with mnemo.AsyncClient(port=port, pool_size=1) as client:
            tasks = [asyncio.ensure_future(client.get_user_stats("u")) for _ in range(20)]
            await asyncio.sleep(0.01)
            for task in tasks[::2]:
                task.cancel()
            done = await asyncio.gather(*tasks, return_exceptions=True)
            after = await asyncio.gather(*(client.get_user_stats("u") for _ in range(5)))
            return done, after

    with FakeServer(lambda rid, _: user_stats_response(rid, 3), answer_delay=0.05) as fake:
        done, after = loop.run_until_complete(asyncio.wait_for(scenario(fake.port), BOUND_S))
    assert all(isinstance(r, asyncio.CancelledError) for r in done[::2])
    assert [r.total_conversations for r in done[1::2]] == [3] * 10
    assert [r.total_conversations for r in after] == [3] * 5


def test_close_fails_the_calls_still_waiting(loop):
    async def scenario(port):
        client = mnemo.AsyncClient(port=port, pool_size=1)
        await client.connect()
        waiting = [asyncio.ensure_future(client.get_user_stats("u")) for _ in range(3)]
        await asyncio.sleep(0.05)  # sent; the fake server stays silent
        await client.close()
        results = await asyncio.gather(*waiting, return_exceptions=True)
        with pytest.raises(mnemo.UnavailableError):
            await client.get_user_stats("u")
        return results

    with FakeServer(lambda rid, _: None) as fake:
        results = loop.run_until_complete(asyncio.wait_for(scenario(fake.port), BOUND_S))
    assert [type(r) for r in results] == [mnemo.UnavailableError] * 3
    assert all("client closed" in str(r) for r in results)


def test_argument_errors_surface_when_awaited(mnemod, loop):
    async def scenario():
        async with mnemo.AsyncClient(port=mnemod.port) as client:
            call = client.get_conversation("", mnemo.new_id())  # no error yet: a coroutine
            with pytest.raises(mnemo.ValidationError) as info:
                await call
            return info.value.field

    assert loop.run_until_complete(asyncio.wait_for(scenario(), BOUND_S)) == "user_id"


def test_answers_arrive_in_many_loop_turns_and_batches(mnemod, loop):
    # 500 calls in flight at once over two connections: completions come back in batches,
    # each resolving its own future.
    async def scenario():
        async with mnemo.AsyncClient(port=mnemod.port, pool_size=2) as client:
            user = f"user-{mnemo.new_id().hex[:12]}"
            created = await asyncio.gather(*(client.create_conversation(user, f"t{i}")
                                             for i in range(50)))
            fetched = await asyncio.gather(*(client.get_conversation(user, c.id)
                                             for c in created * 10))
            return created, fetched

    created, fetched = loop.run_until_complete(asyncio.wait_for(scenario(), BOUND_S))
    assert [c.title for c in fetched] == [c.title for c in created] * 10


class _Transport:
    """A stand-in asyncio transport that keeps what it is asked to write."""

    def __init__(self) -> None:
        self.written: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.written.append(bytes(data))

    def abort(self) -> None:
        pass

    def get_extra_info(self, name: str) -> None:
        return None


def test_a_connection_reassembles_responses_split_anywhere(loop):
    from fake_server import frame, user_stats_response
    from mnemo._connection import Connection
    from mnemo._native import dec

    async def scenario():
        connection = Connection(asyncio.get_running_loop(), "stand-in", 1 << 20)
        connection.connection_made(_Transport())
        connection._limit = 8  # as after a handshake
        deadline = asyncio.get_running_loop().time() + BOUND_S
        calls = [asyncio.ensure_future(connection.request(rid, b"request", deadline))
                 for rid in (1, 2, 3)]
        await asyncio.sleep(0)
        data = b"".join(frame(user_stats_response(rid, 10 * rid)) for rid in (3, 1, 2))
        for i in range(len(data)):  # one byte at a time: frames split at every position
            connection.data_received(data[i:i + 1])
        return [dec.user_stats(r).total_conversations for r in await asyncio.gather(*calls)]

    assert loop.run_until_complete(asyncio.wait_for(scenario(), BOUND_S)) == [10, 20, 30]
