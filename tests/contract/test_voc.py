"""Pascal VOC codec: exact round trips, the report, Datumaro's fixtures, and bad input."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from labelgate import formats
from labelgate.core import (
    Annotation,
    AttributeSpec,
    AttributeType,
    Box,
    Classification,
    Dataset,
    FormatError,
    GeometryKind,
    Item,
    Keypoints,
    LabelClass,
    LabelSchema,
    Mask,
    Polygon,
    Provenance,
    Region,
    RegionTable,
    Source,
    bounds,
    rle,
)
from labelgate.formats import restrict
from labelgate.formats._palette import VOC_CLASSES, voc_colormap
from tests.strategies import datasets

CODEC = formats.get_codec("voc")
CAPS = CODEC.capabilities
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def without_overlapping_masks(ds: Dataset) -> Dataset:
    """VOC's PNGs hold one object per pixel: keep only masks that overlap no earlier mask."""
    anns = []
    for a in ds.annotations:
        taken: np.ndarray | None = None
        kept = []
        for r in a.regions:
            if isinstance(r.geometry, Mask):
                m = rle.decode(r.geometry).astype(bool)
                if taken is not None and (taken & m).any():
                    continue
                taken = m if taken is None else taken | m
            kept.append(r)
        anns.append(Annotation(a.item_id, kept, a.provenance, a.id))
    return Dataset(ds.items.values(), anns, ds.schema, ds.tracks, ds.metadata)


def image_labels_last(ds: Dataset) -> Dataset:
    """VOC keeps image labels in per-class lists: one per class, after the objects, in class order."""
    order = {n: i for i, n in enumerate(ds.schema.names)}
    anns = []
    for a in ds.annotations:
        objects = [r for r in a.regions if not isinstance(r.geometry, Classification)]
        tags = {r.label: Region(r.geometry, r.label) for r in a.regions if isinstance(r.geometry, Classification)}
        anns.append(Annotation(a.item_id, objects + sorted(tags.values(), key=lambda r: order[r.label])))
    return Dataset(ds.items.values(), anns, ds.schema, ds.tracks, ds.metadata)


@SETTINGS
@given(ds=datasets(CAPS, kinds=[GeometryKind.BOX, GeometryKind.MASK, GeometryKind.CLASSIFICATION]))
def test_round_trip_is_exact(tmp_path_factory: pytest.TempPathFactory, ds: Dataset) -> None:
    ds = image_labels_last(without_overlapping_masks(ds))
    out = tmp_path_factory.mktemp("voc")
    report = formats.write(ds, out, "voc")
    expected, _ = restrict(ds, CAPS)
    assert formats.read(out, "voc") == expected
    assert report.lossless, report.summary()
    assert report.items == len(ds.items)


def _rich_dataset() -> Dataset:
    schema = LabelSchema((
        LabelClass("person", color="#c08080", attributes=(AttributeSpec("jumping", AttributeType.CHECKBOX),)),
        LabelClass("car", color="#808080"),
        LabelClass("head", parent="person"),  # parts come last: labelmap lists them on their parent's line
    ))
    m = np.zeros((10, 20), np.uint8)
    m[2:5, 3:9] = 1
    regions = [
        Region(Box(1, 2, 3.5, 4.25), "person", group=7, occluded=True,
               attributes={"pose": "Left", "truncated": True, "difficult": True, "jumping": True, "note": "a <b> & c"}),
        Region(Box(1.5, 2, 2.5, 3), "head", group=7),
        Region(Box(0, 0, 20, 10), "car", attributes={"difficult": True}),
        Region(rle.encode(m), "car", attributes={"pose": "Frontal"}),
        Region(Classification(), "person"),
        Region(Classification(), "car", attributes={"difficult": True}),
    ]
    items = [
        Item("b1", media="b1.jpg", width=20, height=10, subset="train"),
        Item("a10", media="a10.jpg", width=20, height=10, subset="val"),
        Item("empty", media="empty.png", width=4, height=4),
    ]
    items.sort(key=lambda it: it.id)
    anns = [Annotation("a10", []), Annotation("b1", regions), Annotation("empty", [])]
    return Dataset(items, anns, schema)


