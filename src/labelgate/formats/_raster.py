"""Rasterise polygon-like geometry into a binary mask with pycocotools (COCO's own rule, so
a box ``(1, 2, 3, 4)`` covers exactly the 2 x 2 pixels inside it; holes are cleared)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from labelgate.core import Box, Geometry, Mask, MultiPolygon, Polygon, RotatedBox, rle

__all__ = ["RASTERISABLE", "rasterize", "to_mask"]

RASTERISABLE = (Box, Polygon, MultiPolygon, RotatedBox)


def _rings(g: Geometry) -> list[tuple[tuple[float, ...], list[tuple[float, ...]]]]:
    if isinstance(g, Box):
        return [((g.x1, g.y1, g.x2, g.y1, g.x2, g.y2, g.x1, g.y2), [])]
    if isinstance(g, RotatedBox):
        return [(tuple(v for c in g.corners() for v in c), [])]
    if isinstance(g, Polygon):
        return [(g.points, list(g.holes))]
    if isinstance(g, MultiPolygon):
        return [r for p in g.polygons for r in _rings(p)]
    raise TypeError(f"cannot rasterise {type(g).__name__}")


def _fill(rings: list[tuple[float, ...]], width: int, height: int) -> npt.NDArray[np.bool_]:
    from pycocotools import mask as cocomask

    if not rings:
        return np.zeros((height, width), dtype=bool)
    encoded = cocomask.frPyObjects([list(r) for r in rings], height, width)
    return np.asarray(cocomask.decode(cocomask.merge(encoded)), dtype=bool)


def rasterize(g: Geometry, width: int, height: int) -> npt.NDArray[np.uint8]:
    """A ``height`` x ``width`` array, 1 inside ``g``."""
    if isinstance(g, Mask):
        return rle.decode(g)
    rings = _rings(g)
    inside = _fill([outer for outer, _ in rings], width, height)
    holes = [h for _, hs in rings for h in hs]
    if holes:
        inside &= ~_fill(holes, width, height)
    return inside.astype(np.uint8)


def to_mask(g: Geometry, width: int, height: int) -> Mask:
    """``g`` as a :class:`Mask` of the image size."""
    if isinstance(g, Mask):
        return g
    return rle.encode(rasterize(g, width, height))
