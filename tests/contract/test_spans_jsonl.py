"""The span JSONL codec: exact round trips of text items with spans and labels, the loss report,
and bad input named by line, column and span index."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from labelgate import formats
from labelgate.core import (
    Annotation,
    Box,
    Classification,
    Dataset,
    FormatError,
    GeometryKind,
    Item,
    ItemKind,
    LabelClass,
    LabelSchema,
    Provenance,
    Region,
    Source,
    TextSpan,
)
from tests.strategies import datasets

CODEC = formats.get_codec("spans_jsonl")
CAPS = CODEC.capabilities


def canonical(ds: Dataset) -> tuple[Dataset, set[str]]:
    """What the format keeps of an already restricted dataset beyond ``restrict``: spans before
    labels in each item, classes in order of first use; and the report fields that names."""
    changed: set[str] = set()
    anns = []
    for a in ds.annotations:
        regions = [r for r in a.regions if isinstance(r.geometry, TextSpan)]
        regions += [r for r in a.regions if isinstance(r.geometry, Classification)]
        if regions != list(a.regions):
            changed.add("region.order")
        anns.append(Annotation(a.item_id, regions))
    used = list(dict.fromkeys(r.label for a in anns for r in a.regions))
    if used != ds.schema.names:
        changed.add("schema.order")
    return Dataset(ds.items.values(), anns, LabelSchema.from_names(used)), changed


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ds=datasets(CAPS, kinds=[GeometryKind.TEXT_SPAN, GeometryKind.CLASSIFICATION]))
def test_round_trip_is_exact(tmp_path: Path, ds: Dataset) -> None:
    out = tmp_path / "ds.jsonl"
    report = formats.write(ds, out, "spans_jsonl")
    restricted, restrict_report = formats.restrict(ds, CAPS)
    expected, changed = canonical(restricted)
    assert report.dropped_fields == restrict_report.dropped_fields | changed, report.summary()
    assert report.regions == expected.region_count
    assert formats.read(out) == expected
    assert formats.detect(out) == "spans_jsonl"


def test_report_names_every_dropped_field(tmp_path: Path) -> None:
    ds = Dataset(
        [
            Item("d1", ItemKind.TEXT, text="Hello world", subset="val", number=7, media="a.txt", metadata={"lang": "en"}),
            Item("img", width=4, height=4),
        ],
        [
            Annotation("d1", [
                Region(Classification(), "greeting"),
                Region(TextSpan(0, 5), "word", id=4, attributes={"a": "b"}, score=0.25),
            ], Provenance(Source.HUMAN, author="ann")),
            Annotation("d1", [Region(TextSpan(6, 11), "word")]),
            Annotation("img", [Region(Box(0, 0, 1, 1), "car")]),
        ],
        LabelSchema((LabelClass("greeting"), LabelClass("word", id=3, color="#fff"), LabelClass("never"))),
    )
    report = formats.write(ds, tmp_path / "x.jsonl", "spans_jsonl")
    assert report.dropped_fields == {
        "item.kind.image", "item.media", "item.number", "annotation.multiple", "annotation.provenance",
        "region.id", "region.attributes", "region.order", "schema.id", "schema.color", "schema.unused_class",
        "schema.order",
    }, report.summary()
    back = formats.read(tmp_path / "x.jsonl")
    assert (tmp_path / "x.jsonl").read_text(encoding="utf-8").splitlines() == [
        '{"id":"d1","text":"Hello world","spans":[{"start":0,"end":5,"label":"word","score":0.25},'
        '{"start":6,"end":11,"label":"word"}],"labels":["greeting"],"subset":"val","meta":{"lang":"en"}}'
    ]
    assert back.items["d1"].metadata == {"lang": "en"}
    assert back.items["d1"].subset == "val"
    assert back.schema.names == ["word", "greeting"]


def test_records_without_ids_and_with_foreign_keys(tmp_path: Path) -> None:
    p = tmp_path / "prodigy.jsonl"
    p.write_text(
        '{"text": "a b", "spans": [{"start": 2, "end": 3, "label": "X", "token_start": 1}], "_input_hash": 1}\n'
        "\n"
        '{"id": 5, "text": "\u00e9t\u00e9 \U0001f600", "labels": ["pos", {"label": "neg", "score": 0.5}]}\n',
        encoding="utf-8",
    )
    ds = formats.read(p, "spans_jsonl")
    assert list(ds.items) == ["doc0", "5"]
    assert ds.annotations[0].regions == (Region(TextSpan(2, 3), "X"),)
    assert ds.annotations[1].regions == (Region(Classification(), "pos"), Region(Classification(), "neg", score=0.5))
    assert ds.items["5"].text == "\u00e9t\u00e9 \U0001f600"


@pytest.mark.parametrize(
    ("content", "where", "words"),
    [
        (b'{"id": "a", "text": "ok"}\n{"id": "b", "text": "caf\xe9"}\n', "line 2, column 25", "not valid UTF-8"),
        (b'{"id": "a", "text": "ok"}\n\n{"id": "b", "text": \n', "line 3, column 21", "malformed JSON"),
        (b'{"id": "a", "text": "abc", "spans": [{"start": 0, "end": 1, "label": "X"}, {"start": 1, "end": 4, "label": "X"}]}\n',
         "line 1, spans[1]", "span [1, 4) is out of range: need 0 <= start < end <= 3"),
        (b'{"id": "a", "text": "abc", "spans": [{"start": 2, "end": 2, "label": "X"}]}\n', "line 1, spans[0]", "out of range"),
        (b'{"id": "a", "text": "abc", "spans": [{"start": true, "end": 2, "label": "X"}]}\n', "line 1, spans[0]", "integers"),
        (b'{"id": "a", "text": "abc", "spans": [{"start": 0, "end": 2}]}\n', "line 1, spans[0]", "label must be"),
        (b'{"id": "a", "text": "abc", "spans": [{"start": 0, "end": 2, "label": "X", "score": "hi"}]}\n', "line 1, spans[0]", "score"),
        (b'{"id": "a", "text": 3}\n', "line 1", "'text' must be a string"),
        (b'{"id": "a", "text": "x", "subset": 1}\n', "line 1", "'subset' must be a non-empty string"),
        (b'[1, 2]\n', "line 1", "must hold a JSON object"),
        (b'{"id": "a", "text": "x"}\n{"id": "a", "text": "y"}\n', "line 2", "id 'a' already used on line 1"),
        (b'{"id": "a", "text": "x", "labels": "pos"}\n', "line 1", "'labels' must be a list"),
        (b'{"id": "a", "text": "x", "labels": ["pos", {"score": 1}]}\n', "line 1, labels[1]", "a label must be"),
    ],
)
def test_bad_input_names_the_place(tmp_path: Path, content: bytes, where: str, words: str) -> None:
    p = tmp_path / "bad.jsonl"
    p.write_bytes(content)
    with pytest.raises(FormatError) as e:
        formats.read(p, "spans_jsonl")
    assert str(p) in str(e.value)
    assert e.value.where == where, str(e.value)
    assert words in str(e.value)


def test_unserialisable_metadata_leaves_no_output(tmp_path: Path) -> None:
    ds = Dataset([Item("a", ItemKind.TEXT, text="x", metadata={"when": object()})])
    with pytest.raises(FormatError, match="item 'a'"):
        formats.write(ds, tmp_path / "out.jsonl", "spans_jsonl")
    assert not (tmp_path / "out.jsonl").exists()
