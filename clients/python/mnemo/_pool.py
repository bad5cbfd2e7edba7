"""Pool: the client's connections to one mnemod, with request routing, retry and reconnect.

A call goes to the open connection with the fewest unanswered requests.  Broken connections are
re-established in the background as soon as a call notices them, so the pool heals itself; when
no connection is open, the call waits for a reconnect (bounded by its deadline).

Retry rules (as the C++ client): a request that was never sent is moved to another connection; a
read whose connection broke after it was sent is sent once more; a write that was sent is never
resent, because it may have been applied (give creates a client id to make retrying safe).

Thread-safety: none; all methods run on the AsyncClient's event loop.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Optional

from ._connection import Broken, Connection
from ._native import Response
from .errors import MnemoError, PayloadTooLargeError, RequestTimeoutError, UnavailableError
from .models import ServerInfo
from .options import ClientOptions

_MAX_ATTEMPTS = 3


class Pool:
    """``pool_size`` pipelined connections; see the module comment."""

    def __init__(self, options: ClientOptions) -> None:
        self._options = options
        self._connections: list[Optional[Connection]] = [None] * options.pool_size
        self._connecting: list[Optional[asyncio.Task[Connection]]] = [None] * options.pool_size
        self._ids = itertools.count(1)
        self._closed = False
        self.info: Optional[ServerInfo] = None

    def next_id(self) -> int:
        """A request id unique within this pool, never 0.  Safe to call from any thread."""
        return next(self._ids)

    async def open(self) -> None:
        """Establishes every connection (handshake included); raises the first failure.

        On failure the pool stays usable: later calls try to connect again.
        """
        if self._closed:
            raise UnavailableError("client closed")
        tasks = [self._start_connect(slot) for slot in range(len(self._connections))]
        results = await asyncio.gather(*tasks, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                self._close_connections()
                raise _fresh(result)

    async def close(self) -> None:
        """Closes every connection for good; calls still waiting fail with UnavailableError."""
        self._closed = True
        self._close_connections()

    def _close_connections(self) -> None:
        for slot, task in enumerate(self._connecting):
            if task is not None:
                task.cancel()
                self._connecting[slot] = None
        for slot, connection in enumerate(self._connections):
            if connection is not None:
                connection.close()
                self._connections[slot] = None

    async def call(self, request_id: int, frame: bytes, retry: bool,
                   timeout: Optional[float] = None) -> Response:
        """Sends one framed request and returns the response (see the module comment).

        Raises UnavailableError (cannot connect, broke, closed), RequestTimeoutError,
        PayloadTooLargeError, or the handshake's error when a reconnect is refused.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (timeout if timeout is not None else self._options.request_timeout)
        for attempt in range(_MAX_ATTEMPTS):
            connection = await self._pick(deadline)
            limit = connection.info.max_frame_bytes if connection.info else 0
            if limit and len(frame) - 4 > limit:
                raise PayloadTooLargeError(f"request of {len(frame) - 4} bytes exceeds the "
                                           f"server's limit of {limit} bytes")
            try:
                return await connection.request(request_id, frame, deadline)
            except Broken as broken:
                resend = not broken.sent or (retry and attempt == 0)
                if not resend or attempt + 1 == _MAX_ATTEMPTS or loop.time() >= deadline:
                    raise broken.caller_error() from None
        raise UnavailableError("request could not be delivered")  # not reached

    # ---- connections ------------------------------------------------------------------------

    async def _pick(self, deadline: float) -> Connection:
        if self._closed:
            raise UnavailableError("client closed")
        best: Optional[Connection] = None
        for slot, connection in enumerate(self._connections):
            if connection is not None and not connection.closed and connection.load == 0 \
                    and connection.peer_closed():
                connection.close("the server closed the connection")
            if connection is None or connection.closed:
                self._connections[slot] = None
                self._start_connect(slot)
                continue
            if best is None or connection.load < best.load:
                best = connection
        if best is not None:
            return best
        return await self._wait_for_connection(deadline)

    async def _wait_for_connection(self, deadline: float) -> Connection:
        """Waits for the first reconnect to finish; raises its error if all fail."""
        loop = asyncio.get_running_loop()
        pending = {task for task in self._connecting if task is not None}
        error: Optional[BaseException] = None
        while pending:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            # asyncio.wait never cancels the tasks it waits for: other callers may share them.
            done, pending = await asyncio.wait(pending, timeout=remaining,
                                               return_when=asyncio.FIRST_COMPLETED)
            if not done:
                break
            for task in done:
                if task.cancelled():
                    continue
                if task.exception() is None:
                    return task.result()
                error = task.exception()
        if error is not None:
            raise _fresh(error)
        raise RequestTimeoutError("no connection could be established within the request timeout")

    def _start_connect(self, slot: int) -> "asyncio.Task[Connection]":
        """Starts (or joins) the reconnect of one slot in the background."""
        task = self._connecting[slot]
        if task is not None:
            return task
        task = asyncio.get_running_loop().create_task(self._connect(slot))
        self._connecting[slot] = task
        task.add_done_callback(lambda t: t.cancelled() or t.exception())  # mark as retrieved
        return task

    async def _connect(self, slot: int) -> Connection:
        try:
            connection = await Connection.open(self._options, self.next_id(),
                                               self._options.connect_timeout)
        finally:
            if self._connecting[slot] is asyncio.current_task():
                self._connecting[slot] = None
        if self._closed:
            connection.close()
            raise UnavailableError("client closed")
        self._connections[slot] = connection
        if self.info is None:
            self.info = connection.info
        return connection


def _fresh(error: BaseException) -> BaseException:
    """A new instance of a shared connect error, so each caller gets its own traceback."""
    if isinstance(error, MnemoError):
        return type(error)(error.message, error.field)
    return error
