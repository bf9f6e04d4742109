"""TFRecord codec: framing, hand-written protobuf, round trips, the Datumaro-written fixtures,
the ``tfrecord`` package as an outside reader, and corrupt input."""

from __future__ import annotations

import io
import shutil
import struct
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
from labelgate.formats.tfrecord._example import BytesList, decode_example, encode_example
from labelgate.formats.tfrecord._records import masked_crc
from tests.strategies import assert_close, datasets

CODEC = formats.get_codec("tfrecord")
FLOAT32 = 2.0**-23  # one float32 ulp, relative


def _images_for(ds: Dataset, root: Path, fmt: str = "PNG") -> Path:
    for it in ds.items.values():
        assert it.width is not None and it.height is not None
        p = root / (it.media or f"{it.id}.png")
        p.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (it.width, it.height), (it.width % 256, 10, 20)).save(p, format=fmt)
    return root


def _in_file_order(ds: Dataset) -> Dataset:
    """What a directory of ``<subset>.tfrecord`` files can keep of the item order: files in name
    order, items in their order within a file."""
    order = sorted(ds.items.values(), key=lambda it: it.subset or "default")
    by_item = {a.item_id: a for a in ds.annotations}
    return Dataset(order, [by_item[it.id] for it in order], ds.schema)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_round_trip_within_float32(tmp_path_factory: pytest.TempPathFactory, data: st.DataObject) -> None:
    ds = data.draw(datasets(CODEC.capabilities, kinds=[GeometryKind.BOX, GeometryKind.MASK]))
    tmp = tmp_path_factory.mktemp("tfr")
    images = _images_for(ds, tmp / "images")
    report = formats.write(ds, tmp / "out", "tfrecord", images=images)
    assert report.lossless, report.summary()
    back = formats.read(tmp / "out")
    assert_close(back, _in_file_order(restrict(ds, CODEC.capabilities)[0]), rel=4 * FLOAT32, abs_=1e-9)


def test_example_encoding_matches_protobuf() -> None:
    from tfrecord import example_pb2

    feats = {"b": BytesList([b"x", b""]), "e": BytesList([]), "f": np.array([0.5, -1e-3], np.float32), "i": [1, -2, 2**40], "z": []}
    raw = encode_example(feats)
    ex = example_pb2.Example()
    ex.ParseFromString(raw)
    assert list(ex.features.feature["b"].bytes_list.value) == [b"x", b""]
    assert ex.features.feature["e"].WhichOneof("kind") == "bytes_list"
    assert list(ex.features.feature["f"].float_list.value) == [0.5, np.float32(-1e-3)]
    assert list(ex.features.feature["i"].int64_list.value) == [1, -2, 2**40]
    back = decode_example(ex.SerializeToString())
    assert back["b"] == [b"x", b""] and back["i"] == [1, -2, 2**40] and back["z"] == []
    assert back["f"].tolist() == feats["f"].tolist()  # type: ignore[union-attr]


