"""Overlap measures between two lists of geometries, as ``N x M`` matrices.

- Boxes: vectorised numpy over ``N x 4`` corner arrays (:func:`box_iou`).
- Rotated boxes, polygons and multi-polygons: exact area of intersection over union with
  shapely 2's vectorised operations (:func:`shape_iou`); pairs whose bounds do not touch are
  skipped. Invalid (self-intersecting) rings are repaired with ``shapely.make_valid`` first.
  ``method="raster"`` rasterises with pycocotools instead, as COCO's evaluation does, which
  counts whole pixels and therefore differs from the exact value on small or thin shapes.
- Masks: pycocotools' RLE IoU (:func:`mask_iou`, with COCO's ``iscrowd`` rule: for a crowd
  region the union is the other region's area) and Dice (:func:`mask_dice`).
- Keypoints: COCO's object keypoint similarity (:func:`oks`).

:func:`iou_matrix` dispatches on the geometry kinds of two region lists.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from labelgate.core import (
    Box,
    Geometry,
    Keypoints,
    Mask,
    MultiPolygon,
    Polygon,
    QualityError,
    RotatedBox,
    bounds,
)

__all__ = [
    "COCO_KEYPOINT_SIGMAS",
    "box_iou",
    "iou_matrix",
    "mask_dice",
    "mask_iou",
    "oks",
    "shape_iou",
    "to_coco_rle",
]

FloatArray = npt.NDArray[np.float64]
Method = Literal["exact", "raster"]

COCO_KEYPOINT_SIGMAS: tuple[float, ...] = (
    0.026, 0.025, 0.025, 0.035, 0.035, 0.079, 0.079, 0.072, 0.072,
    0.062, 0.062, 0.107, 0.107, 0.087, 0.087, 0.089, 0.089,
)
"""Per-point sigmas of COCO's 17 person keypoints (pycocotools' ``kpt_oks_sigmas``)."""


def box_iou(a: npt.ArrayLike, b: npt.ArrayLike) -> FloatArray:
    """IoU of every box in ``a`` (``N x 4``, corners ``x1 y1 x2 y2``) with every box in ``b``.

    Two empty boxes (zero area, so zero union) have IoU 0, except identical ones, which have 1.
    """
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    iw = np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0])
    ih = np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1])
    inter = np.clip(iw, 0, None) * np.clip(ih, 0, None)
    union = area_a[:, None] + area_b[None, :] - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)
    if np.any(union <= 0):
        same = np.all(a[:, None, :] == b[None, :, :], axis=2)
        out = np.where((union <= 0) & same, 1.0, out)
    return out


def _to_shapely(g: Geometry) -> Any:
    import shapely

    if isinstance(g, Box):
        return shapely.box(g.x1, g.y1, g.x2, g.y2)
    if isinstance(g, RotatedBox):
        return shapely.Polygon(g.corners())
    if isinstance(g, Polygon):
        shell = np.asarray(g.points).reshape(-1, 2)
        holes = [np.asarray(h).reshape(-1, 2) for h in g.holes]
        return shapely.Polygon(shell, holes)
    if isinstance(g, MultiPolygon):
        return shapely.MultiPolygon([_to_shapely(p) for p in g.polygons])
    raise QualityError(f"area overlap is not defined for {type(g).__name__}; expected a box, rotated box or polygon")


def _shapes(gs: Sequence[Geometry]) -> Any:
    import shapely

    arr = np.array([_to_shapely(g) for g in gs] or [], dtype=object)
    if arr.size:
        bad = ~shapely.is_valid(arr)
        if bad.any():
            arr[bad] = shapely.make_valid(arr[bad])
    return arr


def shape_iou(a: Sequence[Geometry], b: Sequence[Geometry], *, method: Method = "exact",
              size: tuple[int, int] | None = None) -> FloatArray:
    """IoU of boxes, rotated boxes, polygons and multi-polygons, ``len(a) x len(b)``.

    ``method="exact"`` (default) uses shapely's exact geometry; ``"raster"`` rasterises both
    sides with pycocotools on an image of ``size=(width, height)`` (default: just large enough).
    """
    if method == "raster":
        canvas = _canvas(size, a, b)
        return mask_iou([_rasterise(g, canvas) for g in a], [_rasterise(g, canvas) for g in b])
    if method != "exact":
        raise QualityError(f"unknown IoU method {method!r}; expected 'exact' or 'raster'")
    import shapely

    out = np.zeros((len(a), len(b)))
    if not len(a) or not len(b):
        return out
    sa, sb = _shapes(a), _shapes(b)
    ba, bb = shapely.bounds(sa), shapely.bounds(sb)
    touch = (
        (ba[:, None, 0] <= bb[None, :, 2]) & (bb[None, :, 0] <= ba[:, None, 2])
        & (ba[:, None, 1] <= bb[None, :, 3]) & (bb[None, :, 1] <= ba[:, None, 3])
    )
    i, j = np.nonzero(touch)
    if i.size == 0:
        return out
    inter = shapely.area(shapely.intersection(sa[i], sb[j]))
    union = shapely.area(sa)[i] + shapely.area(sb)[j] - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        out[i, j] = np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)
    return out


def _canvas(size: tuple[int, int] | None, *groups: Sequence[Geometry]) -> tuple[int, int]:
    if size is not None:
        return size
    w = h = 1
    for gs in groups:
        for g in gs:
            if isinstance(g, Mask):
                w, h = max(w, g.width), max(h, g.height)
                continue
            bb = bounds(g)
            if bb is not None:
                w, h = max(w, int(np.ceil(bb[2])) + 1), max(h, int(np.ceil(bb[3])) + 1)
    return (w, h)


def _rasterise(g: Geometry, canvas: tuple[int, int]) -> Any:
    from pycocotools import mask as cm

    if isinstance(g, Mask):
        return to_coco_rle(g)
    w, h = canvas
    if isinstance(g, Box):
        rings = [[g.x1, g.y1, g.x2, g.y1, g.x2, g.y2, g.x1, g.y2]]
    elif isinstance(g, RotatedBox):
        rings = [[c for xy in g.corners() for c in xy]]
    elif isinstance(g, Polygon):
        if g.holes:
            raise QualityError("rasterised IoU of a polygon with holes is not supported; use method='exact'")
        rings = [list(g.points)]
    elif isinstance(g, MultiPolygon):
        if any(p.holes for p in g.polygons):
            raise QualityError("rasterised IoU of a polygon with holes is not supported; use method='exact'")
        rings = [list(p.points) for p in g.polygons]
    else:
        raise QualityError(f"cannot rasterise {type(g).__name__}")
    return cm.merge(cm.frPyObjects(rings, h, w))


def to_coco_rle(mask: Mask) -> dict[str, Any]:
    """A :class:`~labelgate.core.Mask` as pycocotools' compressed RLE."""
    from pycocotools import mask as cm

    rle: dict[str, Any] = cm.frPyObjects({"counts": list(mask.counts), "size": [mask.height, mask.width]},
                                         mask.height, mask.width)
    return rle


