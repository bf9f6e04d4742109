"""Read a Pascal VOC directory (or one annotation XML) into a table-backed :class:`Dataset`.

Items are the union of ``Annotations/**/*.xml`` (or, without that folder, the loose XML files of
labelImg and Roboflow) and the ids listed in ``ImageSets/Main/<subset>.txt``, in natural order of
their ids. An object whose SegmentationObject instance has exactly the object's box as bounds and
the object's class reads as one Mask region; otherwise the object is a Box and the instance a Mask
in the same group (real VOC boxes are drawn by hand). ``<class>_<subset>.txt`` lists give image
labels (Classification regions, ``0`` = difficult), after the objects, in class order.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from labelgate.core import Annotation, Classification, Dataset, GeometryKind, Item, LabelClass, LabelSchema, Mask, RegionTable, bounds
from labelgate.core.errors import FormatError
from labelgate.formats._io import read_text
from labelgate.formats._media import ImageIndex, image_size
from labelgate.formats._palette import VOC_CLASSES, natural_key
from labelgate.formats.voc._labelmap import BACKGROUND, Labelmap, parse_labelmap
from labelgate.formats.voc._objects import DEFAULT_SUBSET, ParsedFile, VocObject, parse_annotation_file
from labelgate.formats.voc._segmentation import find_png, read_segmentation

__all__ = ["loose_files", "read_voc"]

_NAN4 = (math.nan, math.nan, math.nan, math.nan)
_TAG = Classification()


class _Rows:
    """Columns of the region table under construction."""

    def __init__(self) -> None:
        self.labels: dict[str, int] = {}
        self.label: list[int] = []
        self.kind: list[int] = []
        self.bbox: list[tuple[float, float, float, float]] = []
        self.geometry: list[Any] = []
        self.extra: list[dict[str, Any] | None] = []
        self.offsets = [0]

    def add(self, label: str, box: tuple[float, float, float, float], mask: Mask | Classification | None,
            extra: dict[str, Any]) -> None:
        self.label.append(self.labels.setdefault(label, len(self.labels)))
        kind = GeometryKind.BOX if mask is None else GeometryKind.MASK if isinstance(mask, Mask) else GeometryKind.CLASSIFICATION
        self.kind.append(kind)
        self.bbox.append(box)
        self.geometry.append(mask)
        kept = {k: v for k, v in extra.items() if not (v is None or v is False or (k == "attributes" and not v))}
        self.extra.append(kept or None)

    def table(self) -> RegionTable:
        n = len(self.label)
        return RegionTable(
            labels=list(self.labels),
            label=np.asarray(self.label, dtype=np.int32),
            kind=np.asarray(self.kind, dtype=np.uint8),
            bbox=np.asarray(self.bbox, dtype=np.float64).reshape(n, 4),
            offsets=np.asarray(self.offsets),
            geometry=self.geometry,
            extra=self.extra,
        )


def _image_lists(root: Path, class_names: list[str]) -> tuple[dict[str, list[str]], dict[str, list[tuple[str, int]]]]:
    """``(subset -> ids, item id -> [(class, presence)])`` from ``ImageSets/Main``.

    ``<class>_<subset>.txt`` files (two columns, presence 1, 0 = difficult, -1 = absent) are
    image-level labels; other files list a subset's ids.
    """
    main = root / "ImageSets" / "Main"
    if not main.is_dir():
        return {}, {}
    files = sorted(main.glob("*.txt"), key=lambda p: (p.stem == "trainval", p.stem))
    by_length = sorted(class_names, key=len, reverse=True)
    order = {c: i for i, c in enumerate(class_names)}
    subsets: dict[str, list[str]] = {}
    tagged: list[tuple[tuple[int, str], str, list[list[str]], Path]] = []
    for p in files:
        rows = [ln.split() for ln in read_text(p).splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
        cls = next((c for c in by_length if p.stem.startswith(f"{c}_")), None)
        if rows and not all(len(r) == 2 for r in rows):
            cls = None  # one id per line: a subset list, whatever its name
        elif cls is None and rows and "_" in p.stem:
            cls = p.stem.rsplit("_", 1)[0]
        if cls is None:
            subsets[p.stem] = [r[0] for r in rows]
        else:
            tagged.append(((order.get(cls, len(order)), cls), cls, rows, p))
    tags: dict[str, list[tuple[str, int]]] = {}
    for _, cls, rows, p in sorted(tagged, key=lambda t: t[0]):
        for n, r in enumerate(rows, 1):
            if len(r) != 2 or r[1] not in ("-1", "0", "1"):
                raise FormatError(f"expected '<image id> <1|0|-1>', got {' '.join(r)!r}", path=p, where=f"row {n}")
            if r[1] != "-1":
                tags.setdefault(r[0], []).append((cls, int(r[1])))
    return subsets, tags


def _media_of(index: ImageIndex, item_id: str, media: str | None) -> tuple[str | None, tuple[int, int] | None]:
    """The media name and size of an item's image under ``index``'s folder, if there is one."""
    found = str(index.root / media) if media is not None and (index.root / media).is_file() else index.find(item_id)
    if found is None:
        return media, None
    name = Path(found).relative_to(index.root).as_posix()
    return media if media is not None else name, image_size(found)


def _fresh_groups(objects: list[VocObject]) -> int:
    used = [o.group for o in objects if o.group is not None]
    return max(used, default=0) + 1


def _add_item(rows: _Rows, parsed: ParsedFile, instances: dict[int, tuple[str, Mask]], semantic: list[tuple[str, Mask]],
              tags: Iterable[tuple[str, int]]) -> None:
    next_group = _fresh_groups(parsed.objects)
    for k, obj in enumerate(parsed.objects, 1):
        inst = instances.pop(k, None)
        group = obj.group
        single = inst is not None and inst[0] == obj.label and bounds(inst[1]) == obj.box
        if group is None and (obj.parts or (inst is not None and not single)):
            group, next_group = next_group, next_group + 1
        base = {"attributes": obj.attributes, "occluded": obj.occluded, "group": group}
        if single:
            assert inst is not None
            rows.add(obj.label, obj.box, inst[1], base)
        else:
            rows.add(obj.label, obj.box, None, base)
        for pname, pbox in obj.parts:
            rows.add(pname, pbox, None, {"group": group})
        if inst is not None and not single:
            rows.add(inst[0], bounds(inst[1]) or (0.0, 0.0, 0.0, 0.0), inst[1], {"group": group})
    for _, (name, m) in sorted(instances.items()):
        rows.add(name, bounds(m) or (0.0, 0.0, 0.0, 0.0), m, {})
    for name, m in semantic:
        rows.add(name, bounds(m) or (0.0, 0.0, 0.0, 0.0), m, {})
    for name, presence in tags:
        rows.add(name, _NAN4, _TAG, {"attributes": {"difficult": True} if presence == 0 else {}})
    rows.offsets.append(len(rows.label))


def loose_files(root: Path) -> tuple[dict[str, Path], dict[str, str]]:
    """Annotation files of the loose layouts (labelImg: XML beside the images; Roboflow: one
    folder per subset): ``(item id -> file, item id -> subset folder)``."""
    files: dict[str, Path] = {}
    subsets: dict[str, str] = {}
    for p in [*sorted(root.glob("*.xml")), *sorted(root.glob("*/*.xml"))]:
        if p.stem in files:
            raise FormatError(f"item {p.stem!r} has two annotation files; ids must be unique", path=p,
                              where=f"also {files[p.stem]}")
        files[p.stem] = p
        if p.parent != root:
            subsets[p.stem] = p.parent.name
    return files, subsets


def read_voc(path: Path, images: Path | None = None) -> Dataset:
    """Read a VOC directory, or a single annotation XML file. With ``images``, items whose
    annotation has no ``<size>`` get it from their image there (header only)."""
    folder_subsets: dict[str, str] = {}
    if path.is_file():
        root = path.parent
        files = {path.stem: path}
        labelmap_path = None
    else:
        root = path
        ann = root / "Annotations"
        if ann.is_dir():
            files = {p.relative_to(ann).with_suffix("").as_posix(): p for p in ann.rglob("*.xml")}
        else:
            files, folder_subsets = loose_files(root)
        labelmap_path = root / "labelmap.txt"
    labelmap = parse_labelmap(labelmap_path) if labelmap_path is not None and labelmap_path.is_file() else None
    parsed = {i: parse_annotation_file(p) for i, p in files.items()}
    seen = {o.label for pf in parsed.values() for o in pf.objects} - set(Labelmap.default().names)
    known = labelmap.names if labelmap is not None else [*Labelmap.default().names, *sorted(seen)]
    subsets, tags = _image_lists(root, known) if path.is_dir() else ({}, {})
    subset_of: dict[str, str] = dict(folder_subsets)
    for name, ids in subsets.items():
        for i in ids:
            subset_of.setdefault(i, name)
    subset_of = {i: s for i, s in subset_of.items() if s != DEFAULT_SUBSET}
    listed = {i for ids in subsets.values() for i in ids}
    ids = sorted(set(parsed) | listed, key=natural_key)
    segmap = labelmap if labelmap is not None else Labelmap.default()
    jpeg = ImageIndex(images if images is not None else root / "JPEGImages")
    given = ImageIndex(images) if images is not None else None
    rows = _Rows()
    items: list[Item] = []
    for item_id in ids:
        pf = parsed.get(item_id)
        if pf is None:
            media, size = _media_of(jpeg, item_id, None)
            pf = ParsedFile(media, size, [])
        elif pf.size is None and given is not None:
            media, size = _media_of(given, item_id, pf.filename)
            pf = ParsedFile(media, size, pf.objects)
        cls_png = find_png(root / "SegmentationClass", item_id) if path.is_dir() else None
        obj_png = find_png(root / "SegmentationObject", item_id) if path.is_dir() else None
        instances, semantic = read_segmentation(cls_png, obj_png, segmap, pf.size)
        size = pf.size
        items.append(Item(
            item_id,
            media=pf.filename,
            width=None if size is None else size[0],
            height=None if size is None else size[1],
            subset=subset_of.get(item_id),
        ))
        _add_item(rows, pf, instances, semantic, tags.get(item_id, ()))
    table = rows.table()
    annotations = [Annotation.from_table(it.id, table, table.rows_of(i)) for i, it in enumerate(items)]
    parent_of = {pname: o.label for pf in parsed.values() for o in pf.objects for pname, _ in o.parts}
    return Dataset(items, annotations, _schema(labelmap, table.labels, parent_of))


def _schema(labelmap: Labelmap | None, used: list[str], parent_of: dict[str, str]) -> LabelSchema:
    if labelmap is None:
        # no labelmap: VOC's classes in VOC's order, then the others by name, parts last (the
        # order image labels are read in, so that a written labelmap reads back the same)
        voc = {c: i for i, c in enumerate(VOC_CLASSES)}
        names = sorted(used, key=lambda n: (n in parent_of, voc.get(n, len(voc)), n))
        return LabelSchema(tuple(LabelClass(n, parent=parent_of.get(n)) for n in names))
    classes = labelmap.schema.classes
    if classes and classes[0].name == BACKGROUND and BACKGROUND not in used and not classes[0].attributes:
        classes = classes[1:]  # line 0 is VOC's "no object" index, not a class anyone labelled
    return LabelSchema(classes).with_classes(used)
