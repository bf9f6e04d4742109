"""Agreement on text spans (named entities): span F1 and token-level kappa.

A span is ``(start, end, label)`` with ``end`` exclusive, in token or character offsets.

- **Exact** span F1: a span agrees when the other side has the same start, end and label.
- **Overlap** span F1: spans of the same label that overlap are matched one-to-one (Hungarian,
  maximising total interval IoU); each matched pair counts as one agreement.
- Both are symmetric: ``F1 = 2 * agreements / (|a| + |b|)``.
- **Token-level kappa**: every token (or character) gets its span's label or ``O``; Cohen's
  kappa over all tokens of all documents.

Tag sequences are decoded by :func:`decode_tags` (IOB1, IOB2, IOE1, IOE2, IOBES/BILOU):

- ``mode="lenient"`` follows the conlleval rules that seqeval uses by default: an ``I-X`` after
  ``O`` or after another type starts an entity; a change of type ends one.
- ``mode="strict"`` keeps only well-formed chunks of the named scheme (IOB2: ``B-X I-X*``;
  IOBES: ``B-X I-X* E-X`` or ``S-X``); tokens of an ill-formed chunk are dropped, as seqeval's
  ``mode="strict"`` does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from labelgate.core import Dataset, QualityError, TextSpan
from labelgate.quality.matching import match
from labelgate.quality.spatial import cohen_kappa

__all__ = ["Span", "SpanAgreement", "decode_tags", "span_agreement", "spans_by_annotator", "spans_of"]

Span = tuple[int, int, str]
Mode = Literal["lenient", "strict"]
Scheme = Literal["IOB1", "IOB2", "IOE1", "IOE2", "IOBES", "BILOU"]


def _split(tag: str) -> tuple[str, str]:
    if tag in ("O", ""):
        return "O", ""
    prefix, sep, kind = tag.partition("-")
    if not sep:
        return prefix, ""
    if prefix not in ("B", "I", "E", "S", "L", "U"):
        raise QualityError(f"tag {tag!r}: prefix {prefix!r} is not one of B I E S L U")
    return {"L": "E", "U": "S"}.get(prefix, prefix), kind


def _ends(prev: str, tag: str, prev_kind: str, kind: str) -> bool:
    if prev in ("E", "S"):
        return True
    if prev == "B" and tag in ("B", "S", "O"):
        return True
    if prev == "I" and tag in ("B", "S", "O"):
        return True
    return prev != "O" and prev_kind != kind


def _starts(prev: str, tag: str, prev_kind: str, kind: str) -> bool:
    if tag in ("B", "S"):
        return True
    if prev in ("E", "S", "O") and tag in ("E", "I"):
        return True
    return tag != "O" and prev_kind != kind


def _lenient(tags: Sequence[str]) -> list[Span]:
    out: list[Span] = []
    prev, prev_kind, begin = "O", "", 0
    for i, t in enumerate([*tags, "O"]):
        tag, kind = _split(t)
        if _ends(prev, tag, prev_kind, kind) and prev != "O":
            out.append((begin, i, prev_kind))
        if _starts(prev, tag, prev_kind, kind):
            begin = i
        prev, prev_kind = tag, kind
    return out


_STRICT = {
    "IOB2": ({"B"}, {"I"}, set()),
    "IOBES": ({"B"}, {"I"}, {"E"}),
    "BILOU": ({"B"}, {"I"}, {"E"}),
}


def _strict(tags: Sequence[str], scheme: Scheme) -> list[Span]:
    if scheme not in _STRICT:
        raise QualityError(f"strict decoding supports IOB2, IOBES and BILOU, not {scheme}")
    first, inner, last = _STRICT[scheme]
    parsed = [_split(t) for t in tags]
    out: list[Span] = []
    i = 0
    while i < len(parsed):
        tag, kind = parsed[i]
        if tag == "S" and last:
            out.append((i, i + 1, kind))
            i += 1
            continue
        if tag not in first:
            i += 1
            continue
        j = i + 1
        while j < len(parsed) and parsed[j][0] in inner and parsed[j][1] == kind:
            j += 1
        if last:
            if j < len(parsed) and parsed[j] == ("E", kind):
                out.append((i, j + 1, kind))
                i = j + 1
                continue
            i = j
            continue
        out.append((i, j, kind))
        i = j
    return out


def decode_tags(tags: Sequence[str], *, scheme: Scheme = "IOB2", mode: Mode = "lenient") -> list[Span]:
    """Spans ``(start, end, label)`` in token offsets from one sequence of tags."""
    if mode == "lenient":
        return _lenient(tags)
    if mode == "strict":
        return _strict(tags, scheme)
    raise QualityError(f"unknown decoding mode {mode!r}; expected 'lenient' or 'strict'")


def spans_of(dataset: Dataset) -> dict[str, list[Span]]:
    """Character spans of every item, all annotations pooled: ``{item_id: spans}``."""
    out: dict[str, list[Span]] = {k: [] for k in dataset.items}
    for ann in dataset.annotations:
        out[ann.item_id].extend((r.geometry.start, r.geometry.end, r.label)
                                for r in ann.regions if isinstance(r.geometry, TextSpan))
    return out


def spans_by_annotator(dataset: Dataset) -> dict[str, dict[str, list[Span]]]:
    """``{annotator: {item_id: spans}}`` keyed by ``provenance.author`` (else model, else "unknown")."""
    out: dict[str, dict[str, list[Span]]] = {}
    for ann in dataset.annotations:
        p = ann.provenance
        doc = out.setdefault(p.author or p.model or "unknown", {}).setdefault(ann.item_id, [])
        doc.extend((r.geometry.start, r.geometry.end, r.label) for r in ann.regions if isinstance(r.geometry, TextSpan))
    return out


@dataclass(frozen=True)
class SpanAgreement:
    """Span agreement of two annotators over the documents both have (duplicate spans of one
    annotator count once)."""

    documents: int
    n_a: int
    n_b: int
    exact: int
    overlap: int
    f1_exact: float
    f1_overlap: float
    kappa: float | None

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("documents", "n_a", "n_b", "exact", "overlap", "f1_exact", "f1_overlap", "kappa")}


def _overlap_matches(a: Sequence[Span], b: Sequence[Span]) -> int:
    if not a or not b:
        return 0
    sa = np.asarray([(s, e) for s, e, _ in a], dtype=np.float64)
    sb = np.asarray([(s, e) for s, e, _ in b], dtype=np.float64)
    inter = np.clip(np.minimum(sa[:, None, 1], sb[None, :, 1]) - np.maximum(sa[:, None, 0], sb[None, :, 0]), 0, None)
    union = (sa[:, 1] - sa[:, 0])[:, None] + (sb[:, 1] - sb[:, 0])[None, :] - inter
    m = match(inter / union, 0.0, labels_a=[x[2] for x in a], labels_b=[x[2] for x in b], scheme="label")
    return len(m)


def _token_labels(spans: Sequence[Span], n: int, where: str) -> list[str]:
    out = ["O"] * n
    for s, e, label in spans:
        if e > n:
            raise QualityError(f"{where}: span [{s}, {e}) runs past the document's {n} tokens")
        if any(x != "O" for x in out[s:e]):
            raise QualityError(f"{where}: span [{s}, {e}) {label!r} overlaps another span; "
                               "token-level kappa needs non-overlapping spans")
        out[s:e] = [label] * (e - s)
    return out


def span_agreement(a: Mapping[str, Sequence[Span]], b: Mapping[str, Sequence[Span]],
                   lengths: Mapping[str, int] | None = None) -> SpanAgreement:
    """Exact and overlap span F1 of two annotators, and token-level kappa when ``lengths``
    (tokens, or characters, per document) are given."""
    docs = [d for d in a if d in b]
    sa = {d: sorted(set(a[d])) for d in docs}
    sb = {d: sorted(set(b[d])) for d in docs}
    n_a = sum(len(sa[d]) for d in docs)
    n_b = sum(len(sb[d]) for d in docs)
    exact = sum(len(set(sa[d]) & set(sb[d])) for d in docs)
    overlap = sum(_overlap_matches(sa[d], sb[d]) for d in docs)
    kappa = None
    if lengths is not None:
        ta: list[str] = []
        tb: list[str] = []
        for d in docs:
            if d not in lengths:
                raise QualityError(f"document {d!r}: no length given for token-level kappa")
            ta += _token_labels(sa[d], lengths[d], f"document {d!r}, annotator a")
            tb += _token_labels(sb[d], lengths[d], f"document {d!r}, annotator b")
        names = sorted(set(ta) | set(tb))
        idx = {n: i for i, n in enumerate(names)}
        conf = np.zeros((len(names), len(names)), dtype=np.int64)
        np.add.at(conf, ([idx[x] for x in ta], [idx[x] for x in tb]), 1)
        kappa = cohen_kappa(conf) if ta else None
    denom = n_a + n_b
    return SpanAgreement(len(docs), n_a, n_b, exact, overlap,
                         2 * exact / denom if denom else 1.0, 2 * overlap / denom if denom else 1.0, kappa)
