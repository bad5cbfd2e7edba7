"""Typed exceptions of the mnemo client, one per SPEC §4 status code, all under MnemoError.

The names mirror the seeds' repository exceptions (RecordNotFoundError, DuplicateRecordError,
ValidationError with .field, TransactionError, AuthenticationError, AuthorizationError), so code
written against the SQLAlchemy repositories keeps its ``except`` clauses.  Every error carries the
wire ``code`` (e.g. ``"NOT_FOUND"``), the server's human ``message`` and, when the server named
one, the offending input ``field``.

UnavailableError is also raised by the client itself: it cannot connect, the connection broke
while the request was in flight, or the response did not arrive in time (RequestTimeoutError,
which is also a builtin TimeoutError).
"""

from __future__ import annotations

from typing import Optional

from ._status_codes import WIRE_VALUES

__all__ = [
    "MnemoError",
    "ValidationError",
    "RecordNotFoundError",
    "DuplicateRecordError",
    "ConflictError",
    "TransactionError",
    "AuthenticationError",
    "AuthorizationError",
    "RateLimitedError",
    "PayloadTooLargeError",
    "UnavailableError",
    "RequestTimeoutError",
    "InternalError",
    "NotPrimaryError",
    "RepositoryError",
    "error_for_code",
]


class MnemoError(Exception):
    """Base class of every error the client raises.

    Attributes:
        code: the SPEC §4 status name, e.g. ``"VALIDATION_ERROR"``.
        message: the human-readable explanation.
        field: the offending input field, or None.
    """

    code: str = "INTERNAL_ERROR"

    def __init__(self, message: str, field: Optional[str] = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field or None

    def __str__(self) -> str:
        text = f"{self.code}: {self.message}"
        return f"{text} [{self.field}]" if self.field else text


class ValidationError(MnemoError):
    """The request was rejected as invalid; ``field`` names the input at fault."""

    code = "VALIDATION_ERROR"


class RecordNotFoundError(MnemoError):
    """The row does not exist, is soft-deleted, or belongs to another user."""

    code = "NOT_FOUND"


class DuplicateRecordError(MnemoError):
    """A client-supplied id is already used by another row."""

    code = "DUPLICATE_RECORD"


class ConflictError(MnemoError):
    """The write conflicts with the row's current state."""

    code = "CONFLICT"


class TransactionError(MnemoError):
    """An atomic write could not be applied; nothing was written."""

    code = "TRANSACTION_ERROR"


class AuthenticationError(MnemoError):
    """The API key was missing or refused during the handshake."""

    code = "AUTHENTICATION_ERROR"


class AuthorizationError(MnemoError):
    """The key may not act for the named user, or the operation needs a service key."""

    code = "AUTHORIZATION_ERROR"


class RateLimitedError(MnemoError):
    """The server refused the request because of a rate limit; retry later."""

    code = "RATE_LIMITED"


class PayloadTooLargeError(MnemoError):
    """The request is larger than the server accepts (its handshake's max_frame_bytes)."""

    code = "PAYLOAD_TOO_LARGE"


class UnavailableError(MnemoError):
    """The server could not be reached or answered UNAVAILABLE (e.g. overloaded).

    A write that fails this way may or may not have been applied; give creates a client id
    (``mnemo.new_id()``) to make retrying them safe.
    """

    code = "UNAVAILABLE"


class RequestTimeoutError(UnavailableError, TimeoutError):
    """No response arrived within the client's request timeout."""


class InternalError(MnemoError):
    """The server failed unexpectedly, or its response could not be read."""

    code = "INTERNAL_ERROR"


class NotPrimaryError(MnemoError):
    """A write reached a cluster node that is not the primary (or a primary that is fenced).

    The write was not applied.  The client already followed the redirect once (to the address
    the node named) before raising this.  Attributes, when the node knew them:

        primary_address: "host:port" of the primary, or None.
        primary_epoch: the primary's epoch, or 0.
    """

    code = "NOT_PRIMARY"

    def __init__(self, message: str, field: Optional[str] = None,
                 primary_address: Optional[str] = None, primary_epoch: int = 0) -> None:
        super().__init__(message, field)
        self.primary_address = primary_address or None
        self.primary_epoch = primary_epoch


# The seeds' base-class name, for code that catches ``RepositoryError``.
RepositoryError = MnemoError

_ERROR_CLASSES: tuple[type[MnemoError], ...] = (
    ValidationError,
    RecordNotFoundError,
    DuplicateRecordError,
    ConflictError,
    TransactionError,
    AuthenticationError,
    AuthorizationError,
    RateLimitedError,
    PayloadTooLargeError,
    UnavailableError,
    InternalError,
    NotPrimaryError,
)


def _classes_by_wire_value() -> dict[int, type[MnemoError]]:
    """Wire value -> exception class, the values taken from the generated code table."""
    names = {cls.code for cls in _ERROR_CLASSES}
    expected = set(WIRE_VALUES) - {"OK"}
    if names != expected:
        raise ImportError(f"mnemo.errors does not match the status code table: classes for "
                          f"{sorted(names - expected)} have no code, codes "
                          f"{sorted(expected - names)} have no class")
    return {WIRE_VALUES[cls.code]: cls for cls in _ERROR_CLASSES}


_BY_WIRE_CODE = _classes_by_wire_value()


def error_for_code(code: int, message: str, field: Optional[str] = None,
                   primary_address: Optional[str] = None, primary_epoch: int = 0) -> MnemoError:
    """The exception for a wire status code; an unknown (or OK) code becomes InternalError.

    ``primary_address`` and ``primary_epoch`` are NOT_PRIMARY's details (ignored otherwise).
    """
    cls = _BY_WIRE_CODE.get(code)
    if cls is None:
        return InternalError(f"unexpected status code {code}: {message}", field)
    if cls is NotPrimaryError:
        return NotPrimaryError(message, field, primary_address, primary_epoch)
    return cls(message, field)
