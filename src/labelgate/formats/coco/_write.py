"""Write a dataset as COCO JSON from its columnar table, one instances file per subset."""

from __future__ import annotations

import gc
import posixpath
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson

from labelgate.core import Dataset, Item, Keypoints, LabelSchema, Mask, MultiPolygon, Polygon, Provenance
from labelgate.core.geometry import GeometryKind, bounds
from labelgate.core.table import NO_ID, RegionTable
from labelgate.formats._io import json_floats
from labelgate.formats.capabilities import Capabilities
from labelgate.formats.coco._payload import mask_to_coco, rle_area
from labelgate.formats.coco._typed import TypedAnn, as_json
from labelgate.formats.report import ConversionReport

__all__ = ["Numbering", "build_documents", "fits"]

_BOX, _KP, _TAG = int(GeometryKind.BOX), int(GeometryKind.KEYPOINTS), int(GeometryKind.CLASSIFICATION)
_MASK = int(GeometryKind.MASK)
_SEGMENT_KINDS = {int(GeometryKind.POLYGON), int(GeometryKind.MULTI_POLYGON), int(GeometryKind.MASK)}
_EXTRA_KEYS = frozenset({"attributes", "group", "occluded"})


def fits(dataset: Dataset, caps: Capabilities) -> RegionTable | None:
    """The dataset's table when ``restrict`` would return the dataset unchanged (checked
    column-wise, without building a region object), else None."""
    if dataset.tracks or dataset.metadata or dataset.schema.attributes:
        return None
    if any(c.color is not None or c.attributes or (c.skeleton is not None and c.skeleton.sigmas is not None)
           for c in dataset.schema.classes):
        return None
    if len(dataset.annotations) != len(dataset.items):
        return None
    default = Provenance()
    for a, (iid, it) in zip(dataset.annotations, dataset.items.items(), strict=True):
        if a.item_id != iid or a.id is not None or a.provenance != default or a.table_rows is None:
            return None
        if it.kind not in caps.item_kinds or it.metadata or it.video is not None or it.text is not None:
            return None
    table = dataset.table()
    if dataset.annotations and table is not dataset.annotations[0].table_rows[0]:  # type: ignore[index]
        return None
    if len(table):
        kinds = {GeometryKind(k) for k in np.unique(table.kind).tolist()}
        if not kinds <= caps.geometries:
            return None
        used = [table.labels[i] for i in np.unique(table.label).tolist()]
        if any(name not in dataset.schema for name in used):
            return None
    if table.extra is not None and any(e and not e.keys() <= _EXTRA_KEYS for e in table.extra):
        return None
    return table


@dataclass
class Numbering:
    """Ids the writer had to invent, so the caller can warn."""

    images: int = 0
    regions: int = 0
    categories: int = 0


def _fresh(existing: list[int | None]) -> tuple[list[int], int]:
    taken = [v for v in existing if v is not None]
    nxt = max(taken, default=0) + 1
    out, made = [], 0
    for v in existing:
        if v is None:
            out.append(nxt)
            nxt += 1
            made += 1
        else:
            out.append(v)
    return out, made


def _categories(schema: LabelSchema, report: ConversionReport, numbering: Numbering) -> tuple[list[dict[str, Any]], dict[str, int]]:
    ids, numbering.categories = _fresh([c.id for c in schema.classes])
    cats = []
    for c, cid in zip(schema.classes, ids, strict=True):
        d: dict[str, Any] = {"id": cid, "name": c.name, "supercategory": c.parent or ""}
        if c.skeleton is not None:
            d["keypoints"] = list(c.skeleton.points)
            d["skeleton"] = [[a + 1, b + 1] for a, b in c.skeleton.edges]
            if c.skeleton.sigmas is not None:
                report.drop("schema.skeleton.sigmas", c.name)
        cats.append(d)
    return cats, {c.name: cid for c, cid in zip(schema.classes, ids, strict=True)}


def _image(it: Item, number: int, report: ConversionReport) -> dict[str, Any]:
    fn = it.media or it.id
    if it.media is None:
        report.warnings.append(f"item {it.id!r} has no media path; file_name {fn!r} written")
    elif posixpath.splitext(fn)[0] != it.id:
        report.drop("item.id", it.id, f"read back as the file name's stem {posixpath.splitext(fn)[0]!r}")
    d: dict[str, Any] = {"id": number, "file_name": fn}
    if it.width is not None:
        d["width"], d["height"] = it.width, it.height
    return d


