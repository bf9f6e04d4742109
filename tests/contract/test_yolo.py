"""YOLO codec: round trips per task, the report, the Datumaro-written fixtures, and bad input."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

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
    Item,
    Keypoints,
    LabelClass,
    LabelSchema,
    Mask,
    Polygon,
    Region,
    RotatedBox,
    Skeleton,
    rle,
)
from labelgate.formats import restrict
from labelgate.formats.yolo import capabilities_for
from tests.strategies import assert_close, datasets

CODEC = formats.get_codec("yolo")
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _images_for(ds: Dataset, root: Path) -> Path:
    """Blank images of each item's size, where the reader can find them (``<subset>/<id>.png``)."""
    for it in ds.items.values():
        assert it.width is not None and it.height is not None
        p = root / (it.subset or "") / f"{it.id}.png"
        p.parent.mkdir(parents=True, exist_ok=True)
        Image.new("L", (it.width, it.height)).save(p)
    return root


def _comparable(ds: Dataset) -> Dataset:
    """Media paths are found by the reader, not written; rotated boxes compare by their corners
    (the angle of a sub-pixel box is ill-conditioned in any corner-based format)."""
    def geom(r: Region) -> Region:
        if isinstance(r.geometry, RotatedBox):
            return replace(r, geometry=Polygon(tuple(v for c in r.geometry.corners() for v in c)))
        return r

    items = [replace(it, media=None) for it in ds.items.values()]
    anns = [Annotation(a.item_id, [geom(r) for r in a.regions], a.provenance, a.id) for a in ds.annotations]
    return Dataset(items, anns, ds.schema)


@pytest.mark.parametrize("task", ["detect", "segment", "pose", "obb"])
@SETTINGS
@given(data=st.data())
def test_round_trip_within_1e6(tmp_path_factory: pytest.TempPathFactory, task: str, data: st.DataObject) -> None:
    caps = capabilities_for(task)
    ds = data.draw(datasets(caps))
    tmp = tmp_path_factory.mktemp("yolo")
    report = formats.write(ds, tmp / "out", "yolo", task=task)
    assert report.lossless, report.summary()
    back = formats.read(tmp / "out", "yolo", images=_images_for(ds, tmp / "images"))
    expected = restrict(ds, caps)[0]
    assert_close(_comparable(back), _comparable(expected), rel=1e-6, abs_=1e-6)


def _rich_dataset() -> Dataset:
    items = [Item("a", width=100, height=50, media="a.jpg", number=7, subset="train"), Item("b", width=10, height=10)]
    regions = [
        Region(Box(10, 10, 30, 20), "car", id=3, occluded=True, attributes={"color": "red"}, score=0.5, group=2, crowd=True),
        Region(Polygon((0, 0, 10, 0, 10, 10)), "person", crowd=True),
        Region(RotatedBox(50, 25, 10, 4, 30), "car", group=1),
        Region(rle.encode([[0, 1], [1, 1]]), "car"),
    ]
    return Dataset(items, [Annotation("a", regions), Annotation("b", [])],
                   LabelSchema((LabelClass("car", id=1, color="#ff0000"), LabelClass("person"))))


def test_report_names_every_dropped_field(tmp_path: Path) -> None:
    report = formats.write(_rich_dataset(), tmp_path / "y", "yolo")
    assert report.dropped_fields == {
        "region.id", "region.occluded", "region.attributes", "region.crowd", "region.group",
        "geometry.polygon", "geometry.rotated_box", "geometry.mask",
        "item.media", "item.number", "schema.id", "schema.color",
    }
    images = _images_for(restrict(_rich_dataset(), capabilities_for("detect"))[0], tmp_path / "im")
    back = formats.read(tmp_path / "y", "yolo", images=images)
    assert [len(a) for a in back.annotations] == [1, 0]


def test_convert_uses_bounds_and_reports_it(tmp_path: Path) -> None:
    report = formats.write(_rich_dataset(), tmp_path / "y", "yolo", convert=True)
    converted = {loss.field for loss in report.losses.values() if loss.action.startswith("converted")}
    assert converted == {"geometry.polygon", "geometry.rotated_box", "geometry.mask"}
    lines = (tmp_path / "y/labels/train/a.txt").read_text().splitlines()
    assert len(lines) == 4
    assert lines[0] == "0 0.2 0.3 0.2 0.2 0.5"  # box with its confidence
    assert lines[1] == "1 0.05 0.1 0.1 0.2"  # the polygon's bounds
    assert lines[3] == "0 0.01 0.02 0.02 0.04"  # the mask's pixel bounds (0, 0, 2, 2)


