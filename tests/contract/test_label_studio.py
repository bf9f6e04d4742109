"""Label Studio tasks JSON: round trips within the declared 1e-6 relative, provenance, brush RLE
against label-studio-converter, reported losses, bad input."""

from __future__ import annotations

import importlib.util
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
    ItemKind,
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
    Source,
    TextSpan,
    Track,
    TrackShape,
    rle,
)
from labelgate.formats import restrict
from labelgate.formats.label_studio._brush import decode_brush, encode_brush
from tests.strategies import assert_close, datasets

CODEC = formats.get_codec("label_studio")
CAPS = CODEC.capabilities
REL, ABS = 1e-6, 1e-9  # declared: percent coordinates
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
IMAGE_KINDS = [GeometryKind.BOX, GeometryKind.ROTATED_BOX, GeometryKind.POLYGON, GeometryKind.MASK, GeometryKind.CLASSIFICATION]


def _round_trip(ds: Dataset, out: Path) -> tuple[Dataset, formats.ConversionReport]:
    report = formats.write(ds, out, "label_studio")
    assert report.path is not None
    return formats.read(report.path, "label_studio"), report


@SETTINGS
@given(ds=datasets(CAPS, kinds=IMAGE_KINDS))
def test_image_round_trip_within_declared_tolerance(tmp_path: Path, ds: Dataset) -> None:
    back, report = _round_trip(ds, tmp_path / "img")
    assert report.lossless, report.summary()
    assert_close(back, restrict(ds, CAPS)[0], rel=REL, abs_=ABS)


@SETTINGS
@given(ds=datasets(CAPS, kinds=[GeometryKind.TEXT_SPAN, GeometryKind.CLASSIFICATION]))
def test_text_round_trip_is_exact(tmp_path: Path, ds: Dataset) -> None:
    back, report = _round_trip(ds, tmp_path / "txt")
    assert report.lossless, report.summary()
    assert back == restrict(ds, CAPS)[0]


def test_provenance_annotations_and_predictions(tmp_path: Path) -> None:
    t0 = datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=UTC)
    items = [Item("img", media="s3://bucket/dir/img.png", width=640, height=480, number=12)]
    anns = [
        Annotation("img", [Region(Box(10, 20, 30, 40), "car", id=1)], Provenance(Source.HUMAN, "17", created_at=t0, lead_time=12.5), "101"),
        Annotation("img", [Region(Box(11, 20, 30, 40), "car", id=2)], Provenance(Source.GOLD, "ann@example.org"), "102"),
        Annotation("img", [], Provenance(Source.CONSENSUS, created_at=t0.astimezone(timezone(timedelta(hours=2))))),
        Annotation("img", [Region(Box(12, 20, 30, 40), "car", score=0.75), Region(Keypoints((5.0, 6.0), (2,)), "nose", score=0.5)],
                   Provenance(Source.MODEL, model="yolo", model_version="8.1", created_at=t0), "p1"),
    ]
    ds = Dataset(items, anns, LabelSchema((LabelClass("car", color="#ff0000"), LabelClass("nose"), LabelClass("unused"))))
    back, report = _round_trip(ds, tmp_path / "prov.json")
    assert report.lossless, report.summary()
    assert report.path == str(tmp_path / "prov.json")
    assert (tmp_path / "prov.label_config.xml").is_file()
    assert_close(back, ds, rel=REL, abs_=ABS)
    assert back.annotations[2].provenance.created_at == anns[2].provenance.created_at
    task = json.loads((tmp_path / "prov.json").read_text())[0]
    assert task["id"] == 12 and task["data"] == {"image": "s3://bucket/dir/img.png"} and "meta" not in task
    assert [a["completed_by"] for a in task["annotations"][:2]] == [17, "ann@example.org"]
    assert task["annotations"][1]["ground_truth"] is True
    assert task["predictions"][0]["model_version"] == "8.1"
    assert task["predictions"][0]["result"][0]["score"] == 0.75


def test_rotated_rectangle_is_label_studio_geometry(tmp_path: Path) -> None:
    """Label Studio rotates a rectangle about its top-left corner (x, y)."""
    ds = Dataset([Item("a", media="a.jpg", width=200, height=100)],
                 [Annotation("a", [Region(RotatedBox(100, 50, 40, 20, 90), "r")])])
    formats.write(ds, tmp_path / "rot", "label_studio")
    value = json.loads((tmp_path / "rot" / "tasks.json").read_text())[0]["annotations"][0]["result"][0]["value"]
    # unrotated top-left (80, 40) turned 90 degrees clockwise about the centre lands at (110, 30)
    assert value["x"] == pytest.approx(55.0) and value["y"] == pytest.approx(30.0)
    assert (value["width"], value["height"], value["rotation"]) == (20.0, 20.0, 90)


