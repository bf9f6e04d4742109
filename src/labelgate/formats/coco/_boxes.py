"""COCO ``bbox`` columns: [x, y, width, height] lists to exact x1, y1, x2, y2 corners."""

from __future__ import annotations

from collections.abc import Callable
from itertools import chain
from typing import Any

import numpy as np
import numpy.typing as npt

from labelgate.core.errors import FormatError

__all__ = ["bboxes"]

Bad = Callable[[str, int], FormatError]


def bboxes(boxes: list[Any], bad: Bad, checked: bool = False) -> npt.NDArray[np.float64]:
    """x1, y1, x2, y2 per annotation (NaN where there is no bbox). ``checked``: each box is
    known to be None or 4 numbers (the typed reader's)."""
    n = len(boxes)
    try:
        fast = (checked and boxes.count(None) == 0) or set(map(len, boxes)) <= {4}
    except TypeError:  # a missing bbox (None) or a number: checked one by one below
        fast = False
    if fast:
        try:
            out = np.fromiter(chain.from_iterable(boxes), dtype=np.float64, count=4 * n).reshape(n, 4)
        except (TypeError, ValueError):
            pass
        else:
            if not np.isnan(out).any():
                return _corners(out, bad)
    out = np.full((n, 4), np.nan)
    for i, b in enumerate(boxes):
        if b is None:
            continue
        if not (isinstance(b, (list, tuple)) and len(b) == 4 and all(type(v) in (int, float) for v in b)):
            raise bad(f"bbox must be 4 numbers [x, y, width, height], got {b!r}", i)
        out[i] = b
    return _corners(out, bad)


def _corners(xywh: npt.NDArray[np.float64], bad: Bad) -> npt.NDArray[np.float64]:
    if np.any(xywh[:, 2:] < 0):
        raise bad("bbox width and height must not be negative", int(np.flatnonzero((xywh[:, 2:] < 0).any(axis=1))[0]))
    xywh[:, 2:] = _far_corner(xywh[:, :2], xywh[:, 2:])
    return xywh


def _far_corner(x1: npt.NDArray[np.float64], w: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The x2 whose float64 difference ``x2 - x1`` is ``w``: the inverse of how writers (ours
    included) compute COCO widths.

    That is ``x1 + w`` rounded to nearest, except where the exact sum lies halfway between two
    floats: rounding to even then picks one of them, while the writer may have had the other
    (0.002 + (0.018 - 0.002) == 0.018000000000000002). Halfway sums are found with an exact
    two-sum; of the two neighbours, the one whose difference gives back ``w`` wins, and if both
    do, the one with the shorter decimal form, as a person or tool writing coordinates meant."""
    s = x1 + w
    with np.errstate(invalid="ignore"):
        bp = s - x1
        err = (x1 - (s - bp)) + (w - bp)  # s + err == x1 + w exactly (Knuth's two-sum)
        tie = (np.abs(err) * 2 == np.spacing(np.abs(s))) & (err != 0)
        if not tie.any():
            return s
        other = np.nextafter(s[tie], np.copysign(np.inf, err[tie]))
        a, b = x1[tie], w[tie]
        s_ok, o_ok = (s[tie] - a) == b, (other - a) == b
        pick = np.where(o_ok & ~s_ok, other, s[tie])
        both = np.flatnonzero(s_ok & o_ok)
        if len(both):
            pick[both] = _shorter(pick[both], other[both])
        s[tie] = pick
    return s


def _shorter(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Per pair of neighbouring floats, the one that is a decimal with fewer digits after the
    point (``a`` when neither or both are). ``rint(v * 10**k) / 10**k`` is the float nearest a
    k-decimal number, so ``v`` has at most k decimals exactly when it comes back unchanged."""
    out = a.copy()
    open_ = np.ones(len(a), dtype=bool)
    for k in range(18):
        scale = 10.0**k
        a_k = np.rint(a * scale) / scale == a
        b_k = np.rint(b * scale) / scale == b
        take = open_ & b_k & ~a_k
        out[take] = b[take]
        open_ &= ~(a_k | b_k)
        if not open_.any():
            break
    return out