def test_empty_items_get_empty_files_and_data_yaml(tmp_path: Path) -> None:
    formats.write(_rich_dataset(), tmp_path / "y", "yolo")
    assert (tmp_path / "y/labels/b.txt").read_text() == ""
    import yaml

    cfg = yaml.safe_load((tmp_path / "y/data.yaml").read_text())
    assert cfg["names"] == {0: "car", 1: "person"}
    assert cfg["train"] == "images/train"


def test_pose_writes_kpt_shape_and_drops_other_counts(tmp_path: Path) -> None:
    schema = LabelSchema((LabelClass("p", skeleton=Skeleton(("a", "b"))),))
    ds = Dataset([Item("x", width=10, height=20)], [Annotation("x", [
        Region(Keypoints((1, 2, 3, 4), (2, 1)), "p"),
        Region(Keypoints((1, 2, 3, 4, 5, 6), (2, 2, 2)), "p"),
    ])], schema)
    report = formats.write(ds, tmp_path / "p", "yolo", task="pose")
    assert "geometry.keypoints.count" in report.dropped_fields
    assert "kpt_shape:\n- 2\n- 3" in (tmp_path / "p/data.yaml").read_text()
    line = (tmp_path / "p/labels/x.txt").read_text().split()
    assert line == ["0", "0.2", "0.15", "0.2", "0.1", "0.1", "0.1", "2", "0.3", "0.2", "1"]


def test_missing_size_when_writing_names_the_item(tmp_path: Path) -> None:
    ds = Dataset([Item("nosize")], [Annotation("nosize", [Region(Box(0, 0, 1, 1), "a")])])
    with pytest.raises(FormatError, match="'nosize'"):
        formats.write(ds, tmp_path / "y", "yolo")
    assert not (tmp_path / "y").exists()
    (tmp_path / "im").mkdir()
    Image.new("L", (4, 2)).save(tmp_path / "im/nosize.jpg")
    formats.write(ds, tmp_path / "y", "yolo", images=tmp_path / "im")
    assert (tmp_path / "y/labels/nosize.txt").read_text() == "0 0.125 0.25 0.25 0.5\n"


# --- fixtures written by Datumaro's tools ---------------------------------------------------

EXPECTED_BOXES = [("label_2", (0.133333, 0.3, 0.266667, 0.2)), ("label_4", (0.266667, 0.45, 0.133333, 0.3))]


@pytest.mark.parametrize(("layout", "ids", "subsets"), [
    ("labels", ["train/1", "val/1"], ["train", "val"]),
    ("annotations", ["1"], [None]),
    ("strict", ["1"], ["train"]),
])
@pytest.mark.interop
def test_reads_datumaro_fixtures(interop: Path, layout: str, ids: list[str], subsets: list[str | None]) -> None:
    root = interop / "yolo_dataset" / layout
    assert formats.detect(root) == "yolo"
    ds = formats.read(root)
    assert ds.schema.names == [f"label_{i}" for i in range(10)]
    assert list(ds.items) == ids
    assert [it.subset for it in ds.items.values()] == subsets
    for it in ds.items.values():
        assert it.size == (15, 10)  # read from the JPEG header
        assert it.media == f"{it.id}.jpg"  # so formats keyed by file name (COCO, VOC) keep the id
    for a in ds.annotations:
        assert [r.label for r in a.regions] == [n for n, _ in EXPECTED_BOXES]
        for r, (_, (cx, cy, w, h)) in zip(a.regions, EXPECTED_BOXES, strict=True):
            assert isinstance(r.geometry, Box)
            assert r.geometry.x1 == pytest.approx((cx - w / 2) * 15)
            assert r.geometry.y1 == pytest.approx((cy - h / 2) * 10)
            assert r.geometry.x2 == pytest.approx((cx + w / 2) * 15)
            assert r.geometry.y2 == pytest.approx((cy + h / 2) * 10)


