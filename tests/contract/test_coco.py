"""COCO codec: exact round trips, honest loss reports, pycocotools as the outside oracle,
Datumaro-written fixtures, and bad input that names the file and the place."""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from pycocotools import mask as cocomask
from pycocotools.coco import COCO

from labelgate import formats
from labelgate.core import (
    Annotation,
    AttributeSpec,
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
    MultiPolygon,
    Polygon,
    Polyline,
    Provenance,
    Region,
    RotatedBox,
    Skeleton,
    Source,
    rle,
)
from labelgate.formats.capabilities import restrict
from labelgate.formats.coco import CODEC
from labelgate.formats.coco._segments import parts
from labelgate.formats.coco._write import fits
from tests.strategies import assert_close, datasets

KINDS = [GeometryKind.BOX, GeometryKind.POLYGON, GeometryKind.MULTI_POLYGON, GeometryKind.KEYPOINTS,
         GeometryKind.MASK, GeometryKind.CLASSIFICATION]
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def test_registered() -> None:
    assert formats.get_codec("coco") is CODEC


@SETTINGS
@given(ds=datasets(CODEC.capabilities, kinds=KINDS))
def test_round_trip_is_exact(tmp_path: Path, ds: Dataset) -> None:
    out = Path(tempfile.mkdtemp(dir=tmp_path)) / "rt"
    report = formats.write(ds, out, "coco")
    expected, _ = restrict(ds, CODEC.capabilities)
    back = formats.read(out, "coco")
    assert_close(back, expected)
    assert back == expected
    assert report.lossless, report.summary()
    assert report.path == str(out)


@SETTINGS
@given(ds=datasets(CODEC.capabilities, kinds=[GeometryKind.BOX, GeometryKind.POLYGON, GeometryKind.MASK]))
def test_rewriting_what_was_read_is_exact_and_skips_restrict(tmp_path: Path, ds: Dataset) -> None:
    tmp_path = Path(tempfile.mkdtemp(dir=tmp_path))
    first = tmp_path / "one.json"
    formats.write(ds, first, "coco")
    read = formats.read(first, "coco")
    assert fits(read, CODEC.capabilities) is not None
    again, report = restrict(read, CODEC.capabilities)
    assert report.lossless and again == read
    second = tmp_path / "two.json"
    formats.write(read, second, "coco")
    assert orjson.loads(second.read_bytes())["annotations"] == orjson.loads(first.read_bytes())["annotations"]


_PLAIN_KEYS = {"id", "image_id", "category_id", "segmentation", "area", "bbox", "iscrowd", "score"}


@SETTINGS
@given(ds=datasets(CODEC.capabilities, kinds=KINDS))
def test_typed_fast_path_reads_exactly_what_the_general_path_reads(tmp_path: Path, ds: Dataset) -> None:
    from unittest import mock

    from labelgate.formats.coco import _read

    path = Path(tempfile.mkdtemp(dir=tmp_path)) / "one.json"
    formats.write(ds, path, "coco")
    doc = orjson.loads(path.read_bytes())
    plain = all(set(a) <= _PLAIN_KEYS and set(a) >= _PLAIN_KEYS - {"score"} for a in doc["annotations"])
    taken: list[bool] = []
    real = _read.decode_typed

    def spy(data: bytes) -> Any:
        out = real(data)
        taken.append(out is not None)
        return out

    with mock.patch.object(_read, "decode_typed", spy):
        fast = formats.read(path, "coco")
    with mock.patch.object(_read, "decode_typed", lambda data: None):
        general = formats.read(path, "coco")
    assert taken == [plain]
    assert fast == general  # every region, geometry included (polygons decoded from the raw bytes)


def test_typed_fast_path_declines_other_keys_and_types(tmp_path: Path) -> None:
    from labelgate.formats.coco._typed import decode

    base = {"images": [{"id": 1, "file_name": "a.jpg", "width": 4, "height": 4, "license": 3}],
            "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "segmentation": [[0, 0, 1, 0, 1, 1]], "area": 0.5,
                             "bbox": [0, 0, 1, 1], "iscrowd": 0}],
            "categories": [{"id": 1, "name": "a"}], "info": {}}
    assert decode(orjson.dumps(base)) is not None
    for key, value in [("attributes", {"occluded": False}), ("iscrowd", True), ("bbox", [0, 0, 1]), ("area", "x")]:
        doc = json.loads(json.dumps(base))
        doc["annotations"][0][key] = value
        assert decode(orjson.dumps(doc)) is None, key
        ds = formats.read(_dump(tmp_path, doc), "coco") if key == "attributes" else None
        assert ds is None or ds.annotations[0].regions[0].attributes == {}
    assert decode(b'{"images": [{"id": 1, "file_name": "\xff.jpg"}]}') is None