def test_voc_fields_round_trip(tmp_path: Path) -> None:
    ds = _rich_dataset()
    report = formats.write(ds, tmp_path / "out", "voc")
    assert report.lossless, report.summary()
    back = formats.read(tmp_path / "out")
    assert back == ds
    xml = (tmp_path / "out" / "Annotations" / "b1.xml").read_text()
    # coordinates verbatim, no 1-based shift
    assert "<xmin>1</xmin>" in xml and "<xmax>3.5</xmax>" in xml and "<ymax>4.25</ymax>" in xml
    assert "<part>" in xml and "<jumping>1</jumping>" in xml and "a &lt;b&gt; &amp; c" in xml
    # an item without objects still gets its annotation file
    assert (tmp_path / "out" / "Annotations" / "empty.xml").is_file()
    assert "person:192,128,128:head:jumping" in (tmp_path / "out" / "labelmap.txt").read_text()
    main = tmp_path / "out" / "ImageSets" / "Main"
    assert (main / "person_train.txt").read_text() == "b1  1\n" and (main / "car_train.txt").read_text() == "b1  0\n"
    assert (main / "car_val.txt").read_text() == "a10 -1\n" and (main / "default.txt").read_text() == "empty\n"


def test_report_names_dropped_fields(tmp_path: Path) -> None:
    m = np.zeros((8, 8), np.uint8)
    m[1:4, 1:4] = 1
    m2 = np.zeros((8, 8), np.uint8)
    m2[2:6, 2:6] = 1
    regions = [
        Region(Classification(), "a"),  # image labels come back last
        Region(Box(0, 0, 1, 1), "a", id=5, score=0.5, z_order=2, track_id=1, crowd=True),
        Region(Polygon((0, 0, 4, 0, 4, 4)), "a"),
        Region(Keypoints((1, 1), (2,)), "a"),
        Region(Box(0, 0, 2, 2), "a", attributes={"difficult": False, "n": 3, "": "nameless"}),
        Region(rle.encode(m), "a"),
        Region(rle.encode(m2), "a"),
        Region(Classification(), "a", occluded=True),  # the same image label twice
    ]
    ds = Dataset(
        [Item("i", media="i.jpg", width=8, height=8, number=4, metadata={"k": 1})],
        [Annotation("i", regions, Provenance(Source.MODEL, model="m"))],
        LabelSchema((LabelClass("a", id=3, color="red"),)),
        metadata={"x": 1},
    )
    report = formats.write(ds, tmp_path / "out", "voc")
    expected = {
        "region.id", "region.score", "region.z_order", "region.track_id", "region.crowd", "geometry.polygon",
        "geometry.keypoints", "region.attributes", "geometry.mask", "item.number", "item.metadata",
        "annotation.provenance", "schema.id", "schema.color", "dataset.metadata", "region.order",
        "geometry.classification", "region.occluded",
    }
    assert expected <= report.dropped_fields, report.summary()
    back = formats.read(tmp_path / "out")
    regs = back.annotations[0].regions
    assert regs[1].geometry == Box(0, 0, 4, 4)  # the polygon's bounding box
    assert regs[2].attributes == {"n": "3"}  # keypoints dropped; int written as text
    assert regs[-1] == Region(Classification(), "a")


def test_polygons_can_become_masks(tmp_path: Path) -> None:
    ds = Dataset([Item("i", width=10, height=10)], [Annotation("i", [Region(Polygon((1, 1, 8, 1, 8, 8, 1, 8)), "a")])])
    report = formats.write(ds, tmp_path / "o", "voc", polygons="mask")
    assert "rasterised to a mask" in report.summary()
    (r,) = formats.read(tmp_path / "o").annotations[0].regions
    assert isinstance(r.geometry, Mask) and r.geometry.area == 49  # 7 x 7 pixels inside, as pycocotools fills it
    sizeless = Dataset([Item("j")], [Annotation("j", [Region(Polygon((1, 1, 8, 1, 8, 8)), "a")])])
    with pytest.raises(FormatError, match="'j' has no image size"):
        formats.write(sizeless, tmp_path / "p", "voc", polygons="mask")
    assert not (tmp_path / "p").exists()


# --- Datumaro's fixtures -------------------------------------------------------------------

