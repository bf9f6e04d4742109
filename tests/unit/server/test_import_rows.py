"""The import's bulk rows: item and event JSON built from templates is what orjson gives the dicts."""

from __future__ import annotations

import numpy as np
import orjson
import pytest

pytest.importorskip("fastapi")

from labelgate.core import Dataset, Item, ItemKind, LabelClass, LabelSchema
from labelgate.formats.native import item_to_dict
from labelgate.server.services import imports

ITEMS = [
    Item("a", media="a.jpg", width=640, height=480, number=1),
    Item("dir/b \"q\" \\ é", media="dir/b \"q\" \\ é.png", width=1, height=2, number=2**40, subset="train"),
    Item("c", media="", width=3, height=3, number=0, subset=""),
    Item("d"),
    Item("e", media="e.jpg"),
    Item("f", media="f.jpg", width=3, height=4),
    Item("g", media="g.jpg", width=3, height=4, number=7, metadata={"k": [1, np.float64(0.5)]}),
    Item("h", kind=ItemKind.TEXT, text="some text", number=3),
    Item("i", kind=ItemKind.VIDEO_FRAME, video="v.mp4", frame=0, media="v/0.jpg", width=2, height=2, number=9),
    Item("j", media="j.jpg", width=3, height=4, number=True),  # a bool is not a number here
]


def test_item_texts_are_the_native_dicts_as_orjson_writes_them() -> None:
    ds = Dataset(ITEMS, [], LabelSchema((LabelClass("x"),)))
    keys = [it.id for it in ITEMS]
    expected = [orjson.dumps(item_to_dict(it), option=orjson.OPT_SERIALIZE_NUMPY).decode() for it in ITEMS]
    assert imports._item_texts(ds, keys) == expected
    assert imports._item_texts(ds, keys[::-1]) == expected[::-1]


@pytest.mark.parametrize(("import_id", "new", "n"), [(1, True, 0), (123456789, False, 10**6)])
def test_imported_event_data_is_what_orjson_writes(import_id: int, new: bool, n: int) -> None:
    text = imports._IMPORTED % (import_id, "true" if new else "false", n)
    assert text == orjson.dumps({"import": import_id, "new": new, "annotations": n}).decode()
