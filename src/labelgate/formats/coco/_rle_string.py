"""COCO's compressed RLE strings (pycocotools' ``rleToString`` form) decoded to run lengths,
all strings of a file at once, in numpy.

Each run length is a little-endian base-32 number, 5 bits per character (``chr(48 + bits)``,
bit 0x20 set on every character but a number's last; bit 0x10 of the last one is the sign),
and from the fourth run on it is stored as the difference to the run two places before
(pycocotools' ``rleFrString``). pycocotools decodes a string whose runs sum to less than
height x width without complaint, leaving the rest of the mask uninitialised memory, so the
reader checks every string here before anyone decodes it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["Decoded", "decode_strings"]

_MAX_CHARS = 7  # 35 bits: far above any image's pixel count, far below int64 overflow in the sums
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Decoded:
    """Run lengths of every string, one after another: string ``i`` has
    ``counts[starts[i]:starts[i + 1]]``. ``problem[i]`` says what is wrong with string ``i``
    (empty when it decodes), and then its counts are meaningless."""

    counts: I64
    starts: I64
    problem: list[str]

    def totals(self) -> I64:
        """The sum of each string's runs."""
        cs = np.concatenate(([0], np.cumsum(self.counts)))
        return cs[self.starts[1:]] - cs[self.starts[:-1]]

    def of(self, i: int) -> list[int]:
        return self.counts[self.starts[i] : self.starts[i + 1]].tolist()


def decode_strings(strings: list[str]) -> Decoded:
    """The run lengths of each compressed COCO RLE string."""
    n = len(strings)
    problem = [""] * n
    if not all(map(str.isascii, strings)):
        for i in [i for i, s in enumerate(strings) if not s.isascii()]:
            problem[i] = "compressed RLE counts must be ASCII"
        strings = [s if s.isascii() else "" for s in strings]
    lens = np.fromiter(map(len, strings), dtype=np.int64, count=n)
    bounds = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lens, out=bounds[1:])
    c = np.frombuffer("".join(strings).encode("ascii"), dtype=np.uint8) - np.uint8(48)  # below '0' wraps past 63
    outside = c > 63
    if outside.any():
        _flag(problem, _string_of(bounds, np.flatnonzero(outside)), "compressed RLE counts hold a character outside '0'..'o'")
        c = np.where(outside, np.uint8(0), c)
    last = (c & 0x20) == 0  # the last character of a number
    string_end = bounds[1:][lens > 0] - 1
    _flag(problem, np.flatnonzero(lens > 0)[~last[string_end]], "compressed RLE counts end inside a number")
    last[string_end] = True  # so that no number runs into the next string
    ends = np.flatnonzero(last)
    begins = np.zeros(len(ends), dtype=np.int64)
    begins[1:] = ends[:-1] + 1
    width = ends - begins + 1
    if np.any(width > _MAX_CHARS):
        _flag(problem, _string_of(bounds, begins[width > _MAX_CHARS]), "compressed RLE counts hold a run too long for any image")
        width = np.minimum(width, _MAX_CHARS)
    x = (c[begins] & 0x1F).astype(np.int64)
    for j in range(1, _MAX_CHARS):
        more = np.flatnonzero(width > j)
        if not len(more):
            break
        x[more] |= (c[begins[more] + j] & 0x1F).astype(np.int64) << (5 * j)
    negative = np.flatnonzero(c[ends] & 0x10)
    x[negative] -= np.left_shift(1, 5 * width[negative])
    starts = np.searchsorted(ends, bounds).astype(np.int64)  # string i's numbers: starts[i]:starts[i + 1]
    counts = _undelta(x, starts)
    _flag(problem, _string_of(starts, np.flatnonzero(counts < 0)), "compressed RLE counts decode to a negative run")
    return Decoded(counts, starts, problem)


def _string_of(bounds: I64, positions: I64) -> I64:
    return np.searchsorted(bounds, positions, side="right") - 1


def _undelta(x: I64, starts: I64) -> I64:
    """Run lengths from stored values: from the fourth number of a string on (index m > 2),
    a value is the difference to the run at m - 2, so a string's odd indices (from m = 1) and
    its even ones (from m = 2) are running sums. All numbers of one global parity form a view in
    which each such chain is contiguous: one cumulative sum, less the sum before each chain."""
    out = np.empty_like(x)
    first, size = starts[:-1], np.diff(starts)
    for p in (0, 1):
        sub = x[p::2]
        if not len(sub):
            continue
        head = first + ((p - first) & 1)  # each string's first number of parity p
        has = head < first + size
        reset = np.zeros(len(sub), dtype=bool)
        reset[(head[has] - p) // 2] = True
        alone = has & ((first & 1) == p) & (size > 2)  # m = 0 is a chain of its own: m = 2 starts the next
        reset[(head[alone] + 2 - p) // 2] = True
        cs = np.cumsum(sub)
        last_reset = np.where(reset, np.arange(len(sub)), 0)
        np.maximum.accumulate(last_reset, out=last_reset)
        cs_before = cs - sub
        out[p::2] = cs - cs_before[last_reset]
    return out


def _flag(problem: list[str], strings: npt.NDArray[np.int64], message: str) -> None:
    for i in np.unique(strings).tolist():
        problem[i] = problem[i] or message