def test_reads_datumaro_voc1(interop: Path) -> None:
    ds = formats.read(interop / "voc_dataset" / "voc_dataset1")
    assert list(ds.items) == ["2007_000001", "2007_000002"]
    one, two = ds.items.values()
    assert (one.subset, one.width, one.height, one.media) == ("train", 20, 10, "2007_000001.jpg")
    assert (two.subset, two.width, two.height) == ("test", 20, 10)  # listed only, size from the JPEG
    cat, mask, person, head, *tags = ds.annotations[0].regions
    # image-level labels from ImageSets/Main/<class>_train.txt (" 1" present, "-1" absent)
    assert all(isinstance(t.geometry, Classification) and not t.attributes for t in tags)
    assert [t.label for t in tags] == [*VOC_CLASSES[1::2], "ignored"]
    assert (cat.label, cat.geometry) == ("cat", Box(1, 2, 3, 4))  # verbatim, no shift
    assert cat.attributes == {"pose": "Unspecified", "truncated": True}
    assert person.geometry == Box(4, 5, 6, 7) and person.attributes["phoning"] is True
    assert person.attributes["jumping"] is False and len(person.attributes) == 11
    assert (head.label, head.geometry, head.group) == ("head", Box(5.5, 6, 7.5, 8), person.group)
    assert ds.schema.get("head").parent == "person"
    # instance 1 of SegmentationObject, class bicycle from SegmentationClass (RGB PNGs)
    assert mask.label == "bicycle" and mask.group == cat.group
    assert isinstance(mask.geometry, Mask) and mask.geometry.area == 200
    assert len(ds.annotations[1].regions) == 0


def test_reads_datumaro_voc2_and_3(interop: Path) -> None:
    ds = formats.read(interop / "voc_dataset" / "voc_dataset2")
    assert list(ds.items) == ["@", "a", "b", "c", "d"]
    assert {it.subset for it in ds.items.values()} == {"trainval"}
    assert ds.schema.names[0] == "background" and len(ds.schema) == 22
    assert ds.schema.get("aeroplane").color == "#800000"
    boxes = {a.item_id: [(r.label, r.geometry, r.occluded) for r in a.regions] for a in ds.annotations}
    assert boxes == {
        "@": [],
        "a": [("background", Box(1, 2, 4, 6), True)],
        "b": [("aeroplane", Box(2, 2, 7, 6), True)],
        "c": [("bicycle", Box(3, 1, 11, 6), False)],
        "d": [("bird", Box(4, 4, 8, 8), False)],
    }
    ds3 = formats.read(interop / "voc_dataset" / "voc_dataset3")
    assert list(ds3.items) == ["2007_000001"] and ds3.items["2007_000001"].subset == "train"
    assert [r.geometry for r in ds3.annotations[0].regions] == [Box(1, 2, 3, 4)]


@pytest.mark.parametrize("name", ["voc_dataset1", "voc_dataset2", "voc_dataset3"])
def test_fixtures_round_trip_through_our_writer(interop: Path, tmp_path: Path, name: str) -> None:
    ds = formats.read(interop / "voc_dataset" / name)
    report = formats.write(ds, tmp_path / "o", "voc")
    assert report.lossless, report.summary()
    assert formats.read(tmp_path / "o") == ds
    if name == "voc_dataset1":
        # the hand-drawn cat box and its (bicycle-class) instance stay one object, as in the original
        assert (tmp_path / "o" / "Annotations" / "2007_000001.xml").read_text().count("<object>") == 2


def test_detects_directory_and_single_file(interop: Path, tmp_path: Path) -> None:
    root = interop / "voc_dataset" / "voc_dataset1"
    assert formats.detect(root) == "voc"
    assert formats.detect(root / "Annotations" / "2007_000001.xml") == "voc"
    ds = formats.read(root / "Annotations" / "2007_000001.xml", "voc")
    assert list(ds.items) == ["2007_000001"] and len(ds.annotations[0].regions) == 3  # no lists, no PNGs for one file
    (tmp_path / "x.xml").write_text("<annotations><image/></annotations>")
    assert CODEC.detect(tmp_path / "x.xml") == 0.0


# --- bad input ----------------------------------------------------------------------------

def _voc_dir(tmp_path: Path, xml: str) -> Path:
    (tmp_path / "Annotations").mkdir(parents=True)
    (tmp_path / "Annotations" / "x.xml").write_text(xml)
    return tmp_path


OBJ = "<object><name>a</name><bndbox><xmin>{}</xmin><ymin>1</ymin><xmax>4</xmax><ymax>4</ymax></bndbox></object>"


