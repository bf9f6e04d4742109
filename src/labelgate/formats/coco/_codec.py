"""The COCO codec: layout discovery, detection, capabilities, and the write entry point."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import orjson

from labelgate.core import Dataset, GeometryKind, Polygon, Region
from labelgate.core.errors import FormatError
from labelgate.formats._io import atomic_dir, atomic_file
from labelgate.formats.capabilities import Capabilities, restrict
from labelgate.formats.coco._read import read_files
from labelgate.formats.coco._write import build_documents, fits
from labelgate.formats.report import ConversionReport

__all__ = ["CAPABILITIES", "CocoCodec", "annotation_files", "subset_of"]

CAPABILITIES = Capabilities(
    geometries=frozenset({GeometryKind.BOX, GeometryKind.POLYGON, GeometryKind.MULTI_POLYGON, GeometryKind.KEYPOINTS,
                          GeometryKind.MASK, GeometryKind.CLASSIFICATION}),
    region_fields=frozenset({"id", "attributes", "score", "group", "occluded", "crowd"}),
    item_fields=frozenset({"media", "size", "number", "subset"}),
    schema_fields=frozenset({"ids", "parents", "skeletons"}),
    per_item="one",
    notes=("instances JSON: boxes, polygons (no holes), RLE masks (iscrowd), keypoints with skeletons, image-level labels "
           "(annotations without bbox); occluded is kept as attributes.occluded; rotated boxes become polygons"),
)

_KNOWN = re.compile(r"^(instances|person_keypoints|labels|image_info)_(?P<subset>.+)\.json$")
_OTHER = {"captions": "captions are text, not instance annotations",
          "panoptic": "panoptic segmentation needs the PNG segment maps (not supported)",
          "stuff": "stuff segmentation is semantic, not instance annotations (not supported)"}
_ROBOFLOW = "_annotations.coco.json"
_DEFAULT = "default"


def subset_of(path: Path) -> str | None:
    """The subset a file name says (``instances_val.json`` -> "val"; "default" -> None)."""
    m = _KNOWN.match(path.name)
    if m is None or m.group("subset") == _DEFAULT:
        return None
    return m.group("subset")


def annotation_files(path: Path) -> tuple[list[tuple[Path, str | None]], list[str]]:
    """The COCO files of a path (file or dataset folder) with their subsets, and the skipped
    files with the reason."""
    if path.is_file():
        return [(path, subset_of(path))], []
    files: list[tuple[Path, str | None]] = []
    skipped: list[str] = []
    ann = path / "annotations"
    if ann.is_dir():
        for f in sorted(ann.glob("*.json")):
            if _KNOWN.match(f.name):
                files.append((f, subset_of(f)))
            else:
                prefix = f.name.split("_", 1)[0]
                skipped.append(f"{f.name}: {_OTHER.get(prefix, 'not a COCO instances, keypoints, labels or image_info file')}")
    else:
        if (path / _ROBOFLOW).is_file():
            files.append((path / _ROBOFLOW, None))
        for f in sorted(path.glob(f"*/{_ROBOFLOW}")):
            files.append((f, f.parent.name))
    return files, skipped


def _rotated_to_polygon(report: ConversionReport) -> Any:
    from labelgate.core import RotatedBox

    def convert(r: Region, where: str) -> Region | None:
        if isinstance(r.geometry, RotatedBox):
            report.drop("geometry.rotated_box", where, "converted to polygon")
            pts = tuple(v for c in r.geometry.corners() for v in c)
            from dataclasses import replace

            return replace(r, geometry=Polygon(pts))
        return None

    return convert


class CocoCodec:
    name = "coco"
    description = "COCO JSON (instances, person_keypoints, labels, image_info; detection results with score)"
    capabilities = CAPABILITIES

    def detect(self, path: Path) -> float:
        if path.is_dir():
            files, _ = annotation_files(path)
            return 0.9 if files else 0.0
        if path.suffix != ".json" or not path.is_file():
            return 0.0
        with path.open("rb") as fh:
            head = fh.read(1 << 16)
        if head.lstrip().startswith(b'{"labelgate"') or not head.lstrip().startswith(b"{"):
            return 0.0
        keys = sum(k in head for k in (b'"images"', b'"annotations"', b'"categories"'))
        return 0.9 if keys >= 2 else 0.5 if keys == 1 and _KNOWN.match(path.name) else 0.0

    def read(self, path: Path, **options: Any) -> Dataset:
        path = Path(path)
        if not path.exists():
            raise FormatError("no such file or directory", path=path)
        files, skipped = annotation_files(path)
        if not files:
            raise FormatError("no COCO annotation files found (expected annotations/instances_<subset>.json, "
                              "person_keypoints_*, labels_*, image_info_*, or a .json file)", path=path)
        ds = read_files(files)
        if skipped:
            ds.metadata["coco_skipped_files"] = skipped
        return ds

    def write(self, dataset: Dataset, path: Path, **options: Any) -> ConversionReport:
        """Write ``annotations/instances_<subset>.json`` files under a folder, or one file when
        ``path`` ends in ``.json``. ``rle="compressed"`` writes masks as pycocotools strings."""
        path = Path(path)
        compressed = options.get("rle", "uncompressed") == "compressed"
        report = ConversionReport(self.name)
        table = fits(dataset, self.capabilities)
        ds = dataset
        if table is None:
            ds, _ = restrict(dataset, self.capabilities, report, convert=_rotated_to_polygon(report))
            table = ds.table()
        docs, numbering = build_documents(ds, table, report, compressed=compressed, single=path.suffix == ".json")
        for what, count in (("images", numbering.images), ("regions", numbering.regions), ("categories", numbering.categories)):
            if count:
                report.warnings.append(f"{count} {what} had no numeric id; COCO needs one, so ids were assigned")
        if path.suffix == ".json":
            implied = subset_of(path)
            if len(docs) > 1 or next(iter(docs)) != implied:
                for it in ds.items.values():
                    if it.subset != implied:
                        report.drop("item.subset", it.id, f"one file: subset read back as {implied!r}")
            merged = _merge(docs)
            with atomic_file(path) as fh:
                _dump(merged, fh)
            report.files = 1
        else:
            with atomic_dir(path) as tmp:
                (tmp / "annotations").mkdir()
                for subset, doc in docs.items():
                    with open(tmp / "annotations" / f"instances_{subset or _DEFAULT}.json", "wb") as fh:
                        _dump(doc, fh)
            report.files = len(docs)
        report.path = str(path)
        report.items = len(ds.items)
        report.regions = sum(len(d["annotations"]) for d in docs.values())
        return report


_DUMP_CHUNK = 8_192


def _dump(doc: dict[str, Any], fh: Any) -> None:
    """``fh.write(orjson.dumps(doc))``, the same bytes, with the annotations (the document's last key)
    serialised a chunk at a time: the whole text at once would add its size to the write's peak."""
    anns = doc["annotations"]
    if len(anns) <= _DUMP_CHUNK or next(reversed(doc)) != "annotations":
        fh.write(orjson.dumps(doc))
        return
    head = orjson.dumps({**doc, "annotations": []})
    fh.write(head[:-2])  # ... "annotations":[
    for start in range(0, len(anns), _DUMP_CHUNK):
        if start:
            fh.write(b",")
        fh.write(orjson.dumps(anns[start : start + _DUMP_CHUNK])[1:-1])
    fh.write(b"]}")


def _merge(docs: dict[str | None, dict[str, Any]]) -> dict[str, Any]:
    if len(docs) == 1:
        return next(iter(docs.values()))
    first = next(iter(docs.values()))
    return {**first, "images": [im for d in docs.values() for im in d["images"]],
            "annotations": [a for d in docs.values() for a in d["annotations"]]}


CODEC = CocoCodec()
