"""ClientOptions: where a client connects and how it behaves (shared by Client and AsyncClient)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

from .errors import ValidationError

__all__ = ["ClientOptions", "PROTOCOL_VERSION", "DEFAULT_PORT"]

# The wire protocol version this client speaks (protocol/version.h kProtocolVersion).
PROTOCOL_VERSION = 1
DEFAULT_PORT = 7420


@dataclass(frozen=True, slots=True)
class ClientOptions:
    """Connection settings.

    Attributes:
        host, port: the server's address; a host name is resolved on each (re)connect.
        addresses: several nodes of a cluster, "host:port" each; when given it replaces host
            and port (Client and AsyncClient).  The client uses the first node that answers and
            moves to the next after a node fails; a write answered NOT_PRIMARY is sent once more
            to the primary the error names (NOT_PRIMARY proves it was not applied).
        api_key: sent in the handshake.  None: no key, which the server accepts only in
            protected mode (no keys created yet) on a loopback address, as a service principal.
        client_name: reported to the server in the handshake (shows up in its logs).
        pool_size: TCP connections kept open; requests are spread over them (least loaded
            first) and pipelined on each, at most the server's max_in_flight at once per
            connection (more wait in the client).
        request_timeout: seconds one call waits for its response before RequestTimeoutError.
            The call is abandoned, not cancelled on the server: a write may still be applied.
        connect_timeout: seconds establishing one connection (TCP and handshake) may take.
        max_frame_bytes: the largest response accepted; a larger one breaks the connection.
    """

    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    api_key: Optional[str] = None
    client_name: str = "mnemo-python"
    pool_size: int = 2
    request_timeout: float = 30.0
    connect_timeout: float = 5.0
    max_frame_bytes: int = 64 << 20
    addresses: Tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if isinstance(self.addresses, str) or not all(isinstance(a, str) for a in self.addresses):
            raise ValidationError("must be a list of \"host:port\" strings", "addresses")
        for address in self.addresses:
            try:
                split_address(address)
            except ValueError as error:
                raise ValidationError(str(error), "addresses") from None
        object.__setattr__(self, "addresses", tuple(self.addresses))
        if not isinstance(self.host, str) or not self.host:
            raise ValidationError("must be a non-empty host name or address", "host")
        if not _is_int(self.port) or not 0 < self.port < 65536:
            raise ValidationError("must be a TCP port (1..65535)", "port")
        if not _is_int(self.pool_size) or self.pool_size < 1:
            raise ValidationError("must be at least 1", "pool_size")
        for name in ("request_timeout", "connect_timeout"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise ValidationError("must be a positive number of seconds", name)
        if not _is_int(self.max_frame_bytes) or self.max_frame_bytes < 64:
            raise ValidationError("must be at least 64", "max_frame_bytes")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def split_address(address: str) -> tuple[str, int]:
    """("host", port) of "host:port" or "[v6]:port"; ValueError when it is neither."""
    host, _, port = address.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"address \"{address}\" is not host:port (port 1..65535)")
    return host, int(port)


def join_address(host: str, port: int) -> str:
    """The inverse of split_address."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
