"""Fusion of several annotators' boxes and masks into a consensus."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelgate.core import (
    Annotation,
    Box,
    Dataset,
    Item,
    Polygon,
    Provenance,
    QualityError,
    Region,
    RotatedBox,
    Source,
    rle,
)
from labelgate.quality.fusion import fuse_dataset, fuse_masks, fuse_regions, majority_label


def test_box_fusion_with_quorum_mean_and_majority() -> None:
    a = [Region(Box(0, 0, 10, 10), "cat"), Region(Box(100, 100, 110, 110), "dog")]
    b = [Region(Box(2, 0, 12, 10), "cat")]
    c = [Region(Box(1, 1, 11, 11), "dog"), Region(Box(50, 50, 60, 60), "bird")]
    out = fuse_regions([a, b, c], quorum=3)
    assert len(out) == 1
    (r,) = out
    assert r.geometry == Box(1, 1 / 3, 11, 31 / 3) and r.label == "cat" and r.score == 1.0
    assert len(fuse_regions([a, b, c], quorum=1)) == 3


def test_tie_rule_is_alphabetical_and_order_free() -> None:
    assert majority_label(["dog", "cat"]) == "cat" == majority_label(["cat", "dog"])
    assert majority_label(["dog", "dog", "cat"]) == "dog"
    with pytest.raises(QualityError):
        majority_label([])


def test_rotated_boxes_use_a_circular_mean_angle() -> None:
    a = [Region(RotatedBox(10, 10, 8, 4, 179), "x")]
    b = [Region(RotatedBox(10, 10, 8, 4, -179), "x")]
    (r,) = fuse_regions([a, b], quorum=2, iou_threshold=0.3)
    assert isinstance(r.geometry, RotatedBox)
    assert abs(abs(r.geometry.angle) - 180) < 1e-9


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**31 - 1), st.integers(1, 5))
def test_mask_majority_per_pixel(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    arrays = [rng.random((7, 9)) < 0.5 for _ in range(n)]
    fused = rle.decode(fuse_masks([rle.encode(a) for a in arrays]))
    np.testing.assert_array_equal(fused, (np.sum(arrays, axis=0) * 2 > n).astype(np.uint8))
    one = rle.decode(fuse_masks([rle.encode(a) for a in arrays], quorum=1))
    np.testing.assert_array_equal(one, np.any(arrays, axis=0).astype(np.uint8))


def test_masks_in_a_cluster_are_voted() -> None:
    base = np.zeros((10, 10), dtype=bool)
    base[2:8, 2:8] = True
    other = base.copy()
    other[2, 2:8] = False
    out = fuse_regions([[Region(rle.encode(base), "m")], [Region(rle.encode(base), "m")], [Region(rle.encode(other), "m")]],
                       quorum=2)
    assert rle.decode(out[0].geometry).astype(bool).tolist() == base.tolist()  # type: ignore[arg-type]


def test_fusion_errors() -> None:
    p = Polygon((0, 0, 5, 0, 5, 5))
    with pytest.raises(QualityError, match="convert polygons"):
        fuse_regions([[Region(p, "x")], [Region(p, "x")]], quorum=2)
    with pytest.raises(QualityError, match="quorum"):
        fuse_regions([[], []], quorum=3)
    with pytest.raises(QualityError, match="different sizes"):
        fuse_masks([rle.encode(np.zeros((2, 2))), rle.encode(np.zeros((3, 2)))])


def test_fuse_dataset_by_author() -> None:
    items = [Item("i"), Item("j")]
    anns = [
        Annotation("i", [Region(Box(0, 0, 10, 10), "cat")], Provenance(author="a")),
        Annotation("i", [Region(Box(0, 0, 10, 10), "cat")], Provenance(author="b")),
        Annotation("j", [Region(Box(0, 0, 10, 10), "cat")], Provenance(author="a")),
    ]
    out = fuse_dataset(Dataset(items, anns), quorum=2)
    assert [a.item_id for a in out.annotations] == ["i"]
    assert out.annotations[0].provenance.source is Source.CONSENSUS
    assert out.annotations[0].regions == (Region(Box(0, 0, 10, 10), "cat", score=1.0),)
    with pytest.raises(QualityError, match="no annotations"):
        fuse_dataset(Dataset(items, anns), quorum=1, annotators=["zed"])
