"""Rasterise polygon-like geometry into a binary mask (PIL's polygon fill, holes cleared)."""

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


def rasterize(g: Geometry, width: int, height: int) -> npt.NDArray[np.uint8]:
    """A ``height`` x ``width`` array, 1 inside ``g`` (a pixel counts when PIL's fill reaches it)."""
    if isinstance(g, Mask):
        return rle.decode(g)
    from PIL import Image, ImageDraw

    im = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(im)
    for outer, holes in _rings(g):
        draw.polygon(list(outer), fill=1)
        for h in holes:
            draw.polygon(list(h), fill=0)
    return np.asarray(im, dtype=np.uint8)


def to_mask(g: Geometry, width: int, height: int) -> Mask:
    """``g`` as a :class:`Mask` of the image size."""
    if isinstance(g, Mask):
        return g
    return rle.encode(rasterize(g, width, height))
