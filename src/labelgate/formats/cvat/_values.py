"""Text forms of CVAT XML values: numbers, point lists, rotated boxes, masks and typed attributes.

Every writer function has a reader inverse here, so that the codec can check, value by value,
whether what it writes comes back unchanged (and report it when it does not).
"""

from __future__ import annotations

import math
from decimal import Decimal, localcontext

import numpy as np

from labelgate.core import AttributeSpec, AttributeType, AttrValue, Mask, RotatedBox, rle

__all__ = [
    "attr_from_text",
    "attr_to_text",
    "box_text",
    "mask_from_crop",
    "mask_to_crop",
    "num",
    "parse_points",
    "points_text",
    "rotated_from_corners",
]

_EXACT_PREC = 1200  # enough digits for the exact decimal expansion of any double


def num(v: float) -> str:
    """Shortest text that reads back as the same float ("4" for 4.0)."""
    v = float(v)
    if v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return repr(v)


def points_text(flat: tuple[float, ...]) -> str:
    return ";".join(f"{num(flat[i])},{num(flat[i + 1])}" for i in range(0, len(flat), 2))


def parse_points(text: str) -> tuple[float, ...]:
    """``"x,y;x,y"`` to a flat tuple; raises ValueError on anything else."""
    out: list[float] = []
    for pair in text.strip().split(";"):
        xy = pair.split(",")
        if len(xy) != 2:
            raise ValueError(f"point {pair!r} is not 'x,y'")
        try:
            x, y = float(xy[0]), float(xy[1])
        except ValueError:
            raise ValueError(f"point {pair!r}: coordinate is not a number") from None
        if not (math.isfinite(x) and math.isfinite(y)):
            raise ValueError(f"point {pair!r} is not finite")
        out += [x, y]
    return tuple(out)


def _centre(lo: str, hi: str) -> tuple[float, float]:
    with localcontext() as ctx:
        ctx.prec = _EXACT_PREC
        a, b = Decimal(lo), Decimal(hi)
        return float((a + b) / 2), float(b - a)


def _side(c: float, size: float) -> tuple[str, str]:
    """Ends ``lo, hi`` of one axis, as the shortest decimals whose exact midpoint and distance
    round to ``c`` and ``size`` (what :func:`_centre` computes): usually 17-19 digits."""
    lo, hi = num(c - size / 2), num(c + size / 2)
    if _centre(lo, hi) == (c, size):
        return lo, hi
    with localcontext() as ctx:
        ctx.prec = _EXACT_PREC
        exact_lo, exact_hi = Decimal(c) - Decimal(size) / 2, Decimal(c) + Decimal(size) / 2
        for digits in range(16, 40):
            ctx.prec = digits
            lo, hi = format(+exact_lo, "f"), format(+exact_hi, "f")
            ctx.prec = _EXACT_PREC
            if _centre(lo, hi) == (c, size):
                return lo, hi
        return format(exact_lo, "f"), format(exact_hi, "f")  # exact, always reads back


def box_text(rb: RotatedBox) -> tuple[str, str, str, str]:
    """``xtl, ytl, xbr, ybr`` of a rotated box's unrotated frame, as text that
    :func:`rotated_from_corners` turns back into exactly ``cx, cy, width, height``."""
    xtl, xbr = _side(rb.cx, rb.width)
    ytl, ybr = _side(rb.cy, rb.height)
    return xtl, ytl, xbr, ybr


def rotated_from_corners(xtl: str, ytl: str, xbr: str, ybr: str, rotation: float) -> RotatedBox:
    cx, w = _centre(xtl, xbr)
    cy, h = _centre(ytl, ybr)
    return RotatedBox(cx, cy, w, h, rotation)


def mask_to_crop(mask: Mask) -> tuple[str, int, int, int, int] | None:
    """CVAT's mask form: run lengths (zeros first) over the row-major flattening of the
    mask's tight bounding box, and ``left, top, width, height``; None for an empty mask."""
    a = rle.decode(mask)
    ys, xs = np.nonzero(a)
    if xs.size == 0:
        return None
    left, top = int(xs.min()), int(ys.min())
    width, height = int(xs.max()) - left + 1, int(ys.max()) - top + 1
    crop = a[top : top + height, left : left + width].ravel(order="C")
    change = np.flatnonzero(np.diff(crop)) + 1
    runs = np.diff(np.concatenate(([0], change, [crop.size]))).tolist()
    if crop[0] == 1:
        runs = [0, *runs]
    return ", ".join(str(r) for r in runs), left, top, width, height


def mask_from_crop(text: str, left: int, top: int, width: int, height: int, img_w: int, img_h: int) -> Mask:
    """Inverse of :func:`mask_to_crop`, placed on an ``img_w`` x ``img_h`` canvas."""
    counts = np.array([int(c) for c in text.split(",")], dtype=np.int64)
    if np.any(counts < 0):
        raise ValueError("negative run length")
    if int(counts.sum()) != width * height:
        raise ValueError(f"run lengths sum to {int(counts.sum())}, expected width*height={width * height}")
    if left < 0 or top < 0 or left + width > img_w or top + height > img_h:
        raise ValueError(f"mask box left={left} top={top} {width}x{height} leaves the {img_w}x{img_h} image")
    values = np.zeros(len(counts), dtype=np.uint8)
    values[1::2] = 1
    crop = np.repeat(values, counts).reshape(height, width)
    canvas = np.zeros((img_h, img_w), dtype=np.uint8)
    canvas[top : top + height, left : left + width] = crop
    return rle.encode(canvas)


def attr_to_text(value: AttrValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def attr_from_text(text: str, spec: AttributeSpec | None) -> AttrValue:
    """A typed value: bool for checkboxes, int or float for numbers, else the text.

    Raises ValueError when ``spec`` does not allow the value.
    """
    value: AttrValue = text
    if spec is not None:
        if spec.type is AttributeType.CHECKBOX:
            low = text.strip().lower()
            if low not in ("true", "false"):
                raise ValueError(f"attribute {spec.name!r}: {text!r} is not true or false")
            value = low == "true"
        elif spec.type is AttributeType.NUMBER:
            t = text.strip()
            try:
                value = int(t)
            except ValueError:
                try:
                    value = float(t)
                except ValueError:
                    raise ValueError(f"attribute {spec.name!r}: {text!r} is not a number") from None
        problem = spec.check(value)
        if problem:
            raise ValueError(problem)
    return value
