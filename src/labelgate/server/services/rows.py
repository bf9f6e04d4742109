"""Regions of a whole dataset as checked, canonical native dicts, one list per annotation.

Two paths give identical output: a columnar one for datasets whose annotations are backed by one
:class:`~labelgate.core.table.RegionTable` (fast readers build those; no Region objects are
made for boxes), and the general one through :func:`labelgate.formats.native.region_to_dict`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from labelgate.core import Dataset, LabelSchema, RegionTable
from labelgate.core.errors import InvariantError
from labelgate.core.geometry import GeometryKind
from labelgate.core.table import NO_ID
from labelgate.formats.native import region_to_dict
from labelgate.server.services.regions import check_labels

__all__ = ["dataset_regions", "labels_in", "table_from_dicts"]


def labels_in(ds: Dataset) -> list[str]:
    """Every label a region uses, in first-seen order (cheap for table-backed datasets)."""
    table = ds.shared_table()
    if table is not None:
        used = np.unique(table.label).tolist() if len(table) else []
        return [table.labels[i] for i in used]
    return list(dict.fromkeys(r.label for a in ds.annotations for r in a.regions))


def dataset_regions(ds: Dataset, schema: LabelSchema) -> list[list[dict[str, Any]]]:
    """Per annotation, its regions as canonical dicts; raises on the first label or attribute
    the schema does not allow, naming the annotation, item and region."""
    table = ds.shared_table()
    if table is None:
        out = []
        for i, a in enumerate(ds.annotations):
            regs = []
            for j, r in enumerate(a.regions):
                check_labels(schema, r, _where(ds, i, j))
                regs.append(region_to_dict(r))
            out.append(regs)
        return out
    return _from_table(ds, table, schema)


def _where(ds: Dataset, i: int, j: int) -> str:
    a = ds.annotations[i]
    return f"annotation {a.id or i} on item {a.item_id!r}, region {j}"


def _from_table(ds: Dataset, table: RegionTable, schema: LabelSchema) -> list[list[dict[str, Any]]]:
    n = len(table)
    offsets = table.offsets.tolist()
    if n:
        for idx in np.unique(table.label).tolist():
            name = table.labels[idx]
            if name not in schema:
                row = int(np.flatnonzero(table.label == idx)[0])
                i = int(np.searchsorted(table.offsets, row, side="right")) - 1
                raise InvariantError(f"{_where(ds, i, row - offsets[i])}: label {name!r} is not in the project's "
                                     f"label schema {schema.names}")
    names = [table.labels[i] for i in table.label.tolist()]
    kinds = table.kind.tolist()
    boxes = table.bbox.tolist()
    scores = table.score.tolist() if table.score is not None else None
    ids = table.ids.tolist() if table.ids is not None else None
    crowd = table.crowd.tolist() if table.crowd is not None else None
    extra = table.extra
    box = int(GeometryKind.BOX)
    out: list[list[dict[str, Any]]] = []
    for i in range(table.n_annotations):
        regs = []
        for row in range(offsets[i], offsets[i + 1]):
            if kinds[row] != box or (extra is not None and extra[row]):
                r = table.region(row)
                check_labels(schema, r, _where(ds, i, row - offsets[i]))
                regs.append(region_to_dict(r))
                continue
            x1, y1, x2, y2 = boxes[row]
            d: dict[str, Any] = {"geometry": {"type": "box", "x1": x1, "y1": y1, "x2": x2, "y2": y2},
                                 "label": names[row]}
            if ids is not None and ids[row] != NO_ID:
                d["id"] = ids[row]
            if scores is not None and not math.isnan(scores[row]):
                d["score"] = scores[row]
            if crowd is not None and crowd[row]:
                d["crowd"] = True
            regs.append(d)
        out.append(regs)
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
    """The table, column by column, when every region is a plain box (the common bulk case)."""
    flat = [d for regs in groups for d in regs]
    if not all(d.keys() <= _BOX_KEYS and d["geometry"].get("type") == "box" for d in flat):
        return None
    n = len(flat)
    geoms = [d["geometry"] for d in flat]
    names = [d["label"] for d in flat]
    labels = list(dict.fromkeys(names))
    index = {name: i for i, name in enumerate(labels)}
    offsets = np.cumsum([0, *map(len, groups)], dtype=np.int64)
    nan = math.nan
    return RegionTable(
        labels=labels, label=np.fromiter(map(index.__getitem__, names), dtype=np.int32, count=n),
        kind=np.full(n, int(GeometryKind.BOX), dtype=np.uint8),
        bbox=np.array([(g["x1"], g["y1"], g["x2"], g["y2"]) for g in geoms], dtype=np.float64).reshape(n, 4),
        offsets=offsets,
        score=np.array([nan if (v := d.get("score")) is None else v for d in flat], dtype=np.float64),
        ids=np.array([d.get("id", NO_ID) for d in flat], dtype=np.int64),
        crowd=np.array([d.get("crowd", False) for d in flat], dtype=bool),
        geometry=[None] * n, extra=[None] * n,
    )
