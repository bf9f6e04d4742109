"""Evaluation of predictions against ground truth.

- :func:`coco_evaluate`: COCO's 12 detection numbers, per-class AP and precision-recall curves.
  The engine is faster-coco-eval (default) or pycocotools; this module only converts datasets
  to COCO's dictionaries and reads the engine's arrays, it never reimplements the protocol.
- :class:`SegmentationAccumulator`: per-class IoU and mIoU of semantic label maps.
- :func:`ner_scores`: entity-level precision, recall and F1 (per class, micro, macro, weighted)
  from span lists, equal to seqeval's ``classification_report`` on the same entities.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from labelgate.core import Dataset, Mask, MissingDependencyError, MultiPolygon, Polygon, QualityError
from labelgate.core.geometry import GeometryKind
from labelgate.quality.iou import to_coco_rle
from labelgate.quality.spans import Mode, Scheme, Span, decode_tags

__all__ = [
    "COCO_STATS",
    "DetectionEvaluation",
    "NerScores",
    "SegmentationAccumulator",
    "coco_evaluate",
    "ner_evaluate",
    "ner_scores",
    "ner_scores_from_tags",
    "to_coco",
]

COCO_STATS = ("AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl")
"""Names of COCO's 12 summary numbers, in pycocotools' ``stats`` order."""

Engine = Literal["faster", "pycocotools"]
IouType = Literal["bbox", "segm"]
_SPATIAL = (GeometryKind.BOX, GeometryKind.ROTATED_BOX, GeometryKind.POLYGON, GeometryKind.MULTI_POLYGON,
            GeometryKind.KEYPOINTS, GeometryKind.MASK, GeometryKind.POLYLINE)


def _segmentation(g: Any) -> Any:
    if isinstance(g, Polygon):
        if g.holes:
            raise QualityError("COCO segmentation cannot hold polygon holes; convert the region to a mask")
        return [list(g.points)]
    if isinstance(g, MultiPolygon):
        return [list(p.points) for p in g.polygons]
    if isinstance(g, Mask):
        rle = to_coco_rle(g)
        return {"size": rle["size"], "counts": rle["counts"].decode("ascii")}
    raise QualityError(f"segm evaluation needs polygons or masks, got {type(g).__name__}")


def _ids(names: Sequence[str], numbers: Sequence[int | None]) -> dict[str, int]:
    """The numbers when all are given and distinct (COCO's own ids), else 1..n in order."""
    if all(n is not None for n in numbers) and len(set(numbers)) == len(numbers):
        return {k: int(n) for k, n in zip(names, numbers, strict=True) if n is not None}
    return {k: i + 1 for i, k in enumerate(names)}


def to_coco(gt: Dataset, pred: Dataset | Sequence[Mapping[str, Any]],
            iou_type: IouType = "bbox") -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """COCO ground-truth dictionary and result list for ``gt`` and ``pred``.

    Images are ``gt``'s items, with their COCO ids (``Item.number``) when every item has a
    distinct one, else 1..n in order; categories are every label of ``gt``'s schema and of either
    side, with their ``LabelClass.id`` when every one has a distinct id, else 1..k. So ``pred``
    may also be a COCO result list (``image_id``, ``category_id``, ``bbox``, ``score``) written
    against the ground truth's COCO file. ``area`` of a ground-truth region is its own area (box,
    polygon, mask), which decides COCO's small/medium/large ranges. Predictions without a score
    count as score 1. Regions that are not spatial are ignored.
    """
    item_index = _ids(list(gt.items), [it.number for it in gt.items.values()])
    used = pred.labels_used() if isinstance(pred, Dataset) else []
    labels = list(dict.fromkeys([*gt.schema.names, *gt.labels_used(), *used]))
    cat = _ids(labels, [c.id if c is not None else None for c in (gt.schema.get(n) for n in labels)])
    images = []
    for k, it in gt.items.items():
        img: dict[str, Any] = {"id": item_index[k], "file_name": it.media or k}
        if it.size is not None:
            img["width"], img["height"] = it.size
        elif iou_type == "segm":
            raise QualityError(f"item {k!r}: segm evaluation rasterises polygons and needs the image size")
        images.append(img)
    anns: list[dict[str, Any]] = []
    for row in _rows(gt, item_index, cat, iou_type, "ground truth"):
        row["id"] = len(anns) + 1
        anns.append(row)
    gt_dict = {"images": images, "categories": [{"id": cat[n], "name": n} for n in labels], "annotations": anns}
    if isinstance(pred, Dataset):
        return gt_dict, list(_rows(pred, item_index, cat, iou_type, "predictions"))
    return gt_dict, _check_results(pred, set(item_index.values()), set(cat.values()), iou_type)


def _check_results(results: Sequence[Mapping[str, Any]], images: set[int], cats: set[int], iou_type: IouType) -> list[dict[str, Any]]:
    need = ("image_id", "category_id", "score", "bbox" if iou_type == "bbox" else "segmentation")
    out = []
    for i, r in enumerate(results):
        if not isinstance(r, Mapping):
            raise QualityError(f"result {i}: expected an object, got {type(r).__name__}")
        missing = [k for k in need if k not in r]
        if missing:
            raise QualityError(f"result {i}: missing {missing}; COCO results need {list(need)}")
        if r["image_id"] not in images:
            raise QualityError(f"result {i}: image_id {r['image_id']!r} is not an image of the ground truth")
        if r["category_id"] not in cats:
            raise QualityError(f"result {i}: category_id {r['category_id']!r} is not a category of the ground truth")
        out.append(dict(r))
    return out


def _rows(ds: Dataset, item_index: Mapping[str, int], cat: Mapping[str, int], iou_type: IouType, side: str) -> Any:
    t = ds.table()
    if not len(t):
        return
    counts = np.diff(t.offsets)
    items = [a.item_id for a in ds.annotations]
    missing = [i for i in dict.fromkeys(items) if i not in item_index]
    if missing:
        raise QualityError(f"{side}: items {missing[:5]} are not in the ground truth; evaluate on matching items")
    img = np.repeat(np.asarray([item_index[i] for i in items], dtype=np.int64), counts)
    keep = np.isin(t.kind, _SPATIAL) & np.isfinite(t.bbox).all(axis=1)
    if iou_type == "segm":
        keep &= np.isin(t.kind, (GeometryKind.POLYGON, GeometryKind.MULTI_POLYGON, GeometryKind.MASK))
    elif iou_type != "bbox":
        raise QualityError(f"unknown iou_type {iou_type!r}; expected 'bbox' or 'segm'")
    cats = np.asarray([cat[n] for n in t.labels], dtype=np.int64)[t.label]
    score = np.ones(len(t)) if t.score is None else np.where(np.isnan(t.score), 1.0, t.score)
    crowd = np.zeros(len(t), dtype=bool) if t.crowd is None else t.crowd
    x1, y1, x2, y2 = (t.bbox[:, k] for k in range(4))
    w, h = x2 - x1, y2 - y1
    is_box = t.kind == GeometryKind.BOX
    for r in np.flatnonzero(keep).tolist():
        d: dict[str, Any] = {"image_id": int(img[r]), "category_id": int(cats[r]),
                             "bbox": [float(x1[r]), float(y1[r]), float(w[r]), float(h[r])], "score": float(score[r])}
        if is_box[r]:
            d["area"] = float(w[r] * h[r])
        else:
            g = t.geometry_at(r)
            d["area"] = float(getattr(g, "area", w[r] * h[r]))
            if iou_type == "segm":
                d["segmentation"] = _segmentation(g)
        d["iscrowd"] = int(crowd[r])
        yield d


@dataclass(frozen=True)
class DetectionEvaluation:
    """COCO's 12 numbers (``stats``, keyed by :data:`COCO_STATS`), AP per class (IoU 0.5:0.95
    and 0.5; NaN for a class with no ground truth), and precision at COCO's 101 recall points per
    class at IoU 0.5 (``pr_curves[label]``; -1 where the recall is never reached)."""

    stats: dict[str, float]
    per_class: dict[str, dict[str, float]]
    recall_points: list[float]
    pr_curves: dict[str, list[float]]
    engine: str
    iou_type: str

    def to_dict(self) -> dict[str, Any]:
        return {"stats": self.stats, "per_class": self.per_class, "recall_points": self.recall_points,
                "pr_curves": self.pr_curves, "engine": self.engine, "iou_type": self.iou_type}


def _run(gt_dict: dict[str, Any], results: list[dict[str, Any]], iou_type: IouType, engine: Engine) -> Any:
    with contextlib.redirect_stdout(io.StringIO()):
        if engine == "faster":
            try:
                from faster_coco_eval import COCO, COCOeval_faster
            except ImportError:
                raise MissingDependencyError("faster-coco-eval", "quality",
                                             "COCO evaluation with the faster engine (or pass engine='pycocotools')") from None

            cg = COCO(gt_dict)
            cd = cg.loadRes(results) if results else COCO({**gt_dict, "annotations": []})
            ev = COCOeval_faster(cg, cd, iou_type)
        elif engine == "pycocotools":
            from pycocotools.coco import COCO as PyCOCO
            from pycocotools.cocoeval import COCOeval

            cg = PyCOCO()
            cg.dataset = gt_dict
            cg.createIndex()
            if results:
                cd = cg.loadRes(results)
            else:
                cd = PyCOCO()
                cd.dataset = {**gt_dict, "annotations": []}
                cd.createIndex()
            ev = COCOeval(cg, cd, iou_type)
        else:
            raise QualityError(f"unknown engine {engine!r}; expected 'faster' or 'pycocotools'")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev


def coco_evaluate(gt: Dataset, pred: Dataset | Sequence[Mapping[str, Any]], *, iou_type: IouType = "bbox",
                  engine: Engine = "faster") -> DetectionEvaluation:
    """Evaluate ``pred`` (regions with ``score``, or a COCO result list) against ``gt`` with
    COCO's protocol (see :func:`to_coco` for ids)."""
    gt_dict, results = to_coco(gt, pred, iou_type)
    if not gt_dict["annotations"]:
        raise QualityError("the ground truth has no regions to evaluate against")
    ev = _run(gt_dict, results, iou_type, engine)
    stats = {k: float(v) for k, v in zip(COCO_STATS, np.asarray(ev.stats)[:12], strict=True)}
    prec = np.asarray(ev.eval["precision"])  # T x R x K x A x M
    iou_thrs = np.asarray(ev.params.iouThrs)
    t50 = int(np.argmin(np.abs(iou_thrs - 0.5)))
    names = {c["id"]: c["name"] for c in gt_dict["categories"]}
    per_class: dict[str, dict[str, float]] = {}
    curves: dict[str, list[float]] = {}
    for k, cid in enumerate(ev.params.catIds):
        p = prec[:, :, k, 0, -1]
        per_class[names[cid]] = {"AP": _mean_valid(p), "AP50": _mean_valid(p[t50])}
        curves[names[cid]] = p[t50].tolist()
    return DetectionEvaluation(stats, per_class, np.asarray(ev.params.recThrs).tolist(), curves, engine, iou_type)


def _mean_valid(x: npt.NDArray[Any]) -> float:
    v = x[x > -1]
    return float(v.mean()) if v.size else float("nan")


class SegmentationAccumulator:
    """Semantic segmentation scores from label maps, streamed with :meth:`update`.

    :meth:`compute` gives per-class IoU ``TP / (TP + FP + FN)`` (NaN for a class absent from
    both sides), mIoU (mean over classes that occur), and pixel accuracy. Pixels whose ground
    truth is ``ignore_index`` are not counted.
    """

    def __init__(self, num_classes: int, ignore_index: int | None = 255) -> None:
        self.num_classes = num_classes
        self.ignore_index = ignore_index
        self.confusion = np.zeros((num_classes, num_classes), dtype=np.int64)

    def update(self, gt: npt.ArrayLike, pred: npt.ArrayLike) -> None:
        g, p = np.asarray(gt).ravel(), np.asarray(pred).ravel()
        if g.shape != p.shape:
            raise QualityError(f"label maps differ in size: {np.shape(gt)} vs {np.shape(pred)}")
        keep = np.ones(g.shape, dtype=bool) if self.ignore_index is None else g != self.ignore_index
        g, p = g[keep].astype(np.int64), p[keep].astype(np.int64)
        bad = (g < 0) | (g >= self.num_classes) | (p < 0) | (p >= self.num_classes)
        if bad.any():
            raise QualityError(f"label maps hold class ids outside 0..{self.num_classes - 1}")
        self.confusion += np.bincount(g * self.num_classes + p, minlength=self.num_classes**2).reshape(
            self.num_classes, self.num_classes)

    def compute(self) -> dict[str, Any]:
        c = self.confusion
        tp = np.diag(c).astype(np.float64)
        denom = c.sum(axis=0) + c.sum(axis=1) - tp
        iou = np.divide(tp, denom, out=np.full_like(tp, np.nan), where=denom > 0)
        total = c.sum()
        return {"iou": iou.tolist(), "miou": float(np.nanmean(iou)) if np.isfinite(iou).any() else float("nan"),
                "pixel_accuracy": float(tp.sum() / total) if total else float("nan")}


@dataclass(frozen=True)
class NerScores:
    """Entity-level scores; ``per_class[label]`` and each average hold precision, recall, f1,
    support (true entities). Division by zero gives 0, as seqeval's default does."""

    per_class: dict[str, dict[str, float]]
    micro: dict[str, float]
    macro: dict[str, float]
    weighted: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {"per_class": self.per_class, "micro": self.micro, "macro": self.macro, "weighted": self.weighted}


def _prf(tp: float, n_pred: float, n_true: float) -> dict[str, float]:
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_true if n_true else 0.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0, "support": n_true}


