"""The columnar region path gives exactly what the general path gives, and checks the same."""

from __future__ import annotations

import itertools

import numpy as np
import orjson
import pytest

pytest.importorskip("fastapi")

from labelgate.core import Annotation, Box, Dataset, Item, LabelClass, LabelSchema, Polygon, RegionTable
from labelgate.core.errors import InvariantError
from labelgate.core.geometry import GeometryKind
from labelgate.core.schema import AttributeSpec
from labelgate.core.table import NO_ID
from labelgate.server.services.rows import (
    dataset_regions,
    encoded_region_chunks,
    encoded_regions,
    labels_in,
    table_from_dicts,
    table_from_texts,
)

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


def _plain(ds: Dataset) -> Dataset:
    """The same annotations with their regions as objects (not table-backed): the general path."""
    return Dataset(ds.items.values(), [Annotation(a.item_id, a.regions) for a in ds.annotations], SCHEMA)


@pytest.mark.parametrize("seed", [0, 3, 4])
def test_columnar_path_equals_general_path(seed: int) -> None:
    ds = _table_dataset(["a", "b", "c"], seed)
    assert ds.annotations[0].table_rows is not None
    plain = _plain(ds)
    assert plain.annotations[0].table_rows is None
    fast, slow = encoded_regions(ds, SCHEMA), encoded_regions(plain, SCHEMA)
    assert fast == slow  # the same bytes: polygons, attributes, ids, scores and crowd flags included
    assert slow == [orjson.dumps(regs).decode() for regs in dataset_regions(plain, SCHEMA)]
    assert '"holes"' in fast[0] and '"attributes":{"size":"l"}' in fast[1] and '"crowd":true' in "".join(fast)
    assert sorted(labels_in(ds)) == sorted(labels_in(plain)) == ["a", "b", "c"]
    assert any(isinstance(a.regions[0].geometry, Box) for a in ds.annotations)


def test_numpy_scalars_in_regions_encode_like_floats() -> None:
    """Readers may leave numpy scalars in Region fields (the demo's scores did): stored as plain JSON numbers."""
    from labelgate.core import Region

    items = [Item("i0", width=10, height=10)]
    with_np = Dataset(items, [Annotation("i0", (Region(Box(1.0, 2.0, 3.0, 4.0), "a", score=np.float64(0.25)),))], SCHEMA)
    plain = Dataset(items, [Annotation("i0", (Region(Box(1.0, 2.0, 3.0, 4.0), "a", score=0.25),))], SCHEMA)
    assert encoded_regions(with_np, SCHEMA) == encoded_regions(plain, SCHEMA)
    assert orjson.loads(encoded_regions(with_np, SCHEMA)[0])[0]["score"] == 0.25


def test_columnar_floats_print_as_the_general_path_prints_them() -> None:
    """Coordinates and scores at the edges of float printing (exponents, -0.0, subnormals)."""
    edge = [0.0, -0.0, 1e-7, 1e-5, 0.00025, 1e15, 1e16, 1.2345678901234568e17, 5e-324, 1 / 3, 9999999999999998.0]
    rng = np.random.default_rng(7)
    values = np.array(edge + (rng.standard_normal(400) * 10.0 ** rng.integers(-20, 20, 400)).tolist())
    x1 = np.sort(values)
    n = len(x1)
    bbox = np.column_stack([x1, x1, x1 + np.abs(values), x1 + np.abs(values)])
    score = np.abs(values) / (1 + np.abs(values))
    table = RegionTable(labels=["a", "b"], label=np.arange(n) % 2, kind=np.zeros(n, dtype=np.uint8), bbox=bbox,
                        offsets=np.array([0, 5, 5, n]), score=score, ids=np.arange(n) - 3, crowd=np.arange(n) % 3 == 0)
    items = [Item(f"i{i}", width=10, height=10) for i in range(3)]
    ds = Dataset(items, [Annotation.from_table(f"i{i}", table, table.rows_of(i)) for i in range(3)], SCHEMA)
    fast = encoded_regions(ds, SCHEMA)
    assert fast[1] == "[]"
    assert fast == encoded_regions(_plain(ds), SCHEMA)
    back = table_from_dicts([orjson.loads(t) for t in fast])  # all plain boxes: the column-by-column path
    assert back.geometry == [None] * n
    for i, a in enumerate(ds.annotations):
        assert back.regions(back.rows_of(i)) == a.regions


def test_both_paths_name_the_unknown_label() -> None:
    ds = _table_dataset(["a", "zebra"], seed=1)
    messages = []
    for d in (ds, _plain(ds)):
        with pytest.raises(InvariantError, match="label 'zebra' is not in the project's label schema") as e:
            encoded_regions(d, SCHEMA)
        messages.append(str(e.value))
    assert messages[0] == messages[1]


def test_table_from_stored_dicts_gives_back_the_same_regions() -> None:
    ds = _table_dataset(["a", "b", "c"], seed=2)
    stored = dataset_regions(ds, SCHEMA)
    table = table_from_dicts(stored)
    for i, a in enumerate(ds.annotations):
        assert table.regions(table.rows_of(i)) == a.regions
    empty = table_from_dicts([[], []])
    assert len(empty) == 0 and empty.n_annotations == 2


def _same_table(a: RegionTable, b: RegionTable) -> None:
    assert a.labels == b.labels and a.geometry == b.geometry and a.extra == b.extra
    for col in ("label", "kind", "bbox", "offsets", "score", "ids", "crowd"):
        x, y = getattr(a, col), getattr(b, col)
        assert x.dtype == y.dtype and np.array_equal(x, y, equal_nan=col in ("bbox", "score")), col