def _rles(ms: Sequence[Any]) -> list[Any]:
    return [to_coco_rle(m) if isinstance(m, Mask) else m for m in ms]


def mask_iou(a: Sequence[Any], b: Sequence[Any], crowd_b: Sequence[bool] | None = None) -> FloatArray:
    """IoU of masks (:class:`Mask` or pycocotools RLE dicts), ``len(a) x len(b)``.

    ``crowd_b[j]`` applies COCO's crowd rule to ``b[j]``: intersection over the area of ``a[i]``.
    """
    from pycocotools import mask as cm

    if not len(a) or not len(b):
        return np.zeros((len(a), len(b)))
    ra, rb = _rles(a), _rles(b)
    sizes = {tuple(r["size"]) for r in ra + rb}
    if len(sizes) > 1:
        raise QualityError(f"masks have different image sizes {sorted(sizes)}; IoU needs one canvas")
    crowd = [int(c) for c in crowd_b] if crowd_b is not None else [0] * len(rb)
    return np.asarray(cm.iou(ra, rb, crowd), dtype=np.float64).reshape(len(a), len(b))


def mask_dice(a: Sequence[Any], b: Sequence[Any]) -> FloatArray:
    """Dice coefficient ``2|A n B| / (|A| + |B|)`` of masks, ``len(a) x len(b)``
    (computed as ``2 IoU / (1 + IoU)``, the same quantity)."""
    iou = mask_iou(a, b)
    return 2 * iou / (1 + iou)


