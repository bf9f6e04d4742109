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


def cluster_counts(sets: Sequence[BoxSet], threshold: float, chunk: int = 2048) -> npt.NDArray[np.float64]:
    """Reliability data of box clusters as a ``units x (labels + 1)`` count matrix (the last
    column is the empty category; an annotator who did not see the item adds nothing).

    The clusters are those of :func:`~labelgate.quality.matching.cluster_members` (chaining in
    annotator order, a cluster scored by the mean IoU of its members), computed for a chunk of
    items at once: padded ``items x clusters x objects`` score tensors, with the assignment only
    run on items where objects compete.
    """
    n_items = len(sets[0].seen)
    counts = np.stack([np.bincount(s.item, minlength=n_items) for s in sets])
    starts = np.cumsum(counts, axis=1) - counts
    n_labels = int(max((int(s.label.max(initial=-1)) for s in sets), default=-1)) + 1
    seen = np.stack([s.seen for s in sets])
    todo = np.flatnonzero(seen.any(axis=0) & (counts.sum(axis=0) > 0)).astype(np.int64)
    todo = todo[np.argsort(counts[:, todo].sum(axis=0), kind="stable")]
    units: list[npt.NDArray[np.float64]] = []
    for lo in range(0, len(todo), chunk):
        part = todo[lo:lo + chunk]
        members = _chain(sets, part, starts, counts, threshold)
        units.append(_unit_counts(sets, part, starts, members, seen[:, part], n_labels))
    return np.concatenate(units) if units else np.zeros((0, n_labels + 1))


def _chain(sets: Sequence[BoxSet], part: IntArray, starts: npt.NDArray[np.int64], counts: npt.NDArray[np.int64],
           threshold: float) -> npt.NDArray[np.intp]:
    """``items x clusters x annotators`` object indices (-1: none) for the items ``part``."""
    n, k_all = len(part), len(sets)
    widths = [max(int(counts[k, part].max(initial=0)), 1) for k in range(k_all)]
    padded = [_pad(sets[k], part, starts[k], counts[k], widths[k]) for k in range(k_all)]
    members = np.full((n, sum(widths), k_all), -1, dtype=np.intp)
    n_clusters = np.zeros(n, dtype=np.int64)
    rows = np.arange(n)[:, None]
    for k in range(k_all):
        boxes_k, label_k = padded[k]
        exists = label_k >= 0
        total = np.zeros((n, members.shape[1], widths[k]))
        votes = np.zeros((n, members.shape[1]))
        for i in range(k):
            iou = np.nan_to_num(_chunk_iou(padded[i][0], boxes_k))
            idx = members[:, :, i]
            has = idx >= 0
            total += iou[rows, np.maximum(idx, 0)] * has[:, :, None]
            votes += has
        with np.errstate(divide="ignore", invalid="ignore"):
            score = np.where(votes[:, :, None] > 0, total / np.maximum(votes, 1)[:, :, None], 0.0)
        valid = (score >= threshold) & (score > 0) & (votes > 0)[:, :, None] & exists[:, None, :]
        c, m, q = _assign_chunk(score, valid)
        members[c, m, k] = q
        used = np.zeros(exists.shape, dtype=bool)
        used[c, q] = True
        nc, nq = np.nonzero(exists & ~used)  # row-major: by item, then object order
        first = np.searchsorted(nc, nc)
        slot = n_clusters[nc] + (np.arange(len(nc)) - first)
        members[nc, slot, k] = nq
        n_clusters += np.bincount(nc, minlength=n)
    return members


def _unit_counts(sets: Sequence[BoxSet], part: IntArray, starts: npt.NDArray[np.int64], members: npt.NDArray[np.intp],
                 seen: npt.NDArray[np.bool_], n_labels: int) -> npt.NDArray[np.float64]:
    alive = (members >= 0).any(axis=2)  # items x clusters
    c, m = np.nonzero(alive)
    out = np.zeros((len(c), n_labels + 1))
    for k, s in enumerate(sets):
        obj = members[c, m, k]
        label = np.where(obj >= 0, s.label[np.where(obj >= 0, starts[k, part[c]] + obj, 0)] if len(s.label) else n_labels, n_labels)
        np.add.at(out, (np.arange(len(c)), label), seen[k, c])
    return out
