"""Pool: the client's connections to one mnemod node at a time, with request routing, retry,
reconnect, and (given several addresses) failover and NOT_PRIMARY redirects.

A call goes to the open connection with the fewest unanswered requests.  Broken connections are
re-established in the background as soon as a call notices them, so the pool heals itself; when
no connection is open, the call waits for a reconnect (bounded by its deadline).

Retry rules (as the C++ client, clients/cpp/src/router.h): a request that was never sent is moved
to another connection; a read whose connection broke after it was sent is sent once more; a write
that was sent is never resent, because it may have been applied (give creates a client id to make
retrying safe).

Nodes.  All connections go to one node.  With several addresses, a node that cannot be reached
(connect refused or timed out, a connection broken) makes the pool move to the next address: the
old connections take no new requests and close once their requests are answered, and the call goes
on there under the rules above (at most one move per call for a broken connection, each address
once for connect failures).  A response NOT_PRIMARY that
names the primary moves the pool to that primary and the request is sent there once more, writes
included: NOT_PRIMARY proves the first attempt changed nothing.

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
from .options import ClientOptions, join_address, split_address

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
        # The configured nodes, the one in use (a redirect may name a node outside the list)
        # and the list position failover continues from.
        self._nodes = [split_address(a) for a in options.addresses] or \
            [(options.host, options.port)]
        self._node = self._nodes[0]
        self._node_index = 0

    @property
    def node(self) -> str:
        """"host:port" of the node the pool sends to."""
        return join_address(*self._node)

    def next_id(self) -> int:
        """A request id unique within this pool, never 0.  Safe to call from any thread."""
        return next(self._ids)

    async def open(self) -> None:
        """Establishes every connection (handshake included) to the first node that can be
        reached; raises the first failure of the last node tried.

        On failure the pool stays usable: later calls try to connect again.
        """
        for attempt in range(len(self._nodes)):
            if self._closed:
                raise UnavailableError("client closed")
            tasks = [self._start_connect(slot) for slot in range(len(self._connections))]
            results = await asyncio.gather(*tasks, return_exceptions=True)
            failure = next((r for r in results if isinstance(r, BaseException)), None)
            if failure is None:
                return
            self._close_connections()
            if not isinstance(failure, UnavailableError) or attempt + 1 == len(self._nodes):
                raise _fresh(failure)
            self._move(self._next_node())

    async def close(self) -> None:
        """Closes every connection for good; calls still waiting fail with UnavailableError."""
        self._closed = True
        self._close_connections()

    def _close_connections(self, retire: Optional[str] = None) -> None:
        """Abandons the reconnects under way and closes every connection, or with ``retire``
        (the reason) lets each finish the requests it carries first (Connection.retire)."""
        for slot, task in enumerate(self._connecting):
            if task is not None:
                task.cancel()
                self._connecting[slot] = None
        for slot, connection in enumerate(self._connections):
            if connection is not None:
                if retire is None:
                    connection.close()
                else:
                    connection.retire(retire)
                self._connections[slot] = None

    async def call(self, request_id: int, frame: bytes, retry: bool,
                   timeout: Optional[float] = None) -> Response:
        """Sends one framed request and returns the response (see the module comment).

        Raises UnavailableError (cannot connect, broke, closed), RequestTimeoutError,
        PayloadTooLargeError, or the handshake's error when a reconnect is refused.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (timeout if timeout is not None else self._options.request_timeout)
        resends = 0
        moved = False  # moved to another node after a broken connection
        redirected = False
        unreachable = 0  # nodes this call could not connect to
        while True:
            try:
                connection = await self._pick(deadline)
            except UnavailableError:
                unreachable += 1
                if self._closed or unreachable >= len(self._nodes) + int(redirected) or \
                        len(self._nodes) == 1 and not redirected:
                    raise
                self._move(self._next_node())
                continue
            limit = connection.info.max_frame_bytes if connection.info else 0
            if limit and len(frame) - 4 > limit:
                raise PayloadTooLargeError(f"request of {len(frame) - 4} bytes exceeds the "
                                           f"server's limit of {limit} bytes")
            node = self._node
            try:
                response = await connection.request(request_id, frame, deadline)
            except Broken as broken:
                resend = not broken.sent or (retry and resends == 0)
                if isinstance(broken.error, UnavailableError) and self._elsewhere() and \
                        not moved and not self._closed:
                    # The node may be gone: the next call, and this one if it may be resent,
                    # goes to the next address.
                    if self._node == node:
                        self._move(self._next_node())
                    moved = True
                elif resends + 1 >= _MAX_ATTEMPTS:
                    resend = False
                if not resend or loop.time() >= deadline:
                    raise broken.caller_error() from None
                resends += 1
                continue
            primary = response.primary_redirect
            if primary is None or redirected:
                return response
            try:
                target = split_address(primary)
            except ValueError:
                return response  # an address this client cannot use: the caller sees the error
            if target == self._node and self._node != node:
                redirected = True  # another call moved the pool there meanwhile
                continue
            if target == node:
                return response
            redirected = True
            self._move(target)

    # ---- nodes ------------------------------------------------------------------------------

    def _elsewhere(self) -> bool:
        """True when a broken connection may be followed by a move to another node."""
        return len(self._nodes) > 1 or self._node != self._nodes[0]

    def _next_node(self) -> tuple[str, int]:
        if self._node == self._nodes[self._node_index]:
            self._node_index = (self._node_index + 1) % len(self._nodes)
        return self._nodes[self._node_index]

    def _move(self, node: tuple[str, int]) -> None:
        """Sends every new request to ``node``: the old connections take none and close once
        their requests are answered; the reconnects under way are abandoned."""
        if node in self._nodes:
            self._node_index = self._nodes.index(node)
        self._node = node
        self._close_connections(retire="the client moved to " + join_address(*node))

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
        node = self._node
        connection = await self._wait_for_connection(deadline)
        if connection is None and self._node != node and not self._closed:
            return await self._pick(deadline)  # the pool moved meanwhile: connect there
        if connection is None:
            raise RequestTimeoutError(
                "no connection could be established within the request timeout")
        return connection

    async def _wait_for_connection(self, deadline: float) -> Optional[Connection]:
        """Waits for the first reconnect to finish; raises its error if all fail, None when
        none finished (the deadline passed, or the reconnects were abandoned by a move)."""
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
        return None

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
        node = self._node
        try:
            connection = await Connection.open(self._options, node[0], node[1], self.next_id(),
                                               self._options.connect_timeout)
        finally:
            if self._connecting[slot] is asyncio.current_task():
                self._connecting[slot] = None
        if self._closed:
            connection.close()
            raise UnavailableError("client closed")
        if self._node != node:  # the pool moved while this one connected
            connection.close()
            raise UnavailableError("the client moved to " + join_address(*self._node))
        self._connections[slot] = connection
        if self.info is None:
            self.info = connection.info
        return connection


def _fresh(error: BaseException) -> BaseException:
    """A new instance of a shared connect error, so each caller gets its own traceback."""
    if isinstance(error, MnemoError):
        return type(error)(error.message, error.field)
    return error

