"""What a codec can hold, declared as data, and :func:`restrict`, which turns any dataset into
the dataset the codec can represent while recording every loss in a :class:`ConversionReport`.

Writers call :func:`restrict` first, so every codec reports losses the same way, and the
round-trip tests compare ``read(write(ds))`` with ``restrict(ds, caps)``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from labelgate.core import (
    Annotation,
    Dataset,
    GeometryKind,
    Item,
    ItemKind,
    LabelSchema,
    Provenance,
    Region,
    Track,
    kind_of,
)
from labelgate.formats.report import ConversionReport

__all__ = ["REGION_DEFAULTS", "REGION_FIELDS", "Capabilities", "ItemCheck", "item_checks", "restrict"]

REGION_FIELDS = ("id", "attributes", "score", "group", "z_order", "occluded", "track_id", "crowd")
ITEM_FIELDS = ("media", "size", "number", "subset", "metadata", "video", "text")
SCHEMA_FIELDS = ("ids", "colors", "parents", "attributes", "skeletons")

REGION_DEFAULTS: Mapping[str, object] = MappingProxyType({
    "id": None,
    "attributes": {},
    "score": None,
    "group": None,
    "z_order": 0,
    "occluded": False,
    "track_id": None,
    "crowd": False,
})
"""The value of each of :data:`REGION_FIELDS` that a codec without the field keeps."""

ItemCheck = tuple[str, Callable[[Item], bool]]
"""``(field, lost)``: ``lost(item)`` says whether ``item`` has a value in ``field`` to drop."""

_ITEM_LOST: dict[str, Callable[[Item], bool]] = {
    "media": lambda it: it.media is not None,
    "number": lambda it: it.number is not None,
    "subset": lambda it: it.subset is not None,
    "metadata": lambda it: bool(it.metadata),
    "text": lambda it: it.text is not None and it.kind is not ItemKind.TEXT,
    "size": lambda it: it.width is not None,
    "video": lambda it: it.video is not None,
}
_ITEM_CLEARED: dict[str, dict[str, object]] = {
    "media": {"media": None},
    "number": {"number": None},
    "subset": {"subset": None},
    "metadata": {"metadata": {}},
    "text": {"text": None},
    "size": {"width": None, "height": None},
    "video": {"video": None},
}


@dataclass(frozen=True)
class Capabilities:
    """Declared abilities of a codec.

    ``per_item``: "one" when the format holds one set of regions per item (annotations of an
    item are merged on write, and the reader yields one annotation per item), "many" when it
    keeps several annotations per item with their provenance.
    ``keep_empty_items``: whether items without regions survive a round trip.
    """

    geometries: frozenset[GeometryKind]
    item_kinds: frozenset[ItemKind] = frozenset({ItemKind.IMAGE})
    region_fields: frozenset[str] = frozenset()
    item_fields: frozenset[str] = frozenset({"media", "size"})
    schema_fields: frozenset[str] = frozenset()
    per_item: str = "one"
    provenance: bool = False
    tracks: bool = False
    keep_empty_items: bool = True
    keep_unused_classes: bool = True
    lossless: bool = False
    notes: str = ""

    def to_dict(self) -> dict[str, object]:
        return {
            "geometries": sorted(k.name.lower() for k in self.geometries),
            "items": sorted(k.value for k in self.item_kinds),
            "region_fields": sorted(self.region_fields),
            "item_fields": sorted(self.item_fields),
            "schema_fields": sorted(self.schema_fields),
            "annotations_per_item": self.per_item,
            "provenance": self.provenance,
            "tracks": self.tracks,
            "lossless": self.lossless,
            "notes": self.notes,
        }


def item_checks(caps: Capabilities) -> list[ItemCheck]:
    """The item fields ``caps`` cannot hold, in the order :func:`restrict` reports them
    (as ``item.<field>``), each with the test for a value that would be lost."""
    return [(name, lost) for name, lost in _ITEM_LOST.items() if name not in caps.item_fields]


@dataclass
class _Ctx:
    caps: Capabilities
    report: ConversionReport
    convert: Callable[[Region, str], Region | None] | None = field(default=None)
    items: list[ItemCheck] = field(default_factory=list)


def restrict(
    dataset: Dataset,
    caps: Capabilities,
    report: ConversionReport | None = None,
    convert: Callable[[Region, str], Region | None] | None = None,
) -> tuple[Dataset, ConversionReport]:
    """The part of ``dataset`` that a codec with ``caps`` can hold, and a report of the rest.

    ``convert(region, where)`` may turn an unsupported geometry into a supported one (for
    example a rotated box into a polygon); returning None drops the region.
    """
    report = report if report is not None else ConversionReport("restricted")
    if caps.lossless:
        return dataset, report
    ctx = _Ctx(caps, report, convert, item_checks(caps))
    items = [_item(it, ctx) for it in dataset.items.values() if _keep_item(it, ctx)]
    kept = {it.id for it in items}
    anns = [a for a in dataset.annotations if a.item_id in kept]
    annotations: list[Annotation] = []
    if caps.per_item == "one":
        groups: dict[str, list[Annotation]] = {}
        for a in anns:
            groups.setdefault(a.item_id, []).append(a)
        for it in items:
            group = groups.get(it.id, [])
            if len(group) > 1:
                report.drop("annotation.multiple", it.id, "merged into one")
            regions: list[Region] = []
            for a in group:
                if a.provenance != Provenance() and not caps.provenance:
                    report.drop("annotation.provenance", it.id)
                regions.extend(_regions(a, ctx))
            if not regions and not caps.keep_empty_items:
                continue
            annotations.append(Annotation(it.id, regions))
    else:
        for a in anns:
            prov = a.provenance
            if not caps.provenance and prov != Provenance():
                report.drop("annotation.provenance", a.item_id)
                prov = Provenance()
            annotations.append(Annotation(a.item_id, _regions(a, ctx), prov, a.id))
    if not caps.keep_empty_items:
        with_regions = {a.item_id for a in annotations if a.regions}
        dropped = [it.id for it in items if it.id not in with_regions]
        for i in dropped:
            report.drop("item.empty", i)
        items = [it for it in items if it.id in with_regions]
    tracks: list[Track] = []
    if dataset.tracks:
        if caps.tracks:
            tracks = list(dataset.tracks)
        else:
            for t in dataset.tracks:
                report.drop("track", f"track {t.id}")
    schema = _schema(dataset.schema, caps, report)
    used = [r.label for a in annotations for r in a.regions] + [t.label for t in tracks]
    if not caps.keep_unused_classes:
        keep = set(used)
        for c in schema.classes:
            if c.name not in keep:
                report.drop("schema.unused_class", c.name)
        schema = LabelSchema(tuple(c for c in schema.classes if c.name in keep), schema.attributes)
    schema = schema.with_classes(used)
    if dataset.metadata:
        report.drop("dataset.metadata", "dataset")
    return Dataset(items, annotations, schema, tracks), report


def _keep_item(it: Item, ctx: _Ctx) -> bool:
    if it.kind in ctx.caps.item_kinds:
        return True
    ctx.report.drop(f"item.kind.{it.kind.value}", it.id)
    return False


def _item(it: Item, ctx: _Ctx) -> Item:
    changes: dict[str, object] = {}
    for name, lost in ctx.items:
        if lost(it):
            ctx.report.drop(f"item.{name}", it.id)
            changes.update(_ITEM_CLEARED[name])
    return replace(it, **changes) if changes else it  # type: ignore[arg-type]


def _regions(a: Annotation, ctx: _Ctx) -> list[Region]:
    out = []
    for r in a.regions:
        where = f"{a.item_id}"
        if kind_of(r.geometry) not in ctx.caps.geometries:
            converted = ctx.convert(r, where) if ctx.convert else None
            if converted is None:
                ctx.report.drop(f"geometry.{kind_of(r.geometry).name.lower()}", where)
                continue
            r = converted
        changes = {}
        for name in REGION_FIELDS:
            if name not in ctx.caps.region_fields and getattr(r, name) != REGION_DEFAULTS[name]:
                ctx.report.drop(f"region.{name}", where)
                changes[name] = REGION_DEFAULTS[name]
        out.append(replace(r, **changes) if changes else r)  # type: ignore[arg-type]
    return out


def _schema(schema: LabelSchema, caps: Capabilities, report: ConversionReport) -> LabelSchema:
    f = caps.schema_fields
    classes = []
    for c in schema.classes:
        changes: dict[str, object] = {}
        for cap, attr, default in (
            ("ids", "id", None),
            ("colors", "color", None),
            ("parents", "parent", None),
            ("attributes", "attributes", ()),
            ("skeletons", "skeleton", None),
        ):
            if cap not in f and getattr(c, attr) != default:
                report.drop(f"schema.{attr}", c.name)
                changes[attr] = default
        classes.append(replace(c, **changes) if changes else c)  # type: ignore[arg-type]
    attrs = schema.attributes
    if attrs and "attributes" not in f:
        report.drop("schema.attributes", "dataset")
        attrs = ()
    return LabelSchema(tuple(classes), attrs)