@pytest.mark.interop
def test_datumaro_fixture_rewritten_keeps_the_text(interop: Path, tmp_path: Path) -> None:
    ds = formats.read(interop / "yolo_dataset/strict")
    formats.write(ds, tmp_path / "y", "yolo", precision=6)
    src = (interop / "yolo_dataset/strict/obj_train_data/1.txt").read_text().split()
    ours = (tmp_path / "y/labels/train/1.txt").read_text().split()
    assert [float(v) for v in ours] == pytest.approx([float(v) for v in src], abs=1e-6)


# --- bad input -------------------------------------------------------------------------------

def _dataset_dir(tmp_path: Path, label: str, names: str = "names: [a, b]\n", image: bool = True) -> Path:
    root = tmp_path / "ds"
    (root / "labels/train").mkdir(parents=True)
    (root / "images/train").mkdir(parents=True)
    (root / "data.yaml").write_text(f"train: images/train\nval: images/train\n{names}")
    (root / "labels/train/x.txt").write_text(label)
    if image:
        Image.new("L", (10, 10)).save(root / "images/train/x.png")
    return root


@pytest.mark.parametrize(("label", "image", "message", "line"), [
    ("0 0.5 0.5 0.1 0.1\n2 0.5 0.5 0.1 0.1\n", True, "class id 2 is not one of 0..1", 2),
    ("0 0.5 0.5 0.1 0.1\n-1 0.5 0.5 0.1 0.1\n", True, "class id -1", 2),
    ("0.5 0.5 0.5 0.1 0.1\n", True, "class id 0.5", 1),
    ("0 0.5 0.5 0.1 0.1\n0 0.5 x 0.1 0.1\n", True, "'x' is not a number", 2),
    ("\n0 0.5 0.5 0.1\n", True, "4 values", 2),
    ("0 0.5 0.5 -0.1 0.1\n", True, "negative", 1),
    ("0 0.5 nan 0.1 0.1\n", True, "not a finite number", 1),
    ("0 0.5 0.5 0.1 0.1\n", False, "no image found", 1),
])
def test_bad_labels_name_file_and_line(tmp_path: Path, label: str, image: bool, message: str, line: int) -> None:
    root = _dataset_dir(tmp_path, label, image=image)
    with pytest.raises(FormatError) as e:
        formats.read(root, "yolo")
    assert message in str(e.value)
    assert str(root / "labels/train/x.txt") in str(e.value)
    assert f"line {line}" in str(e.value)


@pytest.mark.parametrize(("names", "message"), [
    ("names: {0: a, 2: b}\n", "without gaps"),
    ("names: 3\n", "list or a mapping"),
    ("names: [a, b\n", "malformed YAML"),
])
def test_bad_data_yaml(tmp_path: Path, names: str, message: str) -> None:
    root = _dataset_dir(tmp_path, "", names=names)
    with pytest.raises(FormatError, match=message) as e:
        formats.read(root, "yolo")
    assert "data.yaml" in str(e.value)


def test_failed_write_leaves_nothing(tmp_path: Path) -> None:
    ds = Dataset([Item("a", width=4, height=4), Item("b")],
                 [Annotation("a", [Region(Box(0, 0, 1, 1), "x")]), Annotation("b", [Region(Box(0, 0, 1, 1), "x")])])
    with pytest.raises(FormatError):
        formats.write(ds, tmp_path / "out", "yolo")
    assert list(tmp_path.iterdir()) == []


def test_obb_and_polygon_lines_are_read_by_task(tmp_path: Path) -> None:
    root = _dataset_dir(tmp_path, "1 0.1 0.1 0.3 0.1 0.3 0.2 0.1 0.2\n")
    poly = formats.read(root, "yolo").annotations[0].regions[0].geometry
    assert isinstance(poly, Polygon) and len(poly.points) == 8
    obb = formats.read(root, "yolo", task="obb").annotations[0].regions[0].geometry
    assert isinstance(obb, RotatedBox)
    assert (obb.cx, obb.cy, obb.width, obb.height, obb.angle) == pytest.approx((2, 1.5, 2, 1, 0))


def test_keeps_masks_out_without_convert(tmp_path: Path) -> None:
    ds = Dataset([Item("a", width=2, height=2)], [Annotation("a", [Region(Mask(2, 2, (1, 3)), "m")])])
    report = formats.write(ds, tmp_path / "y", "yolo", task="segment")
    assert report.dropped_fields == {"geometry.mask"}


