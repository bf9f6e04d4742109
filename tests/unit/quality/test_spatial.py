"""Spatial agreement: properties (symmetry, renaming, perfect annotators) and oracles
(scikit-learn's kappa, the krippendorff package's alpha)."""

from __future__ import annotations

import krippendorff
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import cohen_kappa_score

from labelgate.core import (
    Annotation,
    Box,
    Dataset,
    Item,
    Keypoints,
    LabelClass,
    LabelSchema,
    Polygon,
    Provenance,
    QualityError,
    Region,
    Skeleton,
    TextSpan,
)
from labelgate.quality.spatial import cohen_kappa, compare, nominal_alpha, spatial_agreement

LABELS = ["cat", "dog", "bird"]


def _annotator(rng: np.random.Generator, truth: dict[str, list[Region]], p_drop: float, p_relabel: float,
               jitter: float) -> dict[str, list[Region]]:
    out: dict[str, list[Region]] = {}
    for item, regs in truth.items():
        mine = []
        for r in regs:
            if rng.random() < p_drop:
                continue
            g = r.geometry
            assert isinstance(g, Box)
            d = rng.normal(0, jitter, 4)
            b = Box(g.x1 + d[0], g.y1 + d[1], max(g.x1 + d[0] + 1, g.x2 + d[2]), max(g.y1 + d[1] + 1, g.y2 + d[3]))
            label = str(rng.choice(LABELS)) if rng.random() < p_relabel else r.label
            mine.append(Region(b, label))
        if rng.random() < p_drop:
            x, y = rng.uniform(0, 200, 2)
            mine.append(Region(Box(x, y, x + 20, y + 20), str(rng.choice(LABELS))))
        rng.shuffle(mine)  # type: ignore[arg-type]
        out[item] = mine
    return out


def _truth(rng: np.random.Generator, items: int = 6) -> dict[str, list[Region]]:
    out = {}
    for i in range(items):
        regs = []
        for _ in range(rng.integers(0, 6)):
            x, y = rng.uniform(0, 200, 2)
            w, h = rng.uniform(5, 40, 2)
            regs.append(Region(Box(x, y, x + w, y + h), str(rng.choice(LABELS))))
        out[f"img{i}"] = regs
    return out


seeds = st.integers(0, 2**32 - 1)


@settings(max_examples=40, deadline=None)
@given(seeds)
def test_symmetric_in_annotators(seed: int) -> None:
    rng = np.random.default_rng(seed)
    t = _truth(rng)
    a, b = _annotator(rng, t, 0.2, 0.2, 3), _annotator(rng, t, 0.2, 0.2, 3)
    ab, ba = compare(a, b), compare(b, a)
    for k in ("f1", "f1_class_agnostic", "kappa", "mean_iou", "matched", "label_mismatch", "low_overlap"):
        assert getattr(ab, k) == pytest.approx(getattr(ba, k), nan_ok=True), k
    assert (ab.missing, ab.extra) == (ba.extra, ba.missing)
    np.testing.assert_array_equal(ab.confusion, ba.confusion.T)


@settings(max_examples=30, deadline=None)
@given(seeds, st.permutations(["x1", "x2", "x3"]))
def test_invariant_to_renaming_labels(seed: int, names: list[str]) -> None:
    rng = np.random.default_rng(seed)
    t = _truth(rng)
    a, b = _annotator(rng, t, 0.2, 0.3, 3), _annotator(rng, t, 0.2, 0.3, 3)
    rename = dict(zip(LABELS, names, strict=True))

    def ren(x: dict[str, list[Region]]) -> dict[str, list[Region]]:
        return {k: [Region(r.geometry, rename[r.label]) for r in v] for k, v in x.items()}

    for scheme in ("agnostic", "two_pass"):
        r1, r2 = compare(a, b, scheme=scheme), compare(ren(a), ren(b), scheme=scheme)  # type: ignore[arg-type]
        for k in ("f1", "f1_class_agnostic", "kappa", "mean_iou", "missing", "extra", "label_mismatch"):
            assert getattr(r1, k) == pytest.approx(getattr(r2, k), nan_ok=True), k
    m1 = spatial_agreement({"p": a, "q": b, "r": t})
    m2 = spatial_agreement({"p": ren(a), "q": ren(b), "r": ren(t)})
    assert m1.alpha == pytest.approx(m2.alpha)


@settings(max_examples=30, deadline=None)
@given(seeds)
def test_kappa_equals_scikit_learn_with_an_empty_category(seed: int) -> None:
    rng = np.random.default_rng(seed)
    t = _truth(rng)
    a, b = _annotator(rng, t, 0.3, 0.3, 4), _annotator(rng, t, 0.3, 0.3, 4)
    r = compare(a, b)
    if r.n_a + r.n_b == 0:
        return
    ya, yb = [], []
    names = [*r.labels, ""]
    for i in range(len(names)):
        for j in range(len(names)):
            ya += [names[i]] * int(r.confusion[i, j])
            yb += [names[j]] * int(r.confusion[i, j])
    want = cohen_kappa_score(ya, yb) if len(set(ya) | set(yb)) > 1 else 1.0
    assert r.kappa == pytest.approx(want, abs=1e-12)
    assert r.confusion[-1, -1] == 0
    assert r.f1 == pytest.approx(2 * r.agreed / (r.n_a + r.n_b))


