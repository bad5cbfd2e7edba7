"""Reconnect: after mnemod restarts (or is briefly down), the same client carries on."""

from __future__ import annotations

import pytest

import mnemo


def test_client_survives_a_restart(connect, own_mnemod):
    client = connect(own_mnemod.port, pool_size=2, connect_timeout=2.0)
    conversation = client.create_conversation("u", "Before restart")
    own_mnemod.restart()
    # The pool notices the closed connections and reconnects; writes and reads both work.
    assert client.get_conversation("u", conversation.id).title == "Before restart"
    message = client.create_message("u", conversation.id, "user", "after restart")
    assert client.get_message("u", message.id).content == "after restart"


def test_calls_fail_while_down_and_work_again_after(connect, own_mnemod):
    client = connect(own_mnemod.port, connect_timeout=2.0)
    conversation = client.create_conversation("u", "Down and up")
    port = own_mnemod.port
    own_mnemod.stop()
    with pytest.raises(mnemo.UnavailableError):
        client.get_conversation("u", conversation.id)
    with pytest.raises(mnemo.UnavailableError):
        client.create_message("u", conversation.id, "user", "lost")
    own_mnemod.start(port)
    assert client.get_conversation("u", conversation.id).message_count == 0
    assert client.create_message("u", conversation.id, "user", "back").content == "back"


def test_kill_during_idle_then_write(connect, own_mnemod):
    client = connect(own_mnemod.port, pool_size=1, connect_timeout=2.0)
    client.get_user_stats("u")
    port = own_mnemod.port
    own_mnemod.kill()  # no graceful close
    own_mnemod.start(port)
    # The idle connection is found dead before the write is sent, so the write is safe.
    assert client.create_conversation("u", "After kill").title == "After kill"


def test_failed_connect_leaves_the_client_usable(connect, tmp_path):
    import socket

    from mnemod_process import MnemodProcess

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = connect(port, connect_timeout=2.0)
    with pytest.raises(mnemo.UnavailableError):
        client.get_user_stats("u")  # nothing listens yet
    server = MnemodProcess(tmp_path)
    server.start(port)
    try:
        assert client.get_user_stats("u").total_conversations == 0
    finally:
        server.kill()


def test_connect_reports_authentication_errors(mnemod):
    client = mnemo.Client(port=mnemod.port, api_key="wrong-but-ignored-in-protected-mode")
    try:
        with pytest.raises(mnemo.AuthenticationError):
            client.connect()  # protected mode refuses keys it does not know
    finally:
        client.close()