def _table_backed(ds: Dataset) -> Dataset:
    from labelgate.core import RegionTable

    table = RegionTable.from_regions([a.regions for a in ds.annotations])
    anns = [Annotation.from_table(a.item_id, table, table.rows_of(i), a.provenance, a.id) for i, a in enumerate(ds.annotations)]
    return Dataset(ds.items.values(), anns, ds.schema, ds.tracks, ds.metadata)


@pytest.mark.parametrize("convert", [False, True])
def test_column_path_matches_the_region_path(tmp_path: Path, convert: bool) -> None:
    from labelgate.core import ItemKind, Provenance, Source

    rich = _rich_dataset()
    items = [*rich.items.values(), Item("v", ItemKind.VIDEO_FRAME, video="clip", frame=3, width=8, height=8),
             Item("m", width=8, height=8, metadata={"k": 1})]
    anns = [*rich.annotations, Annotation("v", [Region(Box(0, 0, 1, 1), "car")]),
            Annotation("m", [Region(Box(0, 0, 1, 1), "car")], Provenance(Source.MODEL, model="yolo")),
            Annotation("a", [Region(Box(1, 2, 3, 4), "person", z_order=2)])]  # a second annotation: merged
    ds = Dataset(items, anns, rich.schema, metadata={"source": "test"})
    slow = formats.write(ds, tmp_path / "slow", "yolo", convert=convert)
    fast_ds = _table_backed(ds)
    assert fast_ds.annotations[0].table_rows is not None
    fast = formats.write(fast_ds, tmp_path / "fast", "yolo", convert=convert)
    assert {(v.field, v.action, v.count) for v in fast.losses.values()} == {(v.field, v.action, v.count) for v in slow.losses.values()}
    assert (fast.items, fast.regions) == (slow.items, slow.regions)
    assert {"item.kind.video_frame", "item.metadata", "annotation.provenance", "annotation.multiple",
            "dataset.metadata", "region.z_order"} <= fast.dropped_fields
    for rel in ("data.yaml", "labels/train/a.txt", "labels/b.txt", "labels/m.txt"):
        assert (tmp_path / "fast" / rel).read_text() == (tmp_path / "slow" / rel).read_text()


@SETTINGS
@given(ds=datasets(capabilities_for("detect")))
def test_darknet_round_trip(tmp_path_factory: pytest.TempPathFactory, ds: Dataset) -> None:
    tmp = tmp_path_factory.mktemp("darknet")
    report = formats.write(ds, tmp / "out", "yolo", layout="darknet")
    assert report.dropped_fields <= {"item.subset"}
    images = tmp / "images"
    for it in ds.items.values():
        assert it.width is not None and it.height is not None
        (images / (it.subset or "train")).mkdir(parents=True, exist_ok=True)
        Image.new("L", (it.width, it.height)).save(images / (it.subset or "train") / f"{it.id}.png")
    back = formats.read(tmp / "out", images=images)
    assert (tmp / "out/obj.data").is_file()
    expected = restrict(ds, capabilities_for("detect"))[0]
    expected = Dataset([replace(it, subset=it.subset or "train") for it in expected.items.values()], expected.annotations, expected.schema)
    assert_close(_comparable(back), _comparable(expected), rel=1e-6, abs_=1e-6)


def test_darknet_layout_files(tmp_path: Path) -> None:
    ds = Dataset([Item("a", width=10, height=10, media="x/a.png", subset="val"), Item("b", width=4, height=4)],
                 [Annotation("a", [Region(Box(0, 0, 5, 5), "cat")]), Annotation("b", [])], LabelSchema.from_names(["cat", "dog"]))
    report = formats.write(ds, tmp_path / "d", "yolo", layout="darknet")
    assert report.files == 2 + 2 + 2
    assert (tmp_path / "d/obj.data").read_text() == (
        "classes = 2\nval = data/val.txt\ntrain = data/train.txt\nnames = data/obj.names\nbackup = backup/\n")
    assert (tmp_path / "d/val.txt").read_text() == "data/obj_val_data/a.png\n"
    assert (tmp_path / "d/train.txt").read_text() == "data/obj_train_data/b.jpg\n"
    assert (tmp_path / "d/obj.names").read_text() == "cat\ndog\n"
    assert (tmp_path / "d/obj_val_data/a.txt").read_text() == "0 0.25 0.25 0.5 0.5\n"
    with pytest.raises(FormatError, match="boxes only"):
        formats.write(ds, tmp_path / "e", "yolo", layout="darknet", task="segment")


