"""Spatial agreement between annotators who labelled the same items.

For each item both annotators saw, their objects are matched one-to-one (see
:mod:`labelgate.quality.matching`; class-agnostic by default). Every object then falls in one
of four outcomes, and these feed every score:

- matched with the same label (an agreement), or with another label (``label_mismatch``);
- in ``a`` and unmatched (``missing`` from ``b``), or in ``b`` and unmatched (``extra``);
- a match whose IoU is below ``low_overlap`` is also listed as a ``low_overlap`` conflict.

Scores of a pair: label-aware F1 ``2 * same-label matches / (|a| + |b|)``, class-agnostic F1
``2 * matches / (|a| + |b|)``, mean IoU of the matches, and Cohen's kappa over all objects with
an extra *empty* category for an unmatched side (a missing object is the pair (label, empty)).
When observed agreement is perfect, kappa is 1 (also in the degenerate one-category case, where
the textbook formula is 0/0).

Three or more annotators: the mean of the pairwise scores, and Krippendorff's alpha (nominal)
over object clusters from :func:`~labelgate.quality.matching.cluster`; an annotator who saw the
item but drew nothing in a cluster contributes the empty category, one who did not see the item
contributes nothing (a missing value).

Objects are grouped per item into two families compared separately: area shapes (boxes,
rotated boxes, polygons, masks) and keypoints (OKS, sigmas from the label's skeleton).
Polylines, text spans and classifications are not spatial objects and are counted as skipped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from labelgate.core import Box, Dataset, Keypoints, Mask, MultiPolygon, Polygon, QualityError, Region, RotatedBox
from labelgate.quality._boxbatch import box_sets, cluster_counts, match_box_sets
from labelgate.quality._spatial_stats import alpha_from_counts, bootstrap_f1, cohen_kappa, nominal_alpha
from labelgate.quality.iou import Method, iou_matrix
from labelgate.quality.matching import Scheme, cluster, match

__all__ = [
    "Conflict",
    "alpha_from_counts",
    "bootstrap_f1",
    "cohen_kappa",
    "nominal_alpha",
    "MultiAgreement",
    "PairAccumulator",
    "PairAgreement",
    "by_annotator",
    "compare",
    "spatial_agreement",
]

ItemRegions = Mapping[str, Sequence[Region]]
_AREA = (Box, RotatedBox, Polygon, MultiPolygon, Mask)


@dataclass(frozen=True, slots=True)
class Conflict:
    """One disagreement on an item. ``a``/``b`` index the item's objects of each side."""

    item_id: str
    kind: str
    a: int | None
    b: int | None
    label_a: str | None
    label_b: str | None
    iou: float | None

    def to_dict(self) -> dict[str, Any]:
        return {"item_id": self.item_id, "kind": self.kind, "a": self.a, "b": self.b,
                "label_a": self.label_a, "label_b": self.label_b, "iou": self.iou}


@dataclass(frozen=True)
class PairAgreement:
    """Agreement of annotator ``annotators[1]`` with ``annotators[0]`` (all scores symmetric)."""

    annotators: tuple[str, str]
    items: int
    n_a: int
    n_b: int
    matched: int
    agreed: int
    label_mismatch: int
    missing: int
    extra: int
    low_overlap: int
    mean_iou: float
    f1: float
    f1_class_agnostic: float
    kappa: float
    labels: list[str]
    confusion: npt.NDArray[np.int64]
    per_class: dict[str, dict[str, float]]
    conflicts: list[Conflict] = field(repr=False)
    skipped: int = 0
    item_counts: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros((0, 4), dtype=np.int64), repr=False)
    """Per item: objects of a, objects of b, matches, same-label matches (for intervals)."""

    def f1_interval(self, level: float = 0.95, *, class_agnostic: bool = False, n_boot: int = 2000,
                    seed: int = 0) -> tuple[float, float]:
        """Percentile bootstrap interval of the F1 score, resampling items (objects on one
        item are not independent, items are)."""
        return bootstrap_f1(self.item_counts, level, class_agnostic=class_agnostic, n_boot=n_boot, seed=seed)

    def to_dict(self, conflicts: bool = True) -> dict[str, Any]:
        d: dict[str, Any] = {k: getattr(self, k) for k in (
            "items", "n_a", "n_b", "matched", "agreed", "label_mismatch", "missing", "extra",
            "low_overlap", "mean_iou", "f1", "f1_class_agnostic", "kappa", "labels", "per_class", "skipped")}
        d["annotators"] = list(self.annotators)
        d["confusion"] = self.confusion.tolist()
        if conflicts:
            d["conflicts"] = [c.to_dict() for c in self.conflicts]
        return d


