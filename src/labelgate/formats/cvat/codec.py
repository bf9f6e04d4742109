"""The CVAT codec: capabilities, detection, and the read/write entry points."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from labelgate.core import Dataset, FormatError, GeometryKind, ItemKind
from labelgate.formats._io import atomic_file
from labelgate.formats.capabilities import Capabilities, restrict
from labelgate.formats.cvat._reader import read_cvat
from labelgate.formats.cvat._writer import cvat_document
from labelgate.formats.report import ConversionReport

__all__ = ["CODEC", "CvatCodec"]


def _looks_like_cvat(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            head = fh.read(1024)
    except OSError:
        return False
    return b"<annotations>" in head or b"<annotations " in head


class CvatCodec:
    name = "cvat"
    description = "CVAT for images 1.1 / CVAT for video 1.1 XML (shapes, masks, tags, skeletons, tracks)"
    capabilities = Capabilities(
        geometries=frozenset({
            GeometryKind.BOX,
            GeometryKind.ROTATED_BOX,
            GeometryKind.POLYGON,
            GeometryKind.POLYLINE,
            GeometryKind.KEYPOINTS,
            GeometryKind.MASK,
            GeometryKind.CLASSIFICATION,
        }),
        item_kinds=frozenset({ItemKind.IMAGE, ItemKind.VIDEO_FRAME}),
        region_fields=frozenset({"attributes", "group", "z_order", "occluded"}),
        item_fields=frozenset({"media", "size", "number", "subset", "video"}),
        schema_fields=frozenset({"colors", "parents", "attributes", "skeletons"}),
        per_item="one",
        provenance=False,
        tracks=True,
        notes=(
            "Exact round trip of coordinates (rotated boxes included). Keypoints keep their visibility "
            "when their label has a skeleton; masks need the image size. Video: one video per file, "
            "frames named frame_NNNNNN, untracked shapes become one-frame tracks."
        ),
    )

    def detect(self, path: Path) -> float:
        if path.is_file():
            return 0.9 if path.suffix.lower() == ".xml" and _looks_like_cvat(path) else 0.0
        if path.is_dir():
            main = path / "annotations.xml"
            if main.is_file():
                return 0.9 if _looks_like_cvat(main) else 0.0
            xmls = sorted(path.glob("*.xml"))[:3]
            return 0.8 if xmls and all(_looks_like_cvat(p) for p in xmls) else 0.0
        return 0.0

    def read(self, path: Path, **options: Any) -> Dataset:
        """Options: ``on_unsupported`` "error" (default) or "skip" for shapes without a label and
        shapes Labelgate does not model (cuboids, ellipses); skipped counts go to
        ``dataset.metadata["cvat_skipped"]``."""
        return read_cvat(Path(path), options.pop("on_unsupported", "error"))

    def write(self, dataset: Dataset, path: Path, **options: Any) -> ConversionReport:
        """Write ``annotations.xml`` into directory ``path`` (or to ``path`` if it ends in .xml).

        Option ``mode``: "images" or "video"; by default video when the dataset has tracks or
        video frames."""
        path = Path(path)
        mode = options.pop("mode", None)
        if mode is None:
            video = bool(dataset.tracks) or any(it.kind is ItemKind.VIDEO_FRAME for it in dataset.items.values())
            mode = "video" if video else "images"
        if mode not in ("images", "video"):
            raise FormatError(f"mode must be 'images' or 'video', got {mode!r}")
        report = ConversionReport(self.name)
        ds, report = restrict(dataset, self.capabilities, report)
        data, regions = cvat_document(ds, report, mode)
        out = path if path.suffix.lower() == ".xml" else path / "annotations.xml"
        with atomic_file(out) as fh:
            fh.write(data)
        report.path = str(out.parent if out.name == "annotations.xml" else out)
        report.items = len(ds.items)
        report.regions = regions
        report.files = 1
        return report


CODEC = CvatCodec()
