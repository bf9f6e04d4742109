"""Hypothesis strategies for canonical datasets, shaped by a codec's capabilities, and a
comparison that allows the float tolerance a format declares."""

from __future__ import annotations

import math
from dataclasses import fields, is_dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st

from labelgate.core import (
    Annotation,
    Box,
    Classification,
    Dataset,
    GeometryKind,
    Item,
    ItemKind,
    Keypoints,
    LabelClass,
    LabelSchema,
    MultiPolygon,
    Polygon,
    Polyline,
    Region,
    RotatedBox,
    TextSpan,
    rle,
)
from labelgate.formats.capabilities import Capabilities

NAMES = st.sampled_from(["person", "car", "dog", "shelf item", "Product", "bottle", "sign-2", "a_b"])
COORD_DECIMALS = 3


def _coord(limit: int) -> st.SearchStrategy[float]:
    return st.integers(0, limit * 10**COORD_DECIMALS).map(lambda v: v / 10**COORD_DECIMALS)


@st.composite
def boxes(draw: st.DrawFn, w: int, h: int) -> Box:
    x1, x2 = sorted((draw(_coord(w)), draw(_coord(w))))
    y1, y2 = sorted((draw(_coord(h)), draw(_coord(h))))
    if x2 == x1:
        x2 = min(w, x1 + 1) if x1 < w else x1
        x1 = x2 - 1 if x2 == x1 else x1
    if y2 == y1:
        y2 = min(h, y1 + 1) if y1 < h else y1
        y1 = y2 - 1 if y2 == y1 else y1
    return Box(x1, y1, x2, y2)


@st.composite
def polygons(draw: st.DrawFn, w: int, h: int) -> Polygon:
    # a convex-ish star polygon around a centre keeps it simple (non self-intersecting)
    b = draw(boxes(w, h))
    n = draw(st.integers(3, 8))
    cx, cy = (b.x1 + b.x2) / 2, (b.y1 + b.y2) / 2
    rx, ry = max(b.width / 2, 0.5), max(b.height / 2, 0.5)
    pts: list[float] = []
    for i in range(n):
        a = 2 * math.pi * i / n
        pts += [round(min(max(cx + rx * math.cos(a), 0), w), 3), round(min(max(cy + ry * math.sin(a), 0), h), 3)]
    return Polygon(tuple(pts))


@st.composite
def geometries(draw: st.DrawFn, kind: GeometryKind, item: Item, n_keypoints: int) -> Any:
    w, h = item.width or 100, item.height or 100
    if kind == GeometryKind.BOX:
        return draw(boxes(w, h))
    if kind == GeometryKind.ROTATED_BOX:
        b = draw(boxes(w, h))
        return RotatedBox((b.x1 + b.x2) / 2, (b.y1 + b.y2) / 2, b.width, b.height, draw(st.integers(-179, 179)) + 0.5)
    if kind == GeometryKind.POLYGON:
        return draw(polygons(w, h))
    if kind == GeometryKind.MULTI_POLYGON:
        return MultiPolygon(tuple(draw(st.lists(polygons(w, h), min_size=2, max_size=3))))
    if kind == GeometryKind.POLYLINE:
        n = draw(st.integers(2, 6))
        return Polyline(tuple(draw(_coord(w if i % 2 == 0 else h)) for i in range(2 * n)))
    if kind == GeometryKind.KEYPOINTS:
        vis = draw(st.lists(st.sampled_from([0, 1, 2]), min_size=n_keypoints, max_size=n_keypoints))
        pts: list[float] = []
        for v in vis:
            pts += [0.0, 0.0] if v == 0 else [draw(_coord(w)), draw(_coord(h))]
        return Keypoints(tuple(pts), tuple(vis))
    if kind == GeometryKind.MASK:
        mh, mw = min(h, 24), min(w, 24)
        arr = np.zeros((h, w), np.uint8)
        y0, x0 = draw(st.integers(0, h - 1)), draw(st.integers(0, w - 1))
        arr[y0 : y0 + draw(st.integers(1, mh)), x0 : x0 + draw(st.integers(1, mw))] = 1
        return rle.encode(arr)
    if kind == GeometryKind.TEXT_SPAN:
        text = item.text or "x"
        start = draw(st.integers(0, len(text) - 1))
        return TextSpan(start, draw(st.integers(start + 1, len(text))))
    return Classification()