Where = Callable[[int], str]


def _segment(table: RegionTable, row: int, compressed: bool, report: ConversionReport, where: Where) -> tuple[Any, float, list[float]]:
    """(segmentation, area, bbox xywh) of a polygon, multipolygon or mask row."""
    g = table.geometry[row] if table.geometry is not None else None
    if type(g) is TypedAnn and table.decode is not None:
        g = as_json(g)
    if type(g) is dict and table.decode is not None:  # raw COCO payload, untouched since reading
        seg = g["segmentation"]
        if isinstance(seg, dict) and compressed != isinstance(seg.get("counts"), str):
            g = table.geometry_at(row)
        else:
            area: Any = g.get("area")
            if type(area) not in (int, float):
                area = rle_area(seg) if isinstance(seg, dict) else _poly_area(table.geometry_at(row))
            bb = g.get("bbox")
            return seg, float(area), bb if bb is not None else _xywh(bounds(table.geometry_at(row)))
    g = table.geometry_at(row)
    if isinstance(g, Mask):
        return mask_to_coco(g, compressed), float(g.area), _xywh(bounds(g))
    assert isinstance(g, (Polygon, MultiPolygon))
    parts = g.polygons if isinstance(g, MultiPolygon) else (g,)
    if any(p.holes for p in parts):
        report.drop("geometry.polygon.holes", where(row), "holes dropped (COCO polygons have none)")
    return [list(p.points) for p in parts], _poly_area(g), _xywh(bounds(g))


def _poly_area(g: Any) -> float:
    parts = g.polygons if isinstance(g, MultiPolygon) else (g,)
    return float(sum(Polygon(p.points).area for p in parts))


def _xywh(b: tuple[float, float, float, float] | None) -> list[float]:
    if b is None:
        return [0.0, 0.0, 0.0, 0.0]
    return [b[0], b[1], b[2] - b[0], b[3] - b[1]]


