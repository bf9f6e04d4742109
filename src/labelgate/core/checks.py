"""Dataset checks (``labelgate validate``) and statistics (``labelgate stats``), pure functions."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from labelgate.core.dataset import Dataset
from labelgate.core.geometry import Box, GeometryKind, MultiPolygon, Polygon, RotatedBox, bounds
from labelgate.core.items import Item

__all__ = ["Finding", "dataset_stats", "validate_dataset"]


@dataclass(frozen=True)
class Finding:
    """One problem: ``code`` (e.g. ``box.out_of_bounds``), ``severity`` ("error" or "warning"),
    ``where`` (item id, region index) and a message."""

    code: str
    severity: str
    where: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "severity": self.severity, "where": self.where, "message": self.message}


def _polygon_problem(p: Polygon) -> str | None:
    try:
        from shapely.geometry import Polygon as SPolygon
        from shapely.validation import explain_validity
    except ImportError:  # pragma: no cover - shapely is a base dependency
        return None
    pts = list(zip(p.points[0::2], p.points[1::2], strict=True))
    holes = [list(zip(h[0::2], h[1::2], strict=True)) for h in p.holes]
    poly = SPolygon(pts, holes)
    if poly.area == 0:
        return "has zero area"
    if not poly.is_valid:
        return str(explain_validity(poly))
    return None


def validate_dataset(ds: Dataset, media_exists: Callable[[Item], bool] | None = None) -> list[Finding]:
    """Every problem found: out-of-bounds or degenerate boxes, invalid polygons, duplicate ids,
    unknown classes, missing media (when ``media_exists`` is given), annotations without sizes."""
    out: list[Finding] = []
    names = set(ds.schema.names)
    seen_region_ids: dict[int, str] = {}
    for it in ds.items.values():
        if media_exists is not None and it.media and not media_exists(it):
            out.append(Finding("media.missing", "error", it.id, f"media file {it.media!r} not found"))
    for a in ds.annotations:
        it = ds.items[a.item_id]
        for i, r in enumerate(a.regions):
            where = f"item {a.item_id!r} region {i}" + (f" (id {r.id})" if r.id is not None else "")
            if names and r.label not in names:
                out.append(Finding("label.unknown", "error", where, f"label {r.label!r} is not in the schema"))
            if r.id is not None:
                if r.id in seen_region_ids:
                    out.append(Finding("id.duplicate", "error", where,
                                       f"region id {r.id} also used in item {seen_region_ids[r.id]!r}"))
                else:
                    seen_region_ids[r.id] = a.item_id
            g = r.geometry
            if isinstance(g, (Box, RotatedBox)) and (g.width <= 0 or g.height <= 0):
                out.append(Finding("box.degenerate", "error", where, f"box has zero width or height: {g}"))
            if isinstance(g, Polygon):
                problem = _polygon_problem(g)
                if problem:
                    out.append(Finding("polygon.invalid", "error", where, f"invalid polygon: {problem}"))
            elif isinstance(g, MultiPolygon):
                for j, part in enumerate(g.polygons):
                    problem = _polygon_problem(part)
                    if problem:
                        out.append(Finding("polygon.invalid", "error", f"{where} part {j}", f"invalid polygon: {problem}"))
            b = bounds(g)
            if b is not None and it.size is not None:
                w, h = it.size
                tol = 1e-3  # px: normalised formats store 6 digits, so corners land a hair outside
                if b[0] < -tol or b[1] < -tol or b[2] > w + tol or b[3] > h + tol:
                    out.append(Finding("geometry.out_of_bounds", "error", where,
                                       f"extends outside the {w}x{h} image: bounds {tuple(round(v, 3) for v in b)}"))
            elif b is not None and it.size is None:
                out.append(Finding("item.size_unknown", "warning", where, "image size unknown; bounds not checked"))
    if len({it.number for it in ds.items.values() if it.number is not None}) != sum(
        1 for it in ds.items.values() if it.number is not None
    ):
        c = Counter(it.number for it in ds.items.values() if it.number is not None)
        dup = [n for n, k in c.items() if k > 1]
        out.append(Finding("id.duplicate", "error", "items", f"numeric item ids used twice: {dup[:10]}"))
    return out


def dataset_stats(ds: Dataset) -> dict[str, Any]:
    """Per-class counts, objects per item, box size distribution and class balance."""
    t = ds.table()
    n_items = len(ds.items)
    per_class = Counter(t.labels[i] for i in t.label.tolist())
    for tr in ds.tracks:
        per_class[tr.label] += 0
    for name in ds.schema.names:
        per_class.setdefault(name, 0)
    kinds = Counter(GeometryKind(k).name.lower() for k in t.kind.tolist())
    per_item = Counter[str]()
    item_ids = [a.item_id for a in ds.annotations]
    counts_by_ann = np.diff(t.offsets)
    for item_id, c in zip(item_ids, counts_by_ann.tolist(), strict=True):
        per_item[item_id] += c
    objects = np.array([per_item.get(k, 0) for k in ds.items], dtype=np.float64)
    spatial = np.isfinite(t.bbox[:, 0])
    wh = t.bbox[spatial, 2:4] - t.bbox[spatial, 0:2]
    areas = wh[:, 0] * wh[:, 1]

    def dist(v: np.ndarray) -> dict[str, float]:
        if v.size == 0:
            return {}
        q = np.percentile(v, [0, 25, 50, 75, 100])
        return {"min": float(q[0]), "p25": float(q[1]), "median": float(q[2]), "p75": float(q[3]),
                "max": float(q[4]), "mean": float(v.mean())}

    total = sum(per_class.values())
    nonzero = [c for c in per_class.values() if c > 0]
    balance = {
        "imbalance_ratio": (max(nonzero) / min(nonzero)) if nonzero else None,
        "normalized_entropy": _entropy(nonzero),
    }
    small = int(np.sum(areas < 32**2))
    medium = int(np.sum((areas >= 32**2) & (areas < 96**2)))
    return {
        "items": n_items,
        "annotations": len(ds.annotations),
        "regions": len(t),
        "tracks": len(ds.tracks),
        "classes": dict(sorted(per_class.items(), key=lambda kv: (-kv[1], kv[0]))),
        "class_share": {k: (v / total if total else 0.0) for k, v in per_class.items()},
        "geometries": dict(kinds),
        "objects_per_item": dist(objects),
        "items_without_objects": int(np.sum(objects == 0)),
        "box_width": dist(wh[:, 0]),
        "box_height": dist(wh[:, 1]),
        "box_area": dist(areas),
        "box_size_coco": {"small": small, "medium": medium, "large": int(areas.size - small - medium)},
        "class_balance": balance,
    }


def _entropy(counts: list[int]) -> float | None:
    if len(counts) < 2:
        return None
    p = np.asarray(counts, dtype=np.float64)
    p /= p.sum()
    return float(-(p * np.log(p)).sum() / np.log(len(p)))
