"""Evaluation against the reference implementations: pycocotools for COCO's numbers, seqeval
for entity scores, scikit-learn for segmentation IoU."""

from __future__ import annotations

import contextlib
import io
import math
import warnings

import numpy as np
import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
from seqeval.metrics import classification_report
from sklearn.metrics import jaccard_score

from labelgate.core import Annotation, Box, Dataset, Item, LabelSchema, Polygon, QualityError, Region
from labelgate.quality.evaluation import (
    COCO_STATS,
    SegmentationAccumulator,
    coco_evaluate,
    ner_scores,
    ner_scores_from_tags,
)

LABELS = ["person", "car", "dog"]


def _generated(seed: int, n_items: int = 60, polygons: bool = False) -> tuple[Dataset, Dataset]:
    rng = np.random.default_rng(seed)
    items = [Item(f"im{i}", width=640, height=480) for i in range(n_items)]
    gts, preds = [], []
    for it in items:
        g, p = [], []
        for _ in range(rng.integers(0, 9)):
            x, y = rng.uniform(0, 500, 2)
            w, h = np.exp(rng.uniform(1, 5, 2))  # sizes across COCO's small/medium/large
            label = str(rng.choice(LABELS))
            geom = _shape(x, y, w, h, polygons)
            g.append(Region(geom, label, crowd=bool(rng.random() < 0.04)))
            if rng.random() < 0.8:
                d = rng.normal(0, 0.08, 4) * (w, h, w, h)
                lab = label if rng.random() < 0.85 else str(rng.choice(LABELS))
                p.append(Region(_shape(x + d[0], y + d[1], max(1, w + d[2]), max(1, h + d[3]), polygons), lab,
                                score=float(rng.random())))
        for _ in range(rng.integers(0, 3)):
            x, y = rng.uniform(0, 500, 2)
            p.append(Region(_shape(x, y, 30, 30, polygons), str(rng.choice(LABELS)), score=float(rng.random())))
        gts.append(Annotation(it.id, g))
        preds.append(Annotation(it.id, p))
    schema = LabelSchema.from_names(LABELS)
    return Dataset(items, gts, schema), Dataset(items, preds, schema)


def _shape(x: float, y: float, w: float, h: float, polygon: bool) -> Box | Polygon:
    if not polygon:
        return Box(x, y, x + w, y + h)
    return Polygon((x, y, x + w, y, x + w * 0.8, y + h, x, y + h * 0.6))


def _pycocotools(gt: Dataset, pred: Dataset, iou_type: str) -> COCOeval:
    """An independent conversion, straight from the regions, evaluated by pycocotools."""
    ids = {k: i + 1 for i, k in enumerate(gt.items)}
    cats = {n: i + 1 for i, n in enumerate(LABELS)}

    def row(a: Annotation, r: Region) -> dict:
        g = r.geometry
        if isinstance(g, Box):
            bbox, area, seg = [g.x1, g.y1, g.width, g.height], g.area, None
        else:
            xs, ys = g.points[0::2], g.points[1::2]
            bbox = [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]
            area, seg = g.area, [list(g.points)]
        d = {"image_id": ids[a.item_id], "category_id": cats[r.label], "bbox": bbox, "area": area,
             "iscrowd": int(r.crowd), "score": 1.0 if r.score is None else r.score}
        if iou_type == "segm":
            d["segmentation"] = seg
        return d

    anns = [dict(row(a, r), id=n + 1) for n, (a, r) in enumerate(gt.iter_regions())]
    res = [row(a, r) for a, r in pred.iter_regions()]
    with contextlib.redirect_stdout(io.StringIO()):
        cg = COCO()
        cg.dataset = {"images": [{"id": i, "width": 640, "height": 480} for i in ids.values()],
                      "categories": [{"id": c, "name": n} for n, c in cats.items()], "annotations": anns}
        cg.createIndex()
        ev = COCOeval(cg, cg.loadRes(res), iou_type)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev


@pytest.mark.parametrize("engine", ["faster", "pycocotools"])
@pytest.mark.parametrize(("seed", "iou_type"), [(0, "bbox"), (1, "bbox"), (2, "segm")])
def test_coco_numbers_equal_pycocotools(engine: str, seed: int, iou_type: str) -> None:
    gt, pred = _generated(seed, polygons=iou_type == "segm")
    ref = _pycocotools(gt, pred, iou_type)
    ours = coco_evaluate(gt, pred, iou_type=iou_type, engine=engine)  # type: ignore[arg-type]
    assert list(ours.stats) == list(COCO_STATS)
    np.testing.assert_allclose([ours.stats[k] for k in COCO_STATS], ref.stats, rtol=0, atol=1e-12)
    prec = ref.eval["precision"]
    for k, name in enumerate(LABELS):
        p = prec[:, :, k, 0, -1]
        assert ours.per_class[name]["AP"] == pytest.approx(p[p > -1].mean(), abs=1e-12)
        np.testing.assert_allclose(ours.pr_curves[name], p[0], atol=1e-12)
    assert len(ours.recall_points) == 101
    assert ours.to_dict()["stats"]["AP"] == ours.stats["AP"]


