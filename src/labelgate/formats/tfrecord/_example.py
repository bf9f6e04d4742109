"""``tf.train.Example`` in protobuf wire format, encoded and decoded by hand (no protobuf
runtime needed): Example{features=1} > Features{map<string, Feature> feature=1} >
Feature{bytes_list=1 | float_list=2 | int64_list=3}, each list a repeated ``value=1``.

Values are ``list[bytes]`` (bytes_list), float32 numpy arrays (float_list) or ``list[int]``
(int64_list). Malformed input raises :class:`ValueError` with what was wrong.
"""

from __future__ import annotations

from typing import Any, Union

import numpy as np
import numpy.typing as npt

__all__ = ["BytesList", "FeatureValue", "decode_example", "encode_example"]

FeatureValue = Union[list[bytes], npt.NDArray[np.float32], list[int]]


class BytesList(list[bytes]):
    """Marks a (possibly empty) list as a bytes_list, so that an empty one keeps its type."""


def _varint(v: int) -> bytes:
    if v < 0:
        v += 1 << 64
    out = bytearray()
    while v > 0x7F:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def _ld(field: int, payload: bytes) -> bytes:
    """A length-delimited field."""
    return _varint(field << 3 | 2) + _varint(len(payload)) + payload


def _feature(value: Any) -> bytes:
    if isinstance(value, np.ndarray):
        if value.dtype.kind != "f":
            return _feature([int(v) for v in value.tolist()])
        body = value.astype("<f4").tobytes()
        return _ld(2, _ld(1, body) if body else b"")
    if isinstance(value, BytesList) or (value and all(isinstance(v, (bytes, bytearray)) for v in value)):
        return _ld(1, b"".join(_ld(1, bytes(v)) for v in value))
    if all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        body = b"".join(_varint(v) for v in value)
        return _ld(3, _ld(1, body) if body else b"")
    raise TypeError(f"feature value must be bytes, ints or a float array, got {value!r:.80}")


def encode_example(features: dict[str, Any]) -> bytes:
    """Serialise ``{key: value}`` as a tf.train.Example (keys in the given order)."""
    entries = b"".join(_ld(1, _ld(1, key.encode()) + _ld(2, _feature(value))) for key, value in features.items())
    return _ld(1, entries)


def _read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        if pos >= len(buf):
            raise ValueError("varint runs past the end of the message")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ValueError("varint longer than 10 bytes")


def _fields(buf: bytes) -> list[tuple[int, int, Any]]:
    """``(field, wire type, value)``: an int for varints, bytes for the other wire types."""
    out: list[tuple[int, int, Any]] = []
    pos, end = 0, len(buf)
    while pos < end:
        tag, pos = _read_varint(buf, pos)
        field, wire = tag >> 3, tag & 7
        if wire == 0:
            value, pos = _read_varint(buf, pos)
            out.append((field, wire, value))
            continue
        if wire == 2:
            n, pos = _read_varint(buf, pos)
        elif wire in (1, 5):
            n = 8 if wire == 1 else 4
        else:
            raise ValueError(f"unsupported wire type {wire} for field {field}")
        if pos + n > end:
            raise ValueError(f"field {field} runs past the end of the message")
        out.append((field, wire, buf[pos : pos + n]))
        pos += n
    return out


def _signed(v: int) -> int:
    return v - (1 << 64) if v >= 1 << 63 else v


def _decode_feature(buf: bytes) -> FeatureValue:
    kinds = [(f, v) for f, w, v in _fields(buf) if f in (1, 2, 3) and w == 2]
    if not kinds:
        return []
    kind, body = kinds[-1]
    values = _fields(body)
    if kind == 1:
        return [bytes(v) for f, w, v in values if f == 1 and w == 2]
    if kind == 2:
        parts = [np.frombuffer(v, dtype="<f4") for f, w, v in values if f == 1 and w in (2, 5)]
        return np.concatenate(parts).astype(np.float32) if parts else np.zeros(0, np.float32)
    ints: list[int] = []
    for f, w, v in values:
        if f != 1:
            continue
        if w == 0:
            ints.append(_signed(v))
        elif w == 2:
            pos = 0
            while pos < len(v):
                x, pos = _read_varint(v, pos)
                ints.append(_signed(x))
    return ints


def decode_example(buf: bytes) -> dict[str, FeatureValue]:
    """Parse a serialised tf.train.Example into ``{key: value}``."""
    out: dict[str, FeatureValue] = {}
    for f, w, features in _fields(buf):
        if f != 1 or w != 2:
            continue
        for g, x, entry in _fields(features):
            if g != 1 or x != 2:
                continue
            key = value = None
            for h, y, v in _fields(entry):
                if h == 1 and y == 2:
                    key = bytes(v).decode("utf-8")
                elif h == 2 and y == 2:
                    value = v
            if key is None:
                raise ValueError("a feature map entry has no key")
            out[key] = _decode_feature(value) if value is not None else []
    return out
