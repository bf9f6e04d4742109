"""Datumaro, a converter nobody here wrote, imports our COCO, VOC, YOLO and CVAT exports and
finds the same boxes and labels.

Datumaro pins numpy 2 and much else, so it lives in its own virtualenv (``.venv-datumaro``,
git-ignored), built here on first use with a pinned version; the import runs there in a
subprocess (``datumaro_read.py``) and reports JSON.
"""

from __future__ import annotations

import fcntl
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from labelgate import formats
from labelgate.core import (
    Annotation,
    Box,
    Dataset,
    Item,
    ItemKind,
    Keypoints,
    LabelSchema,
    Polygon,
    Polyline,
    Region,
    Track,
    TrackShape,
    rle,
)
from tests.conftest import ROOT, require_or_skip

pytestmark = [pytest.mark.slow, pytest.mark.interop]

DATUMARO = "1.13.12"
VENV = ROOT / ".venv-datumaro"
SCRIPT = Path(__file__).with_name("datumaro_read.py")
FORMATS = ("coco", "voc", "yolo", "cvat")

# where Datumaro looks for the images of each layout (it refuses items whose image is missing)
IMAGE_DIRS = {
    "coco": "images/{subset}",
    "voc": "JPEGImages",
    "yolo": "images/{subset}",
    "cvat": "images/{subset}",
}


def _version(python: Path) -> str | None:
    if not python.exists():
        return None
    run = subprocess.run([str(python), "-c", "import datumaro; print(datumaro.__version__)"],
                         capture_output=True, text=True, timeout=120, check=False)
    return run.stdout.strip() if run.returncode == 0 else None


