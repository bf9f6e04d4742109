"""The columnar fast path of spatial agreement for data made only of axis-aligned boxes.

Instead of one IoU matrix and one assignment per item, items are processed in chunks: each
annotator's boxes are padded to ``items x max objects x 4``, IoU is computed for the whole chunk
in one numpy expression, and items where no object competes for two partners (every row and
column has at most one candidate pair above the threshold, the common case when annotators
mostly agree) are matched directly, since the candidate pairs are then the optimal assignment.
Only the remaining items go through ``linear_sum_assignment``. The outcomes are exactly those
of the per-item path (a test checks this).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from labelgate.core import Dataset, GeometryKind
from labelgate.quality.matching import Scheme, _assign

__all__ = ["BoxSet", "box_sets", "match_box_sets"]

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class BoxSet:
    """One annotator's boxes, rows sorted by item (stable, so regions keep their order)."""

    item: IntArray  # global item index per row
    boxes: npt.NDArray[np.float64]  # rows x 4, corners
    label: IntArray  # global label code per row
    seen: npt.NDArray[np.bool_]  # per global item: did this annotator annotate it


def box_sets(datasets: Sequence[Dataset], *, by_author: bool) -> tuple[list[str], list[str], dict[str, BoxSet]] | None:
    """``(item ids, label names, {annotator: BoxSet})`` when every region of every dataset is
    a box, else None. With ``by_author`` the annotators are the authors of one dataset's
    annotations; otherwise each dataset is one annotator, named by its position."""
    tables = [d.table() for d in datasets]
    if any(len(t) and np.any(t.kind != GeometryKind.BOX) for t in tables):
        return None
    items: dict[str, int] = {}
    labels: dict[str, int] = {}
    for d in datasets:
        for k in d.items:
            items.setdefault(k, len(items))
    out: dict[str, BoxSet] = {}
    for n, (d, t) in enumerate(zip(datasets, tables, strict=True)):
        codes = np.asarray([labels.setdefault(x, len(labels)) for x in t.labels] + [0], dtype=np.int64)
        ann_item = np.asarray([items[a.item_id] for a in d.annotations], dtype=np.int64)
        row_ann = np.repeat(np.arange(len(d.annotations)), np.diff(t.offsets)) if len(t) else np.zeros(0, dtype=np.int64)
        if by_author:
            who = np.asarray([a.provenance.author or a.provenance.model or "unknown" for a in d.annotations], dtype=object)
            groups = {str(w): who == w for w in dict.fromkeys(who.tolist())}
        else:
            groups = {str(n): np.ones(len(d.annotations), dtype=bool)}
        for name, mask in groups.items():
            rows = np.flatnonzero(mask[row_ann]) if len(t) else np.zeros(0, dtype=np.int64)
            item = ann_item[row_ann[rows]]
            order = np.argsort(item, kind="stable")
            rows, item = rows[order], item[order]
            seen = np.zeros(len(items), dtype=bool)
            seen[ann_item[mask]] = True
            if not by_author:
                seen[[items[k] for k in d.items]] = True
            out[name] = BoxSet(item, t.bbox[rows], codes[t.label[rows]] if len(rows) else np.zeros(0, dtype=np.int64), seen)
    return list(items), list(labels), out


def _pad(s: BoxSet, common: IntArray, starts: IntArray, counts: IntArray, width: int) -> tuple[npt.NDArray[Any], ...]:
    n = len(common)
    boxes = np.full((n, width, 4), np.nan)
    label = np.full((n, width), -1, dtype=np.int64)
    c = counts[common]
    pos = np.repeat(np.arange(n), c)
    local = np.arange(c.sum()) - np.repeat(np.cumsum(c) - c, c)
    rows = np.repeat(starts[common], c) + local
    boxes[pos, local] = s.boxes[rows]
    label[pos, local] = s.label[rows]
    return boxes, label


