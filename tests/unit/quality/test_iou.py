"""Overlap measures against outside oracles: shapely for exact geometry, pycocotools for RLE
IoU, rasterisation and OKS."""

from __future__ import annotations

import contextlib
import io
import math

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pycocotools import mask as cocomask

from labelgate.core import Box, Keypoints, Mask, MultiPolygon, Polygon, Polyline, QualityError, RotatedBox, rle
from labelgate.quality.iou import (
    COCO_KEYPOINT_SIGMAS,
    box_iou,
    iou_matrix,
    mask_dice,
    mask_iou,
    oks,
    shape_iou,
    to_coco_rle,
)

coord = st.floats(0, 100, allow_nan=False).map(lambda v: round(v, 2))


@st.composite
def boxes(draw: st.DrawFn) -> Box:
    x1, x2 = sorted((draw(coord), draw(coord)))
    y1, y2 = sorted((draw(coord), draw(coord)))
    return Box(x1, y1, x2 + 0.5, y2 + 0.5)


@st.composite
def stars(draw: st.DrawFn) -> Polygon:
    cx, cy = draw(coord), draw(coord)
    n = draw(st.integers(3, 9))
    radii = [draw(st.floats(1, 40)) for _ in range(n)]
    pts: list[float] = []
    for i, r in enumerate(radii):
        a = 2 * math.pi * i / n
        pts += [cx + r * math.cos(a), cy + r * math.sin(a)]
    return Polygon(tuple(pts))


@st.composite
def rotated(draw: st.DrawFn) -> RotatedBox:
    return RotatedBox(draw(coord), draw(coord), draw(st.floats(1, 50)), draw(st.floats(1, 50)), draw(st.floats(-180, 180)))


def _oracle(a: shapely.Geometry, b: shapely.Geometry) -> float:
    u = a.union(b).area
    return a.intersection(b).area / u if u else 0.0


def _shp(g: Box | Polygon | RotatedBox) -> shapely.Geometry:
    if isinstance(g, Box):
        return shapely.box(g.x1, g.y1, g.x2, g.y2)
    if isinstance(g, RotatedBox):
        return shapely.Polygon(g.corners())
    return shapely.Polygon(np.asarray(g.points).reshape(-1, 2))


@settings(max_examples=50, deadline=None)
@given(st.lists(boxes(), min_size=1, max_size=6), st.lists(boxes(), min_size=1, max_size=6))
def test_box_iou_matches_shapely(a: list[Box], b: list[Box]) -> None:
    got = box_iou([(g.x1, g.y1, g.x2, g.y2) for g in a], [(g.x1, g.y1, g.x2, g.y2) for g in b])
    want = np.array([[_oracle(_shp(x), _shp(y)) for y in b] for x in a])
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.one_of(stars(), rotated(), boxes()), min_size=1, max_size=5),
       st.lists(st.one_of(stars(), rotated(), boxes()), min_size=1, max_size=5))
def test_shape_iou_matches_shapely_oracle(a: list, b: list) -> None:
    want = np.array([[_oracle(_shp(x), _shp(y)) for y in b] for x in a])
    np.testing.assert_allclose(shape_iou(a, b), want, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(shape_iou(b, a), want.T, rtol=1e-9, atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(st.one_of(stars(), rotated(), boxes()))
def test_iou_with_itself_is_one(g: Box | Polygon | RotatedBox) -> None:
    assert iou_matrix([g], [g])[0, 0] == pytest.approx(1.0, abs=1e-12)
    m = Mask(1, 1, (0, 1))
    assert iou_matrix([m], [m])[0, 0] == 1.0


def test_empty_boxes_and_empty_lists() -> None:
    assert box_iou([(1, 1, 1, 1)], [(1, 1, 1, 1), (2, 2, 2, 2)]).tolist() == [[1.0, 0.0]]
    assert iou_matrix([], [Box(0, 0, 1, 1)]).shape == (0, 1)


def test_polygon_with_hole_and_multipolygon_exact() -> None:
    ring = Polygon((0, 0, 10, 0, 10, 10, 0, 10), holes=((2, 2, 8, 2, 8, 8, 2, 8),))
    full = Box(0, 0, 10, 10)
    assert shape_iou([ring], [full])[0, 0] == pytest.approx(64 / 100)
    two = MultiPolygon((Polygon((0, 0, 5, 0, 5, 10, 0, 10)), Polygon((20, 0, 25, 0, 25, 10, 20, 10))))
    assert shape_iou([two], [full])[0, 0] == pytest.approx(50 / 150)


def test_self_intersecting_polygon_is_repaired() -> None:
    bowtie = Polygon((0, 0, 10, 10, 10, 0, 0, 10))
    v = shape_iou([bowtie], [Box(0, 0, 10, 10)])[0, 0]
    assert v == pytest.approx(0.5)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.one_of(stars(), rotated()), min_size=1, max_size=4), st.lists(st.one_of(stars(), rotated()), min_size=1, max_size=4))