@pytest.fixture(scope="session")
def datumaro_python() -> Path:
    """The Python of a virtualenv holding Datumaro, built on first use (a few minutes)."""
    python = VENV / "bin" / "python"
    lock_dir = ROOT / ".venv-datumaro-lock"  # git-ignored like the venv
    lock_dir.mkdir(exist_ok=True)
    with open(lock_dir / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # several test runs may share the checkout
        if _version(python) != DATUMARO:
            steps = [[sys.executable, "-m", "venv", "--clear", str(VENV)],
                     [str(python), "-m", "pip", "install", "--quiet", f"datumaro=={DATUMARO}"]]
            for cmd in steps:
                run = subprocess.run(cmd, capture_output=True, text=True, timeout=1200, check=False)
                require_or_skip(run.returncode == 0, f"cannot build the Datumaro venv ({' '.join(cmd)}): {run.stderr[-2000:]}")
    require_or_skip(_version(python) == DATUMARO, f"Datumaro {DATUMARO} is not importable from {python}")
    return python


SIZES = {"a": (64, 48), "b": (100, 80), "c": (30, 40), "d": (320, 240)}
SUBSETS = {"a": "train", "b": "train", "c": "val", "d": "val"}
BOXES = {
    "a": [Region(Box(1, 2, 30, 40), "cat"), Region(Box(10.5, 5.25, 60, 47), "dog")],
    "b": [Region(Box(0, 0, 100, 80), "person"), Region(Box(33.12, 20.5, 66.75, 79.57), "cat")],
    "c": [],
    "d": [Region(Box(0.5, 0.25, 1.5, 1.75), "dog"), Region(Box(300, 200, 320, 240), "dog"), Region(Box(5, 6, 7, 8), "person")],
}


def _dataset() -> Dataset:
    items = [Item(k, media=f"{k}.jpg", width=w, height=h, number=i + 1, subset=SUBSETS[k]) for i, (k, (w, h)) in enumerate(SIZES.items())]
    anns = [Annotation(k, regs) for k, regs in BOXES.items()]
    return Dataset(items, anns, LabelSchema.from_names(["cat", "dog", "person"]))


TRACKS = [
    Track(0, "car", (TrackShape(0, Box(1, 2, 11, 12)), TrackShape(2, Box(3.5, 4, 13.25, 14), occluded=True),
                     TrackShape(4, Box(3.5, 4, 13.25, 14), outside=True))),
    Track(1, "person", (TrackShape(1, Box(20, 20, 40, 47.5)), TrackShape(3, Box(21, 20, 41, 47.5), keyframe=False),
                        TrackShape(5, Box(21, 20, 41, 47.5), outside=True))),
]


def _video() -> Dataset:
    frames = [Item(f"frame_{f:06d}", ItemKind.VIDEO_FRAME, video="clip.mp4", frame=f, width=64, height=48) for f in range(6)]
    return Dataset(frames, [Annotation(it.id, []) for it in frames], LabelSchema.from_names(["car", "person"]), TRACKS)


MASK = np.zeros((30, 40), np.uint8)
MASK[3:9, 5:17] = 1
MASK[20:22, 30:40] = 1
MASK[25, 0] = 1
SHAPES = [
    Region(rle.encode(MASK), "blob"),
    Region(Polygon((1.5, 2.0, 20.0, 2.25, 10.0, 18.0)), "roof"),
    Region(Polyline((0.0, 0.0, 39.0, 29.0, 5.5, 7.5)), "wire"),
    Region(Keypoints((3.0, 4.0, 5.0, 6.0), (2, 2)), "joint"),
]


def _shapes() -> Dataset:
    return Dataset([Item("s", media="s.jpg", width=40, height=30, number=0)], [Annotation("s", SHAPES)],
                   LabelSchema.from_names(["blob", "roof", "wire", "joint"]))


@pytest.fixture(scope="module")
def imported(datumaro_python: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, object]]:
    """What Datumaro reads from each of our exports (written with images in place)."""
    root = tmp_path_factory.mktemp("datumaro")
    ds = _dataset()
    specs = []
    for fmt in FORMATS:
        out = root / fmt
        report = formats.write(ds, out, fmt)
        assert report.regions == ds.region_count, report.summary()
        for k, (w, h) in SIZES.items():
            d = out / IMAGE_DIRS[fmt].format(subset=SUBSETS[k])
            d.mkdir(parents=True, exist_ok=True)
            Image.new("RGB", (w, h), (k.encode()[0], 0, 0)).save(d / f"{k}.jpg")
        specs.append(f"{fmt}={out}")
    video = root / "cvat_video"
    report = formats.write(_video(), video, "cvat")
    assert report.lossless, report.summary()
    specs.append(f"cvat_video:cvat={video}")
    shapes = root / "cvat_shapes"
    report = formats.write(_shapes(), shapes, "cvat")
    assert report.lossless, report.summary()
    (shapes / "images").mkdir()
    Image.new("RGB", (40, 30)).save(shapes / "images" / "s.jpg")
    specs.append(f"cvat_shapes:cvat={shapes}")
    run = subprocess.run([str(datumaro_python), str(SCRIPT), *specs], capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stderr[-3000:]
    result: dict[str, dict[str, object]] = json.loads(run.stdout)
    return result


@pytest.mark.parametrize("fmt", FORMATS)
def test_datumaro_reads_our_boxes_and_labels(imported: dict[str, dict[str, object]], fmt: str) -> None:
    got = imported[fmt]
    assert "error" not in got, got.get("error")
    labels = [n for n in got["labels"] if n != "background"]  # type: ignore[union-attr]
    assert labels == ["cat", "dog", "person"]
    items: dict[str, list[list[object]]] = got["items"]  # type: ignore[assignment]
    assert sorted(items) == sorted(SIZES)
    # Datumaro rounds coordinates to 2 decimals and keeps them as float32 (33.125 comes back as
    # 33.12 from every format), so the boxes above use 2 decimals and compare within float32
    tol = 1e-4
    for k, regions in BOXES.items():
        want = sorted([r.label, r.geometry.x1, r.geometry.y1, r.geometry.x2, r.geometry.y2] for r in regions)  # type: ignore[union-attr]
        have = sorted(items[k], key=lambda b: (b[0], *b[1:5]))
        assert [b[0] for b in have] == [b[0] for b in want], (fmt, k, have)
        for h_box, w_box in zip(have, want, strict=True):
            assert h_box[1:] == pytest.approx(w_box[1:], abs=tol, rel=0), (fmt, k, have, want)


def test_datumaro_reads_our_cvat_video_tracks(imported: dict[str, dict[str, object]]) -> None:
    got = imported["cvat_video"]
    assert "error" not in got, got.get("error")
    items: dict[str, list[list[object]]] = got["items"]  # type: ignore[assignment]
    have = sorted((k, *b[:5], b[5]["track_id"], b[5]["outside"], b[5]["keyframe"])  # type: ignore[index]
                  for k, boxes in items.items() for b in boxes)
    want = sorted((f"frame_{s.frame:06d}", t.label, s.geometry.x1, s.geometry.y1, s.geometry.x2, s.geometry.y2,  # type: ignore[union-attr]
                   t.id, s.outside, s.keyframe) for t in TRACKS for s in t.shapes)
    assert [h[:2] + h[6:] for h in have] == [w[:2] + w[6:] for w in want]
    for h, w in zip(have, want, strict=True):
        assert h[2:6] == pytest.approx(w[2:6], abs=1e-4)


def test_datumaro_reads_our_cvat_masks_polygons_lines_and_points(imported: dict[str, dict[str, object]]) -> None:
    got = imported["cvat_shapes"]
    assert "error" not in got, got.get("error")
    shapes: list[list[object]] = got["shapes"]["s"]  # type: ignore[index]
    kinds = {"mask": "mask", "Polygon": "polygon", "Polyline": "polyline", "Keypoints": "points"}
    assert [(s[0], s[1]) for s in shapes] == [(kinds.get(type(r.geometry).__name__, "mask"), r.label) for r in SHAPES]
    mask_pixels = shapes[0][2]
    assert sorted(map(tuple, mask_pixels)) == sorted(map(tuple, np.argwhere(MASK > 0).tolist()))  # type: ignore[arg-type]
    for s, r in zip(shapes[1:], SHAPES[1:], strict=True):
        assert s[2] == pytest.approx(list(r.geometry.points), abs=1e-4)  # type: ignore[union-attr]