def _jsonb_text(regions: list) -> str:
    """Regions as PostgreSQL prints a jsonb value: spaces after separators, keys by length then bytes."""
    import json

    def order(v: object) -> object:
        if isinstance(v, dict):
            return {k: order(v[k]) for k in sorted(v, key=lambda k: (len(k.encode()), k.encode()))}
        if isinstance(v, list):
            return [order(x) for x in v]
        return v

    return json.dumps(order(regions), separators=(", ", ": "), ensure_ascii=False)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_table_from_stored_texts_equals_the_dict_path(seed: int) -> None:
    """Typed decoding of plain boxes (and its fall-back for anything else) gives the table the dict path gives."""
    rng = np.random.default_rng(seed)
    stored = [[{"geometry": {"type": "box", "x1": float(x), "y1": 2, "x2": float(x) + 1.5, "y2": 7.25}, "label": f"L{j % 3}é"}
               | ({"score": float(s)} if s < 0.6 else {}) | ({"id": j} if j % 4 == 0 else {}) | ({"crowd": True} if j % 5 == 0 else {})
               for j, (x, s) in enumerate(zip(rng.uniform(-50, 50, k), rng.random(k), strict=True))]
              for k in rng.integers(0, 6, 40)]
    texts = [orjson.dumps(regs).decode() for regs in stored]
    _same_table(table_from_texts(texts), table_from_dicts(stored))
    _same_table(table_from_texts([_jsonb_text(r) for r in stored]), table_from_dicts(stored))  # as PostgreSQL gives them
    groups = [2, 0, 1, 7] + [1] * 30
    bounds = np.cumsum([0, *groups]).tolist()
    merged = [[r for regs in stored[a:b] for r in regs] for a, b in itertools.pairwise(bounds)]
    _same_table(table_from_texts(texts, groups), table_from_dicts(merged))
    # anything but plain boxes (a polygon, attributes, a null score) goes the dict way, merged the same
    ds = _table_dataset(["a", "b", "c"], seed)
    others = [orjson.dumps(regs).decode() for regs in dataset_regions(ds, SCHEMA)]
    _same_table(table_from_texts(texts + others), table_from_dicts(stored + [orjson.loads(t) for t in others]))
    _same_table(table_from_texts(others[:4], [3, 1]), table_from_dicts([[r for t in others[:3] for r in orjson.loads(t)],
                                                                         orjson.loads(others[3])]))
    nulls = ['[{"geometry":{"type":"box","x1":0,"y1":0,"x2":1,"y2":1},"label":"a","score":null}]']
    _same_table(table_from_texts(nulls), table_from_dicts([orjson.loads(nulls[0])]))
    assert len(table_from_texts([])) == 0 and table_from_texts(["[]", "[]"]).n_annotations == 2


@pytest.mark.parametrize("ids", ["all", "none", "some"])
@pytest.mark.parametrize("scores", ["all", "none", "some"])
@pytest.mark.parametrize("crowd", ["all", "none", "some"])
def test_optional_keys_every_box_has_or_none_has_encode_as_the_general_path(ids: str, scores: str, crowd: str) -> None:
    n = 12
    some = np.arange(n) % 3 == 0
    has = {"all": np.ones(n, dtype=bool), "none": np.zeros(n, dtype=bool), "some": some}
    bbox = np.column_stack([np.arange(n) * 1.5, np.arange(n) * 0.1, np.arange(n) * 1.5 + 2, np.arange(n) * 0.1 + 3])
    table = RegionTable(labels=["a", "b"], label=np.arange(n) % 2, kind=np.zeros(n, dtype=np.uint8), bbox=bbox,
                        offsets=np.array([0, 4, 4, n]), score=np.where(has[scores], np.arange(n) / 7, np.nan),
                        ids=np.where(has[ids], np.arange(n) * 5, NO_ID), crowd=has[crowd].copy())
    items = [Item(f"i{i}", width=10, height=10) for i in range(3)]
    ds = Dataset(items, [Annotation.from_table(f"i{i}", table, table.rows_of(i)) for i in range(3)], SCHEMA)
    fast = encoded_regions(ds, SCHEMA)
    assert fast == encoded_regions(_plain(ds), SCHEMA)
    assert fast[0].count('"crowd":true') == int(has[crowd][:4].sum()) and fast[0].count('"id":') == int(has[ids][:4].sum())


@pytest.mark.parametrize("size", [1, 4, 7, 30, 1000])
def test_region_chunks_are_the_regions_in_order(size: int) -> None:
    ds = _table_dataset(["a", "b", "c"], seed=5)
    chunks = list(encoded_region_chunks(ds, SCHEMA, size))
    assert [len(c) for c in chunks[:-1]] == [size] * (len(chunks) - 1) and 0 < len(chunks[-1]) <= size
    assert [t for c in chunks for t in c] == encoded_regions(_plain(ds), SCHEMA)
    assert list(encoded_region_chunks(_plain(ds), SCHEMA, size)) == [encoded_regions(_plain(ds), SCHEMA)]  # general path: one


def test_region_chunks_check_every_label_before_the_first_chunk() -> None:
    ds = _table_dataset(["a", "zebra"], seed=1)
    with pytest.raises(InvariantError, match="label 'zebra'"):
        encoded_region_chunks(ds, SCHEMA, 5)  # raised here, not on iteration: nothing stored yet
