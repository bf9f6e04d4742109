"""CVAT for images / video 1.1: exact round trips, reported losses, files made by other tools, bad input."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

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
    Skeleton,
    Source,
    TextSpan,
    Track,
    TrackShape,
    rle,
)
from labelgate.formats import restrict
from tests.strategies import boxes, datasets, polygons

CODEC = formats.get_codec("cvat")
CAPS = CODEC.capabilities
IMAGE_KINDS = [
    GeometryKind.BOX,
    GeometryKind.ROTATED_BOX,
    GeometryKind.POLYGON,
    GeometryKind.POLYLINE,
    GeometryKind.KEYPOINTS,
    GeometryKind.MASK,
    GeometryKind.CLASSIFICATION,
]
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _round_trip(ds: Dataset, out: Path, **options: object) -> tuple[Dataset, formats.ConversionReport]:
    report = formats.write(ds, out, "cvat", **options)
    assert report.path is not None
    return formats.read(report.path, "cvat"), report


@SETTINGS
@given(ds=datasets(CAPS, kinds=IMAGE_KINDS))
def test_images_round_trip_is_exact(tmp_path: Path, ds: Dataset) -> None:
    out = tmp_path / "out"
    back, report = _round_trip(ds, out)
    expected, _ = restrict(ds, CAPS)
    assert back == expected
    assert report.lossless, report.summary()
    assert report.items == len(ds.items)
    assert report.regions == ds.region_count


@SETTINGS
@given(ds=datasets(CAPS, kinds=[GeometryKind.ROTATED_BOX], max_regions=6))
def test_rotated_boxes_are_exact_to_the_bit(tmp_path: Path, ds: Dataset) -> None:
    back, _ = _round_trip(ds, tmp_path / "rot")
    got = [r.geometry for a in back.annotations for r in a.regions]
    want = [r.geometry for a in ds.annotations for r in a.regions]
    assert got == want


@st.composite
def videos(draw: st.DrawFn) -> Dataset:
    n_frames = draw(st.integers(1, 6))
    w, h = draw(st.integers(8, 200)), draw(st.integers(8, 200))
    items = [Item(f"frame_{f:06d}", ItemKind.VIDEO_FRAME, video="clip.mp4", frame=f, width=w, height=h) for f in range(n_frames)]
    names = ["car", "person"]
    schema = LabelSchema((
        LabelClass("car", attributes=(AttributeSpec("colour", "select", ("red", "blue"), "red", mutable=False),)),
        LabelClass("person", attributes=(AttributeSpec("pose", "text", mutable=True),)),
    ))
    tracks = []
    for tid in range(draw(st.integers(0, 3))):
        label = draw(st.sampled_from(names))
        frames = draw(st.lists(st.integers(0, n_frames - 1), min_size=1, max_size=n_frames, unique=True))
        kind = draw(st.sampled_from(["box", "polygon", "polyline"]))
        shapes = []
        for f in frames:
            if kind == "box":
                g: object = draw(boxes(w, h))
            elif kind == "polygon":
                g = draw(polygons(w, h))
            else:
                g = Polyline(tuple(float(draw(st.integers(0, w))) for _ in range(4)))
            attrs = {"pose": draw(st.sampled_from(["up", "down"]))} if label == "person" else {}
            shapes.append(TrackShape(f, g, draw(st.booleans()), draw(st.booleans()), draw(st.booleans()),  # type: ignore[arg-type]
                                     draw(st.integers(-1, 2)), attrs))
        track_attrs = {"colour": draw(st.sampled_from(["red", "blue"]))} if label == "car" else {}
        prov = draw(st.sampled_from([Provenance(), Provenance(Source.MODEL)]))
        tracks.append(Track(tid, label, tuple(shapes), "clip.mp4", track_attrs, draw(st.one_of(st.none(), st.integers(0, 3))), prov))
    anns = []
    for it in items:
        tags = [Region(Classification(), draw(st.sampled_from(names))) for _ in range(draw(st.integers(0, 1)))]
        anns.append(Annotation(it.id, tags))
    return Dataset(items, anns, schema, tracks)


@SETTINGS
@given(ds=videos())
def test_video_round_trip_is_exact(tmp_path: Path, ds: Dataset) -> None:
    back, report = _round_trip(ds, tmp_path / "video")
    expected, _ = restrict(ds, CAPS)
    if ds.tracks or any(a.regions for a in ds.annotations):
        assert back == expected
        assert report.lossless, report.summary()
    else:  # nothing says these are video frames, the file is still a video task
        assert list(back.items) == list(expected.items)


def test_skeleton_with_edges_colours_and_typed_attributes(tmp_path: Path) -> None:
    schema = LabelSchema((
        LabelClass("person", color="#ff0000", skeleton=Skeleton(("nose", "left eye", "right eye"), ((0, 1), (0, 2))),
                   attributes=(AttributeSpec("truncated", "checkbox", ("false", "true"), False),
                               AttributeSpec("age", "number", ("0", "120", "1"), 30, mutable=True))),
        LabelClass("dog", color="#00ff00", parent="animal"),
        LabelClass("animal"),
    ))
    kp = Keypoints((10.5, 20.0, 0.0, 0.0, 30.25, 40.0), (2, 0, 1))
    ds = Dataset(
        [Item("a", media="dir/a.png", width=64, height=48, number=7)],
        [Annotation("a", [
            Region(kp, "person", attributes={"truncated": True, "age": 41}, group=2, occluded=True, z_order=3),
            Region(Keypoints((1.0, 2.0), (2,)), "dog"),
            Region(Classification(), "animal", attributes={"note": "x y"}),
        ])],
        schema,
    )
    back, report = _round_trip(ds, tmp_path / "sk")
    assert report.lossless, report.summary()
    assert back == ds


def test_mask_is_placed_in_image_coordinates(tmp_path: Path) -> None:
    arr = np.zeros((30, 40), np.uint8)
    arr[5:9, 10:20] = 1
    arr[20, 39] = 1
    m = rle.encode(arr)
    ds = Dataset([Item("m", media="m.jpg", width=40, height=30, number=1)], [Annotation("m", [Region(m, "blob")])],
                 LabelSchema.from_names(["blob"]))
    back, _ = _round_trip(ds, tmp_path / "mask")
    got = back.annotations[0].regions[0].geometry
    assert isinstance(got, Mask)
    assert np.array_equal(rle.decode(got), arr)
    text = (tmp_path / "mask" / "annotations.xml").read_text()
    assert 'left="10"' in text and 'top="5"' in text and 'width="30"' in text and 'height="16"' in text


def test_report_names_every_dropped_field(tmp_path: Path) -> None:
    schema = LabelSchema((LabelClass("a", id=5, skeleton=Skeleton(("p",), sigmas=(0.5,))), LabelClass("b")),
                         attributes=(AttributeSpec("global"),))
    items = [
        Item("x", media="x.jpg", width=10, height=10, metadata={"k": 1}),
        Item("t", ItemKind.TEXT, text="hello"),
        Item("y", width=10, height=10),
    ]
    square = (1.0, 1.0, 5.0, 1.0, 5.0, 5.0)
    regions = [
        Region(Box(0, 0, 1, 1), "a", id=3, score=0.5, crowd=True, track_id=9),
        Region(MultiPolygon((Polygon(square), Polygon((6.0, 6.0, 8.0, 6.0, 8.0, 8.0)))), "b"),
        Region(Polygon(square, holes=((2.0, 2.0, 3.0, 2.0, 3.0, 3.0),)), "b"),
        Region(Keypoints((1.0, 1.0, 2.0, 2.0), (2, 1)), "b"),
        Region(Mask(10, 10, (100,)), "b"),
        Region(Mask(5, 5, (3, 22)), "b"),
        Region(Box(0, 0, 1, 1), "b", attributes={"flag": True}),
    ]
    ds = Dataset(items, [Annotation("x", regions, Provenance(Source.MODEL, model="m")), Annotation("x", []),
                         Annotation("t", [Region(TextSpan(0, 2), "a")])],
                 schema, [Track(1, "a", (TrackShape(0, Box(0, 0, 1, 1)),))], {"about": "test"})
    report = formats.write(ds, tmp_path / "lossy", "cvat", mode="images")
    assert {
        "region.id", "region.score", "region.crowd", "region.track_id", "geometry.multi_polygon",
        "geometry.polygon.holes", "region.keypoints.visibility", "geometry.mask", "region.attributes",
        "item.kind.text", "item.metadata", "item.media", "item.number", "annotation.provenance", "annotation.multiple",
        "schema.id", "schema.attributes", "schema.skeleton.sigmas", "track", "dataset.metadata",
    } <= report.dropped_fields
    back = formats.read(tmp_path / "lossy", "cvat")
    assert list(back.items) == ["x", "y"]
    assert [type(r.geometry).__name__ for r in back.annotations[0].regions] == ["Box", "Polygon", "Keypoints", "Box"]


def test_detect(tmp_path: Path) -> None:
    ds = Dataset([Item("a", media="a.jpg", width=4, height=4)], [Annotation("a", [Region(Box(0, 0, 1, 1), "c")])])
    formats.write(ds, tmp_path / "d", "cvat")
    assert CODEC.detect(tmp_path / "d") > 0.5
    assert CODEC.detect(tmp_path / "d" / "annotations.xml") > 0.5
    voc = tmp_path / "voc.xml"
    voc.write_text("<annotation><filename>a.jpg</filename></annotation>")
    assert CODEC.detect(voc) == 0.0
    assert CODEC.detect(tmp_path) == 0.0


# -- files written by other tools (Datumaro's test assets) -------------------------------------------


@pytest.mark.interop
def test_reads_cvat_project_export(interop: Path) -> None:
    ds = formats.read(interop / "cvat_dataset" / "for_images" / "export_project")
    assert list(ds.items) == ["Test/img0", "Test/img1", "Train/img0", "Train/img1", "Validation/img0", "Validation/img1"]
    assert {it.subset for it in ds.items.values()} == {"Test", "Train", "Validation"}
    first = ds.annotations[0].regions
    assert first[0] == Region(Box(0, 2, 4, 4), "label1", attributes={"a1": True, "a2": "v3", "a3": "0003", "a4": 2.4},
                              z_order=1, occluded=True)
    assert first[1].geometry == Polyline((1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0))
    second = ds.annotations[1].regions
    assert second[0].geometry == Polygon((1.0, 2.0, 3.0, 4.0, 6.0, 5.0))
    assert second[1].geometry == Keypoints((1.0, 2.0, 3.0, 4.0, 5.0, 6.0), (2, 2, 2))
    label1 = ds.schema.get("label1")
    assert label1 is not None
    assert [(a.name, a.type.value, a.default) for a in label1.attributes] == [
        ("a1", "checkbox", False), ("a2", "radio", "v1"), ("a3", "text", "0000"), ("a4", "number", 0)]


@pytest.mark.interop
def test_reads_cvat_task_export_with_unlabelled_shapes(interop: Path, tmp_path: Path) -> None:
    path = interop / "cvat_dataset" / "for_images" / "export_task"
    with pytest.raises(FormatError) as e:
        formats.read(path, "cvat")
    assert "train.xml" in str(e.value) and "<image> #1" in str(e.value) and "without a label" in str(e.value)
    ds = formats.read(path, "cvat", on_unsupported="skip")
    assert ds.metadata["cvat_skipped"] == {"shape without a label": 2}
    assert [it.subset for it in ds.items.values()] == ["train", "train"]
    assert [len(a.regions) for a in ds.annotations] == [1, 1]
    ds.metadata.clear()
    back, report = _round_trip(ds, tmp_path / "again")
    assert report.lossless and back == ds


@pytest.mark.interop
def test_reads_cvat_video_export(interop: Path, tmp_path: Path) -> None:
    ds = formats.read(interop / "cvat_dataset" / "for_video", "cvat")
    assert list(ds.items) == ["frame_000010", "frame_000013", "frame_000016", "frame_000019"]
    assert all(it.kind is ItemKind.VIDEO_FRAME and it.size == (25, 20) and it.video == "t.mp4" for it in ds.items.values())
    t0, t1, t2 = ds.tracks
    assert (t0.label, [s.frame for s in t0.shapes], [s.outside for s in t0.shapes]) == ("II", [10, 13, 16], [False, True, True])
    assert t0.shapes[0].geometry == Box(3, 4, 10, 5) and t0.shapes[0].occluded
    assert [s.attributes for s in t1.shapes] == [{"hgl": "hgkf"}, {"hgl": "jk"}]
    assert isinstance(t2.shapes[0].geometry, Polyline)
    back, report = _round_trip(ds, tmp_path / "video")
    assert report.lossless and back == ds


# -- bad input --------------------------------------------------------------------------------------

_META = ("<annotations><version>1.1</version><meta><task><labels>"
         "<label><name>car</name><attributes><attribute><name>kind</name><input_type>select</input_type>"
         "<values>sedan\nvan</values></attribute></attributes></label></labels></task></meta>")


@pytest.mark.parametrize(
    ("body", "where", "what"),
    [
        ("<annotations><image id='0' name='a.jpg'>", "line 1", "malformed XML"),
        ('<!DOCTYPE a [<!ENTITY e "x">]><annotations>&e;</annotations>', None, "unsafe XML"),
        (_META + "<image id='0' name='a.jpg' width='4' height='4'><box label='bus' xtl='0' ytl='0' xbr='1' ybr='1'/></image>"
         "</annotations>", "<image> #1 name='a.jpg', shape #1 <box>", "unknown label 'bus'"),
        (_META + "<image id='0' name='a.jpg'><box label='car' xtl='0' ytl='0' xbr='1' ybr='1'>"
         "<attribute name='kind'>truck</attribute></box></image></annotations>", "shape #1 <box>", "'truck' is not one of"),
        (_META + "<image id='0' name='a.jpg'><polygon label='car' points='0,0;1,x;2,2'/></image></annotations>",
         "<image> #1", "not a number"),
        (_META + "<image id='0' name='a.jpg'><box label='car' xtl='5' ytl='0' xbr='1' ybr='1'/></image></annotations>",
         "<image> #1", "inverted"),
        (_META + "<image id='0' name='a.jpg'><mask label='car' rle='1, 2' left='0' top='0' width='3' height='1'/></image>"
         "</annotations>", "<mask>", "needs the image's width and height"),
        (_META + "<image id='0' name='a.jpg' width='2' height='2'><mask label='car' rle='1, 2' left='0' top='0' width='3' "
         "height='1'/></image></annotations>", "<mask>", "leaves the 2x2 image"),
        (_META + "<image id='0' name='a.jpg'><cuboid label='car'/></image></annotations>", "<cuboid>", "unsupported shape"),
        ("<annotation><object/></annotation>", None, "expected <annotations>"),
    ],
)
def test_bad_input_names_file_and_place(tmp_path: Path, body: str, where: str | None, what: str) -> None:
    p = tmp_path / "annotations.xml"
    p.write_text(body)
    with pytest.raises(FormatError) as e:
        formats.read(p, "cvat")
    assert str(p) in str(e.value)
    assert what in str(e.value)
    if where:
        assert where in str(e.value)


def test_failed_write_leaves_no_output(tmp_path: Path) -> None:
    items = [Item("a", ItemKind.VIDEO_FRAME, video="one.mp4", frame=0), Item("b", ItemKind.VIDEO_FRAME, video="two.mp4", frame=0)]
    ds = Dataset(items, [Annotation("a", [Region(Box(0, 0, 1, 1), "c")])])
    out = tmp_path / "out"
    with pytest.raises(FormatError, match="one video"):
        formats.write(ds, out, "cvat")
    assert not out.exists() or not any(out.iterdir())


def test_track_provenance_keeps_person_or_model(tmp_path: Path) -> None:
    """Provenance with details on a track is reported, and the track keeps human/model."""
    t = Track(0, "c", (TrackShape(0, Box(0, 0, 1, 1)),), provenance=Provenance(Source.MODEL, model="yolo",
                                                                                   created_at=datetime(2026, 1, 1, tzinfo=UTC)))
    ds = Dataset([Item("frame_000000", ItemKind.VIDEO_FRAME, frame=0)], [Annotation("frame_000000", [])], tracks=[t])
    back, report = _round_trip(ds, tmp_path / "v")
    assert "track.provenance" in report.dropped_fields
    assert back.tracks[0].provenance == Provenance(Source.MODEL)


def test_video_fields_on_images_are_reported(tmp_path: Path) -> None:
    ds = Dataset([Item("a", media="a.jpg", video="v.mp4", frame=3)])
    report = formats.write(ds, tmp_path / "k", "cvat", mode="images")
    assert {"item.video", "item.frame"} <= report.dropped_fields


def test_report_counts_one_kind_of_loss_once(tmp_path: Path) -> None:
    ds = Dataset([Item(f"i{k}", media=f"x/{k}.jpg") for k in range(7)])
    report = formats.write(ds, tmp_path / "n", "cvat")
    losses = {key: loss for key, loss in report.losses.items() if loss.field in ("item.number", "item.id")}
    assert sorted((v.field, v.count) for v in losses.values()) == [("item.id", 7), ("item.number", 7)]
    assert report.to_dict()["losses"][0]["examples"][0] == "i0 -> 0"


def test_images_sharing_a_name_are_renamed_so_the_file_reads_back(tmp_path: Path) -> None:
    ds = Dataset([Item("Test/img0", media="img0.jpg", number=1), Item("Train/img0", media="img0.jpg", number=2)])
    back, report = _round_trip(ds, tmp_path / "dup")
    assert "item.media" in report.dropped_fields
    assert list(back.items) == ["Test/img0", "Train/img0"]
    assert [it.media for it in back.items.values()] == ["Test/img0.jpg", "Train/img0.jpg"]


@SETTINGS
@given(ds=datasets(formats.get_codec("native").capabilities, kinds=[k for k in GeometryKind if k != GeometryKind.TEXT_SPAN]))
def test_anything_we_write_reads_back(tmp_path: Path, ds: Dataset) -> None:
    """Whatever the dataset holds, the file is valid: losses are reported, never written."""
    back, report = _round_trip(ds, tmp_path / "any")
    assert list(back.items) == list(restrict(ds, CAPS)[0].items) or "item.id" in report.dropped_fields
    assert back.region_count == report.regions


def test_control_characters_fail_the_write_without_output(tmp_path: Path) -> None:
    ds = Dataset([Item("a", media="a.jpg")], [Annotation("a", [Region(Box(0, 0, 1, 1), "bad\x01label")])])
    with pytest.raises(FormatError, match="control character"):
        formats.write(ds, tmp_path / "cc", "cvat")
    assert not (tmp_path / "cc" / "annotations.xml").exists()


def test_images_whose_shapes_all_came_from_a_model_read_as_model_annotations(tmp_path: Path) -> None:
    p = tmp_path / "annotations.xml"
    p.write_text(_META + "<image id='0' name='a.jpg'><box label='car' source='auto' xtl='0' ytl='0' xbr='1' ybr='1'/></image>"
                 "<image id='1' name='b.jpg'><box label='car' source='auto' xtl='0' ytl='0' xbr='1' ybr='1'/>"
                 "<box label='car' source='semi-auto' xtl='0' ytl='0' xbr='2' ybr='2'/></image>"
                 "<image id='2' name='c.jpg'></image></annotations>")
    ds = formats.read(p, "cvat")
    assert [a.provenance.source for a in ds.annotations] == [Source.MODEL, Source.HUMAN, Source.HUMAN]
