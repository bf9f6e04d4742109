"""VOC's use of the columnar restriction (:mod:`labelgate.formats._columnar`): which rows become
boxes, and the rows per item for the XML writer, built from the table's columns.

Polygons, multi-polygons and rotated boxes become the table's box for them (the box the file
gave, else the bounds of the geometry), as the general path's ``polygons="box"`` does.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import numpy.typing as npt

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


_CHUNK = 4_096  # rows formatted at a time: the text of a whole dataset at once would double a write's memory


def _rows(plan: TablePlan) -> Iterator[list[Row] | Plain]:
    table, rows = plan.table, plan.rows
    bbox = table.bbox[rows]
    missing = np.flatnonzero(_to_box(table, rows) & np.isnan(bbox).any(axis=1))
    for k in missing.tolist():  # a source that declared no box for a polygon: use the polygon's bounds
        bbox[k] = bounds(table.geometry_at(int(rows[k])))
    extra = table.extra
    extras: list[dict[str, Any] | None] = [None] * len(rows)
    if extra is not None:
        for k, r in enumerate(rows.tolist()):
            e = extra[r]
            if e is not None:
                extras[k] = {name: e[name] for name in _KEPT_EXTRA if name in e} or None
    labels = table.labels
    label = table.label[rows]
    kind = table.kind[rows]
    mask_kind = int(GeometryKind.MASK)
    tag_kind = int(GeometryKind.CLASSIFICATION)
    plain_items, sel = _plain(plan, kind, extras)
    names: dict[int, str] = {}
    buffer: list[str] = []
    at = done = 0  # next unused text in buffer; rows of sel formatted so far
    start = 0
    for i, end in enumerate(plan.item_ends().tolist()):
        if plain_items[i]:
            need = end - start
            if at + need > len(buffer):  # format the next rows of plain items, at least this item's
                upto = max(done + _CHUNK, done + need - (len(buffer) - at))
                buffer = buffer[at:] + _format(plan, sel[done:upto], label, bbox, names)
                at, done = 0, min(upto, len(sel))
            yield Plain(buffer[at : at + need])
            at += need
            start = end
            continue
        out: list[Row] = []
        lab = label[start:end].tolist()
        kin = kind[start:end].tolist()
        coords = as_numbers(bbox[start:end])
        for j, k in enumerate(range(start, end)):
            if kin[j] == tag_kind:
                out.append((labels[lab[j]], None, None, extras[k]))
            elif kin[j] == mask_kind:
                out.append((labels[lab[j]], None, table.geometry_at(int(rows[k])), extras[k]))  # type: ignore[arg-type]
            else:
                c = coords[j]
                out.append((labels[lab[j]], (c[0], c[1], c[2], c[3]), None, extras[k]))
        start = end
        yield out


def _plain(plan: TablePlan, kind: npt.NDArray[np.uint8], extras: list[dict[str, Any] | None]) -> tuple[list[bool], Rows]:
    """Which items hold only plain boxes (no attributes, group, mask or image label), and
    their rows (positions in the plan), in order."""
    row_item = plan.row_item
    odd = (kind == GeometryKind.MASK) | (kind == GeometryKind.CLASSIFICATION)
    if extras.count(None) != len(extras):
        odd |= np.fromiter((e is not None for e in extras), dtype=bool, count=len(extras))
    plain_item = np.bincount(row_item[odd], minlength=len(plan.items)) == 0
    return plain_item.tolist(), np.flatnonzero(plain_item[row_item])


def _format(plan: TablePlan, sel: Rows, label: npt.NDArray[np.int32], bbox: npt.NDArray[np.float64],
            names: dict[int, str]) -> list[str]:
    """The ``<object>`` text of plan rows ``sel`` (plain boxes); each class name is escaped once,
    an error naming the first item that uses it."""
    lab = label[sel]
    uniq, first = np.unique(lab, return_index=True)
    for c, k in zip(uniq.tolist(), first.tolist(), strict=True):
        if c not in names:
            names[c] = _esc(plan.table.labels[c], plan.items[int(plan.row_item[sel[k]])].id)
    return plain_objects([names[c] for c in lab.tolist()], as_numbers(bbox[sel]) if len(sel) else [])