@pytest.mark.parametrize(
    ("xml", "message", "where"),
    [
        ("<annotation>\n<object><name>a</name>\n</annotation>", "malformed XML", "line 3, column"),
        ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
         "<annotation><filename>&lol2;</filename></annotation>", "unsafe XML", None),
        ("<annotation><size><depth>3</depth></size></annotation>", "<size> needs <width> and <height>", "<size>"),
        (f"<annotation>{OBJ.format('one')}</annotation>", "'one' is not a number", "<object> #1 (a) <bndbox>/<xmin>"),
        (f"<annotation>{OBJ.format('nan')}</annotation>", "not finite", "<xmin>"),
        (f"<annotation>{OBJ.format('9')}</annotation>", "inverted", "<object> #1"),
        ("<annotation><object><bndbox/></object></annotation>", "no <name>", "<object> #1"),
        ("<annotation><object><name>a</name><truncated>maybe</truncated><bndbox><xmin>1</xmin><ymin>1</ymin>"
         "<xmax>2</xmax><ymax>2</ymax></bndbox></object></annotation>", "not a flag", "<object> #1 (a) <truncated>"),
        ("<annotation><object><name>a</name></object></annotation>", "no <bndbox>", "<object> #1 (a)"),
        ("<annotations/>", "expected <annotation>", None),
    ],
)
def test_bad_xml_names_file_and_place(tmp_path: Path, xml: str, message: str, where: str | None) -> None:
    root = _voc_dir(tmp_path, xml)
    with pytest.raises(FormatError) as e:
        formats.read(root, "voc")
    assert str(root / "Annotations" / "x.xml") in str(e.value)
    assert message in str(e.value)
    if where:
        assert where in str(e.value)


def test_unknown_palette_colour_is_refused(tmp_path: Path) -> None:
    root = _voc_dir(tmp_path, "<annotation><size><width>4</width><height>3</height></size></annotation>")
    (root / "SegmentationClass").mkdir()
    rgb = np.zeros((3, 4, 3), np.uint8)
    rgb[1, 2] = (1, 2, 3)
    Image.fromarray(rgb).save(root / "SegmentationClass" / "x.png")
    with pytest.raises(FormatError) as e:
        formats.read(root, "voc")
    assert "x.png" in str(e.value) and "(1, 2, 3)" in str(e.value) and "x=2, y=1" in str(e.value)


def test_png_size_must_match_the_annotation(tmp_path: Path) -> None:
    root = _voc_dir(tmp_path, "<annotation><size><width>5</width><height>3</height></size></annotation>")
    (root / "SegmentationClass").mkdir()
    Image.fromarray(np.zeros((3, 4), np.uint8)).save(root / "SegmentationClass" / "x.png")
    with pytest.raises(FormatError, match="4x3 but the annotation's <size> is 5x3"):
        formats.read(root, "voc")


def test_labelmap_errors_name_the_line(tmp_path: Path) -> None:
    root = _voc_dir(tmp_path, "<annotation/>")
    (root / "labelmap.txt").write_text("# comment\nbackground:0,0,0::\ncar:1,2::\n")
    with pytest.raises(FormatError, match=r"labelmap.txt: line 3: colour '1,2'"):
        formats.read(root, "voc")


def test_no_partial_output_when_a_write_fails(tmp_path: Path) -> None:
    items = [Item(f"i{k}", width=4, height=4) for k in range(5)]
    anns = [Annotation(f"i{k}", [Region(Box(0, 0, 1, 1), "ok" if k < 4 else "bad\x01name")]) for k in range(5)]
    out = tmp_path / "out"
    with pytest.raises(FormatError, match=r"XML 1\.0 cannot hold"):
        formats.write(Dataset(items, anns), out, "voc")
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("item_id", ["../escape", "a/../../b", "..", "nul\x00byte", "/abs"])
@pytest.mark.parametrize("codec", ["voc", "png_masks"])
def test_unsafe_item_ids_are_refused(tmp_path: Path, item_id: str, codec: str) -> None:
    ds = Dataset([Item(item_id, width=2, height=2)], [Annotation(item_id, [])])
    with pytest.raises(FormatError, match="relative file path"):
        formats.write(ds, tmp_path / "out", codec)
    assert list(tmp_path.iterdir()) == []


