"""FakeServer: a scripted stand-in for mnemod on 127.0.0.1, for failures a healthy mnemod never
produces (RATE_LIMITED, TRANSACTION_ERROR, malformed frames, silence, in-flight pressure).

It runs its own asyncio loop in a thread, so blocking and async clients can both use it.  It
answers the Hello like mnemod; every other request goes to ``respond(request_id, body_type)``,
which returns response payload bytes (or None to stay silent).  ``max_in_flight_seen`` records
the most unanswered requests a connection ever had.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Callable, Optional

import flatbuffers

from mnemo.wire import Error as w_error
from mnemo.wire import HelloReply as w_hello_reply
from mnemo.wire import Response as w_response
from mnemo.wire import UserStats as w_user_stats
from mnemo.wire.Request import Request
from mnemo.wire.RequestBody import RequestBody
from mnemo.wire.ResponseBody import ResponseBody

Respond = Callable[[int, int], Optional["bytes | Raw"]]


def error_response(request_id: int, code: int, message: str = "scripted", field: str = "") -> bytes:
    b = flatbuffers.Builder(128)
    text = b.CreateString(message)
    field_offset = b.CreateString(field) if field else 0
    w_error.Start(b)
    w_error.AddCode(b, code)
    w_error.AddMessage(b, text)
    w_error.AddField(b, field_offset)
    error = w_error.End(b)
    w_response.Start(b)
    w_response.AddId(b, request_id)
    w_response.AddError(b, error)
    b.Finish(w_response.End(b), b"MNEM")  # mnemod identifies its buffers
    return bytes(b.Output())


def user_stats_response(request_id: int, total: int) -> bytes:
    b = flatbuffers.Builder(128)
    w_user_stats.Start(b)
    w_user_stats.AddTotal(b, total)
    w_user_stats.AddActive(b, total)
    body = w_user_stats.End(b)
    w_response.Start(b)
    w_response.AddId(b, request_id)
    w_response.AddBodyType(b, ResponseBody.UserStats)
    w_response.AddBody(b, body)
    b.Finish(w_response.End(b), b"MNEM")  # mnemod identifies its buffers
    return bytes(b.Output())


def hello_response(request_id: int, max_in_flight: int, max_frame_bytes: int) -> bytes:
    b = flatbuffers.Builder(128)
    version = b.CreateString("fake")
    principal = b.CreateString("service")
    w_hello_reply.Start(b)
    w_hello_reply.AddProtocolVersion(b, 1)
    w_hello_reply.AddServerVersion(b, version)
    w_hello_reply.AddMaxFrameBytes(b, max_frame_bytes)
    w_hello_reply.AddMaxInFlight(b, max_in_flight)
    w_hello_reply.AddDimension(b, 4)
    w_hello_reply.AddPrincipal(b, principal)
    body = w_hello_reply.End(b)
    w_response.Start(b)
    w_response.AddId(b, request_id)
    w_response.AddBodyType(b, ResponseBody.HelloReply)
    w_response.AddBody(b, body)
    b.Finish(w_response.End(b), b"MNEM")  # mnemod identifies its buffers
    return bytes(b.Output())


def frame(payload: bytes) -> bytes:
    return len(payload).to_bytes(4, "little") + payload


class FakeServer:
    """See the module comment.  Use as a context manager; ``port`` is set once it listens."""

    def __init__(self, respond: Respond, max_in_flight: int = 64, max_frame_bytes: int = 1 << 20,
                 answer_delay: float = 0.0) -> None:
        self.respond = respond
        self.max_in_flight = max_in_flight
        self.max_frame_bytes = max_frame_bytes
        self.answer_delay = answer_delay
        self.max_in_flight_seen = 0
        self.requests = 0
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: Optional[asyncio.base_events.Server] = None

    def __enter__(self) -> "FakeServer":
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._start(), self._loop)
        future.result(10)
        return self

    def __exit__(self, *exc_info: object) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for task in asyncio.all_tasks():
            if task is not asyncio.current_task():
                task.cancel()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        loop = asyncio.get_running_loop()
        state = {"unanswered": 0}

        def send(reply: bytes | Raw) -> None:
            state["unanswered"] -= 1
            if not writer.is_closing():
                writer.write(reply.data if isinstance(reply, Raw) else frame(reply))

        try:
            while True:
                header = await reader.readexactly(4)
                payload = await reader.readexactly(int.from_bytes(header, "little"))
                request = Request.GetRootAs(payload, 0)
                if request.BodyType() == RequestBody.Hello:
                    writer.write(frame(hello_response(request.Id(), self.max_in_flight,
                                                      self.max_frame_bytes)))
                    continue
                self.requests += 1
                state["unanswered"] += 1
                self.max_in_flight_seen = max(self.max_in_flight_seen, state["unanswered"])
                reply = self.respond(request.Id(), request.BodyType())
                if reply is None:
                    continue  # silence: the request stays unanswered
                if self.answer_delay:
                    loop.call_later(self.answer_delay, send, reply)  # keep reading meanwhile
                else:
                    send(reply)
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()


class Raw:
    """A reply written as is, without a frame header (to send broken framing)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
