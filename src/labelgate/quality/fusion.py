"""Truth inference for spatial labels: fusing several annotators' objects into a consensus.

:func:`fuse_regions` clusters the annotators' objects on one item (one object per annotator per
cluster, by Hungarian matching above an IoU threshold, see
:func:`~labelgate.quality.matching.cluster`) and keeps the clusters that at least ``quorum``
annotators drew. A kept cluster becomes one region:

- boxes: the mean of each corner coordinate; rotated boxes: the mean centre and size and the
  circular mean of the angle;
- masks: per-pixel majority of the cluster's masks (a pixel is set when more than half of them
  set it; see :func:`fuse_masks`);
- label: the most frequent label in the cluster; a tie goes to the label that sorts first (a
  declared, deterministic rule, independent of annotator order);
- score: the fraction of all annotators that drew the object.

:func:`fuse_dataset` applies this to every item of a dataset whose annotations name their
annotator in ``provenance.author`` and returns one consensus annotation per item.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np

from labelgate.core import (
    Annotation,
    Box,
    Dataset,
    Geometry,
    Mask,
    Provenance,
    QualityError,
    Region,
    RotatedBox,
    Source,
    rle,
)
from labelgate.quality.iou import iou_matrix
from labelgate.quality.matching import cluster
from labelgate.quality.spatial import by_annotator

__all__ = ["fuse_dataset", "fuse_masks", "fuse_regions", "majority_label"]


def majority_label(labels: Sequence[str]) -> str:
    """The most frequent label; ties go to the label that sorts first."""
    if not labels:
        raise QualityError("majority of no labels")
    counts = Counter(labels)
    top = max(counts.values())
    return min(lab for lab, c in counts.items() if c == top)


def fuse_masks(masks: Sequence[Mask], quorum: int | None = None) -> Mask:
    """Per-pixel vote: a pixel is set when at least ``quorum`` masks set it (default: more than
    half of them, a strict majority)."""
    if not masks:
        raise QualityError("cannot fuse an empty list of masks")
    sizes = {(m.height, m.width) for m in masks}
    if len(sizes) > 1:
        raise QualityError(f"masks to fuse have different sizes {sorted(sizes)}")
    need = quorum if quorum is not None else len(masks) // 2 + 1
    votes = np.zeros((masks[0].height, masks[0].width), dtype=np.int32)
    for m in masks:
        votes += rle.decode(m)
    return rle.encode(votes >= need)


def _fuse_geometry(gs: Sequence[Geometry]) -> Geometry:
    if all(isinstance(g, Box) for g in gs):
        c = np.mean([(g.x1, g.y1, g.x2, g.y2) for g in gs if isinstance(g, Box)], axis=0)
        return Box(*(float(v) for v in c))
    if all(isinstance(g, RotatedBox) for g in gs):
        rb = [g for g in gs if isinstance(g, RotatedBox)]
        cx, cy, w, h = np.mean([(g.cx, g.cy, g.width, g.height) for g in rb], axis=0)
        a = np.radians([g.angle for g in rb])
        angle = math.degrees(math.atan2(float(np.sin(a).mean()), float(np.cos(a).mean())))
        return RotatedBox(float(cx), float(cy), float(w), float(h), angle)
    if all(isinstance(g, Mask) for g in gs):
        return fuse_masks([g for g in gs if isinstance(g, Mask)])
    kinds = sorted({type(g).__name__ for g in gs})
    raise QualityError(f"cannot fuse {kinds}: fusion averages boxes and rotated boxes and votes masks; "
                       "convert polygons to masks first")


def fuse_regions(per_annotator: Sequence[Sequence[Region]], *, quorum: int, iou_threshold: float = 0.5) -> list[Region]:
    """Consensus regions of one item from each annotator's regions (see the module docstring)."""
    n = len(per_annotator)
    if not 1 <= quorum <= max(n, 1):
        raise QualityError(f"quorum {quorum} must lie between 1 and the number of annotators ({n})")
    ious = {(i, j): iou_matrix([r.geometry for r in per_annotator[i]], [r.geometry for r in per_annotator[j]])
            for i in range(n) for j in range(i + 1, n)}
    out = []
    for c in cluster([len(r) for r in per_annotator], ious, iou_threshold):
        if len(c) < quorum:
            continue
        members = [per_annotator[k][o] for k, o in sorted(c.items())]
        out.append(Region(_fuse_geometry([m.geometry for m in members]), majority_label([m.label for m in members]),
                          score=len(c) / n))
    return out


def fuse_dataset(dataset: Dataset, *, quorum: int, iou_threshold: float = 0.5,
                 annotators: Sequence[str] | None = None) -> Dataset:
    """One consensus annotation per item, fusing the annotators' regions (by ``provenance.author``).

    Only annotators who annotated an item take part in its vote; ``quorum`` counts annotators.
    """
    per: Mapping[str, Mapping[str, list[Region]]] = by_annotator(dataset)
    names = sorted(per) if annotators is None else list(annotators)
    unknown = [n for n in names if n not in per]
    if unknown:
        raise QualityError(f"annotators {unknown} have no annotations; known: {sorted(per)}")
    anns = []
    for item in dataset.items:
        regs = [per[n][item] for n in names if item in per[n]]
        if len(regs) < quorum:
            continue
        fused = fuse_regions(regs, quorum=quorum, iou_threshold=iou_threshold)
        anns.append(Annotation(item, fused, Provenance(source=Source.CONSENSUS)))
    return Dataset(dataset.items.values(), anns, dataset.schema, metadata={"fused_from": names, "quorum": quorum})