def build_documents(
    ds: Dataset, table: RegionTable, report: ConversionReport, *, compressed: bool = False, single: bool = False
) -> tuple[dict[str | None, dict[str, Any]], Numbering]:
    """One COCO document per subset. ``ds`` holds one annotation per item, in item order, and
    ``table`` its regions (what :func:`fits` or ``restrict`` guarantee)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _build(ds, table, report, compressed, single)
    finally:
        if enabled:
            gc.enable()


Documents = dict[str | None, dict[str, Any]]


def _build(ds: Dataset, table: RegionTable, report: ConversionReport, compressed: bool, single: bool) -> tuple[Documents, Numbering]:
    numbering = Numbering()
    items = list(ds.items.values())
    cats, cat_of = _categories(ds.schema, report, numbering)
    subsets = [it.subset for it in items]
    keys = list(dict.fromkeys(subsets))
    code = {sub: j for j, sub in enumerate(keys)}
    item_code = np.asarray([0 if single else code[sub] for sub in subsets], dtype=np.int64)
    numbers, numbering.images = _fresh([it.number for it in items])
    number_arr = np.asarray(numbers, dtype=np.int64)
    dup_items = _duplicates(item_code, number_arr, np.zeros(len(items), dtype=bool))
    if dup_items.any():
        start = int(number_arr.max()) + 1
        for j, i in enumerate(np.flatnonzero(dup_items).tolist()):
            report.drop("item.number", items[i].id, "renumbered (COCO image ids must be unique in a file)")
            numbers[i] = start + j
        number_arr = np.asarray(numbers, dtype=np.int64)
    n = len(table)
    counts = np.diff(table.offsets)
    ann_of_row = np.repeat(np.arange(len(counts)), counts)
    image_id = number_arr[ann_of_row] if n else np.zeros(0, np.int64)
    subset_of_row = item_code[ann_of_row] if n else np.zeros(0, np.int64)
    lab2cat = np.asarray([cat_of[name] for name in table.labels] or [0], dtype=np.int64)
    ids = table.ids.copy() if table.ids is not None else np.full(n, NO_ID, dtype=np.int64)
    missing = ids == NO_ID
    dup = _duplicates(subset_of_row, ids, missing)
    fresh = missing | dup
    if fresh.any():
        start = int(ids[~fresh].max()) + 1 if (~fresh).any() else 1
        ids[fresh] = np.arange(start, start + int(fresh.sum()))
    xywh = table.bbox.copy()
    xywh[:, 2:] -= xywh[:, :2]
    kind = table.kind
    box = kind == _BOX
    area = np.where(box, xywh[:, 2] * xywh[:, 3], 0.0)
    crowd = table.crowd.astype(np.int64) if table.crowd is not None else np.zeros(n, np.int64)
    anns, plain = _annotations(table, box, ids, image_id, lab2cat[table.label], area, xywh, crowd)
    drop = np.zeros(n, dtype=bool)
    def where(row: int) -> str:
        return f"{items[ann_of_row[row]].id}, region {int(row - table.offsets[ann_of_row[row]])}"

    geometry = table.geometry
    raw_ok = table.decode is not None and geometry is not None
    for row in np.flatnonzero(~box).tolist():
        if drop[row]:
            continue
        a = anns[row]
        k = int(kind[row])
        g = geometry[row] if raw_ok else None  # type: ignore[index]
        if type(g) is TypedAnn and k != _MASK and k in _SEGMENT_KINDS and g.bbox is not None:
            g = as_json(g)  # untouched since read: polygons written back as the bytes read
        if type(g) is dict and k != _MASK and k in _SEGMENT_KINDS and type(g.get("area")) in (int, float) and "bbox" in g:
            a["segmentation"], a["area"], a["bbox"] = g["segmentation"], g["area"], g["bbox"]  # untouched since read
        elif k in _SEGMENT_KINDS:
            a["segmentation"], a["area"], a["bbox"] = _segment(table, row, compressed, report, where)
        elif k == _TAG:
            del a["segmentation"], a["area"], a["bbox"], a["iscrowd"]
        elif k == _KP:
            same = row + 1 < n and ann_of_row[row + 1] == ann_of_row[row]
            _keypoints(table, row, a, bool(same), drop, compressed, report, where)
    numbering.regions = int((missing & ~drop).sum())
    for row in np.flatnonzero(dup & ~drop).tolist():
        report.drop("region.id", f"{items[ann_of_row[row]].id}, region {int(row - table.offsets[ann_of_row[row]])}",
                    "renumbered (COCO annotation ids must be unique)")
    if table.score is not None:  # plain boxes have theirs in their text already
        for row in np.flatnonzero(~np.isnan(table.score) & ~plain).tolist():
            anns[row]["score"] = float(table.score[row])
    if table.extra is not None:
        for row, e in enumerate(table.extra):
            if e:
                _put_extra(anns[row], e)
    docs: dict[str | None, dict[str, Any]] = {}
    if single and len(keys) > 1:
        subset_of_row = np.asarray([code[sub] for sub in subsets], dtype=np.int64)[ann_of_row] if n else subset_of_row
    for j, s in enumerate(keys):
        imgs = [_image(it, num, report) for it, num, sub in zip(items, numbers, subsets, strict=True) if sub == s]
        if len(keys) == 1:
            rows_anns = [a for a, dr in zip(anns, drop.tolist(), strict=True) if not dr] if drop.any() else anns
        else:
            sel = np.flatnonzero((subset_of_row == j) & ~drop).tolist()
            rows_anns = [anns[r] for r in sel]
        docs[s] = {"licenses": [], "info": {}, "categories": cats, "images": imgs, "annotations": rows_anns}
    if not keys:
        docs[None] = {"licenses": [], "info": {}, "categories": cats, "images": [], "annotations": []}
    return docs, numbering


_CHUNK = 4_096
# a plain box's annotation as orjson writes the dict below (same keys, same order, same numbers); the
# writer appends a score last
_PLAIN_BOX = '{"id":%d,"image_id":%d,"category_id":%d,"segmentation":[],"area":%s,"bbox":[%s],"iscrowd":'
_NUMPY = orjson.OPT_SERIALIZE_NUMPY


def _annotations(table: RegionTable, box: npt.NDArray[np.bool_], ids: Any, image_id: Any, cat: Any, area: Any, xywh: Any,
                 crowd: Any) -> tuple[list[Any], npt.NDArray[np.bool_]]:
    """One COCO annotation per row: a dict the writer fills in further, or, for a plain box (no
    attributes or group; a score is fine), its finished JSON as an :class:`orjson.Fragment`, a third
    of a dict's memory (COCO files of a million boxes otherwise hold a million dicts until written);
    and which rows are such fragments."""
    plain = box.copy()
    if table.extra is not None:
        plain &= np.fromiter((not e for e in table.extra), dtype=bool, count=len(table))
    scored = ~np.isnan(table.score) if table.score is not None else np.zeros(len(table), dtype=bool)
    out: list[Any] = [None] * len(table)  # a list: numpy's object arrays probe every Fragment put in them (slow)
    put = out.__setitem__
    for with_score in (False, True):
        rows = np.flatnonzero(plain & (scored if with_score else ~scored))
        for start in range(0, len(rows), _CHUNK):  # in chunks: the numbers' text for all rows at once would be most of the peak
            r = rows[start : start + _CHUNK]
            c = crowd[r]
            same_crowd = bool((c == c[0]).all())
            template = _PLAIN_BOX + (str(int(c[0])) if same_crowd else "%d")
            # "[[x,y,w,h],[...]]": each box's four numbers as one text
            bbox = orjson.dumps(np.ascontiguousarray(xywh[r]), option=_NUMPY).decode()[2:-2].split("],[")
            cols = [ids[r].tolist(), image_id[r].tolist(), cat[r].tolist(), json_floats(area[r]), bbox]
            if not same_crowd:
                cols.append(c.tolist())
            if with_score:
                template += ',"score":%s'
                cols.append(json_floats(table.score[r]))  # type: ignore[index]
            deque(map(put, r.tolist(), map(orjson.Fragment, map((template + "}").__mod__, zip(*cols, strict=True)))), 0)
    other = np.flatnonzero(~plain)
    if len(other):
        empty: list[float] = []
        deque(map(put, other.tolist(), (
            {"id": i, "image_id": im, "category_id": c, "segmentation": empty, "area": ar, "bbox": bb, "iscrowd": cr}
            for i, im, c, ar, bb, cr in zip(ids[other].tolist(), image_id[other].tolist(), cat[other].tolist(),
                                            area[other].tolist(), xywh[other].tolist(), crowd[other].tolist(), strict=True)
        )), 0)
    return out, plain


def _duplicates(group: npt.NDArray[np.int64], ids: npt.NDArray[np.int64], skip: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """Rows whose (group, id) pair appeared before (the first one stays); ``skip`` rows never count."""
    n = len(ids)
    if n == 0 or (not skip.any() and np.all(ids[1:] > ids[:-1])):
        return np.zeros(n, dtype=bool)
    order = np.lexsort((ids, group))
    same = (ids[order][1:] == ids[order][:-1]) & (group[order][1:] == group[order][:-1])
    dup = np.zeros(n, dtype=bool)
    dup[order[1:][same]] = True
    return dup & ~skip


def _put_extra(a: dict[str, Any], e: dict[str, Any]) -> None:
    attrs = dict(e.get("attributes") or {})
    if e.get("occluded"):
        attrs["occluded"] = True
    if attrs:
        a["attributes"] = attrs
    g = e.get("group")
    if g is not None and not (a.pop("_merged", False) and g == a["id"]):
        a["group"] = g
    a.pop("_merged", None)


def _keypoints(table: RegionTable, row: int, a: dict[str, Any], same_block: bool, drop: npt.NDArray[np.bool_],
               compressed: bool, report: ConversionReport, where: Where) -> None:
    g = table.geometry_at(row)
    assert isinstance(g, Keypoints)
    vis = g.visibility
    flat: list[float] = []
    for j, v in enumerate(vis):
        flat += [g.points[2 * j], g.points[2 * j + 1], v]
    a["keypoints"] = flat
    a["num_keypoints"] = sum(1 for v in vis if v > 0)
    a["bbox"] = _xywh(bounds(g))
    a["area"] = a["bbox"][2] * a["bbox"][3]
    # a keypoints region followed by its object's outline or box (same label and group, no id of
    # its own) is one COCO annotation, as keypoint files store people
    nxt = row + 1
    e = table.extra[row] if table.extra is not None else None
    group = e.get("group") if e else None
    follower = table.extra[nxt] if table.extra is not None and nxt < len(table) else None
    if (group is None or not same_block or not follower or follower.get("group") != group or table.label[nxt] != table.label[row]
            or (table.ids is not None and table.ids[nxt] != NO_ID) or int(table.kind[nxt]) in (_KP, _TAG)):
        return
    if int(table.kind[nxt]) == _BOX:
        x1, y1, x2, y2 = table.bbox[nxt].tolist()
        a["bbox"], a["area"] = [x1, y1, x2 - x1, y2 - y1], (x2 - x1) * (y2 - y1)
    else:
        a["segmentation"], a["area"], a["bbox"] = _segment(table, nxt, compressed, report, where)
    a["_merged"] = True
    drop[nxt] = True
