"""Connection: one TCP connection to mnemod, as an asyncio Protocol (the AsyncClient's I/O runs
on its event loop: no other thread, no hand-off per call).

It performs the Hello handshake, then pipelines requests: each request carries an id and the
reader hands every response to the future waiting for that id.  At most the server's announced
max_in_flight requests are on the wire at once; more wait in the connection's queue (and while
the socket's write buffer is full).  Frames are split and verified by the native core
(mnemo._native.split_frames), requests encoded and responses decoded by it too.

When the connection breaks, every request it had sent fails with Broken(sent=True) (it may have
been applied) and every queued one with Broken(sent=False) (safe to send elsewhere).  A request
whose deadline passes fails with RequestTimeoutError but keeps its in-flight slot until the
server answers, because the server counts it until then.

Thread-safety: none; every method runs on the event loop that opened the connection.
"""

from __future__ import annotations

import asyncio
import select
import sys
from collections import deque
from typing import Any, Optional

from ._native import Response, dec, enc, split_frames
from .errors import MnemoError, RequestTimeoutError, UnavailableError
from .models import ServerInfo
from .options import PROTOCOL_VERSION, ClientOptions

_POLL_PEER_CLOSED = getattr(select, "POLLRDHUP", 0)


class Broken(Exception):
    """The connection broke (or refused a frame) before this request got its answer."""

    def __init__(self, error: MnemoError, sent: bool) -> None:
        super().__init__(str(error))
        self.error = error
        self.sent = sent

    def caller_error(self) -> MnemoError:
        """A fresh exception for one caller (the same error is shared by many requests)."""
        return type(self.error)(self.error.message, self.error.field)


