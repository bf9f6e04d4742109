"""Run-length encoding of binary masks in COCO's uncompressed convention (column-major,
first run counts zeros), in numpy only. COCO's compressed string form lives in the COCO codec."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from labelgate.core.errors import InvariantError
from labelgate.core.geometry import Mask

__all__ = ["decode", "encode", "mask_bounds"]


def encode(array: npt.ArrayLike) -> Mask:
    """Encode a 2-D array (non-zero = inside) as a :class:`Mask`."""
    a = np.asarray(array)
    if a.ndim != 2:
        raise InvariantError(f"mask array must be 2-D, got shape {a.shape}")
    h, w = a.shape
    flat = (a != 0).ravel(order="F").astype(np.int8)
    if flat.size == 0:
        return Mask(h, w, ())
    change = np.flatnonzero(np.diff(flat)) + 1
    edges = np.concatenate(([0], change, [flat.size]))
    runs = np.diff(edges)
    counts = runs.tolist()
    if flat[0] == 1:
        counts = [0, *counts]
    return Mask(h, w, tuple(counts))


def decode(mask: Mask) -> npt.NDArray[np.uint8]:
    """Decode a :class:`Mask` to a ``height`` x ``width`` uint8 array of 0 and 1."""
    counts = np.asarray(mask.counts, dtype=np.int64)
    values = np.zeros(len(counts), dtype=np.uint8)
    values[1::2] = 1
    flat = np.repeat(values, counts)
    return flat.reshape((mask.height, mask.width), order="F")


def mask_bounds(mask: Mask) -> tuple[float, float, float, float] | None:
    """Pixel-edge bounds ``(x1, y1, x2, y2)`` of the set pixels; None for an empty mask."""
    a = decode(mask)
    ys, xs = np.nonzero(a)
    if xs.size == 0:
        return None
    return (float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1))