def test_darknet_classes_must_match_names(tmp_path: Path) -> None:
    (tmp_path / "obj.names").write_text("a\nb\n")
    (tmp_path / "obj.data").write_text("classes = 3\nnames = data/obj.names\n")
    with pytest.raises(FormatError, match="classes = 3") as e:
        formats.read(tmp_path, "yolo")
    assert "obj.data" in str(e.value)


def test_convert_option_accepts_text(tmp_path: Path) -> None:
    ds = Dataset([Item("a", width=10, height=10)], [Annotation("a", [Region(Polygon((0, 0, 5, 0, 5, 5)), "p")])])
    assert formats.write(ds, tmp_path / "t", "yolo", convert="true").regions == 1
    assert formats.write(ds, tmp_path / "f", "yolo", convert="false").regions == 0
    with pytest.raises(FormatError, match="convert='maybe'"):
        formats.write(ds, tmp_path / "m", "yolo", convert="maybe")


@pytest.mark.parametrize(("layout", "where"), [("ultralytics", "images/train/a.png"), ("darknet", "obj_train_data/a.png")])
def test_copy_images_makes_a_self_contained_dataset(tmp_path: Path, layout: str, where: str) -> None:
    ds = Dataset([Item("a", media="pics/a.png", subset="train")], [Annotation("a", [Region(Box(1, 1, 3, 2), "cat")])])
    (tmp_path / "src/pics").mkdir(parents=True)
    Image.new("L", (8, 4)).save(tmp_path / "src/pics/a.png")
    report = formats.write(ds, tmp_path / "out", "yolo", images=tmp_path / "src", copy_images=True, layout=layout)
    assert (tmp_path / "out" / where).read_bytes() == (tmp_path / "src/pics/a.png").read_bytes()
    assert report.files == (3 if layout == "ultralytics" else 5)
    back = formats.read(tmp_path / "out")  # sizes from the copied image, no --images needed
    (r,) = back.annotations[0].regions
    assert back.items["a"].size == (8, 4)
    assert r.geometry == Box(1, 1, 3, 2)
    with pytest.raises(FormatError, match="pass --images"):
        formats.write(ds, tmp_path / "x", "yolo", copy_images=True)


def test_polygon_holes_are_reported(tmp_path: Path) -> None:
    poly = Polygon((0, 0, 10, 0, 10, 10, 0, 10), holes=((2, 2, 4, 2, 4, 4),))
    ds = Dataset([Item("a", width=10, height=10)], [Annotation("a", [Region(poly, "p")])])
    report = formats.write(ds, tmp_path / "s", "yolo", task="segment")
    assert report.dropped_fields == {"geometry.polygon.holes"}
    assert (tmp_path / "s/labels/a.txt").read_text() == "0 0 0 1 0 1 1 0 1\n"


def test_pose_box_beyond_the_keypoints_is_kept_as_a_grouped_box(tmp_path: Path) -> None:
    root = _dataset_dir(tmp_path, "0 0.5 0.5 0.8 0.6 0.4 0.4 2 0.6 0.6 1\n1 0.45 0.45 0.1 0.1 0.4 0.4 2 0.5 0.5 2 0.7\n",
                        names="names: [a, b]\nkpt_shape: [2, 3]\n")
    (r0, r1, r2) = formats.read(root, "yolo").annotations[0].regions
    assert isinstance(r0.geometry, Keypoints) and r0.group == 1
    assert r0.geometry.points == pytest.approx((4, 4, 6, 6)) and r0.geometry.visibility == (2, 1)
    assert isinstance(r1.geometry, Box) and r1.group == 1 and r1.label == "a"
    assert (r1.geometry.x1, r1.geometry.y1, r1.geometry.x2, r1.geometry.y2) == pytest.approx((1, 2, 9, 8))
    # the second object's box is its keypoints' bounds: no box region; its confidence is kept
    assert isinstance(r2.geometry, Keypoints) and r2.group is None and r2.score == pytest.approx(0.7)


