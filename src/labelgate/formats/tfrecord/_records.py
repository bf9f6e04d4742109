"""TFRecord framing, without TensorFlow.

Each record is ``uint64 length | uint32 masked_crc32c(length) | data | uint32 masked_crc32c(data)``,
little-endian, where the mask is ``((crc >> 15) | (crc << 17)) + 0xa282ead8`` (mod 2**32).
CRC32C comes from the small ``crc32c`` package (the ``tfrecord`` extra).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from labelgate.core.errors import FormatError, MissingDependencyError

__all__ = ["iter_records", "masked_crc", "write_records"]

_MASK_DELTA = 0xA282EAD8
_U64 = struct.Struct("<Q")
_U32 = struct.Struct("<I")


def _crc32c() -> Callable[[bytes], int]:
    try:
        from crc32c import crc32c
    except ImportError:
        raise MissingDependencyError("crc32c", "tfrecord", "Reading and writing TFRecord files") from None
    return crc32c


def masked_crc(data: bytes, crc: Callable[[bytes], int] | None = None) -> int:
    """TFRecord's masked CRC32C of ``data``."""
    c = (crc or _crc32c())(data)
    return (((c >> 15) | (c << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def iter_records(path: Path, *, check_crc: bool = True) -> Iterator[tuple[int, int, bytes]]:
    """Yield ``(index, byte offset, data)`` for every record, streaming from the file; a
    truncated file or a CRC mismatch raises :class:`FormatError` naming the record index and
    byte offset."""
    crc = _crc32c()
    try:
        fh = path.open("rb")
    except OSError as e:
        raise FormatError(f"cannot read: {e.strerror}", path=path) from None
    with fh:
        pos = index = 0
        while True:
            where = f"record {index} at byte {pos}"
            head = fh.read(12)
            if not head:
                return
            if len(head) < 12:
                raise FormatError(f"truncated record header ({len(head)} of 12 bytes); the file is cut short",
                                  path=path, where=where)
            (length,) = _U64.unpack_from(head)
            (length_crc,) = _U32.unpack_from(head, 8)
            if check_crc and masked_crc(head[:8], crc) != length_crc:
                raise FormatError("length CRC mismatch: the file is corrupt", path=path, where=where)
            payload = fh.read(length)
            tail = fh.read(4)
            if len(payload) < length or len(tail) < 4:
                raise FormatError(f"truncated record: {length} data bytes announced, {len(payload)} present",
                                  path=path, where=where)
            (data_crc,) = _U32.unpack(tail)
            if check_crc and masked_crc(payload, crc) != data_crc:
                raise FormatError("data CRC mismatch: the record is corrupt", path=path, where=where)
            yield index, pos, payload
            pos += 16 + length
            index += 1


def write_records(fh: BinaryIO, records: Iterable[bytes]) -> int:
    """Write framed records to ``fh``; returns how many."""
    crc = _crc32c()
    n = 0
    for payload in records:
        header = _U64.pack(len(payload))
        fh.write(header)
        fh.write(_U32.pack(masked_crc(header, crc)))
        fh.write(payload)
        fh.write(_U32.pack(masked_crc(payload, crc)))
        n += 1
    return n