@st.composite
def datasets(
    draw: st.DrawFn,
    caps: Capabilities,
    *,
    kinds: list[GeometryKind] | None = None,
    max_items: int = 4,
    max_regions: int = 4,
    n_keypoints: int = 3,
) -> Dataset:
    """A dataset using only what ``caps`` can hold (``kinds`` narrows the geometries)."""
    usable = sorted(kinds if kinds is not None else caps.geometries)
    usable = [k for k in usable if k in caps.geometries]
    names = draw(st.lists(NAMES, min_size=1, max_size=4, unique=True))
    classes = []
    skel_needed = GeometryKind.KEYPOINTS in usable
    from labelgate.core import Skeleton

    for i, n in enumerate(names):
        classes.append(LabelClass(
            n,
            id=(i + 1) if "ids" in caps.schema_fields else None,
            skeleton=(
                Skeleton(tuple(f"p{j}" for j in range(n_keypoints)), ((0, 1),))
                if skel_needed and "skeletons" in caps.schema_fields
                else None
            ),
        ))
    schema = LabelSchema(tuple(classes))
    text_kind = ItemKind.TEXT in caps.item_kinds and usable and all(
        k in (GeometryKind.TEXT_SPAN, GeometryKind.CLASSIFICATION) for k in usable
    )
    n_items = draw(st.integers(1, max_items))
    items = []
    for i in range(n_items):
        if text_kind:
            text = draw(st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=40))
            items.append(Item(f"doc{i}", ItemKind.TEXT, text=text))
        else:
            w, h = draw(st.integers(8, 640)), draw(st.integers(8, 480))
            items.append(Item(
                f"img{i}",
                media=f"img{i}.jpg" if "media" in caps.item_fields else None,
                width=w if "size" in caps.item_fields else None,
                height=h if "size" in caps.item_fields else None,
                number=(i + 1) if "number" in caps.item_fields else None,
                subset=draw(st.sampled_from([None, "train", "val"])) if "subset" in caps.item_fields else None,
            ))
    annotations = []
    rid = 1
    for it in items:
        n_anns = 1 if caps.per_item == "one" else draw(st.integers(0, 2))
        for _ in range(n_anns):
            regions = []
            for _ in range(draw(st.integers(0 if caps.keep_empty_items else 1, max_regions))):
                kind = draw(st.sampled_from(usable))
                kw: dict[str, Any] = {}
                rf = caps.region_fields
                if "id" in rf:
                    kw["id"] = rid
                rid += 1
                if "score" in rf:
                    kw["score"] = draw(st.one_of(st.none(), st.integers(0, 1000).map(lambda v: v / 1000)))
                if "occluded" in rf:
                    kw["occluded"] = draw(st.booleans())
                if "z_order" in rf:
                    kw["z_order"] = draw(st.integers(-2, 3))
                if "group" in rf:
                    kw["group"] = draw(st.one_of(st.none(), st.integers(1, 3)))
                if "attributes" in rf:
                    kw["attributes"] = draw(
                        st.dictionaries(st.sampled_from(["color", "size", "count"]), st.sampled_from(["red", "big", "3"]), max_size=2)
                    )
                regions.append(Region(draw(geometries(kind, it, n_keypoints)), draw(st.sampled_from(names)), **kw))
            annotations.append(Annotation(it.id, regions))
    return Dataset(items, annotations, schema)


def assert_close(a: Any, b: Any, rel: float = 0.0, abs_: float = 0.0, path: str = "dataset") -> None:
    """Structural equality where floats may differ by ``rel`` (relative) or ``abs_``."""
    if isinstance(a, Dataset) and isinstance(b, Dataset):
        assert list(a.items) == list(b.items), f"{path}: item ids differ: {list(a.items)} != {list(b.items)}"
        for k in a.items:
            assert_close(a.items[k], b.items[k], rel, abs_, f"{path}.items[{k!r}]")
        assert len(a.annotations) == len(b.annotations), f"{path}: {len(a.annotations)} != {len(b.annotations)} annotations"
        for i, (x, y) in enumerate(zip(a.annotations, b.annotations, strict=True)):
            assert_close(x, y, rel, abs_, f"{path}.annotations[{i}]")
        assert_close(a.schema, b.schema, rel, abs_, f"{path}.schema")
        assert_close(a.tracks, b.tracks, rel, abs_, f"{path}.tracks")
        return
    if isinstance(a, Annotation) and isinstance(b, Annotation):
        assert a.item_id == b.item_id, f"{path}: item {a.item_id!r} != {b.item_id!r}"
        assert_close(a.provenance, b.provenance, rel, abs_, f"{path}.provenance")
        assert a.id == b.id, f"{path}.id: {a.id!r} != {b.id!r}"
        assert_close(list(a.regions), list(b.regions), rel, abs_, f"{path}.regions")
        return
    if is_dataclass(a) and not isinstance(a, type):
        assert type(a) is type(b), f"{path}: {type(a).__name__} != {type(b).__name__}: {a!r} vs {b!r}"
        for f in fields(a):
            if f.name.startswith("_"):
                continue
            assert_close(getattr(a, f.name), getattr(b, f.name), rel, abs_, f"{path}.{f.name}")
        return
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        assert len(a) == len(b), f"{path}: length {len(a)} != {len(b)}: {a!r} vs {b!r}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_close(x, y, rel, abs_, f"{path}[{i}]")
        return
    if isinstance(a, dict) and isinstance(b, dict):
        assert a.keys() == b.keys(), f"{path}: keys {sorted(a)} != {sorted(b)}"
        for k in a:
            assert_close(a[k], b[k], rel, abs_, f"{path}[{k!r}]")
        return
    if isinstance(a, float) and isinstance(b, (int, float)) and not isinstance(b, bool):
        assert math.isclose(a, b, rel_tol=rel, abs_tol=abs_), f"{path}: {a!r} != {b!r} (rel {rel}, abs {abs_})"
        return
    assert a == b, f"{path}: {a!r} != {b!r}"
