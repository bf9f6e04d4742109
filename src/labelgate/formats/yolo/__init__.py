"""YOLO: Ultralytics (``data.yaml``, ``images/<split>``, ``labels/<split>``) and Darknet
(``obj.data``, ``obj.names``, ``obj_train_data/``) layouts; detect, segment, pose and OBB tasks.

Coordinates are normalised by the image size, so reading needs the images (or ``images=DIR``)
and writing needs item sizes (or ``images=DIR``). One task is written per export
(``task=detect|segment|pose|obb``); ``convert=True`` turns other geometries into the task's
one where that is meaningful (their bounding box for detect), and the report says so.

Pose lines carry an object box before the keypoints. When it is more than the bounds of the
labelled keypoints, the reader gives a keypoints region followed by a box region in one group
(as the COCO codec keeps keypoints with their bbox); the writer writes the keypoints' bounds,
and reports the box regions a pose export cannot hold. Rotated boxes are read from their corners
(angle from the longer edge). Items are ordered by their ids (``img2`` before ``img10``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from labelgate.core import Dataset, GeometryKind
from labelgate.core.errors import FormatError
from labelgate.formats.capabilities import Capabilities
from labelgate.formats.report import ConversionReport
from labelgate.formats.yolo._layout import YAML_NAMES
from labelgate.formats.yolo._read import read_yolo
from labelgate.formats.yolo._write import capabilities_for, write_yolo

__all__ = ["CODEC", "YoloCodec", "capabilities_for"]


class YoloCodec:
    name = "yolo"
    description = "YOLO / Ultralytics (data.yaml or Darknet obj.data): detect, segment, pose, OBB"
    capabilities = Capabilities(
        geometries=frozenset({GeometryKind.BOX, GeometryKind.POLYGON, GeometryKind.KEYPOINTS, GeometryKind.ROTATED_BOX}),
        region_fields=frozenset({"score"}),
        item_fields=frozenset({"size", "subset"}),
        notes="one task per export (task=detect|segment|pose|obb); sizes come from the images",
    )

    def detect(self, path: Path) -> float:
        if path.is_file():
            return 0.9 if path.name in (*YAML_NAMES, "obj.data") else 0.0
        if not path.is_dir():
            return 0.0
        if any((path / n).is_file() for n in YAML_NAMES) or (path / "obj.data").is_file():
            return 0.9
        if (path / "obj.names").is_file():
            return 0.7
        return 0.0

    def read(self, path: Path, **options: Any) -> Dataset:
        images = options.get("images")
        return read_yolo(path, Path(images) if images else None, options.get("task"))

    def write(self, dataset: Dataset, path: Path, **options: Any) -> ConversionReport:
        images = options.get("images")
        return write_yolo(
            dataset,
            path,
            task=options.get("task", "detect"),
            images=Path(images) if images else None,
            convert=_flag(options.get("convert", False), "convert"),
            precision=int(options.get("precision", 10)),
            layout=str(options.get("layout", "ultralytics")),
            copy_images=_flag(options.get("copy_images", False), "copy_images"),
        )


def _flag(value: Any, name: str) -> bool:
    """A boolean option, also from text (``convert=true`` on a command line)."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise FormatError(f"option {name}={value!r}: expected true or false")


CODEC = YoloCodec()
