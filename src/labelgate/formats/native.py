"""Labelgate's native format: one JSON document that holds everything in the model, losslessly.

Layout: ``{"labelgate": 1, "schema": ..., "items": [...], "annotations": [...], "tracks": [...],
"metadata": {...}}``. Geometry is tagged by ``type``; datetimes are ISO 8601 strings.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from labelgate.core import (
    Annotation,
    AttributeSpec,
    Box,
    Classification,
    Dataset,
    Geometry,
    InvariantError,
    Item,
    Keypoints,
    LabelClass,
    LabelSchema,
    Mask,
    MultiPolygon,
    Polygon,
    Polyline,
    Provenance,
    Region,
    RotatedBox,
    Skeleton,
    TextSpan,
    Track,
    TrackShape,
)
from labelgate.core.errors import FormatError
from labelgate.core.geometry import GeometryKind
from labelgate.core.items import ItemKind
from labelgate.formats._io import atomic_file, load_json
from labelgate.formats.capabilities import Capabilities
from labelgate.formats.report import ConversionReport

__all__ = ["CODEC", "NativeCodec", "dataset_from_dict", "dataset_to_dict"]

VERSION = 1


def geometry_to_dict(g: Geometry) -> dict[str, Any]:
    if isinstance(g, Box):
        return {"type": "box", "x1": g.x1, "y1": g.y1, "x2": g.x2, "y2": g.y2}
    if isinstance(g, RotatedBox):
        return {"type": "rotated_box", "cx": g.cx, "cy": g.cy, "width": g.width, "height": g.height, "angle": g.angle}
    if isinstance(g, Polygon):
        return {"type": "polygon", "points": list(g.points), "holes": [list(h) for h in g.holes]}
    if isinstance(g, MultiPolygon):
        return {"type": "multi_polygon", "polygons": [geometry_to_dict(p) for p in g.polygons]}
    if isinstance(g, Polyline):
        return {"type": "polyline", "points": list(g.points)}
    if isinstance(g, Keypoints):
        return {"type": "keypoints", "points": list(g.points), "visibility": list(g.visibility)}
    if isinstance(g, Mask):
        return {"type": "mask", "height": g.height, "width": g.width, "counts": list(g.counts)}
    if isinstance(g, TextSpan):
        return {"type": "text_span", "start": g.start, "end": g.end}
    return {"type": "classification"}


def geometry_from_dict(d: dict[str, Any]) -> Geometry:
    t = d.get("type")
    if t == "box":
        return Box(d["x1"], d["y1"], d["x2"], d["y2"])
    if t == "rotated_box":
        return RotatedBox(d["cx"], d["cy"], d["width"], d["height"], d.get("angle", 0.0))
    if t == "polygon":
        return Polygon(tuple(d["points"]), tuple(tuple(h) for h in d.get("holes", ())))
    if t == "multi_polygon":
        return MultiPolygon(tuple(geometry_from_dict(p) for p in d["polygons"]))  # type: ignore[misc]
    if t == "polyline":
        return Polyline(tuple(d["points"]))
    if t == "keypoints":
        return Keypoints(tuple(d["points"]), tuple(d["visibility"]))
    if t == "mask":
        return Mask(d["height"], d["width"], tuple(d["counts"]))
    if t == "text_span":
        return TextSpan(d["start"], d["end"])
    if t == "classification":
        return Classification()
    raise InvariantError(f"unknown geometry type {t!r}")


def _drop_defaults(d: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if k not in defaults or defaults[k] != v}


_REGION_DEFAULTS: dict[str, Any] = {"id": None, "attributes": {}, "score": None, "group": None, "z_order": 0,
                    "occluded": False, "track_id": None, "crowd": False}


def region_to_dict(r: Region) -> dict[str, Any]:
    d = {
        "geometry": geometry_to_dict(r.geometry),
        "label": r.label,
        "id": r.id,
        "attributes": dict(r.attributes),
        "score": r.score,
        "group": r.group,
        "z_order": r.z_order,
        "occluded": r.occluded,
        "track_id": r.track_id,
        "crowd": r.crowd,
    }
    return _drop_defaults(d, _REGION_DEFAULTS)


def region_from_dict(d: dict[str, Any]) -> Region:
    kw = {k: d[k] for k in _REGION_DEFAULTS if k in d}
    return Region(geometry_from_dict(d["geometry"]), d["label"], **kw)


def _dt(v: str | None) -> datetime | None:
    return None if v is None else datetime.fromisoformat(v)


def provenance_to_dict(p: Provenance) -> dict[str, Any]:
    return {
        "source": p.source.value,
        "author": p.author,
        "model": p.model,
        "model_version": p.model_version,
        "created_at": None if p.created_at is None else p.created_at.isoformat(),
        "lead_time": p.lead_time,
    }


def provenance_from_dict(d: dict[str, Any]) -> Provenance:
    return Provenance(d.get("source", "human"), d.get("author"), d.get("model"), d.get("model_version"),
                      _dt(d.get("created_at")), d.get("lead_time"))


def _attr_to_dict(a: AttributeSpec) -> dict[str, Any]:
    return {"name": a.name, "type": a.type.value, "values": list(a.values), "default": a.default, "mutable": a.mutable}


def _attr_from_dict(d: dict[str, Any]) -> AttributeSpec:
    return AttributeSpec(d["name"], d.get("type", "text"), tuple(d.get("values", ())), d.get("default"), d.get("mutable", False))


def schema_to_dict(s: LabelSchema) -> dict[str, Any]:
    classes = []
    for c in s.classes:
        sk = None
        if c.skeleton is not None:
            sk = {"points": list(c.skeleton.points), "edges": [list(e) for e in c.skeleton.edges],
                  "sigmas": None if c.skeleton.sigmas is None else list(c.skeleton.sigmas)}
        classes.append({"name": c.name, "id": c.id, "color": c.color, "parent": c.parent,
                        "attributes": [_attr_to_dict(a) for a in c.attributes], "skeleton": sk})
    return {"classes": classes, "attributes": [_attr_to_dict(a) for a in s.attributes]}


def schema_from_dict(d: dict[str, Any]) -> LabelSchema:
    classes = []
    for c in d.get("classes", []):
        sk = c.get("skeleton")
        skeleton = None
        if sk:
            skeleton = Skeleton(tuple(sk["points"]), tuple(tuple(e) for e in sk.get("edges", ())),
                                None if sk.get("sigmas") is None else tuple(sk["sigmas"]))
        classes.append(LabelClass(c["name"], c.get("id"), c.get("color"), c.get("parent"),
                                  tuple(_attr_from_dict(a) for a in c.get("attributes", ())), skeleton))
    return LabelSchema(tuple(classes), tuple(_attr_from_dict(a) for a in d.get("attributes", ())))


def item_to_dict(it: Item) -> dict[str, Any]:
    d = {"id": it.id, "kind": it.kind.value, "media": it.media, "width": it.width, "height": it.height,
         "text": it.text, "video": it.video, "frame": it.frame, "number": it.number, "subset": it.subset,
         "metadata": dict(it.metadata)}
    return {k: v for k, v in d.items() if v is not None and v != {}} | {"id": it.id}


def item_from_dict(d: dict[str, Any]) -> Item:
    return Item(d["id"], d.get("kind", "image"), d.get("media"), d.get("width"), d.get("height"), d.get("text"),
                d.get("video"), d.get("frame"), d.get("number"), d.get("subset"), d.get("metadata", {}))


def track_to_dict(t: Track) -> dict[str, Any]:
    return {
        "id": t.id, "label": t.label, "video": t.video, "attributes": dict(t.attributes), "group": t.group,
        "provenance": provenance_to_dict(t.provenance),
        "shapes": [{"frame": s.frame, "geometry": geometry_to_dict(s.geometry), "keyframe": s.keyframe,
                    "outside": s.outside, "occluded": s.occluded, "z_order": s.z_order,
                    "attributes": dict(s.attributes)} for s in t.shapes],
    }


def track_from_dict(d: dict[str, Any]) -> Track:
    shapes = tuple(TrackShape(s["frame"], geometry_from_dict(s["geometry"]), s.get("keyframe", True),
                              s.get("outside", False), s.get("occluded", False), s.get("z_order", 0),
                              s.get("attributes", {})) for s in d["shapes"])
    return Track(d["id"], d["label"], shapes, d.get("video"), d.get("attributes", {}), d.get("group"),
                 provenance_from_dict(d.get("provenance", {})))


def dataset_to_dict(ds: Dataset) -> dict[str, Any]:
    return {
        "labelgate": VERSION,
        "schema": schema_to_dict(ds.schema),
        "items": [item_to_dict(it) for it in ds.items.values()],
        "annotations": [
            {"item": a.item_id, "id": a.id, "provenance": provenance_to_dict(a.provenance),
             "regions": [region_to_dict(r) for r in a.regions]}
            for a in ds.annotations
        ],
        "tracks": [track_to_dict(t) for t in ds.tracks],
        "metadata": ds.metadata,
    }


def dataset_from_dict(d: dict[str, Any], path: Path | None = None) -> Dataset:
    where = "schema"
    try:
        schema = schema_from_dict(d.get("schema", {}))
        items = []
        for i, it in enumerate(d.get("items", [])):
            where = f"items[{i}]"
            items.append(item_from_dict(it))
        anns = []
        for i, a in enumerate(d.get("annotations", [])):
            where = f"annotations[{i}]"
            anns.append(Annotation(a["item"], [region_from_dict(r) for r in a.get("regions", [])],
                                   provenance_from_dict(a.get("provenance", {})), a.get("id")))
        tracks = []
        for i, t in enumerate(d.get("tracks", [])):
            where = f"tracks[{i}]"
            tracks.append(track_from_dict(t))
        where = "dataset"
        return Dataset(items, anns, schema, tracks, d.get("metadata", {}))
    except (KeyError, TypeError, ValueError) as e:
        msg = f"missing key {e}" if isinstance(e, KeyError) else str(e)
        raise FormatError(msg, path=path, where=where) from None


class NativeCodec:
    name = "native"
    description = "Labelgate native JSON (lossless: everything in the model)"
    capabilities = Capabilities(
        geometries=frozenset(GeometryKind),
        item_kinds=frozenset(ItemKind),
        per_item="many",
        provenance=True,
        tracks=True,
        lossless=True,
    )

    def detect(self, path: Path) -> float:
        if path.is_file() and path.suffix == ".json":
            with path.open("rb") as fh:
                head = fh.read(64)
            return 1.0 if head.lstrip().startswith(b'{"labelgate"') else 0.0
        return 0.0

    def read(self, path: Path, **options: Any) -> Dataset:
        d = load_json(path)
        if not isinstance(d, dict) or "labelgate" not in d:
            raise FormatError("not a Labelgate native file (no top-level 'labelgate' key)", path=path)
        if d["labelgate"] != VERSION:
            raise FormatError(f"native format version {d['labelgate']!r} is not supported (expected {VERSION})", path=path)
        return dataset_from_dict(d, path)

    def write(self, dataset: Dataset, path: Path, **options: Any) -> ConversionReport:
        if path.is_dir() or path.suffix != ".json":
            path = path / "dataset.json" if path.suffix != ".json" else path
        data = orjson.dumps(dataset_to_dict(dataset), option=orjson.OPT_SERIALIZE_NUMPY)
        with atomic_file(path) as fh:
            fh.write(data)
        return ConversionReport(self.name, str(path), len(dataset.items), dataset.region_count, 1)


CODEC = NativeCodec()