def _family(r: Region) -> str | None:
    if isinstance(r.geometry, _AREA):
        return "area"
    if isinstance(r.geometry, Keypoints):
        return "keypoints"
    return None


def _nan_mean(x: npt.NDArray[np.float64]) -> float:
    return float(x.mean()) if x.size else float("nan")


def _nan_mean_of(values: Sequence[float]) -> float:
    """Mean of the values that are not NaN; NaN when none is."""
    v = np.asarray(values, dtype=np.float64)
    return _nan_mean(v[~np.isnan(v)])


class PairAccumulator:
    """Streams items of two annotators; :meth:`compute` returns the :class:`PairAgreement`.

    Each outcome is stored as one row: item, object index on each side (-1: none), labels,
    IoU; every score is computed from these rows at the end.
    """

    def __init__(self, iou_threshold: float = 0.5, *, scheme: Scheme = "agnostic", low_overlap: float = 0.8,
                 method: Method = "exact", sigmas: Mapping[str, Sequence[float]] | None = None,
                 annotators: tuple[str, str] = ("a", "b")) -> None:
        for name, v in (("IoU threshold", iou_threshold), ("low_overlap threshold", low_overlap)):
            if not 0 <= v <= 1:
                raise QualityError(f"{name} must lie in [0, 1], got {v}")
        if scheme not in ("agnostic", "two_pass", "label"):
            raise QualityError(f"unknown matching scheme {scheme!r}; expected agnostic, two_pass or label")
        if method not in ("exact", "raster"):
            raise QualityError(f"unknown IoU method {method!r}; expected 'exact' or 'raster'")
        self.threshold = iou_threshold
        self.scheme: Scheme = scheme
        self.low_overlap = low_overlap
        self.method: Method = method
        self.sigmas = dict(sigmas or {})
        self.annotators = annotators
        self.items: list[str] = []
        self.skipped = 0
        self._vocab: dict[str, int] = {}
        self._rows: list[tuple[int, int, int, int, int, float]] = []  # item, ia, ib, label a, label b, iou
        self._chunks: list[tuple[npt.NDArray[Any], ...]] = []  # the same columns, from update_batch

    def _code(self, label: str) -> int:
        return self._vocab.setdefault(label, len(self._vocab))

    def update(self, item_id: str, a: Sequence[Region], b: Sequence[Region],
               size: tuple[int, int] | None = None) -> None:
        """Add one item: ``a`` and ``b`` are the two annotators' regions on it."""
        k = len(self.items)
        self.items.append(item_id)
        fa = [_family(r) for r in a]
        fb = [_family(r) for r in b]
        self.skipped += fa.count(None) + fb.count(None)
        for fam in ("area", "keypoints"):
            ia = [i for i, f in enumerate(fa) if f == fam]
            ib = [i for i, f in enumerate(fb) if f == fam]
            if ia or ib:
                self._match(k, [a[i] for i in ia], [b[i] for i in ib], np.asarray(ia), np.asarray(ib), size)

    def update_batch(self, item_ids: Sequence[str], labels: Sequence[str], item: npt.ArrayLike, ia: npt.ArrayLike,
                     ib: npt.ArrayLike, label_a: npt.ArrayLike, label_b: npt.ArrayLike, iou: npt.ArrayLike) -> None:
        """Add many items' outcomes at once (the columnar box path): ``item`` indexes ``item_ids``,
        ``label_a``/``label_b`` index ``labels`` (-1: no object on that side)."""
        k0 = len(self.items)
        self.items.extend(item_ids)
        codes = np.asarray([self._code(n) for n in labels] + [-1], dtype=np.int64)
        self._chunks.append((np.asarray(item, dtype=np.int64) + k0, np.asarray(ia, dtype=np.int64),
                             np.asarray(ib, dtype=np.int64), codes[np.asarray(label_a, dtype=np.int64)],
                             codes[np.asarray(label_b, dtype=np.int64)], np.asarray(iou, dtype=np.float64)))

    def _sigmas(self, regs: Sequence[Region]) -> Sequence[float] | None:
        for r in regs:
            s = self.sigmas.get(r.label)
            if s is not None:
                return s
        return None

    def _match(self, k: int, ra: Sequence[Region], rb: Sequence[Region], ia: npt.NDArray[Any],
               ib: npt.NDArray[Any], size: tuple[int, int] | None) -> None:
        la = [r.label for r in ra]
        lb = [r.label for r in rb]
        sig = self._sigmas([*ra, *rb]) if ra and isinstance(ra[0].geometry, Keypoints) else None
        m = iou_matrix([r.geometry for r in ra], [r.geometry for r in rb], method=self.method, size=size, sigmas=sig)
        mt = match(m, self.threshold, labels_a=la, labels_b=lb, scheme=self.scheme)
        rows, code, nan = self._rows, self._code, float("nan")
        for i, j, v in zip(mt.a.tolist(), mt.b.tolist(), mt.iou.tolist(), strict=True):
            rows.append((k, int(ia[i]), int(ib[j]), code(la[i]), code(lb[j]), v))
        for i in mt.unmatched_a.tolist():
            rows.append((k, int(ia[i]), -1, code(la[i]), -1, nan))
        for j in mt.unmatched_b.tolist():
            rows.append((k, -1, int(ib[j]), -1, code(lb[j]), nan))

    def _columns(self) -> tuple[npt.NDArray[Any], ...]:
        parts = list(self._chunks)
        if self._rows:
            cols = list(zip(*self._rows, strict=True))
            parts.append(tuple(np.asarray(c, dtype=np.float64 if n == 5 else np.int64) for n, c in enumerate(cols)))
        if not parts:
            return (*(np.zeros(0, dtype=np.int64) for _ in range(5)), np.zeros(0))
        return tuple(np.concatenate([p[n] for p in parts]) for n in range(6))

    def compute(self) -> PairAgreement:
        k, ia, ib, la, lb, iou = self._columns()
        names = list(self._vocab)
        used = np.unique(np.concatenate([la, lb]))
        labels = sorted(names[c] for c in used.tolist() if c >= 0)
        empty = len(labels)
        remap = np.full(len(names) + 1, empty, dtype=np.intp)  # code -1 maps to the last slot: empty
        for i, n in enumerate(labels):
            remap[self._vocab[n]] = i
        ca, cb = remap[la], remap[lb]
        conf = np.zeros((empty + 1, empty + 1), dtype=np.int64)
        np.add.at(conf, (ca, cb), 1)
        is_m = (ca != empty) & (cb != empty)
        n_a, n_b = int((ca != empty).sum()), int((cb != empty).sum())
        matched, agreed = int(is_m.sum()), int(np.trace(conf[:empty, :empty]))
        low = is_m & (iou < self.low_overlap)
        denom = n_a + n_b
        counts = np.zeros((len(self.items), 4), dtype=np.int64)
        for col, flag in enumerate((ca != empty, cb != empty, is_m, is_m & (ca == cb))):
            counts[:, col] = np.bincount(k, weights=flag, minlength=len(self.items)).astype(np.int64)
        return PairAgreement(
            annotators=self.annotators, items=len(self.items), n_a=n_a, n_b=n_b,
            matched=matched, agreed=agreed, label_mismatch=matched - agreed,
            missing=n_a - matched, extra=n_b - matched, low_overlap=int(low.sum()),
            mean_iou=_nan_mean(iou[is_m]),
            f1=2 * agreed / denom if denom else 1.0,
            f1_class_agnostic=2 * matched / denom if denom else 1.0,
            kappa=cohen_kappa(conf) if denom else 1.0,
            labels=labels, confusion=conf, per_class=_per_class(conf, labels),
            conflicts=self._conflicts((k, ia, ib, ca, cb, iou), labels, empty, low), skipped=self.skipped,
            item_counts=counts,
        )

    def _conflicts(self, cols: tuple[npt.NDArray[Any], ...], labels: list[str], empty: int,
                   low: npt.NDArray[np.bool_]) -> list[Conflict]:
        k, ia, ib, ca, cb, iou = cols
        names = [*labels, None]
        out = []
        odd = np.flatnonzero((ca == empty) | (cb == empty) | (ca != cb) | low)
        for n in odd[np.lexsort((ia[odd], k[odd]))].tolist():
            item, i, j, x, y = self.items[k[n]], int(ia[n]), int(ib[n]), names[ca[n]], names[cb[n]]
            if x is None:
                out.append(Conflict(item, "extra", None, j, None, y, None))
            elif y is None:
                out.append(Conflict(item, "missing", i, None, x, None, None))
            else:
                v = float(iou[n])
                if x != y:
                    out.append(Conflict(item, "label_mismatch", i, j, x, y, v))
                if low[n]:
                    out.append(Conflict(item, "low_overlap", i, j, x, y, v))
        return out