def test_text_offsets_are_utf16_units(tmp_path: Path) -> None:
    text = "a😀b héllo"
    ds = Dataset([Item("d", ItemKind.TEXT, text=text)], [Annotation("d", [Region(TextSpan(2, 3), "x"), Region(TextSpan(4, 9), "w")])])
    back, _ = _round_trip(ds, tmp_path / "t")
    value = json.loads((tmp_path / "t" / "tasks.json").read_text())[0]["annotations"][0]["result"]
    assert [(r["value"]["start"], r["value"]["end"], r["value"]["text"]) for r in value] == [(3, 4, "b"), (5, 10, "héllo")]
    assert back.annotations == ds.annotations


def test_several_choices_share_one_result(tmp_path: Path) -> None:
    ds = Dataset([Item("a", media="a.jpg", width=4, height=4)],
                 [Annotation("a", [Region(Classification(), "indoor"), Region(Classification(), "night"), Region(Box(0, 0, 1, 1), "x"),
                                   Region(Classification(), "blurry")])])
    back, _ = _round_trip(ds, tmp_path / "c")
    results = json.loads((tmp_path / "c" / "tasks.json").read_text())[0]["annotations"][0]["result"]
    assert [r["value"].get("choices") for r in results] == [["indoor", "night"], None, ["blurry"]]
    assert back.annotations == ds.annotations


# -- brush RLE against Label Studio's own converter ------------------------------------------------


def _ls_brush() -> Any:
    """label-studio-converter's ``brush`` module, loaded alone: the package's ``__init__``
    imports its whole converter (nltk and more, about 4 s)."""
    spec = importlib.util.find_spec("label_studio_converter")
    assert spec is not None and spec.submodule_search_locations, "pip install 'labelgate[test]'"
    path = Path(next(iter(spec.submodule_search_locations))) / "brush.py"
    loader = importlib.util.spec_from_file_location("_ls_brush", path)
    assert loader is not None and loader.loader is not None
    module = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(module)
    return module


ls_brush = _ls_brush()


@settings(max_examples=30, deadline=None)
@given(h=st.integers(1, 40), w=st.integers(1, 40), seed=st.integers(0, 2**32 - 1), density=st.sampled_from([0.0, 0.05, 0.5, 0.95, 1.0]))
def test_brush_rle_matches_label_studio_converter(h: int, w: int, seed: int, density: float) -> None:
    arr = (np.random.default_rng(seed).random((h, w)) < density).astype(np.uint8)
    mask = rle.encode(arr)
    ours = encode_brush(mask)
    decoded = ls_brush.decode_rle(ours).reshape(h, w, 4)
    assert np.array_equal(decoded[:, :, 3] > 0, arr.astype(bool))
    theirs = ls_brush.encode_rle(np.repeat(arr.ravel() * 255, 4).astype(np.uint8))
    assert decode_brush(theirs, w, h) == mask


def test_large_brush_mask(tmp_path: Path) -> None:
    arr = np.zeros((600, 800), np.uint8)
    arr[100:500, 150:700] = 1
    arr[300, ::3] = 0
    ds = Dataset([Item("big", media="big.png", width=800, height=600)], [Annotation("big", [Region(rle.encode(arr), "blob")])])
    back, _ = _round_trip(ds, tmp_path / "b")
    got = back.annotations[0].regions[0].geometry
    assert isinstance(got, Mask) and np.array_equal(rle.decode(got), arr)


# -- losses ---------------------------------------------------------------------------------------


