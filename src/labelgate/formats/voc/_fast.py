"""VOC's use of the columnar restriction (:mod:`labelgate.formats._columnar`): which rows become
boxes, and the rows per item for the XML writer, built from the table's columns.

Polygons, multi-polygons and rotated boxes become the table's box for them (the box the file
gave, else the bounds of the geometry), as the general path's ``polygons="box"`` does.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from labelgate.core import Dataset, GeometryKind, Item, LabelSchema, RegionTable, bounds
from labelgate.formats._columnar import Mask, Rows, TablePlan, restrict_table
from labelgate.formats.capabilities import Capabilities
from labelgate.formats.report import ConversionReport
from labelgate.formats.voc._xml import Plain, Row, _esc, as_numbers, plain_objects

__all__ = ["fast_restrict"]

_TO_BOX = np.array([GeometryKind.POLYGON, GeometryKind.MULTI_POLYGON, GeometryKind.ROTATED_BOX], dtype=np.uint8)
_KEPT_EXTRA = ("attributes", "occluded", "group")


def _to_box(table: RegionTable, rows: Rows) -> Mask:
    return np.isin(table.kind[rows], _TO_BOX)


def fast_restrict(
    dataset: Dataset, caps: Capabilities, report: ConversionReport
) -> tuple[list[Item], Iterator[list[Row] | Plain], LabelSchema] | None:
    """``(items, rows per item, schema)`` as restrict + the general writer path would give,
    or None when the dataset is not backed by one table."""
    plan = restrict_table(dataset, caps, report, convertible=_to_box, converted="converted to its bounding box")
    if plan is None:
        return None
    return plan.items, _rows(plan), plan.schema


def _rows(plan: TablePlan) -> Iterator[list[Row] | Plain]:
    table, rows = plan.table, plan.rows
    bbox = table.bbox[rows]
    missing = np.flatnonzero(_to_box(table, rows) & np.isnan(bbox).any(axis=1))
    for k in missing.tolist():  # a source that declared no box for a polygon: use the polygon's bounds
        bbox[k] = bounds(table.geometry_at(int(rows[k])))
    coords = as_numbers(bbox) if len(rows) else []
    extra = table.extra
    extras: list[dict[str, Any] | None] = [None] * len(rows)
    if extra is not None:
        for k, r in enumerate(rows.tolist()):
            e = extra[r]
            if e is not None:
                extras[k] = {name: e[name] for name in _KEPT_EXTRA if name in e} or None
    labels = table.labels
    label = table.label[rows].tolist()
    kind = table.kind[rows].tolist()
    row_list = rows.tolist()
    mask_kind = int(GeometryKind.MASK)
    tag_kind = int(GeometryKind.CLASSIFICATION)
    plain_items, objects = _plain(plan, extras, label, coords)
    at = 0
    start = 0
    for i, end in enumerate(plan.item_ends().tolist()):
        if plain_items[i]:
            yield Plain(objects[at : at + end - start])
            at += end - start
            start = end
            continue
        out: list[Row] = []
        for k in range(start, end):
            if kind[k] == tag_kind:
                out.append((labels[label[k]], None, None, extras[k]))
            elif kind[k] == mask_kind:
                out.append((labels[label[k]], None, table.geometry_at(row_list[k]), extras[k]))  # type: ignore[arg-type]
            else:
                c = coords[k]
                out.append((labels[label[k]], (c[0], c[1], c[2], c[3]), None, extras[k]))
        start = end
        yield out


def _plain(plan: TablePlan, extras: list[dict[str, Any] | None], label: list[int],
           coords: list[list[float]]) -> tuple[list[bool], list[str]]:
    """Which items hold only plain boxes (no attributes, group, mask or image label), and the
    ``<object>`` text of their rows, formatted in one pass."""
    table, rows, row_item = plan.table, plan.rows, plan.row_item
    kind = table.kind[rows]
    odd = (kind == GeometryKind.MASK) | (kind == GeometryKind.CLASSIFICATION)
    if extras.count(None) != len(extras):
        odd |= np.fromiter((e is not None for e in extras), dtype=bool, count=len(extras))
    plain_item = np.bincount(row_item[odd], minlength=len(plan.items)) == 0
    sel = np.flatnonzero(plain_item[row_item]).tolist()
    names: dict[int, str] = {}
    for k in sel:  # each class name escaped once, errors naming the first item that uses it
        if label[k] not in names:
            names[label[k]] = _esc(table.labels[label[k]], plan.items[int(row_item[k])].id)
    texts = plain_objects([names[label[k]] for k in sel], [coords[k] for k in sel])
    return plain_item.tolist(), texts
