"""Geometry value types, all in absolute pixel coordinates (text spans in character offsets).

Every type is a frozen, slotted dataclass whose invariants are checked at construction, so a
value that exists is a valid one. Flat coordinate tuples ``(x0, y0, x1, y1, ...)`` are used for
point lists (as COCO does), because they compare, hash and serialise cheaply.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum
from typing import Union

from labelgate.core.errors import InvariantError

__all__ = [
    "Box",
    "Classification",
    "Geometry",
    "GeometryKind",
    "Keypoints",
    "Mask",
    "MultiPolygon",
    "Polygon",
    "Polyline",
    "RotatedBox",
    "TextSpan",
    "bounds",
    "kind_of",
]


class GeometryKind(IntEnum):
    """Stable numeric codes, used in columnar tables."""

    BOX = 0
    ROTATED_BOX = 1
    POLYGON = 2
    MULTI_POLYGON = 3
    POLYLINE = 4
    KEYPOINTS = 5
    MASK = 6
    TEXT_SPAN = 7
    CLASSIFICATION = 8


def _finite(name: str, *values: float) -> None:
    for v in values:
        if not math.isfinite(v):
            raise InvariantError(f"{name}: coordinate {v!r} is not a finite number")


def _points(name: str, points: tuple[float, ...], minimum: int) -> tuple[float, ...]:
    pts = tuple(float(v) for v in points)
    if len(pts) % 2:
        raise InvariantError(f"{name}: {len(pts)} coordinates is an odd count; expected x,y pairs")
    if len(pts) // 2 < minimum:
        raise InvariantError(f"{name}: needs at least {minimum} points, got {len(pts) // 2}")
    _finite(name, *pts)
    return pts


@dataclass(frozen=True, slots=True)
class Box:
    """Axis-aligned box, corners ``(x1, y1)`` top-left and ``(x2, y2)`` bottom-right."""

    x1: float
    y1: float
    x2: float
    y2: float

    def __post_init__(self) -> None:
        _finite("Box", self.x1, self.y1, self.x2, self.y2)
        if self.x2 < self.x1 or self.y2 < self.y1:
            raise InvariantError(
                f"Box: corners inverted (x1={self.x1}, y1={self.y1}, x2={self.x2}, y2={self.y2})"
            )

    @classmethod
    def from_xywh(cls, x: float, y: float, w: float, h: float) -> Box:
        return cls(x, y, x + w, y + h)

    @property
    def width(self) -> float:
        return self.x2 - self.x1

    @property
    def height(self) -> float:
        return self.y2 - self.y1

    @property
    def area(self) -> float:
        return self.width * self.height

    @property
    def xywh(self) -> tuple[float, float, float, float]:
        return (self.x1, self.y1, self.width, self.height)


@dataclass(frozen=True, slots=True)
class RotatedBox:
    """Box of ``width`` x ``height`` centred on ``(cx, cy)``, rotated by ``angle`` degrees
    clockwise in image coordinates (y down), as CVAT and Ultralytics OBB use."""

    cx: float
    cy: float
    width: float
    height: float
    angle: float = 0.0

    def __post_init__(self) -> None:
        _finite("RotatedBox", self.cx, self.cy, self.width, self.height, self.angle)
        if self.width < 0 or self.height < 0:
            raise InvariantError(f"RotatedBox: negative size {self.width} x {self.height}")

    def corners(self) -> tuple[tuple[float, float], ...]:
        """The four corners, starting top-left of the unrotated box, clockwise."""
        a = math.radians(self.angle)
        c, s = math.cos(a), math.sin(a)
        hw, hh = self.width / 2, self.height / 2
        out = []
        for dx, dy in ((-hw, -hh), (hw, -hh), (hw, hh), (-hw, hh)):
            out.append((self.cx + dx * c - dy * s, self.cy + dx * s + dy * c))
        return tuple(out)

    @property
    def area(self) -> float:
        return self.width * self.height


@dataclass(frozen=True, slots=True)
class Polygon:
    """Simple polygon ``points`` (flat x,y) with optional interior rings ``holes``."""

    points: tuple[float, ...]
    holes: tuple[tuple[float, ...], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "points", _points("Polygon", self.points, 3))
        object.__setattr__(
            self, "holes", tuple(_points("Polygon hole", h, 3) for h in self.holes)
        )

    @property
    def area(self) -> float:
        """Shoelace area of the exterior minus the holes."""
        return _shoelace(self.points) - sum(_shoelace(h) for h in self.holes)


@dataclass(frozen=True, slots=True)
class MultiPolygon:
    """Several polygons forming one object (COCO's multi-part segmentation)."""

    polygons: tuple[Polygon, ...]

    def __post_init__(self) -> None:
        if not self.polygons:
            raise InvariantError("MultiPolygon: needs at least one polygon")
        for p in self.polygons:
            if not isinstance(p, Polygon):
                raise InvariantError(f"MultiPolygon: part {p!r} is not a Polygon")
        object.__setattr__(self, "polygons", tuple(self.polygons))

    @property
    def area(self) -> float:
        return sum(p.area for p in self.polygons)


@dataclass(frozen=True, slots=True)
class Polyline:
    """Open line through ``points`` (flat x,y), at least two points."""

    points: tuple[float, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "points", _points("Polyline", self.points, 2))


@dataclass(frozen=True, slots=True)
class Keypoints:
    """Keypoints ``points`` (flat x,y) with COCO visibility per point:
    0 not labelled, 1 labelled but not visible, 2 labelled and visible.

    Point names and the skeleton come from the label's :class:`~labelgate.core.schema.Skeleton`.
    """

    points: tuple[float, ...]
    visibility: tuple[int, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "points", _points("Keypoints", self.points, 1))
        vis = tuple(int(v) for v in self.visibility)
        if len(vis) * 2 != len(self.points):
            raise InvariantError(
                f"Keypoints: {len(self.points) // 2} points but {len(vis)} visibility flags"
            )
        bad = [v for v in vis if v not in (0, 1, 2)]
        if bad:
            raise InvariantError(f"Keypoints: visibility must be 0, 1 or 2, got {bad[0]}")
        object.__setattr__(self, "visibility", vis)

    def __len__(self) -> int:
        return len(self.visibility)


@dataclass(frozen=True, slots=True)
class Mask:
    """Binary mask as uncompressed run-length counts over the column-major (Fortran) flattening
    of a ``height`` x ``width`` image, starting with a run of zeros (the COCO convention)."""

    height: int
    width: int
    counts: tuple[int, ...]

    def __post_init__(self) -> None:
        if self.height < 0 or self.width < 0:
            raise InvariantError(f"Mask: negative size {self.height} x {self.width}")
        counts = tuple(int(c) for c in self.counts)
        if any(c < 0 for c in counts):
            raise InvariantError("Mask: run lengths must not be negative")
        total = sum(counts)
        if total != self.height * self.width:
            raise InvariantError(
                f"Mask: run lengths sum to {total}, expected {self.height}x{self.width}="
                f"{self.height * self.width}"
            )
        object.__setattr__(self, "counts", counts)

    @property
    def area(self) -> int:
        return sum(self.counts[1::2])


@dataclass(frozen=True, slots=True)
class TextSpan:
    """Half-open character range ``[start, end)`` of an item's text."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if not (isinstance(self.start, int) and isinstance(self.end, int)):
            raise InvariantError(f"TextSpan: offsets must be integers, got {self.start!r}, {self.end!r}")
        if self.start < 0 or self.end <= self.start:
            raise InvariantError(f"TextSpan: need 0 <= start < end, got [{self.start}, {self.end})")


@dataclass(frozen=True, slots=True)
class Classification:
    """A label for the whole item (an image tag, a document class)."""


Geometry = Union[
    Box, RotatedBox, Polygon, MultiPolygon, Polyline, Keypoints, Mask, TextSpan, Classification
]

_KINDS: dict[type, GeometryKind] = {
    Box: GeometryKind.BOX,
    RotatedBox: GeometryKind.ROTATED_BOX,
    Polygon: GeometryKind.POLYGON,
    MultiPolygon: GeometryKind.MULTI_POLYGON,
    Polyline: GeometryKind.POLYLINE,
    Keypoints: GeometryKind.KEYPOINTS,
    Mask: GeometryKind.MASK,
    TextSpan: GeometryKind.TEXT_SPAN,
    Classification: GeometryKind.CLASSIFICATION,
}


def kind_of(geometry: Geometry) -> GeometryKind:
    """The :class:`GeometryKind` of a geometry value."""
    try:
        return _KINDS[type(geometry)]
    except KeyError:
        raise InvariantError(f"not a geometry: {geometry!r}") from None


def _shoelace(points: tuple[float, ...]) -> float:
    xs, ys = points[0::2], points[1::2]
    n = len(xs)
    s = 0.0
    for i in range(n):
        j = (i + 1) % n
        s += xs[i] * ys[j] - xs[j] * ys[i]
    return abs(s) / 2.0


def _xy_bounds(points: tuple[float, ...]) -> tuple[float, float, float, float]:
    xs, ys = points[0::2], points[1::2]
    return (min(xs), min(ys), max(xs), max(ys))


def bounds(geometry: Geometry) -> tuple[float, float, float, float] | None:
    """Axis-aligned bounds ``(x1, y1, x2, y2)`` of a spatial geometry; None for spans and tags.

    For keypoints only labelled points (visibility > 0) count; None if there are none.
    """
    if isinstance(geometry, Box):
        return (geometry.x1, geometry.y1, geometry.x2, geometry.y2)
    if isinstance(geometry, RotatedBox):
        cs = geometry.corners()
        xs = [c[0] for c in cs]
        ys = [c[1] for c in cs]
        return (min(xs), min(ys), max(xs), max(ys))
    if isinstance(geometry, (Polygon, Polyline)):
        return _xy_bounds(geometry.points)
    if isinstance(geometry, MultiPolygon):
        bs = [_xy_bounds(p.points) for p in geometry.polygons]
        return (min(b[0] for b in bs), min(b[1] for b in bs), max(b[2] for b in bs), max(b[3] for b in bs))
    if isinstance(geometry, Keypoints):
        pts: list[float] = []
        for i, v in enumerate(geometry.visibility):
            if v > 0:
                pts.extend(geometry.points[2 * i : 2 * i + 2])
        return _xy_bounds(tuple(pts)) if pts else None
    if isinstance(geometry, Mask):
        from labelgate.core.rle import mask_bounds

        return mask_bounds(geometry)
    return None