def test_report_names_every_dropped_field(tmp_path: Path) -> None:
    schema = LabelSchema((LabelClass("a", id=3, attributes=(AttributeSpec("k"),)), LabelClass("b")))
    items = [Item("x", media="x.jpg", width=10, height=10, subset="train", metadata={"m": 1}),
             Item("f", ItemKind.VIDEO_FRAME, frame=0), Item("y")]
    square = (1.0, 1.0, 5.0, 1.0, 5.0, 5.0)
    regions = [
        Region(Box(0, 0, 1, 1), "a", attributes={"k": True}, group=1, z_order=2, occluded=True, track_id=4, crowd=True),
        Region(Polyline((0.0, 0.0, 1.0, 1.0)), "a"),
        Region(MultiPolygon((Polygon(square),)), "a"),
        Region(Polygon(square, holes=((2.0, 2.0, 3.0, 2.0, 3.0, 3.0),)), "b"),
        Region(Keypoints((1.0, 1.0, 2.0, 2.0), (2, 1)), "b"),
        Region(Mask(4, 4, (16,)), "b"),
        Region(RotatedBox(5, 5, 2, 2, 0), "b"),
    ]
    ds = Dataset(items, [Annotation("x", regions, Provenance(Source.MODEL)), Annotation("x", []),
                         Annotation("y", [Region(Box(0, 0, 1, 1), "a")])],
                 schema, [Track(1, "a", (TrackShape(0, Box(0, 0, 1, 1)),))], {"about": "x"})
    report = formats.write(ds, tmp_path / "lossy", "label_studio")
    assert {
        "region.attributes", "region.group", "region.z_order", "region.occluded", "region.track_id", "region.crowd",
        "geometry.polyline", "geometry.multi_polygon", "geometry.polygon.holes", "geometry.keypoints", "geometry.mask",
        "geometry.rotated_box", "geometry.box", "item.subset", "item.metadata", "item.kind.video_frame", "item.media",
        "annotation.order", "schema.id", "schema.attributes", "track", "dataset.metadata",
    } <= report.dropped_fields
    back = formats.read(report.path, "label_studio")  # type: ignore[arg-type]
    assert list(back.items) == ["x", "y"]
    assert [type(r.geometry).__name__ for r in back.annotations[1].regions] == ["Box", "Polygon", "Keypoints", "Keypoints", "Box"]


def test_detect(tmp_path: Path) -> None:
    ds = Dataset([Item("a", media="a.jpg", width=4, height=4)], [Annotation("a", [Region(Box(0, 0, 1, 1), "c")])])
    formats.write(ds, tmp_path / "d", "label_studio")
    assert CODEC.detect(tmp_path / "d") > 0.5
    assert CODEC.detect(tmp_path / "d" / "tasks.json") > 0.5
    (tmp_path / "coco.json").write_text('{"images": [], "annotations": []}')
    assert CODEC.detect(tmp_path / "coco.json") == 0.0


# -- bad input ------------------------------------------------------------------------------------


def _task(result: dict[str, object], data: dict[str, object] | None = None, **entry: object) -> list[dict[str, object]]:
    return [{"id": 1, "data": data or {"image": "a.jpg"}, "annotations": [{"id": 5, "result": [result], **entry}]}]


_RECT = {"id": "r1", "type": "rectanglelabels", "from_name": "bbox", "to_name": "image", "original_width": 10,
         "original_height": 10, "value": {"x": 10, "y": 10, "width": 20, "height": 20, "rectanglelabels": ["car"]}}


@pytest.mark.parametrize(
    ("content", "where", "what"),
    [
        ('[{"data": {"image": "a.jpg"}, "annotations": [', "line 1", "malformed JSON"),
        ('{"images": []}', "top level", "list of Label Studio tasks"),
        (_task({**_RECT, "value": {**_RECT["value"], "x": "ten"}}), "task[0] (id 1).annotations[0].result[0] (rectanglelabels, id 'r1')",
         "value.x must be a number"),
        (_task({**_RECT, "original_width": None}), "result[0]", "original_width"),
        (_task({**_RECT, "type": "textarea"}), "result[0] (textarea", "unsupported result type 'textarea'"),
        (_task({**_RECT, "value": {k: v for k, v in _RECT["value"].items() if k != "rectanglelabels"}}), "result[0]", "no label"),
        (_task({"id": "b", "type": "brushlabels", "original_width": 3, "original_height": 3,
                "value": {"format": "rle", "rle": [*encode_brush(rle.encode(np.ones((2, 2))))[:-1], 0], "brushlabels": ["x"]}}),
         "result[0] (brushlabels", "brush RLE holds 16 values, expected width*height*4 = 36"),
        (_task({"id": "s", "type": "labels", "value": {"start": 2, "end": 3, "labels": ["x"]}}, {"text": "a😀b"}),
         "result[0] (labels", "not on a character boundary"),
        (_task(_RECT, created_at="yesterday"), "task[0] (id 1).annotations[0]", "created_at 'yesterday'"),
        ([{"id": 1, "data": {"audio": "a.wav"}}], "task[0] (id 1).data", "no 'image' or 'text'"),
        ([{"data": {"image": "d/a.jpg"}}, {"data": {"image": "e/a.png"}}], None, "appears twice"),
    ],
)
def test_bad_input_names_file_and_place(tmp_path: Path, content: object, where: str | None, what: str) -> None:
    p = tmp_path / "tasks.json"
    p.write_text(content if isinstance(content, str) else json.dumps(content))
    with pytest.raises(FormatError) as e:
        formats.read(p, "label_studio")
    assert str(p) in str(e.value)
    assert what in str(e.value)
    if where:
        assert where in str(e.value)