def _per_class(conf: npt.NDArray[np.int64], labels: list[str]) -> dict[str, dict[str, float]]:
    """Per label: objects on each side, same-label matches, and label-aware F1."""
    out: dict[str, dict[str, float]] = {}
    for i, name in enumerate(labels):
        na, nb, tp = int(conf[i].sum()), int(conf[:, i].sum()), int(conf[i, i])
        out[name] = {"n_a": na, "n_b": nb, "agreed": tp, "f1": 2 * tp / (na + nb) if na + nb else 1.0}
    return out


def by_annotator(dataset: Dataset) -> dict[str, dict[str, list[Region]]]:
    """``{annotator: {item_id: regions}}``; the annotator is ``provenance.author`` (else the
    model name, else ``"unknown"``). An item present in an annotator's map was seen by them."""
    out: dict[str, dict[str, list[Region]]] = {}
    for ann in dataset.annotations:
        p = ann.provenance
        who = p.author or p.model or "unknown"
        out.setdefault(who, {}).setdefault(ann.item_id, []).extend(ann.regions)
    return out


def _as_items(x: Dataset | ItemRegions) -> dict[str, Sequence[Region]]:
    if isinstance(x, Dataset):
        out: dict[str, list[Region]] = {k: [] for k in x.items}
        for ann in x.annotations:
            out[ann.item_id].extend(ann.regions)
        return dict(out)
    return dict(x)


