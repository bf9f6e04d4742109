"""Label Studio's brush RLE: the ``rle-pack`` bit stream over a mask's RGBA bytes.

Layout, most significant bit first: 32 bits value count ``num``; 5 bits ``word size - 1``;
four 4-bit fields ``run-length field size - 1``; then chunks until ``num`` values are out:
1 bit repeat flag, 2 bits choosing one of the four field sizes, that many bits ``n - 1``;
a repeat chunk holds one value (``word size`` bits) used ``n`` times, a literal chunk ``n``
values. The last byte is padded with zeros. Label Studio stores the bytes as a list of ints,
and the mask as the alpha channel of a ``height x width x 4`` row-major RGBA image.

Implemented from that description with numpy; we write repeat chunks only (masks are runs).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from labelgate.core import Mask, rle

__all__ = ["decode_brush", "encode_brush"]

_SIZES = (3, 4, 8, 16)  # run-length field sizes we write
_WORD = 8


def _pack(values: npt.NDArray[np.int64], widths: npt.NDArray[np.int64]) -> bytes:
    """Concatenate ``values[i]`` as ``widths[i]``-bit big-endian fields, zero-padded to bytes."""
    top = int(widths.max()) if widths.size else 1
    shifts = np.arange(top - 1, -1, -1, dtype=np.int64)  # bit positions, most significant first
    bits = (values[:, None] >> shifts[None, :]) & 1
    keep = shifts[None, :] < widths[:, None]
    return np.packbits(bits[keep].astype(np.uint8)).tobytes()


def encode_brush(mask: Mask) -> list[int]:
    """The brush RLE bytes of ``mask`` (inside pixels are 255 in all four channels)."""
    a = rle.decode(mask)
    flat = np.repeat(a.ravel(order="C").astype(np.uint8) * 255, 4)
    num = flat.size
    if num:
        change = np.flatnonzero(np.diff(flat)) + 1
        starts = np.concatenate(([0], change))
        lengths = np.diff(np.concatenate((starts, [num])))
        vals = flat[starts].astype(np.int64)
    else:
        lengths = vals = np.zeros(0, dtype=np.int64)
    # split runs longer than the largest field can count
    cap = 1 << _SIZES[-1]
    pieces = (lengths + cap - 1) // cap
    vals = np.repeat(vals, pieces)
    run = np.repeat(lengths, pieces)
    first = np.cumsum(pieces) - pieces
    offset = np.arange(len(run)) - np.repeat(first, pieces)
    run = np.minimum(run - offset * cap, cap).astype(np.int64)
    n1 = run - 1
    size_index = np.searchsorted(np.array([(1 << s) - 1 for s in _SIZES]), n1)
    field = np.array(_SIZES, dtype=np.int64)[size_index]
    # each chunk: flag(1)=1, size index(2), n-1(field), value(8)
    k = len(run)
    values = np.empty(4 * k, dtype=np.int64)
    widths = np.empty(4 * k, dtype=np.int64)
    values[0::4], widths[0::4] = 1, 1
    values[1::4], widths[1::4] = size_index, 2
    values[2::4], widths[2::4] = n1, field
    values[3::4], widths[3::4] = vals, _WORD
    header_v = np.array([num, _WORD - 1, *[s - 1 for s in _SIZES]], dtype=np.int64)
    header_w = np.array([32, 5, 4, 4, 4, 4], dtype=np.int64)
    return list(_pack(np.concatenate((header_v, values)), np.concatenate((header_w, widths))))


class _Bits:
    """Reads big-endian bit fields of up to 32 bits in O(1): ``window[p]`` holds the 32 bits
    starting at bit ``p``."""

    def __init__(self, data: bytes) -> None:
        bits = np.unpackbits(np.frombuffer(data, dtype=np.uint8)).astype(np.int64)
        self.size = bits.size
        padded = np.concatenate((bits, np.zeros(32, dtype=np.int64)))
        window = np.zeros(bits.size, dtype=np.int64)
        for k in range(32):
            window |= padded[k : k + bits.size] << (31 - k)
        self.window = window.tolist()
        self.pos = 0

    def read(self, n: int) -> int:
        end = self.pos + n
        if end > self.size:
            raise ValueError("brush RLE ends in the middle of a chunk")
        v: int = self.window[self.pos] >> (32 - n)
        self.pos = end
        return v


def decode_brush(data: list[int] | bytes, width: int, height: int) -> Mask:
    """The mask (alpha channel > 0) of brush RLE ``data`` for a ``width`` x ``height`` image.

    Raises ValueError when the stream is malformed or does not hold ``width*height*4`` values.
    """
    try:
        raw = bytes(data)
    except (TypeError, ValueError):
        raise ValueError("brush RLE must be a list of byte values 0-255") from None
    if len(raw) < 9:
        raise ValueError(f"brush RLE of {len(raw)} bytes is shorter than its 9-byte header")
    s = _Bits(raw)
    num = s.read(32)
    word = s.read(5) + 1
    sizes = [s.read(4) + 1 for _ in range(4)]
    if num != width * height * 4:
        raise ValueError(f"brush RLE holds {num} values, expected width*height*4 = {width * height * 4}")
    if word > 32:
        raise ValueError(f"brush RLE word size {word} is over 32 bits")
    values: list[int] = []
    lengths: list[int] = []
    i = 0
    read = s.read
    while i < num:
        repeat = read(1)
        n = read(sizes[read(2)]) + 1
        if i + n > num:
            raise ValueError(f"brush RLE chunk at value {i} runs past the {num} values")
        if repeat:
            values.append(read(word))
            lengths.append(n)
        else:
            for _ in range(n):
                values.append(read(word))
                lengths.append(1)
        i += n
    flat = np.repeat(np.asarray(values, dtype=np.int64) > 0, lengths)
    alpha = flat.reshape(height, width, 4)[:, :, 3]
    return rle.encode(alpha)