def test_raster_method_equals_pycocotools_rasterisation(a: list, b: list) -> None:
    w, h = 160, 150

    def rle_of(g: Polygon | RotatedBox) -> dict:
        pts = list(g.points) if isinstance(g, Polygon) else [c for xy in g.corners() for c in xy]
        return cocomask.merge(cocomask.frPyObjects([pts], h, w))

    want = cocomask.iou([rle_of(x) for x in a], [rle_of(y) for y in b], [0] * len(b))
    np.testing.assert_array_equal(shape_iou(a, b, method="raster", size=(w, h)), np.asarray(want).reshape(len(a), len(b)))


def _random_masks(rng: np.random.Generator, n: int, h: int = 17, w: int = 23) -> list[Mask]:
    return [rle.encode(rng.random((h, w)) < rng.uniform(0.1, 0.9)) for _ in range(n)]


@pytest.mark.parametrize("seed", range(5))
def test_mask_iou_and_dice_match_pycocotools_and_numpy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    a, b = _random_masks(rng, 4), _random_masks(rng, 3)
    crowd = [False, True, False]
    want = cocomask.iou([to_coco_rle(x) for x in a], [to_coco_rle(y) for y in b], [int(c) for c in crowd])
    np.testing.assert_array_equal(mask_iou(a, b, crowd), want)
    da, db = [rle.decode(x).astype(bool) for x in a], [rle.decode(y).astype(bool) for y in b]
    dice = np.array([[2 * (x & y).sum() / (x.sum() + y.sum()) for y in db] for x in da])
    np.testing.assert_allclose(mask_dice(a, b), dice, rtol=1e-12)


def test_masks_of_different_sizes_are_refused() -> None:
    with pytest.raises(QualityError, match="different image sizes"):
        mask_iou([Mask(2, 2, (4,))], [Mask(3, 2, (6,))])


def test_oks_matches_pycocotools_computeOks() -> None:
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    rng = np.random.default_rng(1)
    n = 17

    def kp() -> tuple[list[float], list[int]]:
        pts = rng.uniform(10, 90, (n, 2))
        vis = rng.integers(0, 3, n)
        return pts.ravel().tolist(), vis.tolist()

    gts = [kp() for _ in range(3)]
    dts = [kp() for _ in range(4)]
    areas = [900.0, 2500.0, 400.0]
    gt = {"images": [{"id": 1, "width": 100, "height": 100}], "categories": [{"id": 1, "name": "person"}],
          "annotations": [{"id": i + 1, "image_id": 1, "category_id": 1, "iscrowd": 0, "area": areas[i],
                           "bbox": [0, 0, 10, 10], "num_keypoints": int(np.sum(np.array(v) > 0)),
                           "keypoints": [c for j in range(n) for c in (p[2 * j], p[2 * j + 1], v[j])]}
                          for i, (p, v) in enumerate(gts)]}
    with contextlib.redirect_stdout(io.StringIO()):
        cg = COCO()
        cg.dataset = gt
        cg.createIndex()
        cd = cg.loadRes([{"image_id": 1, "category_id": 1, "score": 1.0 - 0.1 * i,
                          "keypoints": [c for j in range(n) for c in (p[2 * j], p[2 * j + 1], 1)]}
                         for i, (p, _) in enumerate(dts)])
        ev = COCOeval(cg, cd, "keypoints")
        ev._prepare()
        want = ev.computeOks(1, 1)  # dt x gt, dts in score order (already sorted)
    ours = oks([Keypoints(tuple(p), tuple(v)) for p, v in gts], [Keypoints(tuple(p), (2,) * n) for p, _ in dts],
               COCO_KEYPOINT_SIGMAS, areas)
    np.testing.assert_allclose(ours.T, want, rtol=1e-12)


def test_keypoints_need_sigmas_unless_coco_person() -> None:
    k = Keypoints((1, 1, 5, 5), (2, 2))
    with pytest.raises(QualityError, match=r"Skeleton\.sigmas"):
        iou_matrix([k], [k])
    assert iou_matrix([k], [k], sigmas=(0.1, 0.1))[0, 0] == pytest.approx(1.0)


def test_unsupported_geometry_is_refused() -> None:
    with pytest.raises(QualityError, match="Polyline"):
        iou_matrix([Polyline((0, 0, 1, 1))], [Box(0, 0, 1, 1)])
    with pytest.raises(QualityError, match="keypoints"):
        iou_matrix([Keypoints((1, 1), (2,))], [Box(0, 0, 1, 1)])


def test_mask_against_polygon_rasterises_on_the_mask_canvas() -> None:
    m = rle.encode(np.pad(np.ones((4, 4)), ((0, 6), (0, 6))))  # pixels 0..3 set, 10 x 10 canvas
    v = iou_matrix([m], [Box(0, 0, 4, 4)])[0, 0]
    assert v == pytest.approx(1.0)