def _dump(tmp_path: Path, doc: Any) -> Path:
    p = Path(tempfile.mkdtemp(dir=tmp_path)) / "doc.json"
    p.write_bytes(orjson.dumps(doc))
    return p


def _lossy() -> Dataset:
    schema = LabelSchema(
        (LabelClass("car", 3, color="#ff0000", attributes=(AttributeSpec("make"),)),
         LabelClass("person", 1, skeleton=Skeleton(("a", "b"), ((0, 1),), sigmas=(0.1, 0.2)))),
        attributes=(AttributeSpec("weather"),),
    )
    regions = [
        Region(Box(0, 0, 2, 2), "car", z_order=2, track_id=7),
        Region(RotatedBox(5, 5, 2, 4, 30), "car"),
        Region(Polyline((0, 0, 3, 3)), "car"),
        Region(Polygon((0, 0, 9, 0, 9, 9, 0, 9), holes=((2, 2, 4, 2, 4, 4),)), "car"),
        Region(Keypoints((1, 1, 2, 2), (2, 2)), "person"),
    ]
    items = [Item("img", media="img.png", width=10, height=10, number=4, metadata={"camera": "x"})]
    ann = Annotation("img", regions, Provenance(Source.MODEL, model="m"))
    return Dataset(items, [ann, Annotation("img", [Region(Box(1, 1, 2, 2), "car")])], schema, metadata={"k": 1})


def test_report_names_every_dropped_field(tmp_path: Path) -> None:
    report = formats.write(_lossy(), tmp_path / "x.json", "coco")
    assert report.dropped_fields >= {
        "region.z_order", "region.track_id", "geometry.rotated_box", "geometry.polyline", "geometry.polygon.holes",
        "schema.color", "schema.attributes", "schema.skeleton.sigmas", "item.metadata", "annotation.provenance",
        "annotation.multiple", "dataset.metadata",
    }
    back = formats.read(tmp_path / "x.json", "coco")
    kinds = [type(r.geometry) for r in back.annotations[0].regions]
    assert kinds == [Box, Polygon, Polygon, Keypoints, Box]  # the rotated box became a polygon
    assert back.annotations[0].regions[2].geometry.holes == ()


def test_subsets_go_to_their_files_and_a_single_file_reports_them(tmp_path: Path) -> None:
    items = [Item("a", media="a.jpg", number=1, subset="train"), Item("b", media="b.jpg", number=2, subset="val"),
             Item("sub/c", media="sub/c.jpg", number=3)]
    anns = [Annotation("a", [Region(Box(0, 0, 1, 1), "x", id=1)]), Annotation("b", [Region(Box(0, 0, 2, 2), "x", id=1)])]
    ds = Dataset(items, anns, LabelSchema((LabelClass("x", 1),)))
    assert formats.write(ds, tmp_path / "d", "coco").lossless  # ids only need to be unique per file
    names = sorted(p.name for p in (tmp_path / "d" / "annotations").iterdir())
    assert names == ["instances_default.json", "instances_train.json", "instances_val.json"]
    back = formats.read(tmp_path / "d", "coco")
    assert [(it.id, it.subset, it.media) for it in back.items.values()] == [
        ("a", "train", "a.jpg"), ("b", "val", "b.jpg"), ("sub/c", None, "sub/c.jpg")]
    report = formats.write(ds, tmp_path / "one.json", "coco")
    assert report.dropped_fields == {"item.subset", "region.id"}
    assert sorted(a["id"] for a in orjson.loads((tmp_path / "one.json").read_bytes())["annotations"]) == [1, 2]


def test_duplicate_image_numbers_are_renumbered_and_reported(tmp_path: Path) -> None:
    ds = Dataset([Item("a", media="a.jpg", number=3), Item("b", media="b.jpg", number=3)])
    report = formats.write(ds, tmp_path / "x.json", "coco")
    assert "item.number" in report.dropped_fields
    assert [it.number for it in formats.read(tmp_path / "x.json", "coco").items.values()] == [3, 4]


