"""The columnar path of :func:`~labelgate.formats.capabilities.restrict`, for datasets backed by
one :class:`RegionTable` (as fast readers build them).

Building a :class:`Region` per row only to learn that a codec drops its id or score can cost
more than the whole export. :func:`restrict_table` computes, from the table's columns, which
rows a codec keeps (in the order restrict would give them) and reports every loss exactly as
restrict does: same field names, actions, counts and examples. Schema-, track- and
dataset-level losses go through :func:`restrict` itself, on a dataset without items.

Items are returned as they are, not copied with the fields ``caps`` lacks cleared: writers
read only the fields their codec holds. Geometries outside ``caps`` are either converted
(the codec says which rows can be, and writes them from the table's ``bbox`` column) or
dropped. The plan declines (returns None) where it would need what it does not mirror:
a dataset not backed by one table in order, a lossless codec, several annotations per item,
classes dropped when unused, or tracks the codec keeps.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from labelgate.core import NO_ID, Dataset, GeometryKind, Item, LabelSchema, Provenance, RegionTable
from labelgate.formats.capabilities import REGION_DEFAULTS, REGION_FIELDS, Capabilities, item_checks, restrict
from labelgate.formats.report import ConversionReport

__all__ = ["Convertible", "TablePlan", "restrict_table"]

Rows = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]
Convertible = Callable[[RegionTable, Rows], Mask]
"""``convertible(table, rows)``: which of ``rows`` (all of one geometry kind the codec lacks)
the codec converts; the others are dropped."""


@dataclass
class TablePlan:
    """What to write: the kept items in order, the schema, and the kept table rows in output
    order (grouped by item, in item order; within an item, in annotation order) with the
    position in ``items`` of each row's item."""

    items: list[Item]
    schema: LabelSchema
    table: RegionTable
    rows: Rows
    row_item: Rows

    def item_ends(self) -> Rows:
        """``rows[ends[i - 1]:ends[i]]`` are the rows of ``items[i]`` (``ends[-1]`` is 0)."""
        return np.cumsum(np.bincount(self.row_item, minlength=len(self.items)), dtype=np.int64)


def restrict_table(
    dataset: Dataset,
    caps: Capabilities,
    report: ConversionReport,
    *,
    convertible: Convertible | None = None,
    converted: str = "converted",
) -> TablePlan | None:
    """The rows of ``dataset``'s table that a codec with ``caps`` keeps, recording in ``report``
    what :func:`restrict` would record; None when the caller must take :func:`restrict`'s path.

    Rows of a geometry ``caps`` lacks are kept where ``convertible`` says so, reported with the
    action ``converted``, and dropped otherwise.
    """
    table = dataset.shared_table()
    if (table is None or caps.lossless or caps.per_item != "one" or not caps.keep_unused_classes
            or (caps.tracks and dataset.tracks)):
        return None
    items = _items(dataset, caps, report)
    rows, row_item = _rows_by_item(dataset, table, items, caps, report)
    ids = [it.id for it in items]
    keep = _geometries(table, rows, row_item, ids, caps, report, convertible, converted)
    rows, row_item = rows[keep], row_item[keep]
    _region_fields(table, rows, row_item, ids, caps, report)
    if not caps.keep_empty_items:
        items, row_item = _without_empty(items, row_item, report)
    rest, _ = restrict(Dataset((), (), dataset.schema, dataset.tracks, dataset.metadata), caps, report)
    labels = table.label[rows]
    _, first = np.unique(labels, return_index=True)
    used = [table.labels[i] for i in labels[np.sort(first)].tolist()]
    return TablePlan(items, rest.schema.with_classes(used), table, rows, row_item)


def _drop(report: ConversionReport, field: str, hit: Mask, row_item: Rows, ids: list[str], action: str = "dropped") -> None:
    """One loss of ``field`` per row in ``hit``, the first five rows' items as examples."""
    at = np.flatnonzero(hit)
    if not len(at):
        return
    shown = [ids[i] for i in row_item[at[:5]].tolist()]
    for k, where in enumerate(shown):
        report.drop(field, where, action, len(at) - len(shown) + 1 if k == 0 else 1)


