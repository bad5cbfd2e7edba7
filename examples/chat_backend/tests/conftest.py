"""Fixtures of the chat backend's tests: the app on each store, over httpx.

``api`` runs a test once per store: on ``mnemo`` against a live mnemod, on ``postgres`` against a
throwaway PostgreSQL cluster; both servers are started and stopped by these fixtures.  The app is
driven through Starlette's TestClient (an httpx.Client), which runs the app's lifespan, so the
store is opened and closed exactly as under uvicorn.  Every test acts for fresh user ids, so
tests sharing a server never see each other's rows.
"""

from __future__ import annotations

import sys
from typing import Iterator

import pytest
from fastapi.testclient import TestClient

from helpers import User
from servers import APP_DIR, MnemodProcess, PostgresCluster

sys.path.insert(0, str(APP_DIR))

from chat_backend.main import create_app  # noqa: E402
from chat_backend.settings import Settings  # noqa: E402

STORES = ["mnemo", "postgres"]


@pytest.fixture(scope="session")
def mnemod(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MnemodProcess]:
    server = MnemodProcess(tmp_path_factory.mktemp("mnemod"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    cluster = PostgresCluster(durable=False).start()
    yield cluster
    cluster.stop()


def settings_for(store: str, request: pytest.FixtureRequest) -> Settings:
    if store == "mnemo":
        return Settings(store="mnemo", mnemo_port=request.getfixturevalue("mnemod").port)
    return Settings(store="postgres", database_url=request.getfixturevalue("postgres").url)


@pytest.fixture(scope="session", params=STORES)
def api(request: pytest.FixtureRequest) -> Iterator[TestClient]:
    """The app on one store, started through its lifespan."""
    app = create_app(settings_for(request.param, request))
    with TestClient(app) as client:
        client.store = request.param  # type: ignore[attr-defined]
        yield client


@pytest.fixture
def alice() -> User:
    return User()


@pytest.fixture
def bob() -> User:
    return User()
