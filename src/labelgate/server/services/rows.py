"""Regions of a whole dataset as checked, canonical native dicts, one list per annotation.

Two paths give identical output: a columnar one for datasets whose annotations are backed by one
:class:`~labelgate.core.table.RegionTable` (fast readers build those; no Region objects nor dicts
are made for boxes, whose JSON text is built column by column), and the general one through
:func:`labelgate.formats.native.region_to_dict`.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterator
from itertools import chain, pairwise, repeat
from operator import attrgetter, itemgetter
from typing import Any, Literal

import msgspec
import numpy as np
import orjson

from labelgate.core import Dataset, Item, LabelSchema, RegionTable
from labelgate.core.errors import InvariantError
from labelgate.core.geometry import GeometryKind
from labelgate.core.items import ItemKind
from labelgate.core.table import NO_ID
from labelgate.formats._io import json_floats
from labelgate.formats.native import item_from_dict, region_to_dict
from labelgate.server.services.regions import check_labels

__all__ = ["dataset_regions", "encoded_region_chunks", "encoded_regions", "items_from_dicts", "labels_in", "table_from_dicts",
           "table_from_texts"]


def labels_in(ds: Dataset) -> list[str]:
    """Every label a region uses, in first-seen order (cheap for table-backed datasets)."""
    table = ds.shared_table()
    if table is not None:
        used = np.unique(table.label).tolist() if len(table) else []
        return [table.labels[i] for i in used]
    return list(dict.fromkeys(r.label for a in ds.annotations for r in a.regions))


def dataset_regions(ds: Dataset, schema: LabelSchema) -> list[list[dict[str, Any]]]:
    """Per annotation, its regions as canonical dicts (the general path, through Region objects);
    raises on the first label or attribute the schema does not allow, naming the annotation, item
    and region."""
    out = []
    for i, a in enumerate(ds.annotations):
        regs = []
        for j, r in enumerate(a.regions):
            check_labels(schema, r, _where(ds, i, j))
            regs.append(region_to_dict(r))
        out.append(regs)
    return out


def encoded_regions(ds: Dataset, schema: LabelSchema) -> list[str]:
    """Per annotation, its regions as the JSON text the database stores: exactly
    ``orjson.dumps(dataset_regions(ds, schema)[i], option=OPT_SERIALIZE_NUMPY)`` (readers may leave numpy
    scalars in regions), checked the same way. Table-backed datasets
    take a columnar path that makes no dict (nor Region) per plain box."""
    return list(chain.from_iterable(encoded_region_chunks(ds, schema)))


def encoded_region_chunks(ds: Dataset, schema: LabelSchema, size: int = 10_000) -> Iterator[list[str]]:
    """:func:`encoded_regions` a chunk of up to ``size`` annotations at a time, so that a caller can
    store one chunk while the next is made. Every label is checked against the schema before this
    returns (the regions of a table-backed dataset's other geometries when their chunk is made)."""
    table = ds.shared_table()
    if table is None:
        return iter([[orjson.dumps(regs, option=_NUMPY).decode() for regs in dataset_regions(ds, schema)]])
    _check_table_labels(ds, table, schema)
    return _chunks(ds, table, schema, size)


def _chunks(ds: Dataset, table: RegionTable, schema: LabelSchema, size: int) -> Iterator[list[str]]:
    offsets = table.offsets.tolist()
    for a in range(0, table.n_annotations, size):
        b = min(a + size, table.n_annotations)
        lo = offsets[a]
        parts = _region_texts(ds, table, schema, lo, offsets[b])
        starts = [o - lo for o in offsets[a:b + 1]]
        yield list(map("[%s]".__mod__, map(",".join, map(parts.__getitem__, map(slice, starts[:-1], starts[1:])))))


def _where(ds: Dataset, i: int, j: int) -> str:
    a = ds.annotations[i]
    return f"annotation {a.id or i} on item {a.item_id!r}, region {j}"


def _check_table_labels(ds: Dataset, table: RegionTable, schema: LabelSchema) -> None:
    if not len(table):
        return
    for idx in np.unique(table.label).tolist():
        name = table.labels[idx]
        if name not in schema:
            row = int(np.flatnonzero(table.label == idx)[0])
            i = int(np.searchsorted(table.offsets, row, side="right")) - 1
            raise InvariantError(f"{_where(ds, i, row - int(table.offsets[i]))}: label {name!r} is not in the project's "
                                 f"label schema {schema.names}")


_NUMPY = orjson.OPT_SERIALIZE_NUMPY

# a plain box's canonical JSON, up to its optional keys (id, score, crowd), in region_to_dict's order
_BOX_JSON = '{"geometry":{"type":"box","x1":%s,"x2":%s},"label":%s'


def _corner_texts(xy: np.ndarray[Any, Any], y_key: str) -> list[str]:
    """Per row of an n x 2 array, ``x,"<y_key>":y`` with both numbers as orjson writes them: one
    orjson call and three C-level passes over the text, not one string per number."""
    if not len(xy):
        return []
    text = orjson.dumps(np.ascontiguousarray(xy, dtype=np.float64), option=_NUMPY).decode()
    return text[2:-2].replace("],[", "\n").replace(",", f',"{y_key}":').split("\n")


def _optional(n: int, has: np.ndarray[Any, Any], texts: list[str]) -> list[str]:
    """Per row ``texts`` in order where ``has``, else the empty string."""
    out = [""] * n
    deque(map(out.__setitem__, np.flatnonzero(has).tolist(), texts), 0)
    return out


def _region_texts(ds: Dataset, table: RegionTable, schema: LabelSchema, lo: int, hi: int) -> list[str]:
    """Each region of rows ``lo:hi`` as JSON text: plain boxes (no attributes or other extras) built
    column by column through one template (an optional key every box has, or none has, is part of
    it), every other row through :func:`region_to_dict`."""
    n = hi - lo
    plain = table.kind[lo:hi] == int(GeometryKind.BOX)
    if table.extra is not None:
        plain &= np.fromiter((not e for e in table.extra[lo:hi]), dtype=bool, count=n)
    rows = lo + np.flatnonzero(plain)
    m = len(rows)
    bbox = table.bbox[rows]
    names = np.array([orjson.dumps(name).decode() for name in table.labels] or [""], dtype=object)
    template = [_BOX_JSON]
    args: list[list[Any]] = [_corner_texts(bbox[:, :2], "y1"), _corner_texts(bbox[:, 2:], "y2"),
                             names[table.label[rows]].tolist()]
    ids = table.ids[rows] if table.ids is not None else np.full(m, NO_ID, dtype=np.int64)
    has_id = ids != NO_ID
    if has_id.all():
        template.append(',"id":%d')
        args.append(ids.tolist())
    elif has_id.any():
        template.append("%s")
        args.append(_optional(m, has_id, [',"id":' + str(v) for v in ids[has_id].tolist()]))
    scores = table.score[rows] if table.score is not None else np.full(m, np.nan)
    has_score = ~np.isnan(scores)
    if has_score.all():
        template.append(',"score":%s')
        args.append(json_floats(scores))
    elif has_score.any():
        template.append("%s")
        args.append(_optional(m, has_score, [',"score":' + s for s in json_floats(scores[has_score])]))
    crowd = table.crowd[rows] if table.crowd is not None else np.zeros(m, dtype=bool)
    if crowd.all():
        template.append(',"crowd":true')
    elif crowd.any():
        template.append("%s")
        args.append(_optional(m, crowd, [',"crowd":true'] * int(crowd.sum())))
    boxes = list(map(("".join(template) + "}").__mod__, zip(*args, strict=True)))
    if m == n:
        return boxes
    out: list[str] = [""] * n
    deque(map(out.__setitem__, (rows - lo).tolist(), boxes), 0)
    offsets = table.offsets
    for row in (lo + np.flatnonzero(~plain)).tolist():
        i = int(np.searchsorted(offsets, row, side="right")) - 1
        r = table.region(row)
        check_labels(schema, r, _where(ds, i, row - int(offsets[i])))
        out[row - lo] = orjson.dumps(region_to_dict(r), option=_NUMPY).decode()
    return out


_BOX_KEYS = frozenset({"geometry", "label", "id", "score", "crowd"})
_EXTRA = ("attributes", "group", "z_order", "occluded", "track_id")
_EXTRA_DEFAULTS: dict[str, Any] = {"attributes": {}, "group": None, "z_order": 0, "occluded": False, "track_id": None}


def table_from_dicts(groups: list[list[dict[str, Any]]]) -> RegionTable:
    """One columnar table from stored region dicts (one list per annotation). Plain boxes go
    straight into columns; anything else is parsed through the native codec."""
    from labelgate.core.geometry import bounds, kind_of
    from labelgate.formats.native import region_from_dict

    plain = _plain_boxes(groups)
    if plain is not None:
        return plain
    labels: dict[str, int] = {}
    label: list[int] = []
    kind: list[int] = []
    bbox: list[tuple[float, float, float, float]] = []
    score: list[float] = []
    ids: list[int] = []
    crowd: list[bool] = []
    geometry: list[Any] = []
    extra: list[dict[str, Any] | None] = []
    offsets = [0]
    nan, box = math.nan, int(GeometryKind.BOX)
    for regs in groups:
        for d in regs:
            g = d["geometry"]
            if g.get("type") == "box" and d.keys() <= _BOX_KEYS:
                label.append(labels.setdefault(d["label"], len(labels)))
                kind.append(box)
                bbox.append((g["x1"], g["y1"], g["x2"], g["y2"]))
                s = d.get("score")
                score.append(nan if s is None else s)
                ids.append(d.get("id", NO_ID))
                crowd.append(bool(d.get("crowd", False)))
                geometry.append(None)
                extra.append(None)
                continue
            r = region_from_dict(d)
            k = kind_of(r.geometry)
            label.append(labels.setdefault(r.label, len(labels)))
            kind.append(int(k))
            b = bounds(r.geometry)
            bbox.append(b if b is not None else (nan, nan, nan, nan))
            score.append(nan if r.score is None else r.score)
            ids.append(NO_ID if r.id is None else r.id)
            crowd.append(r.crowd)
            geometry.append(None if k == GeometryKind.BOX else r.geometry)
            e = {f: getattr(r, f) for f in _EXTRA if getattr(r, f) != _EXTRA_DEFAULTS[f]}
            extra.append(e or None)
        offsets.append(len(label))
    n = len(label)
    return RegionTable(
        labels=list(labels), label=np.asarray(label, dtype=np.int32), kind=np.asarray(kind, dtype=np.uint8),
        bbox=np.asarray(bbox, dtype=np.float64).reshape(n, 4), offsets=np.asarray(offsets, dtype=np.int64),
        score=np.asarray(score, dtype=np.float64), ids=np.asarray(ids, dtype=np.int64),
        crowd=np.asarray(crowd, dtype=bool), geometry=geometry, extra=extra,
    )


def _plain_boxes(groups: list[list[dict[str, Any]]]) -> RegionTable | None:
    """The table, column by column, when every region is a plain box (the common bulk case).
    Every pass is a C-level ``map``: no Python-level loop per region."""
    flat = list(chain.from_iterable(groups))
    if not all(map(_BOX_KEYS.issuperset, flat)):
        return None
    geoms = list(map(itemgetter("geometry"), flat))
    if set(map(dict.get, geoms, repeat("type"))) - {"box"}:
        return None
    n = len(flat)
    names = list(map(itemgetter("label"), flat))
    labels = list(dict.fromkeys(names))
    index = {name: i for i, name in enumerate(labels)}
    offsets = np.cumsum([0, *map(len, groups)], dtype=np.int64)
    return RegionTable(
        labels=labels, label=np.fromiter(map(index.__getitem__, names), dtype=np.int32, count=n),
        kind=np.full(n, int(GeometryKind.BOX), dtype=np.uint8),
        bbox=np.fromiter(chain.from_iterable(map(_CORNERS, geoms)), dtype=np.float64, count=4 * n).reshape(n, 4),
        offsets=offsets,
        score=np.fromiter(map(dict.get, flat, repeat("score"), repeat(math.nan)), dtype=np.float64, count=n),
        ids=np.fromiter(map(dict.get, flat, repeat("id"), repeat(NO_ID)), dtype=np.int64, count=n),
        crowd=np.fromiter(map(dict.get, flat, repeat("crowd"), repeat(False)), dtype=bool, count=n),
        geometry=[None] * n, extra=[None] * n,
    )


_CORNERS = itemgetter("x1", "y1", "x2", "y2")


class _BoxGeometry(msgspec.Struct, gc=False, forbid_unknown_fields=True):
    type: Literal["box"]
    x1: float
    y1: float
    x2: float
    y2: float


class _PlainBox(msgspec.Struct, gc=False, forbid_unknown_fields=True):
    """A stored region that is a plain box: exactly the keys :data:`_BOX_KEYS` allows."""

    geometry: _BoxGeometry
    label: str
    id: int = NO_ID
    score: float = math.nan
    crowd: bool = False


_PLAIN_BOXES = msgspec.json.Decoder(list[_PlainBox])


def table_from_texts(texts: list[str], groups: list[int] | None = None) -> RegionTable:
    """:func:`table_from_dicts` of stored region texts (one JSON list per annotation): the same table.
    ``groups`` merges consecutive texts, ``groups[i]`` of them into annotation ``i`` (default: one
    each). When every region is a plain box, msgspec decodes the texts straight into small typed
    structs (no dicts), checking every key and type; anything else takes the dict path."""
    try:
        parsed = list(map(_PLAIN_BOXES.decode, texts))
    except msgspec.ValidationError:
        parsed = None
    if parsed is None:
        dicts = list(map(orjson.loads, texts))
        if groups is not None:
            bounds = np.cumsum([0, *groups]).tolist()
            dicts = [list(chain.from_iterable(dicts[a:b])) for a, b in pairwise(bounds)]
        return table_from_dicts(dicts)
    counts = np.fromiter(map(len, parsed), dtype=np.int64, count=len(parsed))
    offsets = np.zeros(len(parsed) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    if groups is not None:
        offsets = offsets[np.cumsum([0, *groups], dtype=np.int64)]
    flat = list(chain.from_iterable(parsed))
    n = len(flat)
    names = list(map(_LABEL, flat))
    labels = list(dict.fromkeys(names))
    index = {name: i for i, name in enumerate(labels)}
    geoms = map(_GEOMETRY, flat)
    return RegionTable(
        labels=labels, label=np.fromiter(map(index.__getitem__, names), dtype=np.int32, count=n),
        kind=np.full(n, int(GeometryKind.BOX), dtype=np.uint8),
        bbox=np.fromiter(chain.from_iterable(map(_XYXY, geoms)), dtype=np.float64, count=4 * n).reshape(n, 4),
        offsets=offsets,
        score=np.fromiter(map(_SCORE, flat), dtype=np.float64, count=n),
        ids=np.fromiter(map(_ID, flat), dtype=np.int64, count=n),
        crowd=np.fromiter(map(_CROWD, flat), dtype=bool, count=n),
        geometry=[None] * n, extra=[None] * n,
    )


_LABEL, _GEOMETRY, _SCORE, _ID, _CROWD = (attrgetter(f) for f in ("label", "geometry", "score", "id", "crowd"))
_XYXY = attrgetter("x1", "y1", "x2", "y2")


# the stored item keys item_from_dict reads, in Item's field order, with its defaults (kind and metadata
# apart); a test holds this to item_from_dict
_ITEM_KEYS = ("id", "media", "width", "height", "text", "video", "frame", "number", "subset")
_ITEM_SET = {name: getattr(Item, name).__set__ for name in Item.__slots__}  # frozen: the slots' own setters
_IMAGE = ItemKind.IMAGE


def items_from_dicts(dicts: list[dict[str, Any]]) -> list[Item]:
    """``[item_from_dict(d) for d in dicts]``: equal items, a column at a time. When every item is an
    image with a non-empty string id and a positive whole size or none (what an import stores), the
    items' slots are filled one column per C-level pass (Item's own checks all hold for these);
    anything else, or any item that breaks those checks, goes item by item through item_from_dict
    (the same items, or the same error)."""
    n = len(dicts)
    cols = {name: [d.get(name) for d in dicts] for name in _ITEM_KEYS}
    kinds = [d.get("kind", "image") for d in dicts]
    sizes = zip(cols["width"], cols["height"], strict=True)
    if not (all(type(i) is str and i for i in cols["id"]) and all(k == "image" and type(k) is str for k in kinds)
            and all((type(w) is int and type(h) is int and w > 0 and h > 0) or (w is None and h is None) for w, h in sizes)):
        return [item_from_dict(d) for d in dicts]
    out: list[Item] = list(map(object.__new__, repeat(Item, n)))
    for name, col in cols.items():
        deque(map(_ITEM_SET[name], out, col), 0)
    deque(map(_ITEM_SET["kind"], out, repeat(_IMAGE, n)), 0)
    deque(map(_ITEM_SET["metadata"], out, [d.get("metadata", {}) for d in dicts]), 0)
    return out