@pytest.mark.parametrize("compressed", [False, True])
def test_pycocotools_loads_our_output_and_its_masks_equal_ours(tmp_path: Path, compressed: bool) -> None:
    h, w = 40, 30
    arr = np.zeros((h, w), np.uint8)
    arr[3:17, 5:9] = 1
    arr[20:31, 10:25] = 1
    poly = Polygon((2.5, 3, 20, 4.25, 18, 30, 4, 25))
    multi = MultiPolygon((Polygon((0, 0, 5, 0, 5, 5)), Polygon((10, 10, 20, 10, 20, 20, 10, 20))))
    regions = [Region(rle.encode(arr), "blob", id=1, crowd=True), Region(poly, "blob", id=2),
               Region(multi, "blob", id=3), Region(Box(1, 2, 11, 22), "blob", id=4, score=0.5)]
    ds = Dataset([Item("i", media="i.jpg", width=w, height=h, number=9)], [Annotation("i", regions)],
                 LabelSchema((LabelClass("blob", 1),)))
    out = tmp_path / "instances_default.json"
    formats.write(ds, out, "coco", rle="compressed" if compressed else "uncompressed")
    coco = COCO(str(out))
    assert sorted(coco.getAnnIds()) == [1, 2, 3, 4]
    assert np.array_equal(coco.annToMask(coco.anns[1]), arr)
    for aid, g in ((2, poly), (3, multi)):
        parts = g.polygons if isinstance(g, MultiPolygon) else (g,)
        theirs = cocomask.decode(cocomask.merge(cocomask.frPyObjects([list(p.points) for p in parts], h, w)))
        assert np.array_equal(coco.annToMask(coco.anns[aid]), theirs)
    assert coco.anns[4]["bbox"] == [1, 2, 10, 20] and coco.anns[4]["area"] == 200
    assert cocomask.toBbox(coco.annToRLE(coco.anns[1])).tolist() == coco.anns[1]["bbox"]
    back = formats.read(out, "coco")
    assert np.array_equal(rle.decode(back.annotations[0].regions[0].geometry), arr)


