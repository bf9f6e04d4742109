"""Pascal VOC: ``Annotations/*.xml``, ``ImageSets/Main/<subset>.txt``, ``JPEGImages``,
``labelmap.txt`` (Datumaro's ``name:r,g,b:parts:actions``) and SegmentationClass /
SegmentationObject PNGs.

Coordinate convention: VOC's originals are 1-based pixel indices, but this codec keeps the
canonical float values verbatim in both directions (``<xmin>1</xmin>`` is ``x1 = 1.0`` and back);
it never shifts by one. Items without objects still get an annotation file.

Options: ``read(path, images=DIR)`` takes missing image sizes from the images' headers.
``write(ds, path, polygons="box" | "mask", images=DIR)``: polygons and rotated boxes become their
bounding box (default) or a mask rasterised into the segmentation PNGs, either way reported;
``images`` copies each item's media into ``JPEGImages``.

Attributes: ``pose`` (text), ``truncated``/``difficult`` (bool, always written, 0 reads as absent),
other bools as ``<actions>``, other text in Datumaro's ``<attributes>`` block.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from labelgate.core import Box, Dataset, GeometryKind, Region, bounds, kind_of
from labelgate.core.errors import FormatError
from labelgate.formats._gc import paused_gc
from labelgate.formats._io import atomic_dir
from labelgate.formats._raster import RASTERISABLE, to_mask
from labelgate.formats.capabilities import Capabilities, restrict
from labelgate.formats.report import ConversionReport
from labelgate.formats.voc._fast import fast_restrict
from labelgate.formats.voc._reader import read_voc
from labelgate.formats.voc._writer import restricted_rows, write_voc

__all__ = ["CODEC", "VocCodec"]

_ROOT = re.compile(rb"<annotation[\s>]")


def _looks_like_voc(xml: Path) -> bool:
    try:
        with xml.open("rb") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    return _ROOT.search(head) is not None


class VocCodec:
    name = "voc"
    description = "Pascal VOC XML (boxes, pose/truncated/difficult/occluded, parts, actions, segmentation PNGs)"
    capabilities = Capabilities(
        geometries=frozenset({GeometryKind.BOX, GeometryKind.MASK, GeometryKind.CLASSIFICATION}),
        region_fields=frozenset({"attributes", "occluded", "group"}),
        item_fields=frozenset({"media", "size", "subset"}),
        schema_fields=frozenset({"colors", "parents", "attributes"}),
        notes=(
            "coordinates verbatim (no 1-based shift); truncated/difficult False reads as absent; "
            "text attributes only (others written as text); items come back in natural id order; "
            "one object per pixel in segmentation PNGs; polygons become boxes (or masks with polygons='mask'); "
            "image labels (per-class lists) come back after the objects, in class order"
        ),
    )

    def detect(self, path: Path) -> float:
        if path.is_dir():
            ann = path / "Annotations"
            if not ann.is_dir():
                # loose layouts (labelImg, Roboflow): every XML must be a VOC annotation
                xmls = list(itertools.islice(itertools.chain(path.glob("*.xml"), path.glob("*/*.xml")), 20))
                return 0.6 if xmls and all(_looks_like_voc(p) for p in xmls) else 0.0
            first = next(ann.rglob("*.xml"), None)
            return 0.9 if first is not None and _looks_like_voc(first) else 0.0
        if path.is_file() and path.suffix.lower() == ".xml":
            return 0.7 if _looks_like_voc(path) else 0.0
        return 0.0

    def read(self, path: Path, **options: Any) -> Dataset:
        images = options.pop("images", None)
        if options:
            raise FormatError(f"unknown read option(s) for voc: {', '.join(sorted(options))}")
        if not path.exists():
            raise FormatError("no such file or directory", path=path)
        return read_voc(path, None if images is None else Path(images))

    def write(self, dataset: Dataset, path: Path, **options: Any) -> ConversionReport:
        polygons = options.pop("polygons", "box")
        images = options.pop("images", None)
        if options:
            raise FormatError(f"unknown write option(s) for voc: {', '.join(sorted(options))}")
        if polygons not in ("box", "mask"):
            raise FormatError(f"polygons={polygons!r}: expected 'box' or 'mask'")
        report = ConversionReport(self.name)
        with paused_gc():
            return self._write(dataset, path, polygons, images, report)

    def _write(self, dataset: Dataset, path: Path, polygons: str, images: Any, report: ConversionReport) -> ConversionReport:
        def convert(r: Region, where: str) -> Region | None:
            kind = kind_of(r.geometry).name.lower()
            if not isinstance(r.geometry, RASTERISABLE):
                return None
            item = dataset.items.get(where)
            if polygons == "mask":
                if item is None or item.width is None or item.height is None:
                    raise FormatError(f"item {where!r} has no image size, which polygons='mask' needs to rasterise; "
                                      "set it (e.g. --images DIR when reading) or use polygons='box'")
                report.drop(f"geometry.{kind}", where, "rasterised to a mask")
                return replace(r, geometry=to_mask(r.geometry, item.width, item.height))
            b = bounds(r.geometry)
            assert b is not None
            report.drop(f"geometry.{kind}", where, "converted to its bounding box")
            return replace(r, geometry=Box(*b))

        fast = fast_restrict(dataset, self.capabilities, report) if polygons == "box" else None
        if fast is not None:
            items, rows, schema = fast
        else:
            restricted, report = restrict(dataset, self.capabilities, report, convert=convert)
            items, rows, schema = list(restricted.items.values()), restricted_rows(restricted), restricted.schema
        # an empty target directory is replaced by one rename instead of a per-file merge
        emptied = path.is_dir() and next(path.iterdir(), None) is None
        if emptied:
            path.rmdir()
        try:
            with atomic_dir(path) as tmp:
                write_voc(items, rows, schema, tmp, report, None if images is None else Path(images))
        except BaseException:
            if emptied:
                path.mkdir(exist_ok=True)
            raise
        report.path = str(path)
        return report


CODEC = VocCodec()
