"""PNG masks codec: exact instance round trips, semantic merging, encodings, losses, bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from labelgate import formats
from labelgate.core import (
    Annotation,
    Box,
    Dataset,
    FormatError,
    GeometryKind,
    Item,
    LabelClass,
    LabelSchema,
    Mask,
    Polygon,
    Region,
    rle,
)
from labelgate.formats import restrict
from tests.strategies import datasets

CODEC = formats.get_codec("png_masks")
CAPS = CODEC.capabilities
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _mask(h: int, w: int, ys: slice, xs: slice) -> Mask:
    a = np.zeros((h, w), np.uint8)
    a[ys, xs] = 1
    return rle.encode(a)


def without_overlaps(ds: Dataset) -> Dataset:
    anns = []
    for a in ds.annotations:
        taken = None
        kept = []
        for r in a.regions:
            m = rle.decode(r.geometry).astype(bool)  # type: ignore[arg-type]
            if taken is not None and (taken & m).any():
                continue
            taken = m if taken is None else taken | m
            kept.append(r)
        anns.append(Annotation(a.item_id, kept))
    return Dataset(ds.items.values(), anns, ds.schema)


@SETTINGS
@given(ds=datasets(CAPS, kinds=[GeometryKind.MASK]))
def test_instance_round_trip_is_exact(tmp_path_factory: pytest.TempPathFactory, ds: Dataset) -> None:
    ds = without_overlaps(ds)
    out = tmp_path_factory.mktemp("png")
    report = formats.write(ds, out, "png_masks")
    assert report.lossless, report.summary()
    assert formats.read(out, "png_masks") == restrict(ds, CAPS)[0]


def _two_class_dataset() -> Dataset:
    schema = LabelSchema((LabelClass("road", color="#804080"), LabelClass("car")))
    regions = [Region(_mask(6, 8, slice(0, 2), slice(0, 8)), "road"), Region(_mask(6, 8, slice(3, 5), slice(1, 4)), "car")]
    return Dataset([Item("a", width=8, height=6), Item("b", width=8, height=6)], [Annotation("a", regions), Annotation("b", [])], schema)


@pytest.mark.parametrize("encoding", ["palette", "index"])
@pytest.mark.parametrize("mode", ["instance", "semantic"])
def test_modes_and_encodings(tmp_path: Path, mode: str, encoding: str) -> None:
    ds = _two_class_dataset()
    report = formats.write(ds, tmp_path / "o", "png_masks", mode=mode, encoding=encoding)
    assert report.lossless, report.summary()
    assert formats.read(tmp_path / "o") == ds
    with Image.open(tmp_path / "o" / "masks" / "a.png") as im:
        assert im.mode == ("P" if encoding == "palette" else "L")
        if encoding == "palette":
            assert tuple(im.getpalette()[3:6]) == (128, 64, 128)  # road's own colour at index 1
        assert np.asarray(im)[0, 0] == 1 and np.asarray(im)[3, 1] == 2
    assert (tmp_path / "o" / "instances" / "a.png").is_file() == (mode == "instance")
    assert (tmp_path / "o" / "classes.txt").read_text() == "background\nroad:128,64,128\ncar\n"


def test_semantic_mode_merges_a_class_and_says_so(tmp_path: Path) -> None:
    regions = [Region(_mask(4, 4, slice(0, 1), slice(0, 4)), "a"), Region(_mask(4, 4, slice(2, 3), slice(0, 4)), "a")]
    regions.insert(0, Region(_mask(4, 4, slice(3, 4), slice(0, 4)), "b"))
    ds = Dataset([Item("i", width=4, height=4)], [Annotation("i", regions)], LabelSchema.from_names(["a", "b"]))
    report = formats.write(ds, tmp_path / "o", "png_masks", mode="semantic")
    assert "merged into one mask per class" in report.summary()
    assert "region.order" in report.dropped_fields  # "b" came first, but "a" is class 1
    a, b = formats.read(tmp_path / "o").annotations[0].regions
    assert (a.label, a.geometry.area, b.label, b.geometry.area) == ("a", 8, "b", 4)  # type: ignore[union-attr]


def test_rasterises_and_reports_overlap_and_z_order(tmp_path: Path) -> None:
    regions = [
        Region(Box(0, 0, 4, 4), "a", z_order=1),
        Region(Polygon((2, 2, 7, 2, 7, 7, 2, 7)), "b", score=0.3),
    ]
    ds = Dataset([Item("i", width=10, height=10)], [Annotation("i", regions)])
    report = formats.write(ds, tmp_path / "o", "png_masks")
    assert {"geometry.box", "geometry.polygon", "geometry.mask", "region.z_order", "region.score"} <= report.dropped_fields
    overlap = next(v for v in report.losses.values() if v.field == "geometry.mask")
    assert "covered by a later region" in overlap.action and overlap.count > 0
    a, b = formats.read(tmp_path / "o").annotations[0].regions
    assert (a.label, b.label) == ("a", "b")
    assert rle.decode(b.geometry)[4, 4] == 1 and rle.decode(a.geometry)[3, 3] == 0  # type: ignore[arg-type]


def _layout(tmp_path: Path, classes: str, png: np.ndarray) -> Path:
    (tmp_path / "masks").mkdir(parents=True)
    (tmp_path / "classes.txt").write_text(classes)
    Image.fromarray(png).save(tmp_path / "masks" / "x.png")
    return tmp_path


def test_reads_rgb_masks_through_the_colour_map(tmp_path: Path) -> None:
    rgb = np.zeros((3, 4, 3), np.uint8)
    rgb[0, :] = (10, 20, 30)
    rgb[2, 1] = (0, 128, 0)  # VOC colour of index 2: "car" has no colour of its own
    root = _layout(tmp_path, "# comment\nbackground\nroad:10,20,30\ncar\n", rgb)
    assert formats.detect(root) == "png_masks"
    ds = formats.read(root)
    assert ds.schema.names == ["road", "car"] and ds.schema.get("road").color == "#0a141e"
    road, car = ds.annotations[0].regions
    assert (road.label, road.geometry.area, car.label, car.geometry.area) == ("road", 4, "car", 1)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("classes", "png", "message", "where"),
    [
        ("background\nroad:10,20,30\n", np.full((2, 3, 3), 7, np.uint8), "colour (7, 7, 7) is not in the colour map", "pixel x=0, y=0"),
        ("background\nroad\n", np.full((2, 3), 5, np.uint8), "class index 5", "pixel x=0, y=0"),
        ("background\nroad:300,0,0\n", np.zeros((2, 3), np.uint8), "above 255", "line 2"),
        ("background\nroad\nroad\n", np.zeros((2, 3), np.uint8), "listed twice", "line 3"),
    ],
)
def test_bad_input_names_file_and_place(tmp_path: Path, classes: str, png: np.ndarray, message: str, where: str) -> None:
    root = _layout(tmp_path, classes, png)
    with pytest.raises(FormatError) as e:
        formats.read(root, "png_masks")
    assert message in str(e.value) and where in str(e.value)
    assert str(root) in str(e.value)


def test_not_a_png(tmp_path: Path) -> None:
    root = _layout(tmp_path, "background\na\n", np.zeros((2, 2), np.uint8))
    (root / "masks" / "x.png").write_bytes(b"\x89PNG broken")
    with pytest.raises(FormatError, match="cannot read PNG"):
        formats.read(root, "png_masks")


def test_no_partial_output_when_a_write_fails(tmp_path: Path) -> None:
    items = [Item("a", width=4, height=4), Item("b", width=4, height=4), Item("c")]
    anns = [Annotation("a", [Region(Box(0, 0, 2, 2), "x")]), Annotation("b", []), Annotation("c", [])]
    # "c" fails inside the output directory, after "a" and "b" were written
    with pytest.raises(FormatError, match="'c' has no image size"):
        formats.write(Dataset(items, anns), tmp_path / "out", "png_masks")
    assert list(tmp_path.iterdir()) == []


def test_unknown_options_are_refused(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="unknown write option"):
        formats.write(Dataset(), tmp_path / "o", "png_masks", colour="x")
    with pytest.raises(FormatError, match="expected mode"):
        formats.write(Dataset(), tmp_path / "o", "png_masks", mode="panoptic")


def test_images_are_copied_and_found_again(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    Image.fromarray(np.zeros((6, 8, 3), np.uint8)).save(tmp_path / "src" / "a.jpg")
    ds = _two_class_dataset()
    ds = Dataset([Item("a", media="a.jpg", width=8, height=6), ds.items["b"]], ds.annotations, ds.schema)
    report = formats.write(ds, tmp_path / "o", "png_masks", images=tmp_path / "src")
    assert "item.media" in report.dropped_fields  # the layout has no place for a media path...
    assert (tmp_path / "o" / "images" / "a.jpg").is_file()
    back = formats.read(tmp_path / "o")
    assert back.items["a"].media == "a.jpg" and back.items["b"].media is None  # ...but the copy is found


def test_rasterised_areas_match_the_geometry(tmp_path: Path) -> None:
    ring = (1, 1, 9, 1, 9, 9, 1, 9)
    regions = [
        Region(Box(1, 2, 3, 4), "box"),
        Region(Polygon((12, 1, 19, 1, 19, 9, 12, 9)), "square"),
        Region(Polygon(tuple(v + 20 if i % 2 == 0 else v for i, v in enumerate(ring)), ((23, 3, 27, 3, 27, 7, 23, 7),)), "holed"),
    ]
    ds = Dataset([Item("i", width=32, height=12)], [Annotation("i", regions)])
    formats.write(ds, tmp_path / "o", "png_masks")
    areas = {r.label: r.geometry.area for r in formats.read(tmp_path / "o").annotations[0].regions}  # type: ignore[union-attr]
    assert areas == {"box": 4, "square": 56, "holed": 64 - 16}
    assert areas == {r.label: r.geometry.area for r in regions}  # type: ignore[union-attr]


def test_more_than_255_instances_use_a_16_bit_png(tmp_path: Path) -> None:
    regions = [Region(_mask(20, 20, slice(k // 20, k // 20 + 1), slice(k % 20, k % 20 + 1)), "dot") for k in range(300)]
    ds = Dataset([Item("i", width=20, height=20)], [Annotation("i", regions)], LabelSchema.from_names(["dot"]))
    assert formats.write(ds, tmp_path / "o", "png_masks").lossless
    with Image.open(tmp_path / "o" / "instances" / "i.png") as im:
        assert im.mode == "I;16"
    assert formats.read(tmp_path / "o") == ds


def _good_png() -> bytes:
    import io

    buf = io.BytesIO()
    a = np.zeros((6, 8), np.uint8)
    a[1:3, 2:5] = 1
    Image.fromarray(a).save(buf, format="PNG")
    return buf.getvalue()


GOOD_PNG = _good_png()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(flips=st.lists(st.tuples(st.integers(0, len(GOOD_PNG) - 1), st.integers(0, 255)), min_size=1, max_size=4),
       cut=st.integers(8, len(GOOD_PNG)))
def test_damaged_png_is_read_or_refused_with_a_format_error(tmp_path_factory: pytest.TempPathFactory,
                                                            flips: list[tuple[int, int]], cut: int) -> None:
    data = bytearray(GOOD_PNG)
    for at, value in flips:
        data[at] = value
    root = _layout(tmp_path_factory.mktemp("bad"), "background\na\n", np.zeros((1, 1), np.uint8))
    (root / "masks" / "x.png").write_bytes(bytes(data[:cut]))
    try:
        formats.read(root, "png_masks")
    except FormatError as e:
        assert "x.png" in str(e)
