"""Client: the blocking client of mnemod, for threads and synchronous code.

Every method of the seeds' repositories (ConversationRepository, MessageRepository,
DocumentRepository, EmbeddingRepository) is a method here, taking the ``user_id`` the request
acts for as its first argument and returning dataclasses (mnemo.models).  Failures raise the
typed exceptions of mnemo.errors.  AsyncClient (mnemo.aio) has the same methods as coroutines;
both are generated from one table (mnemo._surface).

Connections: the native core's pool (mnemo._native, the C++ client's transport).  A call takes a
free direct connection and writes its request and reads its response on the calling thread, with
the GIL released, so threads call in parallel; when all ``pool_size`` direct connections are
busy it is pipelined over the pool's ``pool_size`` shared connections instead.  The client is
fully thread-safe.  Broken connections are re-established by the next call; a read whose
connection broke is retried once; a write is never retried (see mnemo.options.ClientOptions for
timeouts).

Lifetime::

    with Client(port=7420) as client:      # connects the pool; closes it on exit
        conversation = client.create_conversation("user-1", "Hello")

A Client that is not used as a context manager connects on its first call; call close() when
done.  REQUIRES: no call is in progress on another thread when close() is called.
"""

from __future__ import annotations

import itertools
from typing import Any, Callable, Optional, Sequence, TypeVar

from ._native import Transport
from ._ops import Op
from ._surface import surface
from .batch import BatchBlock
from .errors import UnavailableError
from .models import ServerInfo
from .options import DEFAULT_PORT, ClientOptions

__all__ = ["Client"]

T = TypeVar("T")


def _blocking(method: Callable[..., Op[T]]) -> Callable[..., T]:
    def call(self: "Client", *args: Any, **kwargs: Any) -> T:
        return self._execute(method(self, *args, **kwargs))

    return call


@surface(_blocking)
class Client:
    """The blocking mnemod client; see the module comment."""

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
        self._transport = _transport_for(self._options, direct_calls=True)
        # Request ids: unique per client (next() on a count is atomic under the GIL).  The
        # native pool numbers its handshakes apart; ids only have to differ among a connection's
        # unanswered requests.
        self._ids = itertools.count(1)

    # ---- lifetime ---------------------------------------------------------------------------

    def connect(self) -> "Client":
        """Establishes every connection of the pool (handshake included) and returns self.

        Raises UnavailableError (cannot connect), AuthenticationError (key refused) or
        ValidationError (protocol version mismatch).
        """
        self._transport.open()
        return self

    def close(self) -> None:
        """Closes every connection; later calls raise UnavailableError.  Idempotent."""
        self._transport.close()

    def __enter__(self) -> "Client":
        return self.connect()

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    @property
    def options(self) -> ClientOptions:
        return self._options

    @property
    def server_info(self) -> ServerInfo:
        """What the server announced in its handshake (connects when not connected yet)."""
        if not self._transport.is_open:
            self.connect()
        info = self._transport.server_info
        if info is None:
            raise UnavailableError("client closed")
        return info

    def batch(self, user_id: str) -> BatchBlock:
        """A transaction block: ``with client.batch(user_id) as b: ...`` (see mnemo.batch)."""
        return BatchBlock(lambda batch: self.apply_batch(user_id, batch))

    def _execute(self, op: Op[T]) -> T:
        return op.decode(self._transport.call(op.encode(next(self._ids)), op.retry))


def _transport_for(options: ClientOptions, direct_calls: bool) -> Transport:
    """The native pool for ``options`` (not connected yet)."""
    return Transport(options.host, options.port, options.api_key or "", options.client_name,
                     options.pool_size, options.request_timeout, options.connect_timeout,
                     options.max_frame_bytes, direct_calls, list(options.addresses))
