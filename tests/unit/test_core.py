"""Core model invariants and helpers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pycocotools import mask as cocomask

import labelgate.core as core
from labelgate.core import (
    Annotation,
    Box,
    Dataset,
    InvariantError,
    Item,
    ItemKind,
    Keypoints,
    LabelClass,
    LabelSchema,
    Mask,
    MultiPolygon,
    Polygon,
    Provenance,
    Region,
    RotatedBox,
    Skeleton,
    TextSpan,
    Track,
    TrackShape,
    bounds,
    rle,
)
from labelgate.core.checks import dataset_stats, validate_dataset


def test_public_exports_are_deliberate() -> None:
    assert set(core.__all__) == {n for n in dir(core) if not n.startswith("_")} - {
        "annotations", "checks", "dataset", "errors", "geometry", "items", "schema", "table", "tracks"
    }


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Box(5, 0, 1, 1), "inverted"),
        (lambda: Box(float("nan"), 0, 1, 1), "finite"),
        (lambda: Polygon((0, 0, 1, 1)), "at least 3"),
        (lambda: Polygon((0, 0, 1, 1, 2)), "odd"),
        (lambda: Keypoints((0, 0, 1, 1), (2,)), "visibility"),
        (lambda: Keypoints((0, 0), (3,)), "0, 1 or 2"),
        (lambda: Mask(2, 2, (1, 2)), "sum"),
        (lambda: TextSpan(3, 3), "start < end"),
        (lambda: RotatedBox(0, 0, -1, 1), "negative"),
        (lambda: Region(Box(0, 0, 1, 1), ""), "label"),
        (lambda: Item("a", width=0, height=3), "positive"),
        (lambda: Item("a", width=3), "together"),
        (lambda: Item("t", ItemKind.TEXT), "text"),
        (lambda: LabelSchema((LabelClass("a"), LabelClass("a"))), "twice"),
        (lambda: LabelSchema((LabelClass("a", 1), LabelClass("b", 1))), "id 1"),
        (lambda: Skeleton(("a", "b"), ((0, 2),)), "outside"),
        (lambda: Provenance(lead_time=-1), "lead_time"),
        (lambda: Track(1, "car", (TrackShape(0, Box(0, 0, 1, 1)), TrackShape(0, Box(0, 0, 2, 2)))), "two shapes"),
        (lambda: MultiPolygon(()), "at least one"),
    ],
)
def test_invariants_are_checked_at_construction(make, message: str) -> None:
    with pytest.raises(InvariantError, match=message):
        make()


def test_dataset_rejects_dangling_annotation_and_duplicate_items() -> None:
    with pytest.raises(InvariantError, match="unknown item"):
        Dataset([Item("a")], [Annotation("b")])
    with pytest.raises(InvariantError, match="twice"):
        Dataset([Item("a"), Item("a")])


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 12), st.integers(1, 12), st.data())
def test_rle_matches_pycocotools(h: int, w: int, data: st.DataObject) -> None:
    arr = np.array(data.draw(st.lists(st.integers(0, 1), min_size=h * w, max_size=h * w)), dtype=np.uint8).reshape(h, w)
    m = rle.encode(arr)
    assert np.array_equal(rle.decode(m), arr)
    ours = cocomask.frPyObjects({"size": [h, w], "counts": list(m.counts)}, h, w)
    assert np.array_equal(cocomask.decode(ours), arr)
    assert m.area == int(cocomask.area(ours))
    assert m.area == int(arr.sum())


def test_bounds_of_each_geometry() -> None:
    assert bounds(Box(1, 2, 3, 4)) == (1, 2, 3, 4)
    assert bounds(Polygon((0, 0, 4, 0, 2, 3))) == (0, 0, 4, 3)
    assert bounds(Keypoints((5, 5, 0, 0, 1, 9), (2, 0, 1))) == (1, 5, 5, 9)
    rb = bounds(RotatedBox(10, 10, 4, 2, 90))
    assert rb is not None and np.allclose(rb, (9, 8, 11, 12))
    arr = np.zeros((5, 6), np.uint8)
    arr[1:3, 2:5] = 1
    assert bounds(rle.encode(arr)) == (2, 1, 5, 3)
    assert bounds(TextSpan(0, 2)) is None


def test_table_roundtrip_and_lazy_annotation() -> None:
    regs = [Region(Box(0, 0, 2, 3), "cat", id=7, score=0.5, attributes={"a": "x"}),
            Region(Polygon((0, 0, 1, 0, 1, 1)), "dog", occluded=True, z_order=2)]
    table = core.RegionTable.from_regions([regs, []])
    assert len(table) == 2 and table.n_annotations == 2
    lazy = Annotation.from_table("a", table, table.rows_of(0))
    assert len(lazy) == 2
    assert lazy.regions == tuple(regs)
    ds = Dataset([Item("a"), Item("b")], [lazy, Annotation.from_table("b", table, table.rows_of(1))])
    assert ds.table() is table


def test_validate_finds_each_problem() -> None:
    ds = Dataset(
        [Item("a", width=10, height=10, media="a.jpg"), Item("b", width=10, height=10)],
        [
            Annotation("a", [Region(Box(0, 0, 20, 5), "cat", id=1), Region(Box(1, 1, 1, 5), "cat", id=1)]),
            Annotation("b", [Region(Polygon((0, 0, 4, 4, 4, 0, 0, 4)), "ghost")]),
        ],
        LabelSchema.from_names(["cat"]),
    )
    codes = {f.code for f in validate_dataset(ds, media_exists=lambda item: False)}
    assert codes == {"geometry.out_of_bounds", "box.degenerate", "id.duplicate", "label.unknown",
                     "polygon.invalid", "media.missing"}


def test_stats_counts_classes_and_sizes() -> None:
    ds = Dataset(
        [Item("a", width=100, height=100), Item("b", width=100, height=100)],
        [Annotation("a", [Region(Box(0, 0, 10, 10), "cat"), Region(Box(0, 0, 50, 50), "dog"),
                          Region(Box(0, 0, 100, 100), "cat")])],
        LabelSchema.from_names(["cat", "dog", "bird"]),
    )
    s = dataset_stats(ds)
    assert s["classes"] == {"cat": 2, "dog": 1, "bird": 0}
    assert s["items_without_objects"] == 1
    assert s["box_size_coco"] == {"small": 1, "medium": 1, "large": 1}
    assert s["objects_per_item"]["max"] == 3
