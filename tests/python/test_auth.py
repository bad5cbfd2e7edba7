"""API keys: AuthenticationError for missing/bad keys, AuthorizationError for other users and
administration with a user key.  Keys are created with the mnemo CLI ($MNEMO_CLI)."""

from __future__ import annotations

import os
import subprocess

import pytest

import mnemo


def _create_key(data_dir, kind: str, user: str = "") -> str:
    cli = os.environ.get("MNEMO_CLI", "")
    if not cli:
        pytest.fail("set MNEMO_CLI to the mnemo CLI binary (ctest does this)")
    argv = [cli, "keys", "create", "--data", str(data_dir), "--kind", kind]
    if user:
        argv += ["--user", user]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=True)
    return done.stdout.strip()


def test_keys(connect, own_mnemod):
    port = own_mnemod.port
    assert connect(port).server_info.principal == "service"  # protected mode, no key
    service_key = _create_key(own_mnemod.data_dir, "service")
    alice_key = _create_key(own_mnemod.data_dir, "user", "alice")

    for bad_key in (None, "garbage", "mnemo_0123456789abcdef_" + "0" * 64):
        with pytest.raises(mnemo.AuthenticationError):
            connect(port, api_key=bad_key).get_user_stats("bob")

    service = connect(port, api_key=service_key)
    assert service.server_info.principal == "service"
    bobs = service.create_conversation("bob", "bob's secret")
    service.create_conversation("alice", "alice's chat")
    assert service.get_stats().uptime_seconds >= 0

    alice = connect(port, api_key=alice_key)
    assert alice.server_info.principal == "alice"
    assert alice.get_user_stats("alice").total_conversations == 1
    with pytest.raises(mnemo.AuthorizationError) as info:
        alice.get_conversation("bob", bobs.id)
    assert info.value.field == "user_id"
    with pytest.raises(mnemo.RecordNotFoundError):
        alice.get_conversation("alice", bobs.id)  # another user's row is not revealed
    with pytest.raises(mnemo.AuthorizationError):
        alice.get_stats()