def test_perfect_predictions_score_one() -> None:
    gt, _ = _generated(5)
    gt = Dataset(gt.items.values(), [a.replace(regions=[Region(r.geometry, r.label) for r in a.regions]) for a in gt.annotations])
    ours = coco_evaluate(gt, gt)
    assert ours.stats["AP"] == pytest.approx(1.0) and ours.stats["AR100"] == pytest.approx(1.0)


def test_evaluation_errors() -> None:
    gt, pred = _generated(0, n_items=3)
    stranger = Dataset([Item("elsewhere")], [Annotation("elsewhere", [Region(Box(0, 0, 1, 1), "car", score=0.5)])])
    with pytest.raises(QualityError, match="not in the ground truth"):
        coco_evaluate(gt, stranger)
    with pytest.raises(QualityError, match="no regions"):
        coco_evaluate(Dataset(gt.items.values()), pred)
    with pytest.raises(QualityError, match="image size"):
        coco_evaluate(Dataset([Item("a")], [Annotation("a", [Region(Box(0, 0, 1, 1), "car")])]),
                      Dataset([Item("a")]), iou_type="segm")


def test_segmentation_miou_equals_scikit_learn() -> None:
    rng = np.random.default_rng(0)
    acc = SegmentationAccumulator(4, ignore_index=255)
    gs, ps = [], []
    for _ in range(3):
        g = rng.integers(0, 4, (20, 30))
        g[rng.random(g.shape) < 0.05] = 255
        p = np.where(rng.random(g.shape) < 0.7, g, rng.integers(0, 4, g.shape))
        p[g == 255] = 0
        acc.update(g, p)
        gs.append(g.ravel())
        ps.append(p.ravel())
    g, p = np.concatenate(gs), np.concatenate(ps)
    keep = g != 255
    want = jaccard_score(g[keep], p[keep], average=None, labels=[0, 1, 2, 3])
    out = acc.compute()
    np.testing.assert_allclose(out["iou"], want, rtol=1e-12)
    assert out["miou"] == pytest.approx(want.mean())
    assert out["pixel_accuracy"] == pytest.approx((g[keep] == p[keep]).mean())
    with pytest.raises(QualityError, match="outside"):
        acc.update(np.array([7]), np.array([0]))
    with pytest.raises(QualityError, match="differ in size"):
        acc.update(np.zeros(3), np.zeros(2))


def _seqeval_equal(ours: dict, ref: dict) -> None:
    for label, d in ours["per_class"].items():
        for k in ("precision", "recall", "f1"):
            assert d[k] == pytest.approx(ref[label][k if k != "f1" else "f1-score"], abs=1e-12), (label, k)
        assert d["support"] == ref[label]["support"]
    for ours_key, ref_key in (("micro", "micro avg"), ("macro", "macro avg"), ("weighted", "weighted avg")):
        for k in ("precision", "recall", "f1"):
            assert ours[ours_key][k] == pytest.approx(ref[ref_key][k if k != "f1" else "f1-score"], abs=1e-12)


@pytest.mark.parametrize("seed", range(4))
def test_ner_scores_equal_seqeval(seed: int) -> None:
    rng = np.random.default_rng(seed)
    tags = ["O", "O", "O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-MISC"]
    y_true = [[str(t) for t in rng.choice(tags, rng.integers(1, 15))] for _ in range(30)]
    y_pred = [[t if rng.random() < 0.8 else str(rng.choice(tags)) for t in s] for s in y_true]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # seqeval warns about classes without predictions
        ref = classification_report(y_true, y_pred, output_dict=True)
    _seqeval_equal(ner_scores_from_tags(y_true, y_pred).to_dict(), ref)


def test_ner_scores_from_spans_and_errors() -> None:
    s = ner_scores([[(0, 2, "PER")], []], [[(0, 2, "PER")], [(1, 2, "LOC")]])
    assert s.micro["precision"] == 0.5 and s.micro["recall"] == 1.0
    assert s.per_class["LOC"]["support"] == 0 and s.per_class["LOC"]["f1"] == 0.0
    assert math.isclose(s.macro["f1"], 0.5)
    with pytest.raises(QualityError, match="documents"):
        ner_scores([[]], [])
    with pytest.raises(QualityError, match="sentence 0"):
        ner_scores_from_tags([["O"]], [["O", "O"]])
