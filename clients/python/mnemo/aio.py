"""AsyncClient: the asyncio client of mnemod, for async frameworks such as FastAPI.

The same methods as mnemo.Client (the seeds' repository methods, ``user_id`` first, dataclasses
out, typed exceptions), as coroutines; both are generated from one table (mnemo._surface).  Many
tasks may share one AsyncClient: requests are pipelined over a pool of ``pool_size`` connections
(at most the server's max_in_flight per connection at once; more wait in the client).  Broken
connections are re-established by the next call; a read whose connection broke is retried once;
a write is never retried.  Given several ``addresses`` (cluster nodes), it uses one at a time,
moves on when a node fails and follows NOT_PRIMARY to the primary (mnemo._pool).

The sockets are the event loop's own (mnemo._pool, mnemo._connection): a call encodes its request
with the native core (mnemo._native), writes it at the end of the loop turn together with the
other calls' and awaits its future; the loop reads the answers, the native core splits, verifies
and decodes them.  No other thread takes part, so a call costs no thread hand-off.

Lifetime::

    async with AsyncClient(port=7420) as client:      # connects the pool; closes it on exit
        hits = await client.search_similar("user-1", embedding, limit=5, threshold=0.7)

An AsyncClient that is not used as a context manager connects on its first call (or on
``await client.connect()``, e.g. in a FastAPI lifespan); ``await client.close()`` when done.
Thread-safety: none.  REQUIRES: one event loop — the client's connections belong to the loop that
opened them.
"""

from __future__ import annotations

from typing import Any, Callable, Optional, Sequence, TypeVar

from ._ops import Op
from ._pool import Pool
from ._surface import surface
from .batch import AsyncBatchBlock
from .models import ServerInfo
from .options import DEFAULT_PORT, ClientOptions

__all__ = ["AsyncClient"]

T = TypeVar("T")


def _coroutine(method: Callable[..., Op[T]]) -> Callable[..., Any]:
    async def call(self: "AsyncClient", *args: Any, **kwargs: Any) -> T:
        op = method(self, *args, **kwargs)
        pool = self._pool
        request_id = pool.next_id()
        return op.decode(await pool.call(request_id, op.encode(request_id).frame, op.retry))

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
        addresses: Sequence[str] = (),
        options: Optional[ClientOptions] = None,
    ) -> None:
        """Prepares the client (nothing is connected yet); ``options`` overrides the others.

        ``addresses``: several cluster nodes ("host:port" each) instead of host and port; see
        ClientOptions.addresses.
        """
        self._options = options or ClientOptions(
            host=host, port=port, api_key=api_key, client_name=client_name, pool_size=pool_size,
            request_timeout=request_timeout, connect_timeout=connect_timeout,
            max_frame_bytes=max_frame_bytes, addresses=tuple(addresses))
        self._pool = Pool(self._options)

    # ---- lifetime ---------------------------------------------------------------------------

    async def connect(self) -> "AsyncClient":
        """Establishes every connection of the pool (handshake included) and returns self.

        Raises UnavailableError (cannot connect), AuthenticationError (key refused) or
        ValidationError (protocol version mismatch).
        """
        await self._pool.open()
        return self

    async def close(self) -> None:
        """Closes every connection; calls still waiting fail with UnavailableError."""
        await self._pool.close()

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
        return self._pool.info

    def batch(self, user_id: str) -> AsyncBatchBlock:
        """A transaction block: ``async with client.batch(user_id) as b: ...`` (mnemo.batch)."""
        return AsyncBatchBlock(lambda batch: self.apply_batch(user_id, batch))