def ner_scores(true: Sequence[Sequence[Span]], pred: Sequence[Sequence[Span]]) -> NerScores:
    """Exact-match entity scores of ``pred`` against ``true``, one span list per document."""
    if len(true) != len(pred):
        raise QualityError(f"{len(true)} true documents but {len(pred)} predicted ones")
    ts = {(d, *s) for d, spans in enumerate(true) for s in spans}
    ps = {(d, *s) for d, spans in enumerate(pred) for s in spans}
    labels = sorted({s[3] for s in ts | ps})
    per = {}
    for lab in labels:
        t = {s for s in ts if s[3] == lab}
        p = {s for s in ps if s[3] == lab}
        per[lab] = _prf(len(t & p), len(p), len(t))
    micro = _prf(len(ts & ps), len(ps), len(ts))
    keys = ("precision", "recall", "f1")
    macro = {k: float(np.mean([per[lab][k] for lab in labels])) if labels else 0.0 for k in keys}
    macro["support"] = len(ts)
    total = sum(per[lab]["support"] for lab in labels)
    weighted = {k: (sum(per[lab][k] * per[lab]["support"] for lab in labels) / total if total else 0.0) for k in keys}
    weighted["support"] = len(ts)
    return NerScores(per, micro, macro, weighted)


def ner_evaluate(gt: Dataset, pred: Dataset) -> NerScores:
    """:func:`ner_scores` of the text spans of ``pred`` against those of ``gt``, item by item
    (``gt``'s items; an item without predictions has none)."""
    from labelgate.quality.spans import spans_of

    t, p = spans_of(gt), spans_of(pred)
    return ner_scores([t[k] for k in gt.items], [p.get(k, []) for k in gt.items])


def ner_scores_from_tags(true: Sequence[Sequence[str]], pred: Sequence[Sequence[str]], *,
                         scheme: Scheme = "IOB2", mode: Mode = "lenient") -> NerScores:
    """:func:`ner_scores` of tag sequences decoded with :func:`~labelgate.quality.spans.decode_tags`."""
    for i, (t, p) in enumerate(zip(true, pred, strict=False)):
        if len(t) != len(p):
            raise QualityError(f"sentence {i}: {len(t)} true tags but {len(p)} predicted ones")
    return ner_scores([decode_tags(t, scheme=scheme, mode=mode) for t in true],
                      [decode_tags(p, scheme=scheme, mode=mode) for p in pred])
