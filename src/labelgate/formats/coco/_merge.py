"""Merge the per-file parts of a COCO dataset (subsets, or instances and keypoints of the same
images) into one dataset backed by one table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

import numpy as np

from labelgate.core import Annotation, Dataset, Item, LabelSchema
from labelgate.core.errors import InvariantError
from labelgate.core.table import NO_ID, RegionTable
from labelgate.formats.coco._bulk import annotations_over

__all__ = ["Part", "concat"]


@dataclass
class Part:
    items: list[Item]
    table: RegionTable



def concat(parts: Sequence[Part], schema: LabelSchema) -> Dataset:
    """Merge per-file parts into one dataset backed by one table. Items repeated across files
    (instances and keypoints of the same images) are kept once; files' items are ordered by image
    id when there are several files."""
    if len(parts) == 1:
        part = parts[0]
        return Dataset(part.items, annotations_over(part.items, part.table), schema)
    items: dict[str, Item] = {}
    blocks: list[tuple[int, int, int, int]] = []  # (image id, part, annotation, sequence)
    for p, part in enumerate(parts):
        for a, it in enumerate(part.items):
            prev = items.setdefault(it.id, it)
            if (prev.subset, prev.number) != (it.subset, it.number):
                raise InvariantError(f"image {it.media!r} appears in two files with different subsets or image ids "
                                     f"({prev.subset}/{prev.number} and {it.subset}/{it.number}); read the files separately")
            blocks.append((it.number if it.number is not None else 0, p, a, len(blocks)))
    blocks.sort(key=lambda b: (b[0], b[3]))
    items = {it.id: it for it in sorted(items.values(), key=lambda it: it.number if it.number is not None else 0)}
    tables = [pt.table for pt in parts]
    base = np.cumsum([0] + [len(t) for t in tables])
    rows = np.concatenate([np.arange(tables[p].offsets[a], tables[p].offsets[a + 1]) + base[p] for _, p, a, _ in blocks]
                          or [np.zeros(0, np.int64)]).astype(np.int64)
    counts = [int(tables[p].offsets[a + 1] - tables[p].offsets[a]) for _, p, a, _ in blocks]
    t = _stack(tables, rows, counts, schema)
    anns = [Annotation.from_table(parts[p].items[a].id, t, t.rows_of(i)) for i, (_, p, a, _) in enumerate(blocks)]
    return Dataset(items.values(), anns, schema)


def _stack(tables: Sequence[RegionTable], rows: Any, counts: list[int], schema: LabelSchema) -> RegionTable:
    def col(name: str, fill: Any) -> Any:
        cols = [getattr(t, name) for t in tables]
        if all(c is None for c in cols):
            return None
        return np.concatenate([c if c is not None else np.full(len(t), fill) for c, t in zip(cols, tables, strict=True)])[rows]

    def lst(name: str) -> list[Any] | None:
        cols = [getattr(t, name) for t in tables]
        if all(c is None for c in cols):
            return None
        flat = list(chain.from_iterable(c if c is not None else [None] * len(t) for c, t in zip(cols, tables, strict=True)))
        return [flat[i] for i in rows.tolist()]

    decoders = [t.decode for t in tables]

    def decode(payload: Any) -> Any:
        # every file's decoder behaves the same but names its own file; use the first that works
        return decoders[0](payload) if decoders[0] is not None else payload

    offsets = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return RegionTable(labels=schema.names, label=np.concatenate([t.label for t in tables])[rows],
                       kind=np.concatenate([t.kind for t in tables])[rows], bbox=np.concatenate([t.bbox for t in tables])[rows],
                       offsets=offsets, score=col("score", np.nan), ids=col("ids", NO_ID), crowd=col("crowd", False),
                       geometry=lst("geometry"), extra=lst("extra"), decode=decode)
