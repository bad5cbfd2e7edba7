"""Conversions between Python values and wire values: ids, timestamps, JSON text, vectors.

Every ``to_*`` function raises mnemo.ValidationError naming the field on input it cannot
convert, so bad input fails before anything is sent.
"""

from __future__ import annotations

import json
import os
import sys
import time
from array import array
from datetime import datetime, timedelta, timezone
from typing import Any, Optional
from uuid import UUID

from .errors import ValidationError

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_LITTLE_ENDIAN = sys.byteorder == "little"


# ---- ids --------------------------------------------------------------------------------------


def new_id() -> UUID:
    """A new random, time-ordered (version 7) UUID, e.g. for idempotent creates."""
    millis = time.time_ns() // 1_000_000
    value = (millis & ((1 << 48) - 1)) << 80 | int.from_bytes(os.urandom(10), "big")
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 4122 variant
    return UUID(int=value)


def to_uuid(value: Any, field: str) -> UUID:
    """A UUID from a UUID or its text form."""
    if isinstance(value, UUID):
        return value
    if isinstance(value, str):
        try:
            return UUID(value)
        except ValueError:
            pass
    raise ValidationError(f"is not a UUID: {value!r}", field)


def opt_uuid(value: Any, field: str) -> Optional[UUID]:
    return None if value is None else to_uuid(value, field)


def id_halves(value: UUID) -> tuple[int, int]:
    """The wire's (hi, lo) halves: bytes 0..7 and 8..15 of the UUID, big-endian."""
    number = value.int
    return number >> 64, number & 0xFFFF_FFFF_FFFF_FFFF


def id_from_halves(hi: int, lo: int) -> UUID:
    return UUID(int=(hi << 64) | lo)


# ---- timestamps -------------------------------------------------------------------------------


def to_micros(value: Any, field: str) -> int:
    """Microseconds since the Unix epoch from a datetime (naive = UTC) or an int."""
    if isinstance(value, bool):
        raise ValidationError(f"is not a timestamp: {value!r}", field)
    if isinstance(value, int):
        return value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        delta = value - _EPOCH
        return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    raise ValidationError(f"is not a timestamp: {value!r}", field)


def opt_micros(value: Any, field: str) -> Optional[int]:
    return None if value is None else to_micros(value, field)


def from_micros(micros: int) -> datetime:
    """The UTC datetime of a wire timestamp."""
    return _EPOCH + timedelta(microseconds=micros)


def opt_from_micros(micros: Optional[int]) -> Optional[datetime]:
    return None if micros is None else _EPOCH + timedelta(microseconds=micros)


# ---- JSON -------------------------------------------------------------------------------------


def to_json(value: Any, field: str) -> str:
    """JSON text of a Python value."""
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as error:
        raise ValidationError(f"cannot be encoded as JSON: {error}", field) from None


def opt_json(value: Any, field: str) -> Optional[str]:
    return None if value is None else to_json(value, field)


def from_json(text: Optional[bytes]) -> Any:
    """The Python value of JSON text from the wire; None when absent."""
    if text is None:
        return None
    return json.loads(text) if text else None


def from_json_object(text: Optional[bytes]) -> dict[str, Any]:
    """A metadata object; {} when absent or empty."""
    return json.loads(text) if text else {}


# ---- vectors ----------------------------------------------------------------------------------


_FLOAT32: list[Any] = []  # numpy.dtype("<f4"), made on first use (numpy is optional)


def _float32_dtype(numpy: Any) -> Any:
    if not _FLOAT32:
        _FLOAT32.append(numpy.dtype("<f4"))
    return _FLOAT32[0]


def vector_bytes(vector: Any, field: str) -> memoryview:
    """The little-endian float32 bytes of an embedding, as a flat byte view.

    float32 numpy arrays (1-d, C-contiguous), ``array('f')`` and float32 memoryviews are viewed
    in place (no copy); anything else is converted once.  Empty vectors are refused here; the
    server checks the dimension and rejects NaN, Inf and zero norm.
    """
    numpy = sys.modules.get("numpy")  # only set when the caller uses numpy at all
    if numpy is not None and isinstance(vector, numpy.ndarray):
        if vector.ndim != 1:
            raise ValidationError(f"must be a 1-d array, got shape {vector.shape}", field)
        if vector.dtype != _float32_dtype(numpy) or not vector.flags.c_contiguous:
            try:
                vector = numpy.ascontiguousarray(vector, dtype="<f4")
            except (TypeError, ValueError) as error:
                raise ValidationError(f"is not a float vector: {error}", field) from None
        if vector.size == 0:
            raise ValidationError("must not be empty", field)
        return memoryview(vector).cast("B")  # '<f4': little-endian on every host
    if isinstance(vector, array) and vector.typecode == "f":
        view = memoryview(vector).cast("B")
    elif isinstance(vector, memoryview) and vector.format == "f" and vector.ndim == 1:
        view = vector.cast("B") if vector.c_contiguous else memoryview(array("f", vector)).cast("B")
    elif isinstance(vector, (str, bytes, bytearray)):
        raise ValidationError("must be a sequence of floats, not text or bytes", field)
    else:
        try:
            view = memoryview(array("f", vector)).cast("B")
        except (TypeError, ValueError, OverflowError) as error:
            raise ValidationError(f"is not a float vector: {error}", field) from None
    if len(view) == 0:
        raise ValidationError("must not be empty", field)
    if not _LITTLE_ENDIAN:
        swapped = array("f", view.tobytes())
        swapped.byteswap()
        view = memoryview(swapped).cast("B")
    return view
