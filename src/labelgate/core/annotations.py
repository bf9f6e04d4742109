"""Regions (one labelled geometry), provenance, and annotations (one author's regions on an item)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Any

from labelgate.core.errors import InvariantError
from labelgate.core.geometry import Geometry, kind_of

if TYPE_CHECKING:
    from labelgate.core.table import RegionTable

__all__ = ["Annotation", "AttrValue", "Provenance", "Region", "Source"]

AttrValue = str | int | float | bool


class Source(str, Enum):
    HUMAN = "human"
    MODEL = "model"
    CONSENSUS = "consensus"
    GOLD = "gold"


@dataclass(frozen=True, slots=True)
class Region:
    """A labelled geometry.

    ``group`` ties regions that form one object; ``track_id`` ties a frame's region to a video
    track; ``crowd`` marks COCO's ``iscrowd`` regions; ``score`` is a model's confidence.
    """

    geometry: Geometry
    label: str
    id: int | None = None
    attributes: Mapping[str, AttrValue] = field(default_factory=dict)
    score: float | None = None
    group: int | None = None
    z_order: int = 0
    occluded: bool = False
    track_id: int | None = None
    crowd: bool = False

    def __post_init__(self) -> None:
        kind_of(self.geometry)
        if not isinstance(self.label, str) or not self.label:
            raise InvariantError(f"Region: label must be a non-empty string, got {self.label!r}")
        if self.score is not None and not math.isfinite(self.score):
            raise InvariantError(f"Region: score {self.score!r} is not finite")
        for k, v in self.attributes.items():
            if not isinstance(k, str) or not isinstance(v, (str, int, float, bool)):
                raise InvariantError(f"Region: attribute {k!r}={v!r} must map a name to str/int/float/bool")


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where an annotation came from: a person, a model (with version), a consensus, or gold."""

    source: Source = Source.HUMAN
    author: str | None = None
    model: str | None = None
    model_version: str | None = None
    created_at: datetime | None = None
    lead_time: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "source", Source(self.source))
        if self.lead_time is not None and not (math.isfinite(self.lead_time) and self.lead_time >= 0):
            raise InvariantError(f"Provenance: lead_time must be >= 0 seconds, got {self.lead_time!r}")
        if self.source is not Source.MODEL and (self.model_version is not None) and self.model is None:
            raise InvariantError("Provenance: model_version given without a model")


class Annotation:
    """One author's (or model's) regions on one item.

    ``regions`` is a tuple of :class:`Region`. Codecs that read millions of regions may instead
    back an annotation by a slice of a columnar :class:`~labelgate.core.table.RegionTable`;
    the regions are then built on first access, and writers can use the table directly.
    """

    __slots__ = ("_regions", "_rows", "_table", "id", "item_id", "provenance")

    def __init__(
        self,
        item_id: str,
        regions: Sequence[Region] = (),
        provenance: Provenance | None = None,
        id: str | None = None,
    ) -> None:
        if not isinstance(item_id, str) or not item_id:
            raise InvariantError(f"Annotation: item_id must be a non-empty string, got {item_id!r}")
        self.item_id = item_id
        self.provenance = provenance if provenance is not None else Provenance()
        self.id = id
        regs = tuple(regions)
        for r in regs:
            if not isinstance(r, Region):
                raise InvariantError(f"Annotation on {item_id!r}: {r!r} is not a Region")
        self._regions: tuple[Region, ...] | None = regs
        self._table: RegionTable | None = None
        self._rows: Any = None

    @classmethod
    def from_table(
        cls,
        item_id: str,
        table: RegionTable,
        rows: Any,
        provenance: Provenance | None = None,
        id: str | None = None,
    ) -> Annotation:
        """An annotation whose regions are rows ``rows`` (a slice or index array) of ``table``."""
        self = cls(item_id, (), provenance, id)
        self._regions = None
        self._table = table
        self._rows = rows
        return self

    @property
    def regions(self) -> tuple[Region, ...]:
        if self._regions is None:
            assert self._table is not None
            self._regions = self._table.regions(self._rows)
        return self._regions

    @property
    def table_rows(self) -> tuple[RegionTable, Any] | None:
        """``(table, rows)`` when this annotation is still backed by a columnar table."""
        if self._table is None:
            return None
        return (self._table, self._rows)

    def __len__(self) -> int:
        if self._regions is None and self._table is not None:
            return self._table.count(self._rows)
        return len(self.regions)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Annotation):
            return NotImplemented
        return (
            self.item_id == other.item_id
            and self.provenance == other.provenance
            and self.id == other.id
            and self.regions == other.regions
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"Annotation(item_id={self.item_id!r}, regions={len(self)} regions, "
            f"provenance={self.provenance!r}, id={self.id!r})"
        )

    def replace(self, **changes: Any) -> Annotation:
        """A copy with some of ``item_id``, ``regions``, ``provenance``, ``id`` changed."""
        return Annotation(
            changes.get("item_id", self.item_id),
            changes.get("regions", self.regions),
            changes.get("provenance", self.provenance),
            changes.get("id", self.id),
        )
