"""Label Studio's own converter (label-studio-converter) reads our Label Studio export, with the
labeling config we write beside it, and its COCO output has our boxes, polygons and classes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from labelgate import formats
from labelgate.core import Annotation, Box, Dataset, Item, LabelSchema, Polygon, Region, RotatedBox, bounds

pytestmark = [pytest.mark.interop, pytest.mark.slow]  # importing the converter takes about 4 s (nltk)


def test_converter_reads_our_tasks(tmp_path: Path) -> None:
    from label_studio_converter import Converter

    # rotated boxes on a square image: the converter rotates in percent space, which only
    # agrees with pixel space (Label Studio's canvas, and ours) when width == height
    rot = RotatedBox(50, 40, 20, 10, 30)
    ds = Dataset(
        [Item("a", media="a.jpg", width=64, height=48), Item("b", media="b.jpg", width=100, height=100)],
        [Annotation("a", [Region(Box(1, 2, 30, 40), "cat"), Region(Polygon((1.0, 1.0, 20.0, 1.0, 20.0, 20.0)), "dog")]),
         Annotation("b", [Region(Box(0, 0, 100, 100), "person"), Region(rot, "cat")])],
        LabelSchema.from_names(["cat", "dog", "person"]),
    )
    report = formats.write(ds, tmp_path / "ls", "label_studio")
    tasks = Path(str(report.path))
    config = tasks.with_name("tasks.label_config.xml").read_text()
    Converter(config=config, project_dir=None, download_resources=False).convert_to_coco(str(tasks), str(tmp_path / "coco"), is_dir=False)
    coco = json.loads((tmp_path / "coco" / "result.json").read_text())
    assert [c["name"] for c in coco["categories"]] == ["cat", "dog", "person"]
    assert [(im["width"], im["height"]) for im in coco["images"]] == [(64, 48), (100, 100)]
    got = [(a["image_id"], coco["categories"][a["category_id"]]["name"], a["bbox"]) for a in coco["annotations"]]
    want = []
    for i, ann in enumerate(ds.annotations):
        for r in ann.regions:
            b = bounds(r.geometry)
            assert b is not None
            want.append((i, r.label, [b[0], b[1], b[2] - b[0], b[3] - b[1]]))
    assert [(i, n) for i, n, _ in got] == [(i, n) for i, n, _ in want]
    for (_, _, g), (_, _, w) in zip(got, want, strict=True):
        assert g == pytest.approx(w, abs=1e-9)
    polygon = coco["annotations"][1]["segmentation"][0]
    assert polygon == pytest.approx([1.0, 1.0, 20.0, 1.0, 20.0, 20.0], abs=1e-9)