def _table_backed(ds: Dataset) -> Dataset:
    table = RegionTable.from_regions([a.regions for a in ds.annotations])
    anns = [Annotation.from_table(a.item_id, table, table.rows_of(i), a.provenance, a.id) for i, a in enumerate(ds.annotations)]
    return Dataset(ds.items.values(), anns, ds.schema, ds.tracks, ds.metadata)


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@SETTINGS
@given(ds=datasets(formats.get_codec("native").capabilities, kinds=[
    GeometryKind.BOX, GeometryKind.MASK, GeometryKind.POLYGON, GeometryKind.ROTATED_BOX, GeometryKind.KEYPOINTS,
    GeometryKind.CLASSIFICATION,
]))
def test_columnar_path_writes_what_the_general_path_writes(tmp_path_factory: pytest.TempPathFactory, ds: Dataset) -> None:
    items = [replace(it, number=k, metadata={"k": k} if k % 2 else {}) for k, it in enumerate(ds.items.values())]
    anns = [a.replace(provenance=Provenance(Source.MODEL, model="m")) if k % 2 else a for k, a in enumerate(ds.annotations)]
    ds = Dataset(items, anns, ds.schema, metadata={"m": 1})
    slow_dir, fast_dir = tmp_path_factory.mktemp("slow"), tmp_path_factory.mktemp("fast")
    slow = formats.write(ds, slow_dir, "voc")
    fast = formats.write(_table_backed(ds), fast_dir, "voc")
    assert _files(fast_dir) == _files(slow_dir)
    counts = lambda r: {k: v.count for k, v in r.losses.items()}  # noqa: E731
    assert counts(fast) == counts(slow)
    assert (fast.items, fast.regions, fast.files) == (slow.items, slow.regions, slow.files)


@pytest.mark.parametrize("chunk", [1, 2, 3, 16_384])
def test_plain_boxes_formatted_in_chunks_write_what_the_general_path_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    from labelgate.formats.voc import _fast

    monkeypatch.setattr(_fast, "_CHUNK", chunk)
    rng = np.random.default_rng(chunk)
    items, anns = [], []
    for i in range(12):  # plain items of 0-4 boxes, some items with an attribute or an image label between them
        items.append(Item(f"im{i}", media=f"im{i}.jpg", width=100, height=80))
        regs = [Region(Box(*(float(v) for v in np.sort(rng.integers(0, 80, 4)).tolist())), ["cat", "dog & co"][j % 2])
                for j in range(int(rng.integers(0, 5)))]
        if i % 4 == 1:
            regs.append(Region(Box(1, 2, 3.5, 4), "cat", attributes={"difficult": True}))
        if i % 5 == 3:
            regs.append(Region(Classification(), "dog & co"))
        anns.append(Annotation(f"im{i}", regs))
    ds = Dataset(items, anns, LabelSchema.from_names(["cat", "dog & co"]))
    formats.write(ds, tmp_path / "slow", "voc")
    fast = formats.write(_table_backed(ds), tmp_path / "fast", "voc")
    assert _files(tmp_path / "fast") == _files(tmp_path / "slow")
    assert fast.regions == sum(len(a) for a in anns)


