"""Columnar storage of regions, so that a million boxes are a few numpy arrays.

A :class:`RegionTable` holds the regions of many annotations, grouped by annotation:
rows ``offsets[i]:offsets[i + 1]`` belong to annotation ``i``. Boxes live entirely in the
``bbox`` column; other geometries keep one Python object per row in ``geometry`` (either a
:class:`~labelgate.core.geometry.Geometry` or a raw payload turned into one by ``decode``).
Rare per-region fields (attributes, group, z-order, occlusion, track) live in ``extra``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from labelgate.core.annotations import Region
from labelgate.core.errors import InvariantError
from labelgate.core.geometry import (
    Box,
    Classification,
    Geometry,
    GeometryKind,
    Keypoints,
    Mask,
    MultiPolygon,
    Polygon,
    Polyline,
    RotatedBox,
    TextSpan,
    bounds,
    kind_of,
)

__all__ = ["NO_ID", "RegionTable"]

NO_ID = np.iinfo(np.int64).min
"""Sentinel in the ``ids`` column for a region without a numeric id."""

_EXTRA_FIELDS = ("attributes", "group", "z_order", "occluded", "track_id")


class RegionTable:
    """Struct-of-arrays regions. All arrays have one row per region."""

    __slots__ = (
        "bbox",
        "crowd",
        "decode",
        "extra",
        "geometry",
        "ids",
        "kind",
        "label",
        "labels",
        "offsets",
        "score",
    )

    def __init__(
        self,
        *,
        labels: Sequence[str],
        label: npt.NDArray[np.integer[Any]],
        kind: npt.NDArray[np.integer[Any]],
        bbox: npt.NDArray[np.floating[Any]],
        offsets: npt.NDArray[np.integer[Any]],
        score: npt.NDArray[np.floating[Any]] | None = None,
        ids: npt.NDArray[np.integer[Any]] | None = None,
        crowd: npt.NDArray[np.bool_] | None = None,
        geometry: list[Any] | None = None,
        extra: list[dict[str, Any] | None] | None = None,
        decode: Callable[[Any], Geometry] | None = None,
    ) -> None:
        n = len(label)
        self.labels = list(labels)
        self.label = np.asarray(label, dtype=np.int32)
        self.kind = np.asarray(kind, dtype=np.uint8)
        self.bbox = np.asarray(bbox, dtype=np.float64).reshape(n, 4)
        self.offsets = np.asarray(offsets, dtype=np.int64)
        self.score = None if score is None else np.asarray(score, dtype=np.float64)
        self.ids = None if ids is None else np.asarray(ids, dtype=np.int64)
        self.crowd = None if crowd is None else np.asarray(crowd, dtype=bool)
        self.geometry = geometry
        self.extra = extra
        self.decode = decode
        for name in ("kind", "score", "ids", "crowd", "geometry", "extra"):
            col = getattr(self, name)
            if col is not None and len(col) != n:
                raise InvariantError(f"RegionTable: column {name} has {len(col)} rows, expected {n}")
        if len(self.offsets) == 0 or self.offsets[0] != 0 or self.offsets[-1] != n:
            raise InvariantError("RegionTable: offsets must run from 0 to the row count")
        if np.any(np.diff(self.offsets) < 0):
            raise InvariantError("RegionTable: offsets must not decrease")
        if n and (self.label.min() < 0 or self.label.max() >= len(self.labels)):
            raise InvariantError("RegionTable: a label index is outside the label list")
        if self.geometry is None and n and np.any(self.kind != GeometryKind.BOX):
            raise InvariantError("RegionTable: non-box rows need the geometry column")
        box = self.kind == GeometryKind.BOX
        if np.any(~np.isfinite(self.bbox[box])) or np.any(
            (self.bbox[box, 2] < self.bbox[box, 0]) | (self.bbox[box, 3] < self.bbox[box, 1])
        ):
            bad = int(np.flatnonzero(box & ~((self.bbox[:, 2] >= self.bbox[:, 0]) & (self.bbox[:, 3] >= self.bbox[:, 1])))[0])
            raise InvariantError(f"RegionTable: box in row {bad} is inverted or not finite: {self.bbox[bad].tolist()}")

    def __len__(self) -> int:
        return len(self.label)

    @property
    def n_annotations(self) -> int:
        return len(self.offsets) - 1

    def rows_of(self, annotation: int) -> slice:
        return slice(int(self.offsets[annotation]), int(self.offsets[annotation + 1]))

    def count(self, rows: slice) -> int:
        return len(range(*rows.indices(len(self))))

    def geometry_at(self, row: int) -> Geometry:
        if self.kind[row] == GeometryKind.BOX:
            x1, y1, x2, y2 = self.bbox[row].tolist()
            return Box(x1, y1, x2, y2)
        assert self.geometry is not None
        g = self.geometry[row]
        if self.decode is not None and not isinstance(g, _GEOMETRY_TYPES):
            g = self.decode(g)
            self.geometry[row] = g
        return g

    def region(self, row: int) -> Region:
        extra = self.extra[row] if self.extra is not None else None
        score = None if self.score is None else float(self.score[row])
        if score is not None and np.isnan(score):
            score = None
        rid = None if self.ids is None or self.ids[row] == NO_ID else int(self.ids[row])
        kw = extra or {}
        return Region(
            self.geometry_at(row),
            self.labels[self.label[row]],
            id=rid,
            score=score,
            crowd=bool(self.crowd[row]) if self.crowd is not None else False,
            **kw,
        )

    def regions(self, rows: slice) -> tuple[Region, ...]:
        return tuple(self.region(i) for i in range(*rows.indices(len(self))))

    @classmethod
    def from_regions(cls, groups: Sequence[Sequence[Region]]) -> RegionTable:
        """Build a table from per-annotation region lists (the slow, general path)."""
        labels: dict[str, int] = {}
        label, kind, bbox, score, ids, crowd, geometry, extra = [], [], [], [], [], [], [], []
        offsets = [0]
        nan4 = (np.nan, np.nan, np.nan, np.nan)
        for regs in groups:
            for r in regs:
                label.append(labels.setdefault(r.label, len(labels)))
                k = kind_of(r.geometry)
                kind.append(k)
                b = bounds(r.geometry)
                bbox.append(b if b is not None else nan4)
                score.append(np.nan if r.score is None else r.score)
                ids.append(NO_ID if r.id is None else r.id)
                crowd.append(r.crowd)
                geometry.append(None if k == GeometryKind.BOX else r.geometry)
                e = {f: getattr(r, f) for f in _EXTRA_FIELDS}
                e = {f: v for f, v in e.items() if v != _DEFAULTS[f]}
                extra.append(e or None)
            offsets.append(len(label))
        return cls(
            labels=list(labels),
            label=np.asarray(label, dtype=np.int32),
            kind=np.asarray(kind, dtype=np.uint8),
            bbox=np.asarray(bbox, dtype=np.float64).reshape(len(label), 4),
            offsets=np.asarray(offsets),
            score=np.asarray(score, dtype=np.float64),
            ids=np.asarray(ids, dtype=np.int64),
            crowd=np.asarray(crowd, dtype=bool),
            geometry=geometry,
            extra=extra,
        )


_DEFAULTS: dict[str, Any] = {
    "attributes": {},
    "group": None,
    "z_order": 0,
    "occluded": False,
    "track_id": None,
}

_GEOMETRY_TYPES = (
    Box,
    RotatedBox,
    Polygon,
    MultiPolygon,
    Polyline,
    Keypoints,
    Mask,
    TextSpan,
    Classification,
)
