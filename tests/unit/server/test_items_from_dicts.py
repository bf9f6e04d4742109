"""items_from_dicts (the export's items a column at a time) against item_from_dict, item by item."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from labelgate.core import Item
from labelgate.core.errors import InvariantError
from labelgate.core.items import ItemKind
from labelgate.formats.native import item_from_dict, item_to_dict
from labelgate.server.services.rows import _ITEM_KEYS, items_from_dicts


def _images() -> list[dict[str, Any]]:
    return [
        {"id": "a", "kind": "image", "media": "a.jpg", "width": 640, "height": 480, "number": 1},
        {"id": "b"},  # kind, size, metadata all defaulted
        {"id": "c", "media": "x/c.png", "width": 1, "height": 2, "subset": "val", "metadata": {"k": [1, 2]}},
        {"id": "d", "kind": "image", "width": None, "height": None, "number": 7, "subset": None, "metadata": {}},
    ]


def _same(got: list[Item], want: list[Item]) -> None:
    assert got == want
    for g, w in zip(got, want, strict=True):
        assert type(g) is Item and g.kind is w.kind
        assert [type(getattr(g, f.name)) for f in dataclasses.fields(Item)] == [type(getattr(w, f.name)) for f in dataclasses.fields(Item)]
        assert item_to_dict(g) == item_to_dict(w)


def test_images_equal_item_from_dict() -> None:
    dicts = _images()
    got = items_from_dicts(dicts)
    _same(got, [item_from_dict(d) for d in dicts])
    assert got[1].metadata == {} and got[1].metadata is not got[3].metadata  # fresh defaults, as item_from_dict's
    assert items_from_dicts([]) == []


def test_other_kinds_take_item_from_dict() -> None:
    dicts = [*_images(), {"id": "t", "kind": "text", "text": "hello"},
             {"id": "f", "kind": "video_frame", "video": "v", "frame": 3, "media": "v.mp4"}]
    got = items_from_dicts(dicts)
    _same(got, [item_from_dict(d) for d in dicts])
    assert got[-2].kind is ItemKind.TEXT and got[-1].kind is ItemKind.VIDEO_FRAME


@pytest.mark.parametrize("bad", [
    {"id": ""}, {"id": 5}, {"id": "x", "width": 0, "height": 4}, {"id": "x", "width": 4},
    {"id": "x", "width": True, "height": 4}, {"id": "x", "width": 4.0, "height": 4}, {"id": "x", "kind": "text"},
    {"id": "x", "kind": "nonsense"},
])
def test_bad_items_fail_as_item_from_dict_does(bad: dict[str, Any]) -> None:
    with pytest.raises((InvariantError, ValueError)) as want:
        item_from_dict(bad)
    with pytest.raises(type(want.value), match=str(want.value).replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        items_from_dicts([*_images(), bad])


def test_every_item_field_is_filled() -> None:
    assert {f.name for f in dataclasses.fields(Item)} == {*_ITEM_KEYS, "kind", "metadata"}
    assert set(Item.__slots__) == {f.name for f in dataclasses.fields(Item)}