def test_failed_write_into_an_empty_directory_leaves_it_empty(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    ds = Dataset([Item("a"), Item("b")], [Annotation("a", []), Annotation("b", [Region(Box(0, 0, 1, 1), "x\x02")])])
    with pytest.raises(FormatError):
        formats.write(ds, out, "voc")
    assert out.is_dir() and list(out.iterdir()) == []
    assert list(tmp_path.iterdir()) == [out]


def test_reads_the_loose_roboflow_layout(interop: Path) -> None:
    root = interop / "roboflow_dataset" / "voc"
    assert formats.detect(root) == "voc"
    ds = formats.read(root)
    assert [(it.id, it.subset, it.media, it.size) for it in ds.items.values()] == [
        ("train_001", "train", "train_001.jpg", (10, 5)),
        ("train_002", "train", "train_002.jpg", (10, 5)),
        ("val_001", "val", "val_001.jpg", (10, 5)),
    ]
    # <xmax> before <ymin> in these files: read by name, not position
    assert [(r.label, r.geometry) for r in ds.annotations[2].regions] == [
        ("label_0", Box(0, 0, 1, 2)), ("label_1", Box(0, 0, 9, 1)),
    ]


def test_images_option_gives_missing_sizes(tmp_path: Path) -> None:
    root = _voc_dir(tmp_path / "voc", "<annotation><filename>sub/x.png</filename></annotation>")
    (tmp_path / "imgs" / "sub").mkdir(parents=True)
    Image.fromarray(np.zeros((7, 9), np.uint8)).save(tmp_path / "imgs" / "sub" / "x.png")
    assert formats.read(root, "voc").items["x"].size is None
    item = formats.read(root, "voc", images=tmp_path / "imgs").items["x"]
    assert (item.media, item.size) == ("sub/x.png", (9, 7))


def test_segmentation_object_holds_254_objects(tmp_path: Path) -> None:
    regions = [Region(rle.encode(_dot(k)), "d") for k in range(255)]
    ds = Dataset([Item("i", width=16, height=16)], [Annotation("i", regions)])
    report = formats.write(ds, tmp_path / "o", "voc")
    assert [(v.field, v.count) for v in report.losses.values()] == [("geometry.mask", 1)]
    assert len(formats.read(tmp_path / "o").annotations[0].regions) == 254


def _dot(k: int) -> np.ndarray:
    a = np.zeros((16, 16), np.uint8)
    a[k // 16, k % 16] = 1
    return a


def test_reads_palette_pngs_with_void_borders_as_voc_ships_them(tmp_path: Path) -> None:
    root = _voc_dir(tmp_path, "<annotation><size><width>8</width><height>6</height></size>"
                    "<object><name>person</name><bndbox><xmin>2</xmin><ymin>1</ymin><xmax>7</xmax><ymax>5</ymax>"
                    "</bndbox></object></annotation>")
    cls = np.zeros((6, 8), np.uint8)
    obj = np.zeros((6, 8), np.uint8)
    cls[1:5, 2:6], obj[1:5, 2:6] = 15, 1  # person (VOC index 15), instance 1
    cls[0, :], obj[0, :] = 255, 255  # void border
    palette = voc_colormap().ravel().tolist()
    for folder, arr in (("SegmentationClass", cls), ("SegmentationObject", obj)):
        (root / folder).mkdir()
        im = Image.fromarray(arr)
        im.putpalette(palette)
        im.save(root / folder / "x.png")
    box, mask = formats.read(root, "voc").annotations[0].regions
    assert (box.label, box.geometry, mask.label, box.group) == ("person", Box(2, 1, 7, 5), "person", mask.group)
    assert isinstance(mask.geometry, Mask) and mask.geometry.area == 16 and bounds(mask.geometry) == (2, 1, 6, 5)


GOOD_XML = (
    "<annotation><filename>x.jpg</filename><size><width>20</width><height>10</height><depth>3</depth></size>"
    "<object><name>cat</name><pose>Left</pose><truncated>1</truncated><difficult>0</difficult><occluded>0</occluded>"
    "<group>2</group><bndbox><xmin>1</xmin><ymin>2</ymin><xmax>3.5</xmax><ymax>4</ymax></bndbox>"
    "<part><name>head</name><bndbox><xmin>1</xmin><ymin>2</ymin><xmax>2</xmax><ymax>3</ymax></bndbox></part>"
    "<actions><jumping>1</jumping></actions><attributes><attribute><name>a</name><value>b</value></attribute>"
    "</attributes></object></annotation>"
)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(0, len(GOOD_XML)), at=st.integers(0, len(GOOD_XML) - 1), char=st.sampled_from("<>/&x-9. \"'"))
def test_damaged_xml_is_read_or_refused_with_a_format_error(tmp_path_factory: pytest.TempPathFactory, cut: int, at: int,
                                                             char: str) -> None:
    damaged = (GOOD_XML[:at] + char + GOOD_XML[at + 1 :])[: max(cut, 1)]
    root = _voc_dir(tmp_path_factory.mktemp("bad"), damaged)
    try:
        formats.read(root, "voc")
    except FormatError as e:
        assert str(root / "Annotations" / "x.xml") in str(e)


def test_images_option_copies_media_into_jpegimages(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    Image.fromarray(np.zeros((10, 20, 3), np.uint8)).save(tmp_path / "src" / "b1.jpg")
    report = formats.write(_rich_dataset(), tmp_path / "out", "voc", images=tmp_path / "src")
    assert (tmp_path / "out" / "JPEGImages" / "b1.jpg").is_file()
    assert any("a10.jpg" in w and "not found" in w for w in report.warnings)
    assert formats.read(tmp_path / "out") == _rich_dataset()


def test_class_names_the_labelmap_cannot_hold_are_refused(tmp_path: Path) -> None:
    ds = Dataset([Item("i")], [Annotation("i", [Region(Box(0, 0, 1, 1), "time:12")])])
    with pytest.raises(FormatError, match=r"'time:12' cannot be written to labelmap.txt .*rename it first"):
        formats.write(ds, tmp_path / "out", "voc")
    assert list(tmp_path.iterdir()) == []
