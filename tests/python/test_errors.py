"""Typed errors: every status code maps to its exception, and transport failures (refused
connections, timeouts, broken frames, oversized requests) surface as the documented errors."""

from __future__ import annotations

import asyncio
import socket

import pytest

import mnemo
from conftest import unit_vector
from fake_server import FakeServer, Raw, error_response, user_stats_response
from mnemod_process import MnemodProcess

CODES = [
    (1, mnemo.ValidationError),
    (2, mnemo.RecordNotFoundError),
    (3, mnemo.DuplicateRecordError),
    (4, mnemo.ConflictError),
    (5, mnemo.TransactionError),
    (6, mnemo.AuthenticationError),
    (7, mnemo.AuthorizationError),
    (8, mnemo.RateLimitedError),
    (9, mnemo.PayloadTooLargeError),
    (10, mnemo.UnavailableError),
    (11, mnemo.InternalError),
    (12, mnemo.NotPrimaryError),
]


def test_the_generated_code_table_matches_the_wire_schema_and_the_classes():
    from mnemo import _status_codes
    from mnemo.wire.StatusCode import StatusCode

    on_wire = {name: value for name, value in vars(StatusCode).items() if not name.startswith("_")}
    assert _status_codes.WIRE_VALUES == on_wire
    assert set(_status_codes.HTTP_STATUS) == set(on_wire)
    assert sorted(value for value, _ in CODES) == sorted(set(on_wire.values()) - {0})
    for name, value in _status_codes.WIRE_VALUES.items():
        if name != "OK":
            assert mnemo.errors.error_for_code(value, "m").code == name


@pytest.mark.parametrize("code, error_class", CODES)
def test_every_status_code_raises_its_exception(connect, code, error_class):
    def respond(rid, _):
        return error_response(rid, code, "scripted failure", "the_field")

    with FakeServer(respond) as fake:
        client = connect(fake.port)
        with pytest.raises(error_class) as info:
            client.get_user_stats("u")
    error = info.value
    assert isinstance(error, mnemo.MnemoError) and isinstance(error, mnemo.RepositoryError)
    assert type(error) is error_class
    assert error.message == "scripted failure" and error.field == "the_field"
    assert str(error) == f"{error.code}: scripted failure [the_field]"


@pytest.mark.parametrize("code", [0, 13, 255])
def test_unknown_or_ok_codes_in_an_error_are_internal_errors(connect, code):
    with FakeServer(lambda rid, _: error_response(rid, code)) as fake:
        with pytest.raises(mnemo.InternalError):
            connect(fake.port).get_user_stats("u")


def test_seed_style_methods_still_raise_other_errors(connect):
    with FakeServer(lambda rid, _: error_response(rid, 8)) as fake:
        client = connect(fake.port)
        with pytest.raises(mnemo.RateLimitedError):
            client.get_user_conversation("u", mnemo.new_id())  # only NOT_FOUND becomes None
        with pytest.raises(mnemo.RateLimitedError):
            client.soft_delete("u", mnemo.new_id())


def test_wrong_body_type_is_an_internal_error(connect):
    with FakeServer(lambda rid, _: user_stats_response(rid, 1)) as fake:
        client = connect(fake.port)
        assert client.get_user_stats("u").total_conversations == 1
        with pytest.raises(mnemo.InternalError):
            client.get_conversation("u", mnemo.new_id())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_refused_connection_is_unavailable(connect):
    client = connect(_free_port(), connect_timeout=2.0)
    with pytest.raises(mnemo.UnavailableError):
        client.get_user_stats("u")


def test_silence_times_out(connect):
    with FakeServer(lambda rid, _: None) as fake:
        client = connect(fake.port, request_timeout=0.3)
        with pytest.raises(mnemo.RequestTimeoutError) as info:
            client.get_user_stats("u")
    assert isinstance(info.value, mnemo.UnavailableError) and isinstance(info.value, TimeoutError)


@pytest.mark.parametrize("garbage", [
    Raw(b"\x00\x00\x00\x00"),                 # empty frame
    Raw(b"\xff\xff\xff\x7f"),                 # announces more than max_frame_bytes
    Raw(b"\x08\x00\x00\x00" + b"\xff" * 8),   # a frame that is no FlatBuffer
])
def test_broken_frames_break_the_connection_then_it_heals(connect, garbage):
    replies = [garbage, garbage]

    def respond(rid, _):
        return replies.pop() if replies else user_stats_response(rid, 7)

    with FakeServer(respond) as fake:
        client = connect(fake.port, pool_size=1, max_frame_bytes=1 << 16)
        # A write is never resent: it may have been applied.
        with pytest.raises(mnemo.UnavailableError):
            client.create_conversation("u", "lost")
        # A read is resent once on a fresh connection, so one broken frame goes unnoticed.
        assert client.get_user_stats("u").total_conversations == 7
        assert fake.requests == 3
        assert client.get_user_stats("u").total_conversations == 7


def test_frame_rejected_by_server_fails_with_its_error(connect):
    with FakeServer(lambda rid, _: error_response(0, 9, "frame too large")) as fake:
        with pytest.raises(mnemo.PayloadTooLargeError):
            connect(fake.port, pool_size=1).create_conversation("u", "x")


def test_client_respects_max_in_flight(loop):
    async def twenty_at_once(port):
        async with mnemo.AsyncClient(port=port, pool_size=1) as client:
            return await asyncio.gather(*(client.get_user_stats("u") for _ in range(20)))

    with FakeServer(lambda rid, _: user_stats_response(rid, 1), max_in_flight=2,
                    answer_delay=0.01) as fake:
        results = loop.run_until_complete(twenty_at_once(fake.port))
    assert [r.total_conversations for r in results] == [1] * 20
    assert fake.max_in_flight_seen == 2  # pipelined, but never beyond the announced limit


def test_oversized_request_fails_locally(connect, tmp_path):
    server = MnemodProcess(tmp_path, extra_args=("--max-frame-bytes", "4096"))
    server.start()
    try:
        client = connect(server.port)
        document = client.create_document("u", "big.txt", "txt")
        with pytest.raises(mnemo.PayloadTooLargeError):
            client.add_chunks("u", [mnemo.NewChunk(document.id, 0, "x", unit_vector(1))])
        assert client.get_document("u", document.id).total_chunks == 0  # still usable
    finally:
        server.kill()


def test_options_are_validated():
    for bad in ({"pool_size": 0}, {"port": 0}, {"port": 70000}, {"host": ""},
                {"request_timeout": 0}, {"connect_timeout": -1}, {"max_frame_bytes": 10}):
        with pytest.raises(mnemo.ValidationError) as info:
            mnemo.ClientOptions(**bad)
        assert info.value.field == next(iter(bad))


def test_closed_client_refuses_calls(mnemod):
    client = mnemo.Client(port=mnemod.port)
    client.close()
    client.close()  # idempotent
    with pytest.raises(mnemo.UnavailableError):
        client.get_user_stats("u")
