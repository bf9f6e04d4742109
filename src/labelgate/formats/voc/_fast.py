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
from labelgate.formats.voc._xml import Row, as_numbers

__all__ = ["fast_restrict"]

_TO_BOX = np.array([GeometryKind.POLYGON, GeometryKind.MULTI_POLYGON, GeometryKind.ROTATED_BOX], dtype=np.uint8)
_KEPT_EXTRA = ("attributes", "occluded", "group")


def _to_box(table: RegionTable, rows: Rows) -> Mask:
    return np.isin(table.kind[rows], _TO_BOX)


def fast_restrict(
    dataset: Dataset, caps: Capabilities, report: ConversionReport
) -> tuple[list[Item], Iterator[list[Row]], LabelSchema] | None:
    """``(items, rows per item, schema)`` as restrict + the general writer path would give,
    or None when the dataset is not backed by one table."""
    plan = restrict_table(dataset, caps, report, convertible=_to_box, converted="converted to its bounding box")
    if plan is None:
        return None
    return plan.items, _rows(plan), plan.schema


def _rows(plan: TablePlan) -> Iterator[list[Row]]:
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
    start = 0
    for end in plan.item_ends().tolist():
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