class Connection(asyncio.Protocol):
    """One pipelined connection; create it with ``await Connection.open(...)``."""

    def __init__(self, loop: asyncio.AbstractEventLoop, address: str, max_frame_bytes: int) -> None:
        self._loop = loop
        self._address = address
        self._max_frame_bytes = max_frame_bytes
        self._transport: Optional[asyncio.Transport] = None
        self._buffer = bytearray()
        self._sent: dict[int, asyncio.Future[Response]] = {}
        self._queued: deque[tuple[int, bytes, asyncio.Future[Response]]] = deque()
        self._limit = 1  # until the handshake announces max_in_flight: only the Hello
        self._outgoing: list[bytes] = []  # frames to write at the end of this loop turn
        self._paused = False
        self._closed = False
        self._retired: Optional[str] = None  # why the pool gave it up (see retire)
        self.info: Optional[ServerInfo] = None

    # ---- lifetime ---------------------------------------------------------------------------

    @classmethod
    async def open(cls, options: ClientOptions, host: str, port: int, request_id: int,
                   timeout: float) -> "Connection":
        """Connects to host:port and completes the handshake within ``timeout`` seconds.

        Raises UnavailableError (cannot connect, timed out), AuthenticationError (key refused)
        or ValidationError (a protocol version the server does not speak).
        """
        loop = asyncio.get_running_loop()
        address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        deadline = loop.time() + timeout
        try:
            _, connection = await asyncio.wait_for(
                loop.create_connection(lambda: cls(loop, address, options.max_frame_bytes),
                                       host, port), timeout)
        except asyncio.TimeoutError:
            raise UnavailableError(
                f"connecting to {address} timed out after {timeout:g} s") from None
        except OSError as error:
            raise UnavailableError(
                f"cannot connect to {address}: {error.strerror or error}") from None
        try:
            hello = enc.hello(request_id, PROTOCOL_VERSION, options.api_key or "",
                              options.client_name).frame
            info = dec.hello_reply(await connection.request(request_id, hello, deadline))
        except Broken as broken:
            connection.close()
            raise broken.caller_error() from None
        except BaseException:
            connection.close()
            raise
        connection.info = info
        connection._limit = info.max_in_flight or sys.maxsize
        connection._pump()
        return connection

    def close(self, reason: str = "client closed") -> None:
        """Closes the socket; requests still waiting fail with UnavailableError."""
        self._fail(UnavailableError(reason))

    def retire(self, reason: str) -> None:
        """Closes the connection once the requests it carries are answered (or fail); the pool
        sends it no new ones."""
        self._retired = reason
        if not self._sent and not self._queued:
            self.close(reason)

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def load(self) -> int:
        """Requests on this connection that have no answer yet (sent or queued)."""
        return len(self._sent) + len(self._queued)

    def peer_closed(self) -> bool:
        """True when the server has closed an idle connection that the loop has not noticed yet
        (e.g. it restarted while nothing was in flight).  One poll(2) with a zero timeout."""
        if self._closed or self._transport is None:
            return True
        if self._sent:
            return False
        sock = self._transport.get_extra_info("socket")
        if sock is None:
            return False
        poller = select.poll()
        poller.register(sock.fileno(), select.POLLIN | _POLL_PEER_CLOSED)
        events = poller.poll(0)
        if not events:
            return False
        flags = events[0][1]
        return bool(flags & (select.POLLERR | select.POLLHUP | select.POLLNVAL | _POLL_PEER_CLOSED))

    # ---- requests ---------------------------------------------------------------------------

    async def request(self, request_id: int, frame: bytes, deadline: float) -> Response:
        """Sends one framed request and returns its (verified) response.

        Raises Broken when the connection breaks first, RequestTimeoutError at ``deadline``
        (the loop's clock).
        """
        if self._closed:
            raise Broken(UnavailableError(f"connection to {self._address} is closed"), sent=False)
        future: asyncio.Future[Response] = self._loop.create_future()
        if not self._queued and not self._paused and len(self._sent) < self._limit:
            self._sent[request_id] = future
            self._write(frame)
        else:
            self._queued.append((request_id, frame, future))
        timer = self._loop.call_at(deadline, self._expire, future)
        try:
            return await future
        finally:
            timer.cancel()

    def _expire(self, future: asyncio.Future[Response]) -> None:
        if not future.done():
            future.set_exception(RequestTimeoutError(
                f"no response from {self._address} within the request timeout"))

    def _pump(self) -> None:
        """Sends queued requests while the in-flight limit and the socket's buffer allow."""
        while self._queued and not (self._paused or self._closed) \
                and len(self._sent) < self._limit:
            request_id, frame, future = self._queued.popleft()
            if future.done():  # timed out or cancelled while queued: never sent
                continue
            self._sent[request_id] = future
            self._write(frame)

    def _write(self, frame: bytes) -> None:
        """Queues a frame; all frames of one event-loop turn go out in one write (one syscall
        instead of one per request when many tasks send at once)."""
        if not self._outgoing:
            self._loop.call_soon(self._flush)
        self._outgoing.append(frame)

    def _flush(self) -> None:
        frames, self._outgoing = self._outgoing, []
        if self._closed or not frames:
            return
        data = frames[0] if len(frames) == 1 else b"".join(frames)
        self._transport.write(data)  # type: ignore[union-attr]

    # ---- asyncio.Protocol -------------------------------------------------------------------

    def connection_made(self, transport: Any) -> None:
        self._transport = transport

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        self._pump()

    def eof_received(self) -> bool:
        self._fail(UnavailableError(f"{self._address} closed the connection"))
        return False

    def connection_lost(self, exc: Optional[Exception]) -> None:
        reason = f"connection to {self._address} broke: {exc}" if exc else \
            f"{self._address} closed the connection"
        self._fail(UnavailableError(reason))

    def data_received(self, data: bytes) -> None:
        if self._buffer:
            self._buffer += data
            data = self._buffer
        responses, used, error = split_frames(data, self._max_frame_bytes)
        for response in responses:
            self._on_frame(response)
            if self._closed:
                return
        if error is not None:
            self._fail(UnavailableError(f"{error} (from {self._address})"))
            return
        if data is self._buffer:
            del self._buffer[:used]
        elif used < len(data):
            self._buffer += data[used:]

    # ---- internals --------------------------------------------------------------------------

    def _on_frame(self, response: Response) -> None:
        request_id = response.id
        if request_id == 0:
            # The server could not read one of our frames and is closing the connection.
            try:
                dec.done(response)
                error: MnemoError = UnavailableError(f"{self._address} rejected a frame")
            except MnemoError as refused:
                error = refused
            self._fail(error)
            return
        future = self._sent.pop(request_id, None)
        if future is not None and not future.done():
            future.set_result(response)
        if self._queued:
            self._pump()
        elif self._retired is not None and not self._sent:
            self.close(self._retired)

    def _fail(self, error: MnemoError) -> None:
        if self._closed:
            return
        self._closed = True
        if self._transport is not None:
            self._transport.abort()
        self._outgoing = []
        sent, self._sent = self._sent, {}
        queued, self._queued = self._queued, deque()
        for future in sent.values():
            if not future.done():
                future.set_exception(Broken(error, sent=True))
        for _, _, future in queued:
            if not future.done():
                future.set_exception(Broken(error, sent=False))