def _chunk_iou(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    area_a = (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1])
    area_b = (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
    iw = np.minimum(a[:, :, None, 2], b[:, None, :, 2]) - np.maximum(a[:, :, None, 0], b[:, None, :, 0])
    ih = np.minimum(a[:, :, None, 3], b[:, None, :, 3]) - np.maximum(a[:, :, None, 1], b[:, None, :, 1])
    inter = np.clip(iw, 0, None) * np.clip(ih, 0, None)
    union = area_a[:, :, None] + area_b[:, None, :] - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        out = inter / union
    empty = union <= 0  # padding is NaN, so never empty
    if empty.any():  # two empty boxes: 1 when identical, as box_iou says
        same = np.all(a[:, :, None, :] == b[:, None, :, :], axis=3)
        out = np.where(empty, np.where(same, 1.0, 0.0), out)
    return out


def _assign_chunk(iou: npt.NDArray[np.float64], valid: npt.NDArray[np.bool_]) -> tuple[IntArray, IntArray, IntArray]:
    easy = (valid.sum(axis=2) <= 1).all(axis=1) & (valid.sum(axis=1) <= 1).all(axis=1)
    c, p, q = (x.astype(np.int64) for x in np.nonzero(valid & easy[:, None, None]))
    cs, ps, qs = [c], [p], [q]
    for h in np.flatnonzero(~easy).tolist():
        r, k = _assign(iou[h], valid[h])
        cs.append(np.full(len(r), h, dtype=np.int64))
        ps.append(r.astype(np.int64))
        qs.append(k.astype(np.int64))
    return np.concatenate(cs), np.concatenate(ps), np.concatenate(qs)


def match_box_sets(a: BoxSet, b: BoxSet, threshold: float, scheme: Scheme = "agnostic",
                   chunk: int = 4096) -> tuple[IntArray, tuple[npt.NDArray[Any], ...]]:
    """Match ``a`` and ``b`` on every item both have seen. Returns the common items (global
    indices) and outcome columns ``(item position, ia, ib, label a, label b, iou)`` where ``ia``/
    ``ib`` index the item's boxes of each side (-1: none) and labels are codes (-1: none)."""
    n_items = len(a.seen)
    common = np.flatnonzero(a.seen & b.seen).astype(np.int64)
    ca, cb = np.bincount(a.item, minlength=n_items), np.bincount(b.item, minlength=n_items)
    sa, sb = np.cumsum(ca) - ca, np.cumsum(cb) - cb
    outs: list[tuple[npt.NDArray[Any], ...]] = []
    # chunks of items with similar object counts, so that little of each chunk is padding
    perm = np.argsort(np.maximum(ca, cb)[common], kind="stable")
    for lo in range(0, len(common), chunk):
        part = common[perm[lo:lo + chunk]]
        wa, wb = max(int(ca[part].max(initial=0)), 1), max(int(cb[part].max(initial=0)), 1)
        ba, la = _pad(a, part, sa, ca, wa)
        bb, lb = _pad(b, part, sb, cb, wb)
        iou = _chunk_iou(ba, bb)
        valid = (iou >= threshold) & (iou > 0) & (la[:, :, None] >= 0) & (lb[:, None, :] >= 0)
        if scheme == "agnostic":
            c, p, q = _assign_chunk(iou, valid)
        else:
            same = la[:, :, None] == lb[:, None, :]
            c, p, q = _assign_chunk(iou, valid & same)
            if scheme == "two_pass":
                used_a = np.zeros(la.shape, dtype=bool)
                used_b = np.zeros(lb.shape, dtype=bool)
                used_a[c, p] = True
                used_b[c, q] = True
                c2, p2, q2 = _assign_chunk(iou, valid & ~used_a[:, :, None] & ~used_b[:, None, :])
                c, p, q = np.concatenate([c, c2]), np.concatenate([p, p2]), np.concatenate([q, q2])
        used_a = np.zeros(la.shape, dtype=bool)
        used_b = np.zeros(lb.shape, dtype=bool)
        used_a[c, p] = True
        used_b[c, q] = True
        ua_c, ua_p = np.nonzero(~used_a & (la >= 0))
        ub_c, ub_q = np.nonzero(~used_b & (lb >= 0))
        none_a, none_b = np.full(len(ub_c), -1), np.full(len(ua_c), -1)
        outs.append((
            perm[np.concatenate([c, ua_c, ub_c]) + lo],
            np.concatenate([p, ua_p, none_a]),
            np.concatenate([q, none_b, ub_q]),
            np.concatenate([la[c, p], la[ua_c, ua_p], none_a]),
            np.concatenate([lb[c, q], none_b, lb[ub_c, ub_q]]),
            np.concatenate([iou[c, p, q], np.full(len(ua_c) + len(ub_c), np.nan)]),
        ))
    if not outs:
        return common, (*(np.zeros(0, dtype=np.int64) for _ in range(5)), np.zeros(0))
    return common, tuple(np.concatenate([o[n] for o in outs]) for n in range(6))


def cluster_counts(sets: Sequence[BoxSet], threshold: float) -> npt.NDArray[np.float64]:
    """Reliability data of box clusters as a ``units x (labels + 1)`` count matrix (the last
    column is the empty category), clustering each item's boxes with
    :func:`~labelgate.quality.matching.cluster` among the annotators who saw the item."""
    from labelgate.quality.iou import box_iou
    from labelgate.quality.matching import cluster_members

    n_items = len(sets[0].seen)
    counts = [np.bincount(s.item, minlength=n_items) for s in sets]
    starts = [np.cumsum(c) - c for c in counts]
    n_labels = int(max((int(s.label.max(initial=-1)) for s in sets), default=-1)) + 1
    seen = np.stack([s.seen for s in sets])
    unit_ids: list[npt.NDArray[Any]] = []
    cats: list[npt.NDArray[Any]] = []
    n_units = 0
    for item in np.flatnonzero(seen.sum(axis=0) >= 1).tolist():
        who = np.flatnonzero(seen[:, item]).tolist()
        spans = [(int(starts[k][item]), int(starts[k][item] + counts[k][item])) for k in who]
        if not any(e > s for s, e in spans):
            continue
        boxes = [sets[k].boxes[s:e] for k, (s, e) in zip(who, spans, strict=True)]
        ious = {(i, j): box_iou(boxes[i], boxes[j]) for i in range(len(who)) for j in range(i + 1, len(who))}
        members = cluster_members([len(b) for b in boxes], ious, threshold)
        for pos, k in enumerate(who):
            obj = members[:, pos]
            lab = sets[k].label[spans[pos][0] + np.maximum(obj, 0)] if spans[pos][1] > spans[pos][0] else obj
            unit_ids.append(np.arange(n_units, n_units + len(members)))
            cats.append(np.where(obj >= 0, lab, n_labels))
        n_units += len(members)
    out = np.zeros((n_units, n_labels + 1))
    if unit_ids:
        np.add.at(out, (np.concatenate(unit_ids).astype(np.intp), np.concatenate(cats).astype(np.intp)), 1)
    return out
