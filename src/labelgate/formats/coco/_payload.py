"""COCO geometry payloads: raw JSON segmentations and keypoints to canonical geometry and back.

Readers check every segmentation as they read (coco/_segments.py), keep the raw annotation (a dict, or a struct of
coco/_typed.py) in the table's geometry column and decode it on first use (:func:`decoder`), so a million polygons cost
little until someone looks at them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from labelgate.core import rle
from labelgate.core.errors import FormatError, InvariantError
from labelgate.core.geometry import Classification, Geometry, Keypoints, Mask, MultiPolygon, Polygon
from labelgate.formats.coco._typed import segmentation

__all__ = ["decoder", "keypoints_from", "mask_from", "mask_to_coco", "polygon_from", "rle_area"]


def polygon_from(seg: Any) -> Polygon | MultiPolygon:
    """A COCO polygon segmentation (list of flat x,y lists) as Polygon or MultiPolygon. Its shape and numbers
    were checked when the file was read (coco/_segments.py: every segmentation, in bulk); Polygon itself
    still refuses a non-finite coordinate or a short or odd list."""
    parts = tuple(Polygon(tuple(p)) for p in seg)
    return parts[0] if len(parts) == 1 else MultiPolygon(parts)


def mask_from(seg: dict[str, Any]) -> Mask:
    """A COCO RLE (compressed string or uncompressed counts) as a :class:`Mask`."""
    size = seg.get("size")
    counts = seg.get("counts")
    if not (isinstance(size, list) and len(size) == 2 and all(type(v) is int and v >= 0 for v in size)):
        raise InvariantError(f"RLE size must be [height, width], got {size!r}")
    h, w = size
    if isinstance(counts, list):
        return Mask(h, w, tuple(counts))
    if isinstance(counts, str):
        from pycocotools import mask as cocomask

        try:
            arr = cocomask.decode({"size": [h, w], "counts": counts.encode("ascii")})
        except (UnicodeEncodeError, ValueError) as e:
            raise InvariantError(f"compressed RLE counts cannot be decoded: {e}") from None
        return rle.encode(arr)
    raise InvariantError(f"RLE counts must be a list of run lengths or a compressed string, got {type(counts).__name__}")


def rle_area(seg: dict[str, Any]) -> float:
    """Area of a raw RLE segmentation without building a Mask."""
    counts = seg["counts"]
    if isinstance(counts, list):
        return float(sum(counts[1::2]))
    from pycocotools import mask as cocomask

    return float(cocomask.area({"size": seg["size"], "counts": counts.encode("ascii")}))


def mask_to_coco(mask: Mask, compressed: bool) -> dict[str, Any]:
    """COCO RLE for a mask: uncompressed counts (exact, as COCO ground truth stores crowds) or
    pycocotools' compressed string."""
    if not compressed:
        return {"counts": list(mask.counts), "size": [mask.height, mask.width]}
    from pycocotools import mask as cocomask

    arr = np.asfortranarray(rle.decode(mask))
    enc = cocomask.encode(arr)
    return {"counts": enc["counts"].decode("ascii"), "size": [mask.height, mask.width]}


def keypoints_from(values: Any) -> Keypoints:
    """COCO ``[x1, y1, v1, x2, y2, v2, ...]`` as :class:`Keypoints`."""
    if not isinstance(values, list) or len(values) % 3:
        raise InvariantError(f"keypoints must be a list of x, y, v triples, got {len(values) if isinstance(values, list) else values!r}")
    pts: list[float] = []
    for i in range(0, len(values), 3):
        pts += values[i : i + 2]
    for v in pts:
        if type(v) not in (int, float):
            raise InvariantError(f"keypoint coordinate {v!r} is not a number")
    return Keypoints(tuple(pts), tuple(values[2::3]))


def decoder(path: Path) -> Callable[[Any], Geometry]:
    """The ``decode`` callable of a table read from ``path``: raw payload -> geometry, with
    errors naming the file and the annotation."""

    def decode(payload: Any) -> Geometry:
        ann, what = payload, "segmentation"
        try:
            seg = ann.get("segmentation") if type(ann) is dict else segmentation(ann)
            if not seg:
                return Classification()
            if isinstance(seg, dict):
                return mask_from(seg)
            return polygon_from(seg)
        except InvariantError as e:
            aid = ann.get("id") if type(ann) is dict else ann.id
            raise FormatError(str(e), path=path, where=f"annotation id {aid!r}, {what}") from None

    return decode
