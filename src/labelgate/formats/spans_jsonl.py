"""Span JSONL: one JSON object per line, ``{"id", "text", "spans": [{"start", "end", "label"}],
"labels": [...], "meta": {...}}``.

Offsets are half-open ``[start, end)`` character offsets (Unicode code points) into ``text``;
a span may carry a ``score``. ``labels`` are classifications of the whole text, each a string
or ``{"label": ..., "score": ...}``. ``meta`` is kept as the item's metadata. A record without
``id`` is keyed ``doc<record index>``; an optional ``subset`` names the item's split. Other keys
are ignored on reading. Classes are listed in order of first use.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import orjson

from labelgate.core import (
    Annotation,
    Classification,
    Dataset,
    GeometryKind,
    Item,
    ItemKind,
    LabelSchema,
    Region,
    TextSpan,
)
from labelgate.core.errors import FormatError
from labelgate.formats._gc import paused_gc
from labelgate.formats._io import atomic_file, read_text
from labelgate.formats.capabilities import Capabilities, restrict
from labelgate.formats.report import ConversionReport

__all__ = ["CODEC", "SpansJsonlCodec"]

_SUFFIXES = {".jsonl", ".ndjson"}


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _span(d: object, text: str, k: int, path: Path, where: str) -> Region:
    at = f"{where}, spans[{k}]"
    if not isinstance(d, dict):
        raise FormatError(f"a span must be an object with start, end and label, got {d!r}", path=path, where=at)
    start, end, label, score = d.get("start"), d.get("end"), d.get("label"), d.get("score")
    if not (_is_int(start) and _is_int(end)):
        raise FormatError(f"start and end must be integers, got {start!r} and {end!r}", path=path, where=at)
    assert isinstance(start, int) and isinstance(end, int)
    if not 0 <= start < end <= len(text):
        raise FormatError(
            f"span [{start}, {end}) is out of range: need 0 <= start < end <= {len(text)} (the text's length)",
            path=path, where=at,
        )
    if not isinstance(label, str) or not label:
        raise FormatError(f"label must be a non-empty string, got {label!r}", path=path, where=at)
    return Region(TextSpan(start, end), label, score=_score(score, path, at))


def _label(v: object, k: int, path: Path, where: str) -> Region:
    at = f"{where}, labels[{k}]"
    if isinstance(v, str) and v:
        return Region(Classification(), v)
    if not isinstance(v, dict) or not isinstance(v.get("label"), str) or not v["label"]:
        raise FormatError(f"a label must be a non-empty string or {{\"label\", \"score\"}}, got {v!r}", path=path, where=at)
    return Region(Classification(), v["label"], score=_score(v.get("score"), path, at))


def _score(score: object, path: Path, at: str) -> float | None:
    if score is None:
        return None
    if not isinstance(score, (int, float)) or isinstance(score, bool) or not math.isfinite(score):
        raise FormatError(f"score must be a finite number, got {score!r}", path=path, where=at)
    return float(score)


def _record(line: str, index: int, path: Path, where: str) -> tuple[Item, list[Region]]:
    try:
        d = orjson.loads(line)
    except orjson.JSONDecodeError as e:
        raise FormatError(f"malformed JSON: {e.msg}", path=path, where=f"{where}, column {e.colno}") from None
    if not isinstance(d, dict):
        raise FormatError(f"each line must hold a JSON object, got {type(d).__name__}", path=path, where=where)
    text = d.get("text")
    if not isinstance(text, str):
        raise FormatError(f"'text' must be a string, got {text!r}", path=path, where=where)
    rid = d.get("id", f"doc{index}")
    if not (isinstance(rid, str) and rid) and not _is_int(rid):
        raise FormatError(f"'id' must be a non-empty string or an integer, got {rid!r}", path=path, where=where)
    subset = d.get("subset")
    if subset is not None and not (isinstance(subset, str) and subset):
        raise FormatError(f"'subset' must be a non-empty string, got {subset!r}", path=path, where=where)
    meta = d.get("meta", {})
    if not isinstance(meta, dict):
        raise FormatError(f"'meta' must be an object, got {meta!r}", path=path, where=where)
    spans, labels = d.get("spans", []), d.get("labels", [])
    if not isinstance(spans, list):
        raise FormatError(f"'spans' must be a list, got {spans!r}", path=path, where=where)
    if not isinstance(labels, list):
        raise FormatError(f"'labels' must be a list, got {labels!r}", path=path, where=where)
    regions = [_span(s, text, k, path, where) for k, s in enumerate(spans)]
    regions += [_label(v, k, path, where) for k, v in enumerate(labels)]
    return Item(str(rid), ItemKind.TEXT, text=text, subset=subset, metadata=meta), regions


class SpansJsonlCodec:
    name = "spans_jsonl"
    description = "Span JSONL: one {id, text, spans: [{start, end, label}], labels, meta} object per line"
    capabilities = Capabilities(
        geometries=frozenset({GeometryKind.TEXT_SPAN, GeometryKind.CLASSIFICATION}),
        item_kinds=frozenset({ItemKind.TEXT}),
        item_fields=frozenset({"text", "metadata", "subset"}),
        region_fields=frozenset({"score"}),
        keep_unused_classes=False,
        notes="spans are written before whole-text labels; classes are ordered by first use",
    )

    def detect(self, path: Path) -> float:
        if not path.is_file() or path.suffix.lower() not in _SUFFIXES:
            return 0.0
        with path.open("rb") as fh:
            first = fh.readline(1 << 20).strip()
        try:
            d = orjson.loads(first)
        except orjson.JSONDecodeError:
            return 0.0
        if not isinstance(d, dict) or not isinstance(d.get("text"), str):
            return 0.0
        return 0.9 if "spans" in d or "labels" in d else 0.5

    def read(self, path: Path, **options: Any) -> Dataset:
        with paused_gc():
            return self._read(path)

    def _read(self, path: Path) -> Dataset:
        items: list[Item] = []
        annotations: list[Annotation] = []
        seen: dict[str, int] = {}
        labels: dict[str, None] = {}
        index = 0
        for lineno, line in enumerate(read_text(path).split("\n"), 1):
            if not line.strip():
                continue
            where = f"line {lineno}"
            item, regions = _record(line, index, path, where)
            if item.id in seen:
                raise FormatError(f"id {item.id!r} already used on line {seen[item.id]}", path=path, where=where)
            seen[item.id] = lineno
            index += 1
            items.append(item)
            annotations.append(Annotation(item.id, regions))
            for r in regions:
                labels.setdefault(r.label, None)
        return Dataset(items, annotations, LabelSchema.from_names(labels))

    def write(self, dataset: Dataset, path: Path, **options: Any) -> ConversionReport:
        if path.is_dir() or not path.suffix:
            path = path / "data.jsonl"
        report = ConversionReport(self.name)
        ds, report = restrict(dataset, self.capabilities, report)
        lines: list[bytes] = []
        used: dict[str, None] = {}
        n_regions = 0
        for a in ds.annotations:
            it = ds.items[a.item_id]
            spans = [r for r in a.regions if isinstance(r.geometry, TextSpan)]
            tags = [r for r in a.regions if isinstance(r.geometry, Classification)]
            if [*spans, *tags] != list(a.regions):
                report.drop("region.order", it.id, "spans written before labels")
            rec: dict[str, Any] = {"id": it.id, "text": it.text or "", "spans": [_span_dict(r) for r in spans]}
            if tags:
                rec["labels"] = [r.label if r.score is None else {"label": r.label, "score": r.score} for r in tags]
            if it.subset is not None:
                rec["subset"] = it.subset
            if it.metadata:
                rec["meta"] = dict(it.metadata)
            try:
                lines.append(orjson.dumps(rec))
            except TypeError as e:
                raise FormatError(f"item metadata is not JSON-serialisable: {e}", path=path, where=f"item {it.id!r}") from None
            for r in [*spans, *tags]:
                used.setdefault(r.label, None)
            n_regions += len(spans) + len(tags)
        if list(used) != [n for n in ds.schema.names if n in used]:
            report.drop("schema.order", "dataset", "classes ordered by first use")
        with atomic_file(path) as fh:
            fh.write(b"".join(line + b"\n" for line in lines))
        report.path, report.items, report.regions, report.files = str(path), len(ds.items), n_regions, 1
        return report


def _span_dict(r: Region) -> dict[str, Any]:
    g = r.geometry
    assert isinstance(g, TextSpan)
    d: dict[str, Any] = {"start": g.start, "end": g.end, "label": r.label}
    if r.score is not None:
        d["score"] = r.score
    return d


CODEC = SpansJsonlCodec()
