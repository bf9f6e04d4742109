"""The columnar region path gives exactly what the general path gives, and checks the same."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("fastapi")

from labelgate.core import Annotation, Box, Dataset, Item, LabelClass, LabelSchema, Polygon, RegionTable
from labelgate.core.errors import InvariantError
from labelgate.core.geometry import GeometryKind
from labelgate.core.schema import AttributeSpec
from labelgate.core.table import NO_ID
from labelgate.server.services.rows import dataset_regions, labels_in

SCHEMA = LabelSchema((LabelClass("a", attributes=(AttributeSpec("size", "select", ("s", "l")),)), LabelClass("b"),
                      LabelClass("c")))


def _table_dataset(labels: list[str], seed: int = 0) -> Dataset:
    rng = np.random.default_rng(seed)
    n_ann, per = 30, 7
    n = n_ann * per
    xy = rng.uniform(0, 100, (n, 2))
    bbox = np.hstack([xy, xy + rng.uniform(0, 20, (n, 2))])
    kind = np.full(n, GeometryKind.BOX, dtype=np.uint8)
    geometry: list = [None] * n
    kind[5] = GeometryKind.POLYGON
    geometry[5] = Polygon((0.0, 0.0, 10.0, 0.0, 5.0, 5.0))
    bbox[5] = (0, 0, 10, 5)
    score = rng.uniform(0, 1, n)
    score[::3] = np.nan
    ids = np.where(rng.random(n) < 0.5, np.arange(n), NO_ID)
    extra: list = [None] * n
    extra[8] = {"attributes": {"size": "l"}, "occluded": True}
    label = rng.integers(0, len(labels), n)
    label[8] = 0  # the row with attributes is class "a", which defines them
    table = RegionTable(labels=labels, label=label, kind=kind, bbox=bbox,
                        offsets=np.arange(0, n + 1, per), score=score, ids=ids, crowd=rng.random(n) < 0.1,
                        geometry=geometry, extra=extra)
    items = [Item(f"i{i}", width=200, height=200) for i in range(n_ann)]
    anns = [Annotation.from_table(f"i{i}", table, table.rows_of(i)) for i in range(n_ann)]
    return Dataset(items, anns, SCHEMA)


def test_columnar_path_equals_general_path() -> None:
    ds = _table_dataset(["a", "b", "c"])
    assert ds.annotations[0].table_rows is not None
    plain = Dataset(ds.items.values(), [Annotation(a.item_id, a.regions) for a in ds.annotations], SCHEMA)
    assert plain.annotations[0].table_rows is None
    fast, slow = dataset_regions(ds, SCHEMA), dataset_regions(plain, SCHEMA)
    assert fast == slow
    assert [list(d) for d in fast[1]] == [list(d) for d in slow[1]]  # same key order, same JSON
    assert sorted(labels_in(ds)) == sorted(labels_in(plain)) == ["a", "b", "c"]
    assert any(isinstance(a.regions[0].geometry, Box) for a in ds.annotations)


def test_both_paths_name_the_unknown_label() -> None:
    ds = _table_dataset(["a", "zebra"], seed=1)
    plain = Dataset(ds.items.values(), [Annotation(a.item_id, a.regions) for a in ds.annotations], SCHEMA)
    messages = []
    for d in (ds, plain):
        with pytest.raises(InvariantError, match="label 'zebra' is not in the project's label schema") as e:
            dataset_regions(d, SCHEMA)
        messages.append(str(e.value))
    assert messages[0] == messages[1]


def test_table_from_stored_dicts_gives_back_the_same_regions() -> None:
    from labelgate.server.services.rows import table_from_dicts

    ds = _table_dataset(["a", "b", "c"], seed=2)
    stored = dataset_regions(ds, SCHEMA)
    table = table_from_dicts(stored)
    for i, a in enumerate(ds.annotations):
        assert table.regions(table.rows_of(i)) == a.regions
    empty = table_from_dicts([[], []])
    assert len(empty) == 0 and empty.n_annotations == 2