def test_skip_unsupported_results(tmp_path: Path) -> None:
    tasks = _task({**_RECT, "type": "textarea"})
    tasks[0]["annotations"].append({"id": 6, "was_cancelled": True, "result": []})  # type: ignore[attr-defined]
    p = tmp_path / "tasks.json"
    p.write_text(json.dumps(tasks))
    ds = formats.read(p, "label_studio", on_unsupported="skip")
    assert ds.metadata["label_studio_skipped"] == {"result type textarea": 1, "cancelled annotation": 1}
    assert [len(a.regions) for a in ds.annotations] == [0]


def test_fields_of_the_other_item_kind_are_reported(tmp_path: Path) -> None:
    ds = Dataset([Item("d", ItemKind.TEXT, media="d.txt", text="hi"), Item("i", media="i.jpg", text="caption")])
    report = formats.write(ds, tmp_path / "k", "label_studio")
    assert {"item.media", "item.text"} <= report.dropped_fields


@SETTINGS
@given(ds=st.one_of(
    datasets(formats.get_codec("native").capabilities, kinds=[k for k in GeometryKind if k != GeometryKind.TEXT_SPAN]),
    datasets(formats.get_codec("native").capabilities, kinds=[GeometryKind.TEXT_SPAN, GeometryKind.CLASSIFICATION]),
))
def test_anything_we_write_reads_back(tmp_path: Path, ds: Dataset) -> None:
    """Whatever the dataset holds, the file is valid: losses are reported, never written."""
    back, report = _round_trip(ds, tmp_path / "any")
    assert list(back.items) == list(restrict(ds, CAPS)[0].items)
    assert back.region_count == report.regions


def test_per_region_controls_become_region_attributes(tmp_path: Path) -> None:
    rect = {**_RECT, "id": "Xy9"}
    tasks = _task(rect)
    results = tasks[0]["annotations"][0]["result"]  # type: ignore[index]
    results += [  # perRegion="true" controls share the shape's id
        {"id": "Xy9", "type": "choices", "from_name": "colour", "to_name": "image", "value": {"choices": ["red", "dark"]}},
        {"id": "Xy9", "type": "textarea", "from_name": "note", "to_name": "image", "value": {"text": ["a", "b"]}},
        {"id": "Xy9", "type": "number", "from_name": "count", "to_name": "image", "value": {"number": 3}},
        {"id": "other", "type": "choices", "from_name": "scene", "to_name": "image", "value": {"choices": ["day"]}},
    ]
    p = tmp_path / "tasks.json"
    p.write_text(json.dumps(tasks))
    ds = formats.read(p, "label_studio")
    (box, scene) = ds.annotations[0].regions
    assert box.attributes == {"colour": "red,dark", "note": "a\nb", "count": 3}
    assert isinstance(box.geometry, Box) and box.id is None
    assert isinstance(scene.geometry, Classification) and scene.label == "day"


def test_attributes_round_trip_as_per_region_controls(tmp_path: Path) -> None:
    attrs = {"count": 3, "ratio": 0.5, "note": "two\nlines"}
    ds = Dataset([Item("a", media="a.jpg", width=10, height=10)],
                 [Annotation("a", [Region(Box(1, 1, 5, 5), "car", id=7, attributes=attrs),
                                   Region(Classification(), "day", attributes={"why": "sun"})])])
    back, report = _round_trip(ds, tmp_path / "attrs")
    assert report.lossless, report.summary()
    assert back.annotations == ds.annotations
    config = (tmp_path / "attrs" / "tasks.label_config.xml").read_text()
    assert '<Number name="count" toName="image" perRegion="true" />' in config
    assert '<TextArea name="note" toName="image" perRegion="true" />' in config


def test_control_characters_in_class_names_fail_the_write_without_output(tmp_path: Path) -> None:
    ds = Dataset([Item("a", media="a.jpg")], [Annotation("a", [Region(Classification(), "bad\x02")])])
    with pytest.raises(FormatError, match="control character"):
        formats.write(ds, tmp_path / "cc", "label_studio")
    assert not (tmp_path / "cc").exists() or not any((tmp_path / "cc").iterdir())