def test_perfect_annotators_score_one() -> None:
    t = _truth(np.random.default_rng(3), items=8)
    r = compare(t, t)
    assert (r.f1, r.f1_class_agnostic, r.kappa, r.mean_iou) == (1.0, 1.0, 1.0, 1.0)
    assert r.conflicts == [] and r.missing == r.extra == 0
    m = spatial_agreement({"a": t, "b": t, "c": t})
    assert m.alpha == 1.0 and m.mean == {"f1": 1.0, "f1_class_agnostic": 1.0, "mean_iou": 1.0, "kappa": 1.0}
    one_label = {"i": [Region(Box(0, 0, 5, 5), "cat")]}
    assert compare(one_label, one_label).kappa == 1.0


def test_conflict_list_names_each_kind() -> None:
    a = {"i": [Region(Box(0, 0, 10, 10), "cat"), Region(Box(20, 20, 30, 30), "dog"), Region(Box(50, 50, 60, 60), "dog")]}
    b = {"i": [Region(Box(0, 0, 10, 10), "cat"), Region(Box(21, 21, 30, 30), "cat"), Region(Box(80, 80, 90, 90), "dog")]}
    r = compare(a, b, low_overlap=0.9)
    kinds = sorted((c.kind, c.a, c.b) for c in r.conflicts)
    assert kinds == [("extra", None, 2), ("label_mismatch", 1, 1), ("low_overlap", 1, 1), ("missing", 2, None)]
    assert (r.matched, r.agreed, r.missing, r.extra, r.label_mismatch, r.low_overlap) == (2, 1, 1, 1, 1, 1)
    assert r.f1 == pytest.approx(2 / 6) and r.f1_class_agnostic == pytest.approx(4 / 6)
    assert r.confusion.tolist() == [[1, 0, 0], [1, 0, 1], [0, 1, 0]]
    d = r.to_dict()
    assert d["conflicts"][0]["item_id"] == "i" and d["annotators"] == ["a", "b"]


def test_nominal_alpha_equals_krippendorff_package() -> None:
    rng = np.random.default_rng(0)
    for _ in range(20):
        data = rng.integers(0, 4, (4, 30)).astype(float)
        data[rng.random(data.shape) < 0.25] = np.nan
        units = [[None if np.isnan(v) else int(v) for v in col] for col in data.T]
        want = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
        assert nominal_alpha(units) == pytest.approx(want, abs=1e-12)


def test_cluster_alpha_over_reliability_data() -> None:
    # one item, three annotators; clusters: (cat, cat, cat), (dog, cat, empty); c did not see item j
    a = {"i": [Region(Box(0, 0, 10, 10), "cat"), Region(Box(50, 50, 60, 60), "dog")], "j": [Region(Box(0, 0, 5, 5), "cat")]}
    b = {"i": [Region(Box(0, 0, 10, 11), "cat"), Region(Box(50, 50, 61, 60), "cat")], "j": [Region(Box(0, 0, 5, 5), "cat")]}
    c = {"i": [Region(Box(1, 0, 10, 10), "cat")]}
    m = spatial_agreement({"a": a, "b": b, "c": c})
    want = krippendorff.alpha(reliability_data=np.array([[0, 1, 0], [0, 0, 0], [0, 2, np.nan]], dtype=float),
                              level_of_measurement="nominal")
    assert m.clusters == 3 and m.alpha == pytest.approx(want)
    assert [p.annotators for p in m.pairs] == [("a", "b"), ("a", "c"), ("b", "c")]


def test_dataset_input_by_author_with_keypoints_and_skipped_regions() -> None:
    sk = Skeleton(("head", "tail"), sigmas=(0.1, 0.1))
    schema = LabelSchema((LabelClass("fish", skeleton=sk), LabelClass("cat")))
    items = [Item("i", width=100, height=100)]
    kp = Keypoints((10, 10, 50, 50), (2, 2))
    poly = Polygon((0, 0, 20, 0, 20, 20, 0, 20))
    anns = [
        Annotation("i", [Region(kp, "fish"), Region(poly, "cat"), Region(TextSpan(0, 1), "x")], Provenance(author="ann")),
        Annotation("i", [Region(kp, "fish"), Region(Box(0, 0, 20, 20), "cat")], Provenance(author="bob")),
    ]
    m = spatial_agreement(Dataset(items, anns, schema))
    (p,) = m.pairs
    assert (p.matched, p.agreed, p.skipped, p.mean_iou) == (2, 2, 1, pytest.approx(1.0))
    with pytest.raises(QualityError, match="at least two annotators"):
        spatial_agreement(Dataset(items, anns[:1], schema))


def test_cohen_kappa_edge_cases() -> None:
    assert np.isnan(cohen_kappa(np.zeros((2, 2))))
    assert cohen_kappa([[3, 0], [0, 0]]) == 1.0
    assert cohen_kappa([[0, 2], [2, 0]]) == pytest.approx(-1.0)