def _kp_area(k: Keypoints) -> float:
    bb = bounds(k)
    return 0.0 if bb is None else (bb[2] - bb[0]) * (bb[3] - bb[1])


def oks(gt: Sequence[Keypoints], dt: Sequence[Keypoints], sigmas: Sequence[float],
        areas: Sequence[float] | None = None) -> FloatArray:
    """COCO's object keypoint similarity of every ``dt`` with every ``gt``, ``len(gt) x len(dt)``.

    ``OKS = mean over gt points labelled (v > 0) of exp(-d^2 / (2 s^2 (2 sigma)^2))`` with
    ``s^2`` the gt object's area (``areas``; default: the box around its labelled points, as
    the object's box area) plus ``eps``. A gt with no labelled point has OKS 0 here (COCO then
    falls back to a distance to the box, which needs the crowd box we do not have).
    """
    sig = np.asarray(sigmas, dtype=np.float64)
    out = np.zeros((len(gt), len(dt)))
    if not len(gt) or not len(dt):
        return out
    n = len(sig)
    for k in (*gt, *dt):
        if len(k) != n:
            raise QualityError(f"keypoints have {len(k)} points but the skeleton declares {n} sigmas")
    var = (2 * sig) ** 2
    g = np.asarray([k.points for k in gt]).reshape(len(gt), n, 2)
    d = np.asarray([k.points for k in dt]).reshape(len(dt), n, 2)
    vis = np.asarray([k.visibility for k in gt]) > 0
    area = np.asarray(areas if areas is not None else [_kp_area(k) for k in gt], dtype=np.float64)
    d2 = ((g[:, None] - d[None]) ** 2).sum(axis=3)
    e = d2 / var / (area[:, None, None] + np.spacing(1)) / 2
    sim = np.exp(-e) * vis[:, None, :]
    cnt = vis.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(cnt[:, None] > 0, sim.sum(axis=2) / np.maximum(cnt, 1)[:, None], 0.0)


def _all(gs: Sequence[Geometry], kind: type | tuple[type, ...]) -> bool:
    return all(isinstance(g, kind) for g in gs)


def iou_matrix(a: Sequence[Geometry], b: Sequence[Geometry], *, method: Method = "exact",
               size: tuple[int, int] | None = None, sigmas: Sequence[float] | None = None) -> FloatArray:
    """Overlap of two geometry lists, dispatched on their kinds.

    Boxes with boxes: :func:`box_iou`. Any mask: rasterised IoU on the masks' canvas. Keypoints
    with keypoints: OKS made symmetric, ``(OKS(a, b) + OKS(b, a)^T) / 2`` (each side taken once as
    the reference), with ``sigmas`` (the skeleton's; COCO's for 17 points when none given).
    Otherwise exact shapely IoU (or rasterised with ``method="raster"``).
    """
    if not len(a) or not len(b):
        return np.zeros((len(a), len(b)))
    if _all(a, Box) and _all(b, Box):
        return box_iou([(g.x1, g.y1, g.x2, g.y2) for g in a], [(g.x1, g.y1, g.x2, g.y2) for g in b])  # type: ignore[union-attr]
    if _all(a, Keypoints) and _all(b, Keypoints):
        ka = [g for g in a if isinstance(g, Keypoints)]
        kb = [g for g in b if isinstance(g, Keypoints)]
        if sigmas is None:
            if len(ka[0]) != len(COCO_KEYPOINT_SIGMAS):
                raise QualityError(
                    f"keypoint similarity needs per-point sigmas: set Skeleton.sigmas for this "
                    f"{len(ka[0])}-point skeleton (COCO's are used only for 17 points)")
            sigmas = COCO_KEYPOINT_SIGMAS
        return (oks(ka, kb, sigmas) + oks(kb, ka, sigmas).T) / 2
    if any(isinstance(g, Keypoints) for g in (*a, *b)):
        raise QualityError("keypoints can only be compared with keypoints")
    if any(isinstance(g, Mask) for g in (*a, *b)):
        canvas = size or _canvas(None, a, b)
        return mask_iou([_rasterise(g, canvas) for g in a], [_rasterise(g, canvas) for g in b])
    return shape_iou(a, b, method=method, size=size)
