"""One-to-one matching of objects by overlap, and clustering of several annotators' objects.

:func:`match` pairs the rows and columns of an IoU matrix so that the total IoU of the pairs
is as large as possible (the Hungarian method, ``scipy.optimize.linear_sum_assignment``),
keeping only pairs whose IoU reaches ``threshold`` (and is above 0). Pairs below the threshold
weigh 0 in the assignment, so they never displace a valid pair. Schemes:

- ``"agnostic"`` (default): labels are ignored while matching, so a box drawn in the same place
  with another label is a *label mismatch*, not one missing plus one extra object.
- ``"two_pass"``: CVAT's scheme: first match objects of the same label, then match what is left
  regardless of label.
- ``"label"``: only objects of the same label may match.

:func:`match_greedy` (highest IoU first) exists to show why Hungarian is used: greedy can
strand an object that an optimal assignment would match.

:func:`cluster` groups the objects of three or more annotators into clusters of at most one
object per annotator, by chaining: annotators are taken in the given order; each one's objects
are matched (Hungarian, same threshold) to the clusters built so far, scoring a cluster by the
mean IoU of the object with the cluster's members; objects left over start new clusters.
The result depends on the annotator order only where matches are ambiguous.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from labelgate.core import MissingDependencyError, QualityError

__all__ = ["Matching", "Scheme", "cluster", "cluster_members", "match", "match_greedy"]

IntArray = npt.NDArray[np.intp]
FloatArray = npt.NDArray[np.float64]
Scheme = Literal["agnostic", "two_pass", "label"]

_EMPTY = np.zeros(0, dtype=np.intp)


@dataclass(frozen=True, slots=True)
class Matching:
    """Matched pairs ``(a[k], b[k])`` with overlap ``iou[k]``, and the indices left unmatched."""

    a: IntArray
    b: IntArray
    iou: FloatArray
    unmatched_a: IntArray
    unmatched_b: IntArray

    def __len__(self) -> int:
        return len(self.a)

    @property
    def total_iou(self) -> float:
        return float(self.iou.sum())


def _assign(iou: FloatArray, valid: npt.NDArray[np.bool_]) -> tuple[IntArray, IntArray]:
    """Maximum-total-IoU assignment restricted to ``valid`` pairs."""
    if not valid.any():
        return _EMPTY, _EMPTY
    if (valid.sum(axis=1) <= 1).all() and (valid.sum(axis=0) <= 1).all():
        r, c = np.nonzero(valid)  # no competition: every candidate pair is the optimum
        return r.astype(np.intp), c.astype(np.intp)
    try:
        from scipy.optimize import linear_sum_assignment
    except ImportError:
        raise MissingDependencyError("scipy", "quality", "Hungarian matching") from None

    rows = np.flatnonzero(valid.any(axis=1))
    cols = np.flatnonzero(valid.any(axis=0))
    sub = valid[np.ix_(rows, cols)]
    weights = np.where(sub, iou[np.ix_(rows, cols)], 0.0)
    r, c = linear_sum_assignment(weights, maximize=True)
    keep = sub[r, c]
    return rows[r[keep]].astype(np.intp), cols[c[keep]].astype(np.intp)


def _result(iou: FloatArray, ra: IntArray, rb: IntArray) -> Matching:
    order = np.argsort(ra, kind="stable")
    ra, rb = ra[order], rb[order]
    free_a = np.ones(iou.shape[0], dtype=bool)
    free_b = np.ones(iou.shape[1], dtype=bool)
    free_a[ra] = False
    free_b[rb] = False
    return Matching(ra, rb, iou[ra, rb].astype(np.float64), np.flatnonzero(free_a), np.flatnonzero(free_b))


def _check(iou: Any, threshold: float) -> FloatArray:
    m = np.asarray(iou, dtype=np.float64)
    if m.ndim != 2:
        raise QualityError(f"an IoU matrix must be 2-D, got shape {m.shape}")
    if not 0 <= threshold <= 1:
        raise QualityError(f"IoU threshold must lie in [0, 1], got {threshold}")
    return m


def match(iou: npt.ArrayLike, threshold: float = 0.5, *, labels_a: Sequence[Any] | None = None,
          labels_b: Sequence[Any] | None = None, scheme: Scheme = "agnostic") -> Matching:
    """One-to-one matching of rows (``a``) to columns (``b``) maximising the total IoU."""
    m = _check(iou, threshold)
    valid = (m >= threshold) & (m > 0)
    if scheme == "agnostic":
        return _result(m, *_assign(m, valid))
    if labels_a is None or labels_b is None:
        raise QualityError(f"matching scheme {scheme!r} needs labels_a and labels_b")
    la, lb = np.asarray(labels_a, dtype=object), np.asarray(labels_b, dtype=object)
    if la.shape != (m.shape[0],) or lb.shape != (m.shape[1],):
        raise QualityError(f"labels ({len(la)}, {len(lb)}) do not fit an IoU matrix of shape {m.shape}")
    same = la[:, None] == lb[None, :]
    ra, rb = _assign(m, valid & same)
    if scheme == "label":
        return _result(m, ra, rb)
    if scheme != "two_pass":
        raise QualityError(f"unknown matching scheme {scheme!r}; expected agnostic, two_pass or label")
    rest = valid.copy()
    rest[ra, :] = False
    rest[:, rb] = False
    ra2, rb2 = _assign(m, rest)
    return _result(m, np.concatenate([ra, ra2]), np.concatenate([rb, rb2]))


def match_greedy(iou: npt.ArrayLike, threshold: float = 0.5) -> Matching:
    """Greedy matching: repeatedly take the highest remaining IoU pair (for comparison only)."""
    m = _check(iou, threshold)
    r, c = np.nonzero((m >= threshold) & (m > 0))
    order = np.argsort(-m[r, c], kind="stable")
    used_a: set[int] = set()
    used_b: set[int] = set()
    ra, rb = [], []
    for i, j in zip(r[order].tolist(), c[order].tolist(), strict=True):
        if i in used_a or j in used_b:
            continue
        used_a.add(i)
        used_b.add(j)
        ra.append(i)
        rb.append(j)
    return _result(m, np.asarray(ra, dtype=np.intp), np.asarray(rb, dtype=np.intp))


def cluster(counts: Sequence[int], ious: Mapping[tuple[int, int], npt.ArrayLike],
            threshold: float = 0.5) -> list[dict[int, int]]:
    """Cluster the objects of several annotators (see the module docstring).

    ``counts[k]`` is annotator ``k``'s object count; ``ious[(i, j)]`` for ``i < j`` is the
    ``counts[i] x counts[j]`` IoU matrix. Returns clusters as ``{annotator: object index}``.
    """
    members = cluster_members(counts, ious, threshold)
    return [{k: int(o) for k, o in enumerate(row.tolist()) if o >= 0} for row in members]


def cluster_members(counts: Sequence[int], ious: Mapping[tuple[int, int], npt.ArrayLike],
                    threshold: float = 0.5) -> IntArray:
    """:func:`cluster` as a ``clusters x annotators`` matrix of object indices (-1: none)."""
    n_ann = len(counts)
    members = np.full((0, n_ann), -1, dtype=np.intp)
    for k, n in enumerate(counts):
        if len(members) and n:
            total = np.zeros((len(members), n))
            seen = np.zeros(len(members))
            for i in range(k):
                has = np.flatnonzero(members[:, i] >= 0)
                if len(has):
                    m_ik = np.asarray(ious[(i, k)], dtype=np.float64)
                    total[has] += m_ik[members[has, i]]
                    seen[has] += 1
            m = match(total / seen[:, None], threshold)
            members[m.a, k] = m.b
            left = m.unmatched_b
        else:
            left = np.arange(n, dtype=np.intp)
        new = np.full((len(left), n_ann), -1, dtype=np.intp)
        new[:, k] = left
        members = np.concatenate([members, new])
    return members