def _box_dataset(seed: int, authors: tuple[str, ...] = ("ann", "bob", "cy")) -> Dataset:
    rng = np.random.default_rng(seed)
    t = _truth(rng, items=12)
    items = [Item(k) for k in t] + [Item("unseen")]
    anns = []
    for who in authors:
        mine = _annotator(rng, t, 0.25, 0.25, 6)  # heavy jitter: objects compete, Hungarian runs
        for k, regs in mine.items():
            if rng.random() < 0.9:
                anns.append(Annotation(k, regs, Provenance(author=who)))
    return Dataset(items, anns)


def _same(x: object, y: object) -> None:
    for k in ("items", "n_a", "n_b", "matched", "agreed", "missing", "extra", "label_mismatch", "low_overlap",
              "f1", "f1_class_agnostic", "kappa", "mean_iou"):
        assert getattr(x, k) == pytest.approx(getattr(y, k), nan_ok=True), k
    assert (x.labels, x.per_class) == (y.labels, y.per_class)  # type: ignore[attr-defined]
    np.testing.assert_array_equal(x.confusion, y.confusion)  # type: ignore[attr-defined]
    np.testing.assert_array_equal(x.item_counts, y.item_counts)  # type: ignore[attr-defined]
    assert sorted(map(repr, x.conflicts)) == sorted(map(repr, y.conflicts))  # type: ignore[attr-defined]


@settings(max_examples=15, deadline=None)
@given(seeds, st.sampled_from(["agnostic", "two_pass", "label"]))
def test_columnar_box_path_equals_per_item_path(seed: int, scheme: str) -> None:
    from labelgate.quality.spatial import by_annotator

    ds = _box_dataset(seed)
    per = by_annotator(ds)
    fast = spatial_agreement(ds, scheme=scheme)  # type: ignore[arg-type]
    slow = spatial_agreement(per, scheme=scheme)  # type: ignore[arg-type]
    assert fast.annotators == slow.annotators and fast.clusters == slow.clusters
    assert fast.alpha == pytest.approx(slow.alpha, nan_ok=True)
    for f, s in zip(fast.pairs, slow.pairs, strict=True):
        _same(f, s)
    a = Dataset(ds.items.values(), [x for x in ds.annotations if x.provenance.author == "ann"])
    b = Dataset(ds.items.values(), [x for x in ds.annotations if x.provenance.author == "bob"])
    from labelgate.quality.spatial import _as_items

    _same(compare(a, b, scheme=scheme), compare(_as_items(a), _as_items(b), scheme=scheme))  # type: ignore[arg-type]


def test_public_exports_include_the_spatial_api() -> None:
    import labelgate.quality as q

    mine = {"box_iou", "iou_matrix", "shape_iou", "mask_iou", "mask_dice", "oks", "match", "match_greedy", "cluster",
            "Matching", "compare", "spatial_agreement", "PairAgreement", "MultiAgreement", "PairAccumulator", "Conflict",
            "span_agreement", "SpanAgreement", "decode_tags", "fuse_regions", "fuse_dataset", "fuse_masks",
            "coco_evaluate", "DetectionEvaluation", "SegmentationAccumulator", "ner_scores", "ner_scores_from_tags",
            "NerScores", "COCO_STATS", "QualityReport"}
    assert mine <= set(q.__all__)
    assert all(hasattr(q, n) for n in q.__all__)


def test_columnar_path_edge_cases_equal_per_item_path() -> None:
    from labelgate.quality.spatial import _as_items

    items = [Item("empty"), Item("one-sided"), Item("points"), Item("crowded")]
    a = Dataset(items, [
        Annotation("one-sided", [Region(Box(0, 0, 5, 5), "cat")]),
        Annotation("points", [Region(Box(3, 3, 3, 3), "cat"), Region(Box(4, 4, 4, 4), "dog")]),
        Annotation("crowded", [Region(Box(0, 0, 10, 10), "cat"), Region(Box(0, 0, 10, 12), "dog"), Region(Box(1, 0, 11, 10), "cat")]),
    ])
    b = Dataset(items, [
        Annotation("points", [Region(Box(3, 3, 3, 3), "cat")]),
        Annotation("crowded", [Region(Box(0, 0, 10, 11), "dog"), Region(Box(0, 1, 10, 10), "cat")]),
    ])
    for scheme in ("agnostic", "two_pass", "label"):
        fast = compare(a, b, scheme=scheme)  # type: ignore[arg-type]
        _same(fast, compare(_as_items(a), _as_items(b), scheme=scheme))  # type: ignore[arg-type]
    fast = compare(a, b)
    assert (fast.items, fast.n_a, fast.n_b, fast.matched) == (4, 6, 3, 3)
    fast_m = spatial_agreement({"a": a, "b": b, "c": a})
    slow_m = spatial_agreement({"a": _as_items(a), "b": _as_items(b), "c": _as_items(a)})
    assert (fast_m.clusters, fast_m.alpha) == (slow_m.clusters, pytest.approx(slow_m.alpha))