def test_compressed_rle_written_by_pycocotools_decodes_to_the_same_mask(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    arr = (rng.random((13, 17)) > 0.6).astype(np.uint8)
    enc = cocomask.encode(np.asfortranarray(arr))
    doc = {"images": [{"id": 1, "file_name": "m.png", "width": 17, "height": 13}],
           "categories": [{"id": 5, "name": "m"}],
           "annotations": [{"id": 1, "image_id": 1, "category_id": 5, "iscrowd": 1, "bbox": cocomask.toBbox(enc).tolist(),
                            "area": float(cocomask.area(enc)), "segmentation": {"size": [13, 17], "counts": enc["counts"].decode()}}]}
    p = tmp_path / "x.json"
    p.write_bytes(orjson.dumps(doc))
    region = formats.read(p, "coco").annotations[0].regions[0]
    assert region.crowd and isinstance(region.geometry, Mask)
    assert np.array_equal(rle.decode(region.geometry), cocomask.decode(enc))


FIXTURE_KINDS = ("instances_", "person_keypoints_", "labels_", "image_info_", "_annotations.coco")
SKIP_REASONS = {"captions_": "captions are text, not regions", "panoptic_": "panoptic needs PNG segment maps (not supported)",
                "stuff_": "stuff segmentation is semantic (not supported)"}


def _fixture_files() -> list[str]:
    from tests.conftest import INTEROP

    root = INTEROP / "coco_dataset"
    return sorted(str(p.relative_to(root)) for p in root.rglob("*.json")) if root.is_dir() else []


@pytest.mark.interop
@pytest.mark.parametrize("rel", _fixture_files() or ["<absent>"])
def test_datumaro_fixture_matches_its_json(interop: Path, rel: str) -> None:
    path = interop / "coco_dataset" / rel
    for prefix, reason in SKIP_REASONS.items():
        if path.name.startswith(prefix):
            pytest.skip(f"{path.name}: {reason}")
    assert path.name.startswith(FIXTURE_KINDS), path
    doc = json.loads(path.read_text())
    ds = formats.read(path, "coco")
    assert [(it.number, it.media, it.width, it.height) for it in ds.items.values()] == [
        (im["id"], im["file_name"], im["width"], im["height"]) for im in doc["images"]]
    assert {c.id: c.name for c in ds.schema.classes} == {c["id"]: c["name"] for c in doc["categories"]}
    by_id = {r.id: (a.item_id, r) for a in ds.annotations for r in a.regions if r.id is not None}
    names = {c["id"]: c["name"] for c in doc["categories"]}
    images = {im["id"]: im["file_name"].rsplit(".", 1)[0] for im in doc["images"]}
    for ann in doc["annotations"]:
        item_id, r = by_id[ann["id"]]
        assert item_id == images[ann["image_id"]] and r.label == names[ann["category_id"]]
        assert r.crowd == bool(ann.get("iscrowd", 0))
        if "keypoints" in ann:
            k = ann["keypoints"]
            assert r.geometry == Keypoints(tuple(v for i, v in enumerate(k) if i % 3 != 2), tuple(k[2::3]))
        elif "bbox" not in ann:
            assert r.geometry == Classification()
        elif not ann["segmentation"]:
            x, y, w, h = ann["bbox"]
            assert r.geometry == Box(x, y, x + w, y + h)
        elif isinstance(ann["segmentation"], dict):
            assert r.geometry == Mask(*ann["segmentation"]["size"], tuple(ann["segmentation"]["counts"]))
        else:
            assert r.geometry == Polygon(tuple(ann["segmentation"][0]))
        attrs = {k: v for k, v in ann.get("attributes", {}).items() if k != "occluded"}
        assert dict(r.attributes) == attrs
    assert sum(1 for a in ds.annotations for r in a.regions if r.id is not None) == len(doc["annotations"])


@pytest.mark.interop
def test_a_dataset_folder_reads_every_file_and_names_what_it_skipped(interop: Path) -> None:
    path = interop / "coco_dataset" / "coco"
    assert CODEC.detect(path) > 0
    ds = formats.read(path)
    assert {it.subset for it in ds.items.values()} == {"train", "val"}
    skipped = ds.metadata["coco_skipped_files"]
    assert any(s.startswith("captions_train.json") for s in skipped)
    assert any(s.startswith("panoptic_val.json") for s in skipped)
    person = ds.schema.get("a")
    assert person is not None and person.skeleton is not None and person.skeleton.edges == ((0, 1), (1, 2))


def _write(tmp_path: Path, doc: Any, raw: bytes | None = None) -> Path:
    p = tmp_path / "instances_bad.json"
    p.write_bytes(raw if raw is not None else orjson.dumps(doc))
    return p


GOOD = {"images": [{"id": 1, "file_name": "a.jpg", "width": 4, "height": 4}], "categories": [{"id": 1, "name": "x"}],
        "annotations": [{"id": 7, "image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "area": 1, "segmentation": [], "iscrowd": 0}]}


def _bad(**changes: Any) -> dict[str, Any]:
    return {**GOOD, "annotations": [{**GOOD["annotations"][0], **changes}]}


@pytest.mark.parametrize(
    ("doc", "raw", "where", "what"),
    [
        (None, b'{"images": [\n  {"id": 1,}\n]}', "line 2", "malformed JSON"),
        (_bad(category_id=9), None, "id 7", "category_id 9"),
        (_bad(image_id=5), None, "id 7", "image_id 5"),
        (_bad(bbox=[0, 0, 1]), None, "id 7", "bbox"),
        (_bad(bbox=[0, "x", 1, 1]), None, "id 7", "bbox"),
        (_bad(bbox=[0, 0, -1, 1]), None, "id 7", "negative"),
        (_bad(image_id="one"), None, "id 7", "image_id"),
        (None, b'{"images": [{"id": 1, "file_name": "\xff.jpg"}], "annotations": [], "categories": []}', "line 1", "UTF-8"),
        ({**GOOD, "images": [{"id": 1}]}, None, "images[0]", "file_name"),
        ({**GOOD, "categories": [{"id": 1, "name": "x"}, {"id": 2, "name": "x"}]}, None, "categories[1]", "unique"),
    ],
)
def test_bad_input_names_the_file_and_place(tmp_path: Path, doc: Any, raw: bytes | None, where: str, what: str) -> None:
    p = _write(tmp_path, doc, raw)
    with pytest.raises(FormatError) as e:
        formats.read(p, "coco")
    assert str(p) in str(e.value) and where in str(e.value) and what in str(e.value)


_SQUARE = [0, 0, 2, 0, 2, 2, 0, 2]
# number literals without an exponent that overflow a float (JSON parsers refuse them: infinity)
_OVERFLOWING = [b"1" + b"0" * 400, b"-1" + b"0" * 400, b"1" + b"0" * 400 + b".5", b"2" + b"0" * 308]
_BAD_SEGMENTATIONS = [  # (segmentation, or raw JSON text for it; the field named; what the message says)
    ([[0, 0, 1, 1]], "segmentation[0]", "at least 6"),
    ([[0, 0, 1, 1, 2]], "segmentation[0]", "odd"),
    ([["a", 0, 1, 0, 1, 1]], "segmentation[0]", "'a'"),
    ([[True, 0, 1, 0, 1, 1]], "segmentation[0]", "True"),
    ([[None, 0, 1, 0, 1, 1]], "segmentation[0]", "None"),
    ([[[0, 0], [1, 0], [1, 1]]], "segmentation[0]", "[0, 0]"),
    ([[]], "segmentation[0]", "at least 6"),
    ([0, 0, 1, 0, 1, 1], "segmentation[0]", "must be a list"),
    ([_SQUARE, [0, 0, 1, 1]], "segmentation[1]", "at least 6"),
    ([_SQUARE, _SQUARE, {"x": 1}], "segmentation[2]", "must be a list"),
    (b"[[1e400, 0, 1, 0, 1, 1]]", "segmentation", "infinity"),
    *((b"[[0, 0, " + big + b", 0, 1, 1]]", "segmentation", "infinity") for big in _OVERFLOWING),
    (b"[[0,0,2,0,2,2],[0,0," + _OVERFLOWING[-1] + b",0,1,1]]", "segmentation", "infinity"),  # no byte to spare
    ("abc", "segmentation", "a list of polygons or an RLE dict"),
    ({}, "segmentation", "no 'size'"),
    ({"counts": [0, 16]}, "segmentation", "no 'size'"),
    ({"size": [4, 4]}, "segmentation", "no 'counts'"),
    ({"size": ["4", "4"], "counts": [0, 16]}, "segmentation.size", "[height, width]"),
    ({"size": [16], "counts": [0, 16]}, "segmentation.size", "[height, width]"),
    ({"size": [-4, -4], "counts": [0, 16]}, "segmentation.size", "[height, width]"),
    ({"size": [4, 4], "counts": 16}, "segmentation.counts", "run lengths or a compressed"),
    ({"size": [4, 4], "counts": [0.5, 15.5]}, "segmentation.counts", "0.5"),
    ({"size": [4, 4], "counts": ["0", "16"]}, "segmentation.counts", "'0'"),
    ({"size": [4, 4], "counts": [17, -1]}, "segmentation.counts", "negative"),
    ({"size": [4, 4], "counts": [0, 15]}, "segmentation.counts", "sum to 15"),
    ({"size": [4, 4], "counts": [0, 16, 1]}, "segmentation.counts", "sum to 17"),
    ({"size": [4, 4], "counts": "zzzz"}, "segmentation.counts", "character"),
    ({"size": [4, 4], "counts": "0?"}, "segmentation.counts", "sum to 15"),  # pycocotools leaves a pixel undefined
    ({"size": [4, 4], "counts": "0P"}, "segmentation.counts", "inside a number"),
    ({"size": [3, 3], "counts": [0, 9]}, "segmentation.size", "image 1"),
    (b'{"size": [4, 4], "counts": [0, 9223372036854775808]}', "segmentation.counts", "too large"),
    ({"size": [2**40, 1], "counts": [0, 2**40]}, "segmentation.size", "[height, width]"),
    (b'{"size": [4, 4], "counts": [0, ' + _OVERFLOWING[0] + b"]}", "segmentation", "infinity"),
    (b'{"size": [4, 4], "counts": [0, 16], "extra": ' + _OVERFLOWING[0] + b"}", "segmentation", "infinity"),
    (b'{"size": [4, 4], "counts": [0, 16], "extra": [1e400]}', "segmentation", "infinity"),
]


def _with_segmentation(tmp_path: Path, seg: Any, general: bool) -> Path:
    """A file whose annotation id 42 has ``seg`` (raw JSON text when bytes) after a good one;
    ``general``: an eighth key keeps the reader off its typed fast path."""
    good = {**GOOD["annotations"][0], "segmentation": [_SQUARE]}
    bad = {**good, "id": 42, "segmentation": "@SEG@", **({"attributes": {}} if general else {})}
    text = orjson.dumps({**GOOD, "annotations": [good, bad]})
    return _write(tmp_path, None, text.replace(b'"@SEG@"', seg if isinstance(seg, bytes) else orjson.dumps(seg)))


@pytest.mark.parametrize("general", [False, True], ids=["typed", "general"])
@pytest.mark.parametrize(("seg", "field", "what"), _BAD_SEGMENTATIONS)
def test_a_bad_segmentation_is_refused_at_read_naming_file_annotation_and_field(
        tmp_path: Path, seg: Any, field: str, what: str, general: bool) -> None:
    p = _with_segmentation(tmp_path, seg, general)
    with pytest.raises(FormatError) as e:
        formats.read(p, "coco")
    message = str(e.value)
    if general and what == "infinity":  # the JSON parser refuses the whole file, naming line and column
        assert str(p) in message and "line 1, column" in message and what in message, message
        return
    assert str(p) in message and "annotations[1] (id 42)" in message and field in message and what in message, message


@pytest.mark.parametrize("general", [False, True], ids=["typed", "general"])
def test_a_bad_segmentation_far_into_a_large_file_is_named_by_its_own_id(tmp_path: Path, general: bool) -> None:
    good = {**GOOD["annotations"][0], "segmentation": [_SQUARE], **({"attributes": {}} if general else {})}
    anns = [{**good, "id": 100 + i, "segmentation": [_SQUARE] if i % 3 else []} for i in range(10_000)]
    anns[9_001]["segmentation"] = [_SQUARE, [0, 0, 1, 0, 1]]
    p = _write(tmp_path, {**GOOD, "annotations": anns})
    with pytest.raises(FormatError, match=r"annotations\[9001\] \(id 9101\): segmentation\[1\] has 5 coordinates"):
        formats.read(p, "coco")


def test_a_number_too_large_for_a_float_far_into_a_large_file_is_named_by_its_own_id(tmp_path: Path) -> None:
    good = {**GOOD["annotations"][0], "segmentation": [_SQUARE]}
    anns = [{**good, "id": 100 + i, "segmentation": [_SQUARE * 40] if i % 3 else []} for i in range(10_000)]
    anns[9_001]["segmentation"] = "@SEG@"
    text = orjson.dumps({**GOOD, "annotations": anns}).replace(b'"@SEG@"', b"[[0,0,1,0,1," + _OVERFLOWING[0] + b"]]")
    with pytest.raises(FormatError, match=r"annotations\[9001\] \(id 9101\): segmentation: number is infinity"):
        formats.read(_write(tmp_path, None, text), "coco")


def test_a_number_too_large_for_a_float_is_found_wherever_it_lies_in_the_text() -> None:
    """The typed check looks at the text in blocks: a shortest overflowing literal at every offset is found."""
    def bad(message: str, row: int) -> FormatError:
        return FormatError(message, where=f"row {row}")

    good = b"[[0,0,2,0,2,2]]"
    for shift in range(2 * 155):
        raw = b"[[" + b" " * shift + _OVERFLOWING[-1] + b",0,0,0,1,1]]"
        with pytest.raises(FormatError, match=r"row 1.*infinity"):
            parts([good, raw, good], True, bad)


@pytest.mark.parametrize("general", [False, True], ids=["typed", "general"])
def test_segmentations_pycocotools_accepts_are_read(tmp_path: Path, general: bool) -> None:
    rng = np.random.default_rng(3)
    arr = (rng.random((4, 4)) < 0.5).astype(np.uint8)
    compressed = cocomask.encode(np.asfortranarray(arr))["counts"].decode()
    ok: list[Any] = [[_SQUARE], [_SQUARE, [1, 1, 3, 1, 3, 3.5]], {"size": [4, 4], "counts": list(rle.encode(arr).counts)},
          {"size": [4, 4], "counts": compressed}, {"size": [4, 4], "counts": compressed, "extra": 1}, [], None,
          b"[[0, 0, 1e1, 0, 1E0, 1.5e-3]]", b"[ ]", b"[\n  [0 ,0, 2,0,\n   2, 2 ] ,[1,1,2,1,2,2]\n]"]
    for j, seg in enumerate(ok):
        p = _with_segmentation(tmp_path, seg, general)
        table = formats.read(p, "coco").table()
        g = table.geometry_at(1) if table.kind[1] != GeometryKind.BOX else None
        if isinstance(seg, bytes):
            seg = json.loads(seg)
        if isinstance(seg, dict):  # an RLE, whatever its other keys: a mask equal to pycocotools'
            assert table.kind[1] == GeometryKind.MASK and isinstance(g, Mask), j
            assert np.array_equal(rle.decode(g), cocomask.decode({**seg, "counts": compressed})), j
        elif seg:
            rles = cocomask.frPyObjects(seg, 4, 4)
            assert isinstance(g, (Polygon, MultiPolygon)), j
            parts = g.polygons if isinstance(g, MultiPolygon) else (g,)
            assert len(rles) == len(seg) and [list(q.points) for q in parts] == seg, j
        else:
            assert g is None, j


@pytest.mark.parametrize("literal", [b"0." + b"0" * 400 + b"1", b"2." + b"0" * 400, b"-1" + b"0" * 308,
                                     b"1" + b"0" * 308 + b"." + b"0" * 400, b"1.5" + b"0" * 400 + b"e-2"])
def test_long_number_literals_of_finite_floats_are_read_alike_on_both_paths(tmp_path: Path, literal: bytes) -> None:
    """What converts to a finite float is a coordinate, however long its text (orjson and json agree)."""
    value = json.loads(literal)
    assert orjson.loads(literal) == float(value) and math.isfinite(float(value))
    seg = b"[[0, 0, " + literal + b", 0, 1, 1]]"
    for general in (False, True):
        table = formats.read(_with_segmentation(tmp_path, seg, general), "coco").table()
        g = table.geometry_at(1)
        assert isinstance(g, Polygon) and g.points[2] == float(value), general
    rle_with = b'{"size": [4, 4], "counts": [0, 16], "extra": ' + literal + b"}"
    for general in (False, True):
        assert isinstance(formats.read(_with_segmentation(tmp_path, rle_with, general), "coco").table().geometry_at(1), Mask)


def test_compressed_rle_strings_decode_to_pycocotools_runs() -> None:
    from labelgate.formats.coco._rle_string import decode_strings

    rng = np.random.default_rng(5)
    arrays, strings = [], []
    for t in range(200):
        h, w = (int(v) for v in rng.integers(1, 40, 2))
        a = (rng.random((h, w)) < rng.random()).astype(np.uint8)
        if t % 2:
            a[:] = 0
            a[rng.integers(0, h):, rng.integers(0, w):] = 1  # long runs: several characters per number
        arrays.append(a)
        strings.append(cocomask.encode(np.asfortranarray(a))["counts"].decode())
    decoded = decode_strings(strings)
    assert not any(decoded.problem)
    for j, a in enumerate(arrays):
        got = rle.decode(Mask(a.shape[0], a.shape[1], tuple(decoded.of(j))))
        assert np.array_equal(got, cocomask.decode({"size": list(a.shape), "counts": strings[j].encode()})), j
    assert decoded.totals().tolist() == [a.size for a in arrays]


def test_failed_write_leaves_no_partial_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    items = [Item("a", media="a.jpg", number=1, subset="train"), Item("b", media="b.jpg", number=2, subset="val")]
    ds = Dataset(items, [], LabelSchema((LabelClass("x", 1),)))
    import labelgate.formats.coco._codec as codec_module

    calls = []
    real = orjson.dumps

    def failing(obj: Any, *a: Any, **k: Any) -> bytes:
        calls.append(1)
        if len(calls) == 2:
            raise OSError("disk full")
        return real(obj, *a, **k)

    monkeypatch.setattr(codec_module.orjson, "dumps", failing)
    with pytest.raises(OSError, match="disk full"):
        formats.write(ds, tmp_path / "out", "coco")
    assert list(tmp_path.iterdir()) == []


def test_detection(tmp_path: Path) -> None:
    p = _write(tmp_path, GOOD)
    assert CODEC.detect(p) > 0.5
    native = tmp_path / "n.json"
    formats.write(Dataset([Item("a")]), native, "native")
    assert CODEC.detect(native) == 0
    assert formats.detect(p) == "coco"


def test_missing_ids_are_assigned_and_warned(tmp_path: Path) -> None:
    ds = Dataset([Item("a", media="a.jpg")], [Annotation("a", [Region(Box(0, 0, 1, 1), "x"), Region(Box(0, 0, 2, 2), "x", id=1)])])
    report = formats.write(ds, tmp_path / "x.json", "coco")
    doc = orjson.loads((tmp_path / "x.json").read_bytes())
    assert sorted(a["id"] for a in doc["annotations"]) == [1, 2] and doc["images"][0]["id"] == 1
    assert doc["categories"] == [{"id": 1, "name": "x", "supercategory": ""}]
    assert len(report.warnings) == 3


@pytest.mark.interop
def test_keypoint_people_are_written_back_as_one_annotation_each(interop: Path, tmp_path: Path) -> None:
    src = interop / "coco_dataset" / "coco_person_keypoints" / "annotations" / "person_keypoints_val.json"
    ds = formats.read(src, "coco")
    report = formats.write(ds, tmp_path / "person_keypoints_val.json", "coco")
    assert report.lossless, report.summary()
    theirs = json.loads(src.read_text())["annotations"]
    ours = orjson.loads((tmp_path / "person_keypoints_val.json").read_bytes())["annotations"]
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs, strict=True):
        assert {k: a[k] for k in ("id", "keypoints", "num_keypoints", "segmentation", "bbox", "iscrowd")} == {
            k: b[k] for k in ("id", "keypoints", "num_keypoints", "segmentation", "bbox", "iscrowd")}
        assert a.get("attributes", {}) == {k: v for k, v in b.get("attributes", {}).items() if k != "occluded" or v}
    assert formats.read(tmp_path / "person_keypoints_val.json", "coco") == ds


def test_seven_keys_without_segmentation_read_as_a_box(tmp_path: Path) -> None:
    # exactly seven keys, one of them not the standard segmentation: the fast path must step aside
    p = tmp_path / "noseg.json"
    p.write_text('{"images":[{"id":1,"file_name":"a.jpg","width":10,"height":10}],"categories":[{"id":1,"name":"x"}],'
                 '"annotations":[{"id":1,"image_id":1,"category_id":1,"area":4,"bbox":[0,0,2,2],"iscrowd":0,"extra":5}]}')
    ds = formats.read(p, "coco")
    (region,) = ds.annotations[0].regions
    assert region.geometry == Box(0, 0, 2, 2) and region.label == "x"


def test_bulk_items_set_every_item_field_as_the_constructor_does() -> None:
    import dataclasses

    from labelgate.formats.coco import _bulk
    from labelgate.formats.coco._typed import TypedImage

    assert tuple(f.name for f in dataclasses.fields(Item)) == _bulk._ITEM_FIELDS
    assert set(Annotation.__slots__) == set(_bulk._ANN_FIELDS)
    images = [{"id": 7, "file_name": "dir/a.b.jpg", "width": 3, "height": 2}, {"id": 8, "file_name": ".hidden", "width": 1, "height": 1}]
    expected = [Item("dir/a.b", media="dir/a.b.jpg", width=3, height=2, number=7, subset="s"),
                Item(".hidden", media=".hidden", width=1, height=1, number=8, subset="s")]
    assert _bulk.items_from(images, "s", lambda i, im: Item("x")) == expected
    assert _bulk.items_from([TypedImage(**im) for im in images], "s", lambda i, im: Item("x"), typed=True) == expected


def _all_dicts(table: Any, box: Any, ids: Any, image_id: Any, cat: Any, area: Any, xywh: Any, crowd: Any) -> tuple[list[Any], Any]:
    """The writer's annotations without its plain-box fast path: one dict per row (scores added later)."""
    import numpy as np

    return [{"id": i, "image_id": im, "category_id": c, "segmentation": [], "area": ar, "bbox": bb, "iscrowd": cr}
            for i, im, c, ar, bb, cr in zip(ids.tolist(), image_id.tolist(), cat.tolist(), area.tolist(), xywh.tolist(),
                                            crowd.tolist(), strict=True)], np.zeros(len(ids), dtype=bool)


@SETTINGS
@given(ds=datasets(CODEC.capabilities, kinds=KINDS))
def test_plain_boxes_written_as_fragments_are_the_bytes_dicts_give(tmp_path: Path, ds: Dataset) -> None:
    from unittest import mock

    from labelgate.formats.coco import _write

    out = Path(tempfile.mkdtemp(dir=tmp_path))
    from labelgate.formats.coco import _codec

    # several chunks even on small examples, both for the annotations' text and for writing the file
    with mock.patch.object(_write, "_CHUNK", 2), mock.patch.object(_codec, "_DUMP_CHUNK", 1):
        fast = formats.write(ds, out / "fast.json", "coco")
        formats.write(ds, out / "fast_dir", "coco")
    with mock.patch.object(_write, "_annotations", _all_dicts):
        slow = formats.write(ds, out / "slow.json", "coco")
    assert (out / "fast.json").read_bytes() == (out / "slow.json").read_bytes()
    for f in (out / "fast_dir" / "annotations").iterdir():  # one file per subset, each as orjson writes its document
        doc = orjson.loads(f.read_bytes())
        assert f.read_bytes() == orjson.dumps(doc)
    assert fast.to_dict() | {"path": None} == slow.to_dict() | {"path": None}
