"""Fixtures of the Python client tests: a real mnemod, clients of both kinds, test data.

Every test acts for its own fresh user id, so tests sharing the session's mnemod never see each
other's rows.  The ``client`` fixture runs a test once with mnemo.Client and once with
mnemo.AsyncClient (through adapters.SyncView).
"""

from __future__ import annotations

import asyncio
import math
import random
import uuid
from pathlib import Path
from typing import Iterator

import pytest

import mnemo
from adapters import SyncView
from mnemod_process import MnemodProcess

DIMENSION = 1536  # mnemod's default; the seeds' embedding size


@pytest.fixture(scope="session")
def mnemod(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MnemodProcess]:
    """One mnemod for the whole session (protected mode: no keys, loopback only)."""
    server = MnemodProcess(tmp_path_factory.mktemp("mnemod"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def own_mnemod(tmp_path: Path) -> Iterator[MnemodProcess]:
    """A mnemod of the test's own, for tests that restart it or create keys."""
    server = MnemodProcess(tmp_path)
    server.start()
    yield server
    server.kill()


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    event_loop = asyncio.new_event_loop()
    yield event_loop
    event_loop.run_until_complete(event_loop.shutdown_asyncgens())
    event_loop.close()


@pytest.fixture(params=["sync", "async"])
def client(request: pytest.FixtureRequest, mnemod: MnemodProcess,
           loop: asyncio.AbstractEventLoop) -> Iterator[object]:
    """A connected client of the session's mnemod: mnemo.Client, or an AsyncClient's SyncView."""
    if request.param == "sync":
        with mnemo.Client(port=mnemod.port, request_timeout=20.0) as sync_client:
            yield sync_client
    else:
        async_client = mnemo.AsyncClient(port=mnemod.port, request_timeout=20.0)
        loop.run_until_complete(async_client.connect())
        yield SyncView(async_client, loop)
        loop.run_until_complete(async_client.close())


@pytest.fixture
def user_id() -> str:
    return f"user-{uuid.uuid4().hex[:12]}"


def unit_vector(seed: int, dimension: int = DIMENSION) -> list[float]:
    """A deterministic random unit vector."""
    rng = random.Random(seed)
    values = [rng.gauss(0.0, 1.0) for _ in range(dimension)]
    norm = math.sqrt(sum(v * v for v in values))
    return [v / norm for v in values]


def blend(a: list[float], b: list[float], weight: float) -> list[float]:
    """A unit vector between a and b (weight 0 = a, 1 = b)."""
    mixed = [(1 - weight) * x + weight * y for x, y in zip(a, b)]
    norm = math.sqrt(sum(v * v for v in mixed))
    return [v / norm for v in mixed]


@pytest.fixture(params=["sync", "async"])
def connect(request: pytest.FixtureRequest, loop: asyncio.AbstractEventLoop):
    """A factory of clients (mnemo.Client, or an AsyncClient's SyncView) for any address.

    ``connect(port, **options)`` returns a client that connects on its first call; every
    client made is closed when the test ends.
    """
    made: list[object] = []

    def make(port: int, **options: object) -> object:
        if request.param == "sync":
            made_client: object = mnemo.Client(port=port, **options)
        else:
            made_client = SyncView(mnemo.AsyncClient(port=port, **options), loop)
        made.append(made_client)
        return made_client

    make.kind = request.param  # type: ignore[attr-defined]
    yield make
    for made_client in made:
        if isinstance(made_client, SyncView):
            loop.run_until_complete(made_client.async_client.close())
        else:
            made_client.close()  # type: ignore[attr-defined]
