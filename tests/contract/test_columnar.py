"""The columnar restriction (formats/_columnar.py) against restrict(): for random datasets backed
by one RegionTable, both keep the same items, regions and schema, and write the same report
(fields, actions, counts and examples)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelgate.core import (
    Annotation,
    Box,
    Dataset,
    GeometryKind,
    Item,
    ItemKind,
    Provenance,
    Region,
    RegionTable,
    Source,
    Track,
    TrackShape,
    bounds,
    kind_of,
)
from labelgate.formats import ConversionReport, get_codec, restrict
from labelgate.formats._columnar import Convertible, TablePlan, restrict_table
from labelgate.formats.capabilities import ITEM_FIELDS, REGION_DEFAULTS, REGION_FIELDS, SCHEMA_FIELDS, Capabilities
from labelgate.formats.voc._fast import _to_box
from labelgate.formats.yolo._write import _has_box, capabilities_for
from tests.strategies import datasets

SETTINGS = settings(max_examples=40, deadline=None)
KINDS = [GeometryKind.BOX, GeometryKind.POLYGON, GeometryKind.ROTATED_BOX, GeometryKind.MULTI_POLYGON,
         GeometryKind.KEYPOINTS, GeometryKind.MASK, GeometryKind.CLASSIFICATION]
RICH = Capabilities(
    geometries=frozenset(KINDS),
    region_fields=frozenset(REGION_FIELDS),
    item_fields=frozenset(ITEM_FIELDS),
    schema_fields=frozenset(SCHEMA_FIELDS),
    per_item="many",
    provenance=True,
)
"""What the generated datasets use: everything a target may have to drop."""

# (target capabilities, which rows it converts, the action it reports)
TARGETS: dict[str, tuple[Capabilities, Convertible | None, str]] = {
    "voc": (get_codec("voc").capabilities, _to_box, "converted to its bounding box"),
    "yolo-convert": (capabilities_for("detect"), _has_box, "converted to box"),
    "yolo": (capabilities_for("detect"), None, "converted to box"),
    "no-empty-items": (
        Capabilities(geometries=frozenset({GeometryKind.BOX, GeometryKind.POLYGON}), region_fields=frozenset({"score", "crowd"}),
                     item_fields=frozenset({"media", "number"}), keep_empty_items=False),
        None, "converted",
    ),
}


def _table_backed(ds: Dataset) -> Dataset:
    table = RegionTable.from_regions([a.regions for a in ds.annotations])
    anns = [Annotation.from_table(a.item_id, table, table.rows_of(i), a.provenance, a.id) for i, a in enumerate(ds.annotations)]
    return Dataset(ds.items.values(), anns, ds.schema, ds.tracks, ds.metadata)


def _converter(convertible: Convertible | None, action: str, report: ConversionReport) -> Callable[[Region, str], Region | None]:
    """restrict's convert doing what ``convertible`` promises: the region's bounds as a box."""
    def convert(r: Region, where: str) -> Region | None:
        one = RegionTable.from_regions([[r]])
        if convertible is None or not convertible(one, np.zeros(1, dtype=np.int64))[0]:
            return None
        b = bounds(r.geometry)
        assert b is not None
        report.drop(f"geometry.{kind_of(r.geometry).name.lower()}", where, action)
        return replace(r, geometry=Box(*b))

    return convert


def _written(plan: TablePlan, caps: Capabilities) -> dict[str, list[Region]]:
    """The regions a writer following ``plan`` holds: converted rows as their box, fields ``caps`` lacks at default."""
    out: dict[str, list[Region]] = {it.id: [] for it in plan.items}
    lacking: dict[str, Any] = {f: REGION_DEFAULTS[f] for f in REGION_FIELDS if f not in caps.region_fields}
    for row, i in zip(plan.rows.tolist(), plan.row_item.tolist(), strict=True):
        r = replace(plan.table.region(row), **lacking)
        if kind_of(r.geometry) not in caps.geometries:
            r = replace(r, geometry=Box(*plan.table.bbox[row].tolist()))
        out[plan.items[i].id].append(r)
    return out


@st.composite
def _varied(draw: st.DrawFn) -> Dataset:
    """A rich dataset, with item fields, provenance, crowd, a video frame item, a track, metadata, and
    annotations in a shuffled order (so that rows are not in item order)."""
    ds = draw(datasets(RICH, kinds=KINDS))
    items: list[Item] = [replace(it, number=k, metadata={"k": k} if k % 2 else {}) for k, it in enumerate(ds.items.values())]
    anns = [a.replace(provenance=Provenance(Source.MODEL, model="m")) if k % 2 else a for k, a in enumerate(ds.annotations)]
    anns = [a.replace(regions=[replace(r, crowd=draw(st.booleans())) for r in a.regions]) for a in anns]
    if draw(st.booleans()):
        items.append(Item("v", ItemKind.VIDEO_FRAME, video="clip", frame=3, width=8, height=8))
        anns.append(Annotation("v", [Region(Box(0, 0, 1, 1), "elsewhere", score=0.5)]))
    if not anns:  # a dataset without annotations has no table behind it
        anns.append(Annotation(items[0].id, []))
    order = draw(st.permutations(range(len(anns))))
    tracks = [Track(7, "walker", (TrackShape(0, Box(0, 0, 2, 2)),), video="clip")] if draw(st.booleans()) else []
    return Dataset(items, [anns[k] for k in order], ds.schema, tracks, metadata={"m": 1} if draw(st.booleans()) else None)


@pytest.mark.parametrize("target", sorted(TARGETS))
@SETTINGS
@given(ds=_varied())
def test_columnar_plan_agrees_with_restrict(target: str, ds: Dataset) -> None:
    caps, convertible, action = TARGETS[target]
    slow_report, fast_report = ConversionReport("x"), ConversionReport("x")
    restricted, _ = restrict(ds, caps, slow_report, convert=_converter(convertible, action, slow_report))
    plan = restrict_table(_table_backed(ds), caps, fast_report, convertible=convertible, converted=action)
    assert plan is not None
    assert [it.id for it in plan.items] == list(restricted.items)
    assert plan.schema == restricted.schema
    expected = {a.item_id: list(a.regions) for a in restricted.annotations}
    got = _written(plan, caps)
    assert got == {k: expected.get(k, []) for k in got}
    assert fast_report.to_dict() == slow_report.to_dict()


def test_declines_what_it_does_not_mirror() -> None:
    ds = Dataset([Item("a", width=4, height=4)], [Annotation("a", [Region(Box(0, 0, 1, 1), "x")])])
    caps = capabilities_for("detect")
    assert restrict_table(ds, caps, ConversionReport("x")) is None  # regions not in a table
    backed = _table_backed(ds)
    assert restrict_table(backed, caps, ConversionReport("x")) is not None
    tracked = Dataset(backed.items.values(), backed.annotations, tracks=[Track(1, "x", (TrackShape(0, Box(0, 0, 1, 1)),))])
    for changed, data in (({"per_item": "many"}, backed), ({"lossless": True}, backed), ({"keep_unused_classes": False}, backed),
                          ({"tracks": True}, tracked)):
        report = ConversionReport("x")
        assert restrict_table(data, replace(caps, **changed), report) is None
        assert report.lossless  # nothing recorded by a plan that declined


def test_rows_follow_item_order_and_report_examples_in_it() -> None:
    items = [Item(i, width=9, height=9) for i in ("a", "b", "c")]
    anns = [Annotation("c", [Region(Box(0, 0, 1, 1), "x", id=1)]), Annotation("a", [Region(Box(0, 0, 2, 2), "y", id=2)]),
            Annotation("c", [Region(Box(0, 0, 3, 3), "x", id=3)])]
    report = ConversionReport("x")
    plan = restrict_table(_table_backed(Dataset(items, anns)), capabilities_for("detect"), report)
    assert plan is not None
    assert plan.rows.tolist() == [1, 0, 2]
    assert plan.row_item.tolist() == [0, 2, 2]
    assert plan.item_ends().tolist() == [1, 1, 3]
    assert plan.schema.names == ["y", "x"]
    assert report.losses["region.id:dropped"].examples == ["a", "c", "c"]
    assert report.losses["annotation.multiple:merged into one"].examples == ["c"]
