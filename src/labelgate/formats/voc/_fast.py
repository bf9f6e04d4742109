"""The columnar path of :func:`~labelgate.formats.capabilities.restrict` for VOC.

When every annotation is backed by one :class:`RegionTable` (as fast readers build them),
building a :class:`Region` per row just to drop its id and score dominates an export. This
path computes the same restricted rows and the same report from the table's columns: items,
schema and metadata still go through :func:`restrict` (on a dataset without items), items are
checked field by field as restrict does;
per-region losses are counted with numpy. It declines (returns None) whenever it would need
anything it does not mirror, and the writer then takes the general path.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import numpy.typing as npt

from labelgate.core import NO_ID, Dataset, GeometryKind, Item, ItemKind, LabelSchema, Provenance, RegionTable, bounds
from labelgate.formats.capabilities import Capabilities, restrict
from labelgate.formats.report import ConversionReport
from labelgate.formats.voc._xml import Row, as_numbers

__all__ = ["fast_restrict"]

_TO_BOX = (GeometryKind.POLYGON, GeometryKind.MULTI_POLYGON, GeometryKind.ROTATED_BOX)
_KEPT_EXTRA = ("attributes", "occluded", "group")
_EXTRA_DEFAULTS: dict[str, Any] = {"z_order": 0, "track_id": None}


def _drop(report: ConversionReport, field: str, rows: npt.NDArray[np.int64], item_of_row: npt.NDArray[np.int64],
          item_ids: list[str], action: str = "dropped") -> None:
    if len(rows) == 0:
        return
    examples = [item_ids[int(i)] for i in item_of_row[rows[:5]]]
    report.drop(field, examples[0], action, len(rows))
    loss = report.losses[f"{field}:{action}"]
    for e in examples[1:]:
        if len(loss.examples) < 5:
            loss.examples.append(e)


def _shared_table(dataset: Dataset) -> RegionTable | None:
    """The one table backing every annotation, in order (what ``Dataset.table()`` returns in O(1))."""
    if not dataset.annotations:
        return None
    first = dataset.annotations[0].table_rows
    if first is None:
        return None
    table = first[0]
    if table.n_annotations != len(dataset.annotations):
        return None
    for i, a in enumerate(dataset.annotations):
        tr = a.table_rows
        if tr is None or tr[0] is not table or tr[1] != table.rows_of(i):
            return None
    return table


def _items(dataset: Dataset, caps: Capabilities, report: ConversionReport) -> list[Item]:
    """The items restrict keeps, with the same reports; the fields VOC drops from an item are
    never read by the writer, so the items themselves need not be copied."""
    assert {"media", "size", "subset"} <= caps.item_fields
    f = caps.item_fields
    out = []
    for it in dataset.items.values():
        if it.kind not in caps.item_kinds:
            report.drop(f"item.kind.{it.kind.value}", it.id)
            continue
        if "number" not in f and it.number is not None:
            report.drop("item.number", it.id)
        if "metadata" not in f and it.metadata:
            report.drop("item.metadata", it.id)
        if "text" not in f and it.text is not None and it.kind is not ItemKind.TEXT:
            report.drop("item.text", it.id)
        if "video" not in f and it.video is not None:
            report.drop("item.video", it.id)
        out.append(it)
    return out


def fast_restrict(
    dataset: Dataset, caps: Capabilities, report: ConversionReport
) -> tuple[list[Item], Iterator[list[Row]], LabelSchema] | None:
    """``(items, rows per item, schema)`` as restrict + the general writer path would give."""
    table = _shared_table(dataset)
    if table is None or dataset.tracks:
        return None
    items = _items(dataset, caps, report)
    restricted, _ = restrict(Dataset((), (), dataset.schema, metadata=dataset.metadata), caps, report)
    position = {it.id: i for i, it in enumerate(items)}
    item_ids = [it.id for it in items]
    n = len(table)
    item_of_row = np.full(n, -1, dtype=np.int64)
    per_item: list[list[slice]] = [[] for _ in items]
    default = Provenance()
    for a_index, a in enumerate(dataset.annotations):
        p = position.get(a.item_id)
        if p is None:
            continue
        rows = table.rows_of(a_index)
        if len(per_item[p]) == 1:
            report.drop("annotation.multiple", a.item_id, "merged into one")
        if a.provenance != default:
            report.drop("annotation.provenance", a.item_id)
        per_item[p].append(rows)
        item_of_row[rows] = p
    in_item = item_of_row >= 0
    kind = table.kind
    keep = in_item & ((kind == GeometryKind.BOX) | (kind == GeometryKind.MASK) | (kind == GeometryKind.CLASSIFICATION))
    for k in _TO_BOX:
        hit = np.flatnonzero(in_item & (kind == k))
        _drop(report, f"geometry.{GeometryKind(k).name.lower()}", hit, item_of_row, item_ids, "converted to its bounding box")
        keep[hit] = True
    for k in np.unique(kind[in_item & ~keep]).tolist():
        hit = np.flatnonzero(in_item & ~keep & (kind == k))
        _drop(report, f"geometry.{GeometryKind(k).name.lower()}", hit, item_of_row, item_ids)
    if table.score is not None:
        _drop(report, "region.score", np.flatnonzero(keep & ~np.isnan(table.score)), item_of_row, item_ids)
    if table.ids is not None:
        _drop(report, "region.id", np.flatnonzero(keep & (table.ids != NO_ID)), item_of_row, item_ids)
    if table.crowd is not None:
        _drop(report, "region.crowd", np.flatnonzero(keep & table.crowd), item_of_row, item_ids)
    extras = _extras(table, keep, report, item_of_row, item_ids)
    used = table.label[keep]
    if len(used):
        _, first = np.unique(used, return_index=True)
        order = used[np.sort(first)]
        schema = restricted.schema.with_classes(table.labels[i] for i in order.tolist())
    else:
        schema = restricted.schema
    bbox = table.bbox
    missing = np.flatnonzero(keep & np.isin(kind, _TO_BOX) & np.isnan(bbox).any(axis=1))
    if len(missing):  # a source that declared no box for a polygon: use the polygon's bounds
        bbox = bbox.copy()
        for r in missing.tolist():
            bbox[r] = bounds(table.geometry_at(r))
    coords = as_numbers(bbox) if n else []
    return items, _rows(table, per_item, keep, coords, extras), schema


def _extras(table: RegionTable, keep: npt.NDArray[np.bool_], report: ConversionReport,
            item_of_row: npt.NDArray[np.int64], item_ids: list[str]) -> dict[int, dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    if table.extra is None:
        return out
    for row, e in enumerate(table.extra):
        if e is None or not keep[row]:
            continue
        for name, default in _EXTRA_DEFAULTS.items():
            if e.get(name, default) != default:
                report.drop(f"region.{name}", item_ids[int(item_of_row[row])])
        kept = {k: e[k] for k in _KEPT_EXTRA if k in e}
        if kept:
            out[row] = kept
    return out


def _rows(table: RegionTable, per_item: list[list[slice]], keep: npt.NDArray[np.bool_],
          coords: list[list[float]], extras: dict[int, dict[str, Any]]) -> Iterator[list[Row]]:
    labels = table.labels
    label = table.label.tolist()
    kind = table.kind.tolist()
    keep_list = keep.tolist()
    mask_kind = int(GeometryKind.MASK)
    tag_kind = int(GeometryKind.CLASSIFICATION)
    for slices in per_item:
        rows: list[Row] = []
        for s in slices:
            for r in range(s.start, s.stop):
                if not keep_list[r]:
                    continue
                if kind[r] == tag_kind:
                    rows.append((labels[label[r]], None, None, extras.get(r)))
                elif kind[r] == mask_kind:
                    g = table.geometry_at(r)
                    rows.append((labels[label[r]], None, g, extras.get(r)))  # type: ignore[arg-type]
                else:
                    c = coords[r]
                    rows.append((labels[label[r]], (c[0], c[1], c[2], c[3]), None, extras.get(r)))
        yield rows