def _skeleton_sigmas(datasets: Iterable[Dataset | ItemRegions]) -> dict[str, Sequence[float]]:
    out: dict[str, Sequence[float]] = {}
    for d in datasets:
        if isinstance(d, Dataset):
            for c in d.schema.classes:
                if c.skeleton is not None and c.skeleton.sigmas is not None:
                    out.setdefault(c.name, c.skeleton.sigmas)
    return out


def _sizes(datasets: Iterable[Dataset | ItemRegions]) -> dict[str, tuple[int, int]]:
    out: dict[str, tuple[int, int]] = {}
    for d in datasets:
        if isinstance(d, Dataset):
            for it in d.items.values():
                if it.size is not None:
                    out.setdefault(it.id, it.size)
    return out


def compare(a: Dataset | ItemRegions, b: Dataset | ItemRegions, *, iou_threshold: float = 0.5,
            scheme: Scheme = "agnostic", low_overlap: float = 0.8, method: Method = "exact",
            annotators: tuple[str, str] = ("a", "b")) -> PairAgreement:
    """Compare two annotators on the items both have (a Dataset's items without annotations
    count as seen and empty). Items that only one side has are ignored."""
    acc = PairAccumulator(iou_threshold, scheme=scheme, low_overlap=low_overlap, method=method,
                          sigmas=_skeleton_sigmas((a, b)), annotators=annotators)
    if isinstance(a, Dataset) and isinstance(b, Dataset):
        batch = box_sets([a, b], by_author=False)
        if batch is not None:  # boxes only: the columnar path
            items, labels, sets = batch
            common, cols = match_box_sets(sets["0"], sets["1"], iou_threshold, scheme)
            acc.update_batch([items[i] for i in common.tolist()], labels, *cols)
            return acc.compute()
    ia, ib = _as_items(a), _as_items(b)
    sizes = _sizes((a, b))
    for item in ia:
        if item in ib:
            acc.update(item, ia[item], ib[item], sizes.get(item))
    return acc.compute()


@dataclass(frozen=True)
class MultiAgreement:
    """Agreement among several annotators: every pair, their means, and alpha over clusters."""

    annotators: list[str]
    pairs: list[PairAgreement]
    mean: dict[str, float]
    alpha: float
    clusters: int

    def to_dict(self, conflicts: bool = False) -> dict[str, Any]:
        return {"annotators": self.annotators, "mean": self.mean, "alpha": self.alpha,
                "clusters": self.clusters, "pairs": [p.to_dict(conflicts) for p in self.pairs]}


_MEAN_KEYS = ("f1", "f1_class_agnostic", "mean_iou", "kappa")


