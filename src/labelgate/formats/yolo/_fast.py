"""The column-wise path of :func:`restrict` for detect exports of table-backed datasets.

A dataset read by a fast reader keeps its regions in one :class:`RegionTable`; building a
region object per row (and a copy of every item) only to learn what YOLO cannot hold would
cost more than the whole export. Here schema-, track- and dataset-level losses still go
through :func:`restrict`; item-, annotation- and region-level ones are counted directly, and
a contract test checks that both paths report the same losses with the same counts.
With ``convert=True`` a non-box row is written as the table's box for it: the bounds of its
geometry, or the box the file gave (a COCO annotation's ``bbox``), which is what was drawn.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from labelgate.core import NO_ID, Dataset, GeometryKind, Item, ItemKind, LabelSchema, Provenance, RegionTable
from labelgate.formats.capabilities import Capabilities, restrict
from labelgate.formats.report import ConversionReport

__all__ = ["Plan", "table_plan"]

_EXTRA_DEFAULTS: dict[str, Any] = {"attributes": {}, "group": None, "z_order": 0, "occluded": False, "track_id": None}


@dataclass
class Plan:
    """What to write: items in order, the schema, and table rows (in output order) per item."""

    items: list[Item]
    schema: LabelSchema
    table: RegionTable | None
    rows: npt.NDArray[np.int64]
    row_item: npt.NDArray[np.int64]


def _shared(dataset: Dataset) -> RegionTable | None:
    table = None
    for a in dataset.annotations:
        tr = a.table_rows
        if tr is None or (table is not None and tr[0] is not table) or not isinstance(tr[1], slice):
            return None
        table = tr[0]
    return table


def _drop(report: ConversionReport, field: str, where: list[str], action: str, count: int) -> None:
    shown = where[:5]
    for i, w in enumerate(shown):
        report.drop(field, w, action, count - len(shown) + 1 if i == 0 else 1)


def table_plan(dataset: Dataset, caps: Capabilities, convert: bool, report: ConversionReport) -> Plan | None:
    """A plan for a detect export computed from the columns, or None when the dataset is not
    backed by one table (the caller then uses :func:`restrict`)."""
    table = _shared(dataset)
    if table is None:
        return None
    items = _items(dataset, caps, report)
    rest, _ = restrict(Dataset((), (), dataset.schema, dataset.tracks, dataset.metadata), caps, report)
    pos = {it.id: i for i, it in enumerate(items)}
    chunks, owners = [], []
    for a in dataset.annotations:
        i = pos.get(a.item_id)
        tr = a.table_rows
        assert tr is not None
        if i is None:
            continue
        r = np.arange(*tr[1].indices(len(table)), dtype=np.int64)
        chunks.append(r)
        owners.append(np.full(len(r), i, dtype=np.int64))
    rows = np.concatenate(chunks) if chunks else np.zeros(0, np.int64)
    row_item = np.concatenate(owners) if owners else np.zeros(0, np.int64)
    order = np.argsort(row_item, kind="stable")
    rows, row_item = rows[order], row_item[order]
    ids = [it.id for it in items]

    def where(mask: npt.NDArray[np.bool_]) -> list[str]:
        return [ids[i] for i in row_item[np.flatnonzero(mask)[:5]].tolist()]

    kind = table.kind[rows]
    box = kind == GeometryKind.BOX
    has_bounds = np.isfinite(table.bbox[rows]).all(axis=1)
    keep = box | (has_bounds if convert else np.zeros(len(rows), bool))
    for k in np.unique(kind[~box]).tolist():
        name = f"geometry.{GeometryKind(k).name.lower()}"
        sel = kind == k
        conv = sel & keep
        if conv.any():
            _drop(report, name, where(conv), "converted to box", int(conv.sum()))
        lost = sel & ~keep
        if lost.any():
            _drop(report, name, where(lost), "dropped", int(lost.sum()))
    rows, row_item = rows[keep], row_item[keep]
    _region_fields(table, rows, row_item, ids, report)
    used = [table.labels[i] for i in np.unique(table.label[rows]).tolist()]
    return Plan(items, rest.schema.with_classes(used), table, rows, row_item)


_ITEM_DEFAULTS: dict[str, Any] = {"media": None, "number": None, "subset": None, "metadata": {}, "video": None}


def _items(dataset: Dataset, caps: Capabilities, report: ConversionReport) -> list[Item]:
    """The items a codec with ``caps`` keeps, with the item- and annotation-level losses
    :func:`restrict` would report (the items are returned as they are: writers read only the
    fields ``caps`` holds)."""
    kept: list[Item] = []
    checks = [(f, d) for f, d in _ITEM_DEFAULTS.items() if f not in caps.item_fields]
    for it in dataset.items.values():
        if it.kind not in caps.item_kinds:
            report.drop(f"item.kind.{it.kind.value}", it.id)
            continue
        for f, default in checks:
            if getattr(it, f) != default:
                report.drop(f"item.{f}", it.id)
        if "text" not in caps.item_fields and it.text is not None and it.kind is not ItemKind.TEXT:
            report.drop("item.text", it.id)
        if "size" not in caps.item_fields and it.width is not None:
            report.drop("item.size", it.id)
        kept.append(it)
    ids = {it.id for it in kept}
    per_item: dict[str, int] = {}
    default = Provenance()
    for a in dataset.annotations:
        if a.item_id not in ids:
            continue
        per_item[a.item_id] = per_item.get(a.item_id, 0) + 1
        if not caps.provenance and a.provenance != default:
            report.drop("annotation.provenance", a.item_id)
    if caps.per_item == "one":
        for item_id, n in per_item.items():
            if n > 1:
                report.drop("annotation.multiple", item_id, "merged into one")
    return kept


def _region_fields(table: RegionTable, rows: npt.NDArray[np.int64], row_item: npt.NDArray[np.int64], ids: list[str],
                   report: ConversionReport) -> None:
    def note(field: str, mask: npt.NDArray[np.bool_]) -> None:
        if mask.any():
            _drop(report, field, [ids[i] for i in row_item[np.flatnonzero(mask)[:5]].tolist()], "dropped", int(mask.sum()))

    if table.ids is not None:
        note("region.id", table.ids[rows] != NO_ID)
    if table.crowd is not None:
        note("region.crowd", table.crowd[rows])
    if table.extra is not None:
        extra = table.extra
        present = np.array([extra[r] is not None for r in rows.tolist()], dtype=bool).reshape(len(rows))
        at = np.flatnonzero(present)
        for field, default in _EXTRA_DEFAULTS.items():
            mask = np.zeros(len(rows), bool)
            mask[at] = [extra[r].get(field, default) != default for r in rows[at].tolist()]
            note(f"region.{field}", mask)
