"""AsyncClient: the asyncio client of mnemod, for async frameworks such as FastAPI.

The same methods as mnemo.Client (the seeds' repository methods, ``user_id`` first, dataclasses
out, typed exceptions), as coroutines; both are generated from one table (mnemo._surface).  Many
tasks may share one AsyncClient: requests are pipelined over a pool of ``pool_size`` connections
(at most the server's max_in_flight per connection at once; more wait in the client).  Broken
connections are re-established by the next call; a read whose connection broke is retried once;
a write is never retried.

I/O runs in the native core (mnemo._native, the C++ client's transport) on a thread of its own:
a call encodes its request, hands it over and awaits a future; finished calls are collected in
batches when the core signals the event loop through a file descriptor (loop.add_reader), so the
loop thread spends no time on sockets.

Lifetime::

    async with AsyncClient(port=7420) as client:      # connects the pool; closes it on exit
        hits = await client.search_similar("user-1", embedding, limit=5, threshold=0.7)

An AsyncClient that is not used as a context manager connects on its first call (or on
``await client.connect()``, e.g. in a FastAPI lifespan); ``await client.close()`` when done.
Thread-safety: none.  REQUIRES: one event loop — the client belongs to the loop that connected it.
"""

from __future__ import annotations

import asyncio
from typing import Any, Callable, Optional, TypeVar

from ._native import Response
from ._ops import Op
from ._surface import surface
from .batch import AsyncBatchBlock
from .client import _transport_for
from .errors import MnemoError, UnavailableError
from .models import ServerInfo
from .options import DEFAULT_PORT, ClientOptions

__all__ = ["AsyncClient"]

T = TypeVar("T")


def _coroutine(method: Callable[..., Op[T]]) -> Callable[..., Any]:
    async def call(self: "AsyncClient", *args: Any, **kwargs: Any) -> T:
        op = method(self, *args, **kwargs)
        if self._loop is None:
            await self._open()
        return await self._submit(op)

    return call


@surface(_coroutine)
class AsyncClient:
    """The asyncio mnemod client; see the module comment."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        *,
        api_key: Optional[str] = None,
        pool_size: int = 2,
        request_timeout: float = 30.0,
        connect_timeout: float = 5.0,
        max_frame_bytes: int = 64 << 20,
        client_name: str = "mnemo-python",
        options: Optional[ClientOptions] = None,
    ) -> None:
        """Prepares the client (nothing is connected yet); ``options`` overrides the others."""
        self._options = options or ClientOptions(
            host=host, port=port, api_key=api_key, client_name=client_name, pool_size=pool_size,
            request_timeout=request_timeout, connect_timeout=connect_timeout,
            max_frame_bytes=max_frame_bytes)
        # Every call is pipelined (the event loop never blocks on a socket).
        self._transport = _transport_for(self._options, direct_calls=False)
        self._loop: Optional[asyncio.AbstractEventLoop] = None  # set once connected
        self._opening: Optional[asyncio.Future[None]] = None
        self._waiting: dict[int, tuple[asyncio.Future[Any], Callable[[Response], Any]]] = {}

    # ---- lifetime ---------------------------------------------------------------------------

    async def connect(self) -> "AsyncClient":
        """Establishes every connection of the pool (handshake included) and returns self.

        Raises UnavailableError (cannot connect), AuthenticationError (key refused) or
        ValidationError (protocol version mismatch).
        """
        await self._open()
        return self

    async def close(self) -> None:
        """Closes every connection; calls still waiting fail with UnavailableError."""
        if self._loop is not None:
            self._loop.remove_reader(self._transport.completion_fd())
        self._loop = None
        self._transport.close()  # pending calls finish ("client closed") into the queue
        self._collect()
        for future, _ in self._waiting.values():
            if not future.done():
                future.set_exception(UnavailableError("client closed"))
        self._waiting.clear()

    async def __aenter__(self) -> "AsyncClient":
        return await self.connect()

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.close()

    @property
    def options(self) -> ClientOptions:
        return self._options

    @property
    def server_info(self) -> Optional[ServerInfo]:
        """What the server announced in its handshake; None before the first connection."""
        return self._transport.server_info

    def batch(self, user_id: str) -> AsyncBatchBlock:
        """A transaction block: ``async with client.batch(user_id) as b: ...`` (mnemo.batch)."""
        return AsyncBatchBlock(lambda batch: self.apply_batch(user_id, batch))

    # ---- calls ------------------------------------------------------------------------------

    async def _open(self) -> None:
        """Connects the pool (off the loop thread) and starts watching for finished calls.

        Concurrent callers share one attempt; after a failure the next call tries again.
        """
        if self._loop is not None:
            return
        loop = asyncio.get_running_loop()
        if self._opening is None:
            self._opening = loop.run_in_executor(None, self._transport.open)
        opening = self._opening
        try:
            await asyncio.shield(opening)
        except MnemoError as error:
            raise type(error)(error.message, error.field) from None  # each caller its own
        finally:
            if self._opening is opening and opening.done():
                self._opening = None
        if self._loop is None:
            loop.add_reader(self._transport.completion_fd(), self._collect)
            self._loop = loop

    def _submit(self, op: Op[T]) -> "asyncio.Future[T]":
        transport = self._transport
        request = op.encode(transport.next_id())
        future: asyncio.Future[T] = self._loop.create_future()  # type: ignore[union-attr]
        self._waiting[request.id] = (future, op.decode)
        transport.submit(request, op.retry, request.id)
        return future

    def _collect(self) -> None:
        """Resolves the futures of every call the native core finished."""
        for token, outcome in self._transport.drain():
            entry = self._waiting.pop(token, None)
            if entry is None:
                continue
            future, decode = entry
            if future.done():  # its caller was cancelled
                continue
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
                continue
            try:
                future.set_result(decode(outcome))
            except BaseException as error:  # noqa: BLE001 - the caller's to handle
                future.set_exception(error)