def test_masked_crc_known_value() -> None:
    # CRC32C("123456789") = 0xE3069283 (RFC 3720); the mask is TFRecord's rotation plus delta
    c = 0xE3069283
    assert masked_crc(b"123456789") == (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _bytes(v: object) -> list[bytes]:
    """The tfrecord package gives one bytes value as ``bytes`` and several as an ``S`` array."""
    return [v] if isinstance(v, bytes) else [bytes(x) for x in v]  # type: ignore[attr-defined]


def _sample(tmp_path: Path) -> tuple[Dataset, Path]:
    arr = np.zeros((6, 8), np.uint8)
    arr[1:4, 2:5] = 1
    ds = Dataset(
        [Item("a", media="a.jpg", width=8, height=6, subset="train"), Item("b", media="b.png", width=4, height=4)],
        [Annotation("a", [Region(Box(1, 1, 3, 5), "cat", crowd=True), Region(rle.encode(arr), "dog")]), Annotation("b", [])],
        LabelSchema((LabelClass("cat", id=7), LabelClass("dog"))),
    )
    images = tmp_path / "images"
    images.mkdir()
    Image.new("RGB", (8, 6)).save(images / "a.jpg", format="JPEG")
    Image.new("L", (4, 4)).save(images / "b.png")
    return ds, images


def test_the_tfrecord_package_reads_our_records(tmp_path: Path) -> None:
    from tfrecord.reader import tfrecord_loader

    ds, images = _sample(tmp_path)
    formats.write(ds, tmp_path / "out", "tfrecord", images=images)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["default.tfrecord", "label_map.pbtxt", "train.tfrecord"]
    (rec,) = list(tfrecord_loader(str(tmp_path / "out/train.tfrecord"), None))
    assert _bytes(rec["image/filename"]) == [b"a.jpg"]
    assert _bytes(rec["image/source_id"]) == [b"a"]
    assert _bytes(rec["image/format"]) == [b"jpeg"]
    assert _bytes(rec["image/encoded"]) == [(images / "a.jpg").read_bytes()]
    assert _bytes(rec["image/object/class/text"]) == [b"cat", b"dog"]
    assert rec["image/height"].tolist() == [6] and rec["image/width"].tolist() == [8]
    np.testing.assert_array_equal(rec["image/object/bbox/xmin"], np.array([1 / 8, 2 / 8], np.float32))
    np.testing.assert_array_equal(rec["image/object/bbox/ymax"], np.array([5 / 6, 4 / 6], np.float32))
    assert rec["image/object/class/label"].tolist() == [7, 1]
    assert rec["image/object/is_crowd"].tolist() == [1, 0]
    ours = formats.read(tmp_path / "out")
    a = ours.annotations[1]
    assert a.item_id == "a"
    assert_close(a.regions[0].geometry, Box(1.0, 1.0, 3.0, 5.0), rel=FLOAT32)
    assert a.regions[0].crowd
    assert isinstance(a.regions[1].geometry, Mask)
    np.testing.assert_array_equal(rle.decode(a.regions[1].geometry), rle.decode(ds.annotations[0].regions[1].geometry))
    assert [(c.name, c.id) for c in ours.schema.classes] == [("cat", 7), ("dog", 1)]
    assert "item {\n  id: 7\n  name: 'cat'\n}" in (tmp_path / "out/label_map.pbtxt").read_text()


def test_report_names_dropped_fields(tmp_path: Path) -> None:
    ds, images = _sample(tmp_path)
    ds.annotations[0] = Annotation("a", [*ds.annotations[0].regions,
                                         Region(Polygon((0, 0, 1, 0, 1, 1)), "cat", score=0.3),
                                         Region(Box(0, 0, 1, 1), "cat", id=4, occluded=True, attributes={"k": "v"}),
                                         Region(rle.encode(np.ones((2, 2))), "dog")])
    ds.items["a"] = replace(ds.items["a"], number=3)
    ds.schema = LabelSchema((LabelClass("cat", id=7, color="#fff"), LabelClass("dog")))
    report = formats.write(ds, tmp_path / "out", "tfrecord", images=images)
    assert report.dropped_fields == {"geometry.polygon", "region.id", "region.occluded", "region.attributes",
                                     "item.number", "schema.color", "geometry.mask"}
    assert any("mask is 2x2" in loss.action for loss in report.losses.values())


@pytest.mark.interop
def test_reads_datumaro_fixture(interop: Path) -> None:
    from tfrecord.reader import tfrecord_loader

    root = interop / "tf_detection_api_dataset"
    assert formats.detect(root) == "tfrecord"
    with pytest.raises(FormatError, match=r"train.tfrecord: record 0 at byte 0: object 2 has no class"):
        formats.read(root)
    ds = formats.read(root, unlabelled="skip")
    assert ds.schema.names == [f"label_{i}" for i in range(10)]
    assert [c.id for c in ds.schema.classes] == list(range(1, 11))
    assert [(it.id, it.subset, it.media, it.size) for it in ds.items.values()] == [
        ("3", "test", "3.jpg", (4, 5)), ("1", "train", "1.jpg", (16, 16)), ("2", "val", "2.jpg", (8, 8))]
    for it in ds.items.values():
        (rec,) = list(tfrecord_loader(str(root / f"{it.subset}.tfrecord"), None))
        regs = ds.annotations_of(it.id)[0].regions
        n = len(rec.get("image/object/bbox/xmin", []))
        texts = _bytes(rec["image/object/class/text"]) if n else []
        kept = [j for j in range(n) if texts[j]]
        assert [r.label for r in regs] == [texts[j].decode() for j in kept]
        for r, j in zip(regs, kept, strict=True):
            x1, x2 = (float(rec[f"image/object/bbox/{k}"][j]) * it.width for k in ("xmin", "xmax"))
            y1, y2 = (float(rec[f"image/object/bbox/{k}"][j]) * it.height for k in ("ymin", "ymax"))
            assert r.geometry == Box(x1, y1, x2, y2)
    named = formats.read(root, unlabelled="unknown")
    assert [r.label for r in named.annotations_of("1")[0].regions] == ["label_2", "label_3", "unknown"]


def _written(tmp_path: Path) -> Path:
    ds, images = _sample(tmp_path)
    formats.write(ds, tmp_path / "out", "tfrecord", images=images)
    return tmp_path / "out/train.tfrecord"


def test_truncated_file_names_record_and_offset(tmp_path: Path) -> None:
    f = _written(tmp_path)
    data = f.read_bytes()
    for cut, what in ((len(data) - 3, "truncated record"), (5, "truncated record header")):
        f.write_bytes(data[:cut])
        with pytest.raises(FormatError, match=what) as e:
            formats.read(f.parent)
        assert f"{f}: record 0 at byte 0" in str(e.value)


def test_crc_corruption_is_detected(tmp_path: Path) -> None:
    f = _written(tmp_path)
    data = bytearray(f.read_bytes())
    data[40] ^= 0xFF
    f.write_bytes(bytes(data))
    with pytest.raises(FormatError, match="data CRC mismatch") as e:
        formats.read(f.parent)
    assert "record 0 at byte 0" in str(e.value)
    data = bytearray(f.read_bytes())
    data[40] ^= 0xFF
    data[2] ^= 0x01
    f.write_bytes(bytes(data))
    with pytest.raises(FormatError, match="length CRC mismatch"):
        formats.read(f)


def test_second_record_offset_is_named(tmp_path: Path) -> None:
    f = _written(tmp_path)
    first = f.read_bytes()
    (length,) = struct.unpack("<Q", first[:8])
    garbage = b"\x00" * 8
    f.write_bytes(first + garbage)
    with pytest.raises(FormatError, match=f"record 1 at byte {length + 16}"):
        formats.read(f)


def test_not_an_example_and_bad_class_id(tmp_path: Path) -> None:
    from labelgate.formats.tfrecord._records import write_records

    f = tmp_path / "d" / "x.tfrecord"
    f.parent.mkdir()
    with f.open("wb") as fh:
        write_records(fh, [b"\x0a\x05\x0a\x03"])
    with pytest.raises(FormatError, match=r"record 0 at byte 0: not a tf\.train\.Example"):
        formats.read(f, "tfrecord")
    (f.parent / "label_map.pbtxt").write_text("item { id: 1 name: 'a' }\n")
    ex = encode_example({"image/height": [2], "image/width": [2], "image/object/bbox/xmin": np.zeros(1, np.float32),
                         "image/object/bbox/xmax": np.ones(1, np.float32), "image/object/bbox/ymin": np.zeros(1, np.float32),
                         "image/object/bbox/ymax": np.ones(1, np.float32), "image/object/class/label": [5]})
    with f.open("wb") as fh:
        write_records(fh, [encode_example({"image/height": [2], "image/width": [2]}), ex])
    with pytest.raises(FormatError, match=r"record 1 at byte \d+: object 0: class id 5 is not in"):
        formats.read(f, "tfrecord")


def test_missing_image_fails_without_partial_output(tmp_path: Path) -> None:
    ds, images = _sample(tmp_path)
    (images / "b.png").unlink()
    with pytest.raises(FormatError, match="item 'b'"):
        formats.write(ds, tmp_path / "out", "tfrecord", images=images)
    assert not (tmp_path / "out").exists()


def test_label_map_errors_name_the_line(tmp_path: Path) -> None:
    f = _written(tmp_path)
    (f.parent / "label_map.pbtxt").write_text("item {\n  id: 1\n  name: 'a'\n}\nitem {\n  name 'b'\n}\n")
    with pytest.raises(FormatError, match=r"label_map\.pbtxt: line 6"):
        formats.read(f.parent)


def test_reads_records_written_by_the_tfrecord_package(tmp_path: Path) -> None:
    from tfrecord.writer import TFRecordWriter

    buf = io.BytesIO()
    Image.new("L", (10, 20)).save(buf, format="PNG")
    w = TFRecordWriter(str(tmp_path / "default.tfrecord"))
    w.write({"image/encoded": (buf.getvalue(), "byte"), "image/filename": (b"z.png", "byte"),
             "image/object/bbox/xmin": ([0.1], "float"), "image/object/bbox/xmax": ([0.5], "float"),
             "image/object/bbox/ymin": ([0.25], "float"), "image/object/bbox/ymax": ([0.75], "float"),
             "image/object/class/text": ([b"car"], "byte")})
    w.close()
    ds = formats.read(tmp_path / "default.tfrecord", "tfrecord")
    it = ds.items["z"]
    assert (it.size, it.subset, it.media) == ((10, 20), None, "z.png")
    (r,) = ds.annotations[0].regions
    assert r.label == "car"
    b = r.geometry
    assert isinstance(b, Box)
    assert (b.x1, b.y1, b.x2, b.y2) == pytest.approx((1, 5, 5, 15), rel=1e-6)


def test_single_file_output(tmp_path: Path) -> None:
    ds, images = _sample(tmp_path)
    report = formats.write(ds, tmp_path / "all.tfrecord", "tfrecord", images=images)
    assert "item.subset" in report.dropped_fields
    back = formats.read(tmp_path / "all.tfrecord")
    assert list(back.items) == ["a", "b"]
    assert {it.subset for it in back.items.values()} == {"all"}
    shutil.rmtree(images)


@pytest.mark.interop
@pytest.mark.parametrize("subset", ["train", "val"])
def test_reads_roboflow_records(interop: Path, subset: str) -> None:
    from tfrecord.reader import tfrecord_loader

    root = interop / "roboflow_dataset" / "tfrecord" / subset
    ds = formats.read(root)
    assert [(c.name, c.id) for c in ds.schema.classes] == [("label_0", 1), ("label_1", 2)]  # name + display_name items
    records = list(tfrecord_loader(str(root / f"{subset}.tfrecord"), None))
    assert len(records) == len(ds.items)
    for rec, (it, a) in zip(records, zip(ds.items.values(), ds.annotations, strict=True), strict=True):
        assert it.media == _bytes(rec["image/filename"])[0].decode() and it.subset == subset
        assert [r.label for r in a.regions] == [t.decode() for t in _bytes(rec["image/object/class/text"])]
        assert it.width is not None and it.height is not None
        for j, r in enumerate(a.regions):
            x1, x2 = (float(rec[f"image/object/bbox/{k}"][j]) * it.width for k in ("xmin", "xmax"))
            y1, y2 = (float(rec[f"image/object/bbox/{k}"][j]) * it.height for k in ("ymin", "ymax"))
            assert r.geometry == Box(x1, y1, x2, y2)


def test_reads_numerical_masks(tmp_path: Path) -> None:
    """The TF OD API also stores masks as n x height x width floats (NUMERICAL_MASKS)."""
    from labelgate.formats.tfrecord._records import write_records

    m = np.zeros((2, 3, 4), np.float32)
    m[0, 1:3, 1:3] = 1.0
    f32 = np.float32
    ex = encode_example({"image/height": [3], "image/width": [4], "image/source_id": BytesList([b"x"]),
                         "image/object/bbox/xmin": np.array([0.25, 0], f32), "image/object/bbox/xmax": np.array([0.75, 0.5], f32),
                         "image/object/bbox/ymin": np.array([1 / 3, 0], f32), "image/object/bbox/ymax": np.array([1, 0.5], f32),
                         "image/object/class/text": BytesList([b"a", b"b"]), "image/object/mask": m.ravel()})
    with (tmp_path / "default.tfrecord").open("wb") as fh:
        write_records(fh, [ex])
    r0, r1 = formats.read(tmp_path).annotations[0].regions
    assert isinstance(r0.geometry, Mask)
    np.testing.assert_array_equal(rle.decode(r0.geometry), m[0].astype(np.uint8))
    assert isinstance(r1.geometry, Box)  # an empty mask leaves the box
