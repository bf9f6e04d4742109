"""The native format round-trips everything in the model."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from labelgate import formats
from labelgate.core import (
    Annotation,
    Box,
    Dataset,
    FormatError,
    GeometryKind,
    Item,
    LabelSchema,
    Provenance,
    Region,
    Source,
    Track,
    TrackShape,
)
from tests.strategies import datasets

CODEC = formats.get_codec("native")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ds=datasets(CODEC.capabilities, kinds=[k for k in GeometryKind if k not in (GeometryKind.TEXT_SPAN, GeometryKind.CLASSIFICATION)]))
def test_round_trip_is_exact(tmp_path: Path, ds: Dataset) -> None:
    out = tmp_path / "ds.json"
    report = formats.write(ds, out, "native")
    assert report.lossless
    assert formats.read(out) == ds


def test_provenance_tracks_and_metadata_survive(tmp_path: Path) -> None:
    ds = Dataset(
        [Item("v_0", "video_frame", video="v", frame=0, width=4, height=4)],
        [Annotation("v_0", [Region(Box(0, 0, 1, 1), "car", track_id=3)],
                    Provenance(Source.MODEL, "bot", "yolo", "8.1", datetime(2026, 1, 2, tzinfo=UTC), 1.5), id="a1")],
        LabelSchema.from_names(["car"]),
        [Track(3, "car", (TrackShape(0, Box(0, 0, 1, 1)), TrackShape(5, Box(1, 1, 2, 2), outside=True)), video="v")],
        {"source": "test"},
    )
    formats.write(ds, tmp_path / "x.json", "native")
    assert formats.read(tmp_path / "x.json", "native") == ds


@pytest.mark.parametrize(
    ("content", "where"),
    [
        (b'{"labelgate": 1, "items": [{"id": "a"}], "annotations": [{"item": "a", "regions": [{"label": "x"}]}]}', "annotations[0]"),
        (b'{"labelgate": 1, "items": [{"id": "a", "width": -3, "height": 2}]}', "items[0]"),
        (b'{"labelgate": 1, "items": [', "line 1"),
        (b'{"labelgate": 2}', None),
    ],
)
def test_bad_input_names_the_place(tmp_path: Path, content: bytes, where: str | None) -> None:
    p = tmp_path / "bad.json"
    p.write_bytes(content)
    with pytest.raises(FormatError) as e:
        formats.read(p, "native")
    assert str(p) in str(e.value)
    if where:
        assert where in str(e.value)