def _items(dataset: Dataset, caps: Capabilities, report: ConversionReport) -> list[Item]:
    """The items ``caps`` keeps, with the item-level losses restrict reports."""
    kinds = caps.item_kinds
    kept = []
    for it in dataset.items.values():
        if it.kind not in kinds:
            report.drop(f"item.kind.{it.kind.value}", it.id)
            continue
        kept.append(it)
    # one pass per lost field rather than a report entry per item and field: the same counts
    # and examples (the first five items) as restrict records one by one
    for name, lost in item_checks(caps):
        hit = [it.id for it in kept if lost(it)]
        for k, where in enumerate(hit[:5]):
            report.drop(f"item.{name}", where, count=len(hit) - min(len(hit), 5) + 1 if k == 0 else 1)
    return kept


def _rows_by_item(dataset: Dataset, table: RegionTable, items: list[Item], caps: Capabilities,
                  report: ConversionReport) -> tuple[Rows, Rows]:
    """Every row of a kept item, grouped by item in item order, and the annotation-level
    losses (merged annotations, provenance) in the same order as restrict reports them."""
    position = {it.id: i for i, it in enumerate(items)}
    n_items = len(items)
    ann_item = np.array([position.get(a.item_id, n_items) for a in dataset.annotations], dtype=np.int64)
    counts = np.diff(table.offsets)
    row_item = np.repeat(ann_item, counts)
    order = np.argsort(row_item, kind="stable")
    order = order[: int(np.searchsorted(row_item[order], n_items))]
    per_item = np.bincount(ann_item, minlength=n_items + 1)[:n_items]
    for i in np.flatnonzero(per_item > 1).tolist():
        report.drop("annotation.multiple", items[i].id, "merged into one")
    if not caps.provenance:
        default = Provenance()
        annotations = dataset.annotations
        same = default  # readers share one provenance object: compare each distinct object once
        for a_index in np.argsort(ann_item, kind="stable")[: int(per_item.sum())].tolist():
            a = annotations[a_index]
            prov = a.provenance
            if prov is same:
                continue
            if prov != default:
                report.drop("annotation.provenance", a.item_id)
            else:
                same = prov
    return order.astype(np.int64), row_item[order]


def _geometries(table: RegionTable, rows: Rows, row_item: Rows, ids: list[str], caps: Capabilities,
                report: ConversionReport, convertible: Convertible | None, converted: str) -> Mask:
    """Which of ``rows`` survive: geometries ``caps`` holds, and those ``convertible`` converts."""
    kind = table.kind[rows]
    held = np.array([int(k) for k in caps.geometries], dtype=kind.dtype)
    keep = np.isin(kind, held)
    for k in np.unique(kind[~keep]).tolist():
        name = f"geometry.{GeometryKind(k).name.lower()}"
        sel = kind == k
        at = np.flatnonzero(sel)
        conv = np.zeros(len(rows), dtype=bool)
        if convertible is not None:
            conv[at] = convertible(table, rows[at])
        _drop(report, name, conv, row_item, ids, converted)
        _drop(report, name, sel & ~conv, row_item, ids)
        keep |= conv
    return keep


def _region_fields(table: RegionTable, rows: Rows, row_item: Rows, ids: list[str], caps: Capabilities,
                   report: ConversionReport) -> None:
    """The per-region fields ``caps`` lacks, counted column by column."""
    extra = table.extra
    at = np.zeros(0, dtype=np.int64)
    if extra is not None and len(rows):
        at = np.flatnonzero(np.fromiter((extra[r] is not None for r in rows.tolist()), dtype=bool, count=len(rows)))
    for name in REGION_FIELDS:
        if name in caps.region_fields:
            continue
        if name == "id":
            hit = None if table.ids is None else table.ids[rows] != NO_ID
        elif name == "score":
            hit = None if table.score is None else ~np.isnan(table.score[rows])
        elif name == "crowd":
            hit = None if table.crowd is None else table.crowd[rows]
        elif extra is None:
            hit = None
        else:
            default = REGION_DEFAULTS[name]
            hit = np.zeros(len(rows), dtype=bool)
            hit[at] = [extra[r].get(name, default) != default for r in rows[at].tolist()]
        if hit is not None:
            _drop(report, f"region.{name}", hit, row_item, ids)


def _without_empty(items: list[Item], row_item: Rows, report: ConversionReport) -> tuple[list[Item], Rows]:
    """Items left without rows dropped (as restrict does for a codec that cannot keep them)."""
    full = np.bincount(row_item, minlength=len(items)) > 0
    for i in np.flatnonzero(~full).tolist():
        report.drop("item.empty", items[i].id)
    new_index = np.cumsum(full, dtype=np.int64) - 1
    return [it for it, f in zip(items, full.tolist(), strict=True) if f], new_index[row_item]
