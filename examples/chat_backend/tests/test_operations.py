"""Operations: health, the store going away and coming back, startup without a store, and the
app served by README's one uvicorn command."""

from __future__ import annotations

import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from chat_backend.main import create_app
from chat_backend.settings import Settings
from helpers import User, assert_error, new_conversation
from servers import MnemodProcess, PostgresCluster, UvicornApp, free_port

RECOVERY_ATTEMPTS = 20
RECOVERY_PAUSE_S = 0.25


def test_health_and_ready(api):
    health = api.get("/health")
    assert health.status_code == 200, health.text
    assert health.json()["status"] == "healthy" and health.json()["store"] == api.store
    assert api.get("/ready").json()["ready"] is True


def test_an_unexpected_failure_is_a_500_with_the_seeds_body(api, alice, monkeypatch):
    async def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(api.app.state.store, "get_conversation", broken)
    response = api.get(f"/api/v1/conversations/{uuid.uuid4()}",
                       headers={**alice.headers, "X-Request-ID": "bug-1"})
    error = assert_error(response, 500, "INTERNAL_ERROR")
    assert error["request_id"] == "bug-1" and "a bug" not in response.text
    assert float(response.headers["X-Process-Time"]) >= 0


def recovers(client: TestClient, url: str, user: User) -> bool:
    """True once ``url`` answers 200 again, within a bounded number of attempts."""
    for _ in range(RECOVERY_ATTEMPTS):
        if client.get(url, headers=user.headers).status_code == 200:
            return True
        time.sleep(RECOVERY_PAUSE_S)
    return False


def check_outage(client: TestClient, stop, start) -> None:
    user = User()
    created = new_conversation(client, user)
    url = f"/api/v1/conversations/{created['id']}"
    stop()
    assert_error(client.get(url, headers=user.headers), 503, "UNAVAILABLE")
    assert_error(client.post("/api/v1/conversations", json={"title": "t"}, headers=user.headers),
                 503, "UNAVAILABLE")
    assert client.get("/health").status_code == 503
    start()
    assert recovers(client, url, user)
    assert client.get(url, headers=user.headers).json() == created
    assert client.get("/health").status_code == 200


def test_mnemod_outage_answers_503_and_recovers(tmp_path: Path):
    server = MnemodProcess(tmp_path)
    port = server.start()
    try:
        with TestClient(create_app(Settings(store="mnemo", mnemo_port=port))) as client:
            check_outage(client, server.stop, lambda: server.start(port))
    finally:
        server.stop()


def test_postgres_outage_answers_503_and_recovers():
    cluster = PostgresCluster(durable=False).start()
    try:
        settings = Settings(store="postgres", database_url=cluster.url)
        with TestClient(create_app(settings)) as client:
            check_outage(client, lambda: cluster.stop(remove=False), cluster.restart)
    finally:
        cluster.stop()


@pytest.mark.parametrize("store", ["mnemo", "postgres"])
def test_startup_fails_when_the_store_is_unreachable(store):
    port = free_port()
    settings = Settings(store=store, mnemo_port=port,
                        database_url=f"postgresql+asyncpg://postgres@127.0.0.1:{port}/postgres")
    with pytest.raises(Exception) as failure:
        with TestClient(create_app(settings)):
            pass
    assert type(failure.value).__name__ in ("UnavailableError", "ConnectionRefusedError",
                                            "OSError"), repr(failure.value)


def test_uvicorn_serves_the_app_with_one_command(mnemod, tmp_path: Path):
    app = UvicornApp(sys.executable, {"CHAT_BACKEND_MNEMO_PORT": str(mnemod.port)},
                     tmp_path / "uvicorn.log").start()
    try:
        user = User()
        with httpx.Client(base_url=f"http://127.0.0.1:{app.port}", timeout=10.0) as client:
            created = client.post("/api/v1/conversations", json={"title": "over HTTP"},
                                  headers=user.headers)
            assert created.status_code == 201, created.text
            cid = created.json()["id"]
            message = client.post(f"/api/v1/conversations/{cid}/messages",
                                  json={"role": "user", "content": "hi"}, headers=user.headers)
            assert message.status_code == 201, message.text
            history = client.get(f"/api/v1/conversations/{cid}/messages", headers=user.headers)
            assert [m["content"] for m in history.json()] == ["hi"]
            assert_error(client.get("/api/v1/conversations"), 401, "AUTHENTICATION_ERROR")
            assert client.get("/health").json()["store"] == "mnemo"
    finally:
        assert app.stop() == 0
    assert "Application shutdown complete" in (tmp_path / "uvicorn.log").read_text()