def spatial_agreement(data: Dataset | Mapping[str, Dataset | ItemRegions], *, iou_threshold: float = 0.5,
                      scheme: Scheme = "agnostic", low_overlap: float = 0.8,
                      method: Method = "exact") -> MultiAgreement:
    """Agreement of every annotator pair, and Krippendorff's alpha over object clusters.

    ``data`` is a Dataset whose annotations carry ``provenance.author``, or
    ``{annotator: Dataset or {item_id: regions}}`` (one dataset per annotator).
    """
    sources: list[Dataset | ItemRegions] = [data] if isinstance(data, Dataset) else list(data.values())
    fast = _batch_agreement(data, iou_threshold, scheme, low_overlap)
    if fast is not None:
        return fast
    if isinstance(data, Dataset):
        per: dict[str, ItemRegions] = dict(by_annotator(data))
    else:
        per = {k: _as_items(v) for k, v in data.items()}
    names = sorted(per)
    if len(names) < 2:
        raise QualityError(f"spatial agreement needs at least two annotators, found {names}; "
                           "annotations name their annotator in provenance.author")
    sigmas = _skeleton_sigmas(sources)
    sizes = _sizes(sources)
    pairs = []
    for x in range(len(names)):
        for y in range(x + 1, len(names)):
            acc = PairAccumulator(iou_threshold, scheme=scheme, low_overlap=low_overlap, method=method,
                                  sigmas=sigmas, annotators=(names[x], names[y]))
            px, py = per[names[x]], per[names[y]]
            for item in px:
                if item in py:
                    acc.update(item, px[item], py[item], sizes.get(item))
            pairs.append(acc.compute())
    mean = {k: _nan_mean_of([getattr(p, k) for p in pairs]) for k in _MEAN_KEYS}
    alpha, n_clusters = _cluster_alpha(per, names, iou_threshold, method, sigmas, sizes)
    return MultiAgreement(names, pairs, mean, alpha, n_clusters)


def _batch_agreement(data: Dataset | Mapping[str, Dataset | ItemRegions], threshold: float, scheme: Scheme,
                     low_overlap: float) -> MultiAgreement | None:
    """:func:`spatial_agreement` on the columnar path, when every input is a Dataset of boxes."""
    if isinstance(data, Dataset):
        batch = box_sets([data], by_author=True)
        rename = None
    elif data and all(isinstance(v, Dataset) for v in data.values()):
        batch = box_sets([v for v in data.values() if isinstance(v, Dataset)], by_author=False)
        rename = dict(zip((str(i) for i in range(len(data))), data, strict=True))
    else:
        return None
    if batch is None:
        return None
    items, labels, raw = batch
    sets = raw if rename is None else {rename[k]: v for k, v in raw.items()}
    names = sorted(sets)
    if len(names) < 2:
        raise QualityError(f"spatial agreement needs at least two annotators, found {names}; "
                           "annotations name their annotator in provenance.author")
    pairs = []
    for x in range(len(names)):
        for y in range(x + 1, len(names)):
            acc = PairAccumulator(threshold, scheme=scheme, low_overlap=low_overlap, annotators=(names[x], names[y]))
            common, cols = match_box_sets(sets[names[x]], sets[names[y]], threshold, scheme)
            acc.update_batch([items[i] for i in common.tolist()], labels, *cols)
            pairs.append(acc.compute())
    mean = {k: _nan_mean_of([getattr(p, k) for p in pairs]) for k in _MEAN_KEYS}
    counts = cluster_counts([sets[n] for n in names], threshold)
    return MultiAgreement(names, pairs, mean, alpha_from_counts(counts), len(counts))


def _cluster_alpha(per: Mapping[str, ItemRegions], names: list[str], threshold: float, method: Method,
                   sigmas: Mapping[str, Sequence[float]], sizes: Mapping[str, tuple[int, int]]) -> tuple[float, int]:
    """Reliability data (clusters x annotators of labels, empty, or missing) and its alpha."""
    items = sorted({i for n in names for i in per[n]})
    units: list[list[str | None]] = []  # per cluster, per annotator: label, "" (empty) or None (missing)
    for item in items:
        seen = [n for n in names if item in per[n]]
        for fam in ("area", "keypoints"):
            regs = [[r for r in per[n][item] if _family(r) == fam] for n in seen]
            if not any(regs):
                continue
            sig = None
            if fam == "keypoints":
                sig = next((sigmas[r.label] for rs in regs for r in rs if r.label in sigmas), None)
            ious = {(i, j): iou_matrix([r.geometry for r in regs[i]], [r.geometry for r in regs[j]],
                                       method=method, size=sizes.get(item), sigmas=sig)
                    for i in range(len(seen)) for j in range(i + 1, len(seen))}
            for c in cluster([len(r) for r in regs], ious, threshold):
                row: list[str | None] = [None] * len(names)
                for k, n in enumerate(seen):
                    row[names.index(n)] = regs[k][c[k]].label if k in c else ""
                units.append(row)
    return nominal_alpha(units), len(units)