def test_split_as_a_list_of_images(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    (root / "images/a").mkdir(parents=True)
    (root / "labels/a").mkdir(parents=True)
    (root / "lists").mkdir()
    Image.new("L", (10, 10)).save(root / "images/a/x.png")
    Image.new("L", (20, 10)).save(root / "images/a/y.png")
    (root / "labels/a/x.txt").write_text("0 0.5 0.5 0.2 0.2\n")
    (root / "lists/train.txt").write_text("./../images/a/x.png\n")
    (root / "val.txt").write_text("images/a/y.png\n")
    (root / "data.yaml").write_text("train: lists/train.txt\nval: val.txt\nnames: [a]\n")
    ds = formats.read(root, "yolo")
    assert [(it.id, it.subset, it.size) for it in ds.items.values()] == [("x", "train", (10, 10)), ("y", "val", (20, 10))]
    assert [len(a) for a in ds.annotations] == [1, 0]


@pytest.mark.interop
def test_reads_roboflow_export(interop: Path) -> None:
    """Roboflow's data.yaml names '../train/images' and '../valid/images' for train/ and val/."""
    root = interop / "roboflow_dataset" / "yolo"
    ds = formats.read(root)
    assert [(it.id, it.subset, it.size) for it in ds.items.values()] == [
        ("train_001", "train", (10, 5)), ("train_002", "train", (10, 5)), ("val_001", "val", (10, 5))]
    for it in ds.items.values():
        lines = [line.split() for line in (root / it.subset / "labels" / f"{it.id}.txt").read_text().splitlines()]  # type: ignore[operator]
        regions = ds.annotations_of(it.id)[0].regions
        assert [r.label for r in regions] == [ds.schema.names[int(p[0])] for p in lines]
        for r, p in zip(regions, lines, strict=True):
            cx, cy, w, h = (float(v) for v in p[1:])
            g = r.geometry
            assert isinstance(g, Box)
            assert (g.x1, g.y1, g.x2, g.y2) == pytest.approx(((cx - w / 2) * 10, (cy - h / 2) * 5, (cx + w / 2) * 10, (cy + h / 2) * 5))


def test_missing_split_folder_is_an_error_and_empty_datasets_round_trip(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    root.mkdir()
    (root / "data.yaml").write_text("train: images/train\nval: images/val\ntest: images/test\nnames: [a]\n")
    (root / "labels/train").mkdir(parents=True)
    with pytest.raises(FormatError, match="split 'val'") as e:
        formats.read(root, "yolo")
    assert "data.yaml: val" in str(e.value)
    (root / "labels/val").mkdir()
    assert len(formats.read(root, "yolo").items) == 0  # test is optional, as in Ultralytics
    formats.write(Dataset([], [], LabelSchema.from_names(["a"])), tmp_path / "empty", "yolo")
    back = formats.read(tmp_path / "empty")
    assert (len(back.items), back.schema.names) == (0, ["a"])


def test_pose_writes_the_grouped_box_and_reads_it_back(tmp_path: Path) -> None:
    kp = Keypoints((4, 4, 6, 6), (2, 2))
    ds = Dataset([Item("x", width=10, height=10)], [Annotation("x", [
        Region(kp, "p", group=7), Region(Box(1, 2, 9, 8), "p", group=7),   # one object: keypoints + its box
        Region(kp, "p", group=3),                                           # a group without a box
        Region(Box(0, 0, 1, 1), "p"),                                       # a box alone: no pose line
    ])], LabelSchema.from_names(["p"]))
    report = formats.write(ds, tmp_path / "p", "yolo", task="pose")
    assert report.dropped_fields == {"region.group", "geometry.box"}
    assert report.regions == 2
    lines = (tmp_path / "p/labels/x.txt").read_text().splitlines()
    assert lines[0].split()[:5] == ["0", "0.5", "0.5", "0.8", "0.6"]
    assert lines[1].split()[:5] == ["0", "0.5", "0.5", "0.2", "0.2"]
    images = _images_for(Dataset([Item("x", width=10, height=10)]), tmp_path / "im")
    regions = formats.read(tmp_path / "p", images=images).annotations[0].regions
    assert [type(r.geometry).__name__ for r in regions] == ["Keypoints", "Box", "Keypoints"]
    assert regions[0].group == regions[1].group == 1 and regions[2].group is None
    b = regions[1].geometry
    assert isinstance(b, Box) and (b.x1, b.y1, b.x2, b.y2) == pytest.approx((1, 2, 9, 8))
