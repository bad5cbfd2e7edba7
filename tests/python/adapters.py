"""SyncView: drives an AsyncClient through the blocking Client's interface, so each test body
runs against both clients (the ``client`` fixture is parametrized over "sync" and "async").

Each coroutine method is run to completion on the view's own event loop; ``batch`` turns the
async transaction block into a blocking one.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from typing import Any

import mnemo


class _BlockingBatch:
    def __init__(self, loop: asyncio.AbstractEventLoop, block: Any) -> None:
        self._loop = loop
        self._block = block

    def __enter__(self) -> mnemo.Batch:
        return self._loop.run_until_complete(self._block.__aenter__())

    def __exit__(self, *exc_info: Any) -> None:
        self._loop.run_until_complete(self._block.__aexit__(*exc_info))


class SyncView:
    """The AsyncClient ``client`` seen through blocking calls on ``loop``."""

    def __init__(self, client: mnemo.AsyncClient, loop: asyncio.AbstractEventLoop) -> None:
        self.async_client = client
        self.loop = loop

    @property
    def server_info(self) -> mnemo.ServerInfo:
        if self.async_client.server_info is None:
            self.loop.run_until_complete(self.async_client.connect())
        return self.async_client.server_info

    def batch(self, user_id: str) -> _BlockingBatch:
        return _BlockingBatch(self.loop, self.async_client.batch(user_id))

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.async_client, name)
        if not inspect.iscoroutinefunction(attribute):
            return attribute

        @functools.wraps(attribute)
        def blocking(*args: Any, **kwargs: Any) -> Any:
            return self.loop.run_until_complete(attribute(*args, **kwargs))

        return blocking
