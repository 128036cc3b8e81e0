"""Whole Arrow columns as PostgreSQL's binary ``COPY`` format.

PostgreSQL reads binary rows much faster than CSV ones (a million interventions: 1.7 s instead of 2.8 s): no
quoting to undo, no text to parse into timestamps, numbers or geometries (``geometry_recv`` takes the EWKB as
it is). Each value is its length (4 bytes, big endian; -1 for null) then its bytes; each row starts with its
number of values (2 bytes). The rows are assembled column by column: a length column and a value column per
field, joined row by row by Arrow in one pass, in C, without holding the GIL.

The PostgreSQL type follows from the Arrow type: ``string`` → text (or varchar), ``binary`` → the raw bytes
of a type whose binary input takes them (bytea, or EWKB for a geometry), ``bool``, ``int32`` → integer,
``int64`` → bigint, ``float64`` → double precision, ``timestamp`` → timestamp without time zone.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, no flags, no header extension
TRAILER = b"\xff\xff"

# 2000-01-01, PostgreSQL's epoch, in microseconds since 1970-01-01.
_PG_EPOCH_US = 946_684_800_000_000


def _fixed_width(values: np.ndarray) -> pa.Array:
    """A binary array of the values of a contiguous array, each its bytes (no copy)."""
    n, width = len(values), values.itemsize
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    return pa.Array.from_buffers(pa.binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(values)])


def _lengths(lengths: np.ndarray) -> pa.Array:
    return _fixed_width(np.ascontiguousarray(lengths, dtype=">i4"))


def _numbers(array: pa.Array, dtype: str) -> tuple[pa.Array, pa.Array]:
    """(lengths, values) of a fixed-width column; a null is length -1 and no bytes."""
    n = len(array)
    width = np.dtype(dtype).itemsize
    data = np.ascontiguousarray(array.fill_null(0).to_numpy(zero_copy_only=False), dtype=dtype)
    valid = array.is_valid().to_numpy(zero_copy_only=False) if array.null_count else None
    lengths = np.full(n, width, dtype=np.int32)
    values = _fixed_width(data)
    if valid is not None:
        lengths[~valid] = -1
        values = pc.if_else(pa.array(valid), values, pa.nulls(n, pa.binary()))
    return _lengths(lengths), values


def _column(array: pa.Array) -> tuple[pa.Array, pa.Array]:
    kind = array.type
    if pa.types.is_dictionary(kind):
        return _column(array.dictionary_decode())
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_binary(kind):
        raw = array.cast(pa.binary())
        lengths = pc.fill_null(pc.binary_length(raw), -1).to_numpy(zero_copy_only=False)
        return _lengths(lengths), raw
    if pa.types.is_boolean(kind):
        return _numbers(pc.cast(array, pa.uint8()), ">u1")
    if pa.types.is_int32(kind):
        return _numbers(array, ">i4")
    if pa.types.is_int64(kind):
        return _numbers(array, ">i8")
    if pa.types.is_float64(kind):
        return _numbers(array, ">f8")
    if pa.types.is_timestamp(kind) and kind.tz is None:
        micros = pc.cast(array.cast(pa.timestamp("us")), pa.int64())
        return _numbers(pc.subtract(micros, _PG_EPOCH_US), ">i8")
    raise TypeError(f"type Arrow sans équivalent binaire PostgreSQL : {kind}")


def encode(columns: Mapping[str, pa.Array]) -> memoryview:
    """The rows of ``columns`` (equal lengths, in the order of the ``COPY``'s column list), without the
    stream's header and trailer."""
    arrays = list(columns.values())
    n = len(arrays[0]) if arrays else 0
    if n == 0:
        return memoryview(b"")
    count = _fixed_width(np.full(n, len(arrays), dtype=">i2"))
    parts = [count]
    for array in arrays:
        parts.extend(_column(array))
    joined = pc.binary_join_element_wise(*parts, b"", null_handling="replace", null_replacement=b"")
    offsets = np.frombuffer(joined.buffers()[1], dtype=np.int32, count=n + 1, offset=joined.offset * 4)
    return memoryview(joined.buffers()[2])[offsets[0] : offsets[-1]]
