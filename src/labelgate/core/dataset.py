"""A dataset: a schema, items, annotations (several per item allowed) and video tracks."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from operator import attrgetter
from typing import Any

import numpy as np

from labelgate.core.annotations import Annotation, Region
from labelgate.core.errors import InvariantError
from labelgate.core.items import Item
from labelgate.core.schema import LabelSchema
from labelgate.core.table import RegionTable
from labelgate.core.tracks import Track

__all__ = ["Dataset"]


class Dataset:
    """Items keyed by id (in insertion order), annotations referring to them, and tracks.

    Invariants checked at construction: item ids are unique; every annotation refers to an item.
    Labels outside the schema are allowed (a file may contain them); ``labelgate validate``
    reports them.
    """

    __slots__ = ("annotations", "items", "metadata", "schema", "tracks")

    def __init__(
        self,
        items: Iterable[Item] = (),
        annotations: Iterable[Annotation] = (),
        schema: LabelSchema | None = None,
        tracks: Iterable[Track] = (),
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        items = list(items)
        self.items: dict[str, Item] = {it.id: it for it in items}
        if len(self.items) != len(items):
            seen: set[str] = set()
            for it in items:
                if it.id in seen:
                    raise InvariantError(f"Dataset: item id {it.id!r} appears twice")
                seen.add(it.id)
        self.annotations: list[Annotation] = list(annotations)
        known = self.items
        if not all(map(known.__contains__, map(attrgetter("item_id"), self.annotations))):
            for a in self.annotations:
                if a.item_id not in known:
                    raise InvariantError(f"Dataset: annotation {a.id!r} refers to unknown item {a.item_id!r}")
        self.schema = schema if schema is not None else LabelSchema()
        self.tracks: list[Track] = list(tracks)
        self.metadata: dict[str, Any] = dict(metadata or {})

    def __repr__(self) -> str:
        return (
            f"Dataset({len(self.items)} items, {len(self.annotations)} annotations, "
            f"{len(self.tracks)} tracks, {len(self.schema)} classes)"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Dataset):
            return NotImplemented
        return (
            list(self.items.values()) == list(other.items.values())
            and self.annotations == other.annotations
            and self.schema == other.schema
            and self.tracks == other.tracks
            and self.metadata == other.metadata
        )

    __hash__ = None  # type: ignore[assignment]

    def annotations_of(self, item_id: str) -> list[Annotation]:
        return [a for a in self.annotations if a.item_id == item_id]

    def by_item(self) -> dict[str, list[Annotation]]:
        """Annotations grouped by item id, every item present (possibly with an empty list)."""
        out: dict[str, list[Annotation]] = {k: [] for k in self.items}
        for a in self.annotations:
            out[a.item_id].append(a)
        return out

    def iter_regions(self) -> Iterator[tuple[Annotation, Region]]:
        for a in self.annotations:
            for r in a.regions:
                yield a, r

    @property
    def region_count(self) -> int:
        return sum(len(a) for a in self.annotations)

    def labels_used(self) -> list[str]:
        """Every label used by a region or track, in first-seen order."""
        t = self.table()
        used = np.unique(t.label) if len(t) else np.array([], dtype=np.int32)
        names = [t.labels[i] for i in sorted(used.tolist())]
        names += [tr.label for tr in self.tracks]
        return list(dict.fromkeys(names))

    def table(self) -> RegionTable:
        """All regions as one columnar table, rows grouped by annotation in list order.

        When every annotation is still backed, in order, by one table (as fast readers build
        them), that table is returned as is; otherwise one is built from the regions.
        """
        shared = self.shared_table()
        if shared is not None:
            return shared
        return RegionTable.from_regions([a.regions for a in self.annotations])

    def shared_table(self) -> RegionTable | None:
        """The one table backing every annotation, in order (annotation ``i`` is its rows
        ``rows_of(i)``), or None; what :meth:`table` returns in O(1)."""
        if not self.annotations:
            return None
        first = self.annotations[0].table_rows
        if first is None:
            return None
        table = first[0]
        if table.n_annotations != len(self.annotations):
            return None
        offsets = table.offsets.tolist()  # Python ints: compared per annotation, numpy scalars cost 5x more
        for a, start, stop in zip(self.annotations, offsets, offsets[1:], strict=False):
            tr = a.table_rows
            if tr is None or tr[0] is not table:
                return None
            rows = tr[1]
            if rows.start != start or rows.stop != stop:
                return None
        return table
