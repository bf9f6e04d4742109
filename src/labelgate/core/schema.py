"""The label schema, as data: classes, their attributes, and keypoint skeletons."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum

from labelgate.core.errors import InvariantError

__all__ = ["AttributeSpec", "AttributeType", "LabelClass", "LabelSchema", "Skeleton"]

AttrValue = str | int | float | bool


class AttributeType(str, Enum):
    SELECT = "select"
    RADIO = "radio"
    CHECKBOX = "checkbox"
    NUMBER = "number"
    TEXT = "text"


@dataclass(frozen=True, slots=True)
class AttributeSpec:
    """A region attribute a class may carry (CVAT-style)."""

    name: str
    type: AttributeType = AttributeType.TEXT
    values: tuple[str, ...] = ()
    default: AttrValue | None = None
    mutable: bool = False

    def __post_init__(self) -> None:
        if not self.name:
            raise InvariantError("AttributeSpec: name must not be empty")
        object.__setattr__(self, "type", AttributeType(self.type))
        object.__setattr__(self, "values", tuple(self.values))
        if self.type in (AttributeType.SELECT, AttributeType.RADIO) and not self.values:
            raise InvariantError(f"attribute {self.name!r}: a {self.type.value} needs values")

    def check(self, value: AttrValue) -> str | None:
        """A message if ``value`` is not allowed, else None."""
        if self.type in (AttributeType.SELECT, AttributeType.RADIO):
            if str(value) not in self.values:
                return f"attribute {self.name!r}: {value!r} is not one of {list(self.values)}"
        elif self.type is AttributeType.CHECKBOX:
            if not isinstance(value, bool) and str(value).lower() not in ("true", "false"):
                return f"attribute {self.name!r}: {value!r} is not a boolean"
        elif self.type is AttributeType.NUMBER:
            try:
                float(value)
            except (TypeError, ValueError):
                return f"attribute {self.name!r}: {value!r} is not a number"
        return None


@dataclass(frozen=True, slots=True)
class Skeleton:
    """Named keypoints, edges between them (0-based indices) and per-point OKS sigmas."""

    points: tuple[str, ...]
    edges: tuple[tuple[int, int], ...] = ()
    sigmas: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "points", tuple(self.points))
        object.__setattr__(self, "edges", tuple((int(a), int(b)) for a, b in self.edges))
        if not self.points:
            raise InvariantError("Skeleton: needs at least one point")
        if len(set(self.points)) != len(self.points):
            raise InvariantError("Skeleton: point names must be unique")
        n = len(self.points)
        for a, b in self.edges:
            if not (0 <= a < n and 0 <= b < n):
                raise InvariantError(f"Skeleton: edge ({a}, {b}) refers to a point outside 0..{n - 1}")
        if self.sigmas is not None:
            sig = tuple(float(s) for s in self.sigmas)
            if len(sig) != n:
                raise InvariantError(f"Skeleton: {n} points but {len(sig)} sigmas")
            if any(not (math.isfinite(s) and s > 0) for s in sig):
                raise InvariantError("Skeleton: sigmas must be positive")
            object.__setattr__(self, "sigmas", sig)


@dataclass(frozen=True, slots=True)
class LabelClass:
    """One class. ``id`` is the numeric id formats such as COCO keep; None lets writers number."""

    name: str
    id: int | None = None
    color: str | None = None
    parent: str | None = None
    attributes: tuple[AttributeSpec, ...] = ()
    skeleton: Skeleton | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise InvariantError(f"LabelClass: name must be a non-empty string, got {self.name!r}")
        object.__setattr__(self, "attributes", tuple(self.attributes))
        names = [a.name for a in self.attributes]
        if len(set(names)) != len(names):
            raise InvariantError(f"class {self.name!r}: attribute names must be unique")


@dataclass(frozen=True, slots=True)
class LabelSchema:
    """Ordered classes (order gives YOLO-style indices) and dataset-wide attributes."""

    classes: tuple[LabelClass, ...] = ()
    attributes: tuple[AttributeSpec, ...] = ()
    _by_name: Mapping[str, int] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "classes", tuple(self.classes))
        object.__setattr__(self, "attributes", tuple(self.attributes))
        by_name: dict[str, int] = {}
        ids: set[int] = set()
        for i, c in enumerate(self.classes):
            if c.name in by_name:
                raise InvariantError(f"LabelSchema: class {c.name!r} appears twice")
            by_name[c.name] = i
            if c.id is not None:
                if c.id in ids:
                    raise InvariantError(f"LabelSchema: class id {c.id} is used twice")
                ids.add(c.id)
        object.__setattr__(self, "_by_name", by_name)

    @classmethod
    def from_names(cls, names: Iterable[str]) -> LabelSchema:
        return cls(tuple(LabelClass(n) for n in names))

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.classes]

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __len__(self) -> int:
        return len(self.classes)

    def index(self, name: str) -> int:
        """Position of a class (its YOLO index)."""
        try:
            return self._by_name[name]
        except KeyError:
            raise InvariantError(f"class {name!r} is not in the schema {self.names}") from None

    def get(self, name: str) -> LabelClass | None:
        i = self._by_name.get(name)
        return None if i is None else self.classes[i]

    def with_classes(self, names: Iterable[str]) -> LabelSchema:
        """This schema plus any of ``names`` it lacks, appended in order."""
        extra = [n for n in dict.fromkeys(names) if n not in self._by_name]
        if not extra:
            return self
        return LabelSchema(self.classes + tuple(LabelClass(n) for n in extra), self.attributes)
