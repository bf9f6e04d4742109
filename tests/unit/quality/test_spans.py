"""Span agreement and tag decoding, with seqeval as the decoding oracle."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from seqeval.metrics.sequence_labeling import get_entities
from seqeval.scheme import BILOU, IOB2, IOBES, Entities
from sklearn.metrics import cohen_kappa_score

from labelgate.core import Annotation, Dataset, Item, ItemKind, Provenance, QualityError, Region, TextSpan
from labelgate.quality.spans import decode_tags, span_agreement, spans_by_annotator, spans_of

ANY_TAGS = ["O", "B-A", "I-A", "B-B", "I-B", "E-A", "S-B", "E-B", "I-C"]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.sampled_from(ANY_TAGS), max_size=12))
def test_lenient_decoding_equals_seqeval_default(tags: list[str]) -> None:
    want = sorted((s, e + 1, t) for t, s, e in get_entities(tags))
    assert sorted(decode_tags(tags)) == want


@pytest.mark.parametrize(("scheme", "cls", "tags"), [
    ("IOB2", IOB2, ["O", "B-A", "I-A", "B-B", "I-B"]),
    ("IOBES", IOBES, ["O", "B-A", "I-A", "B-B", "I-B", "E-A", "S-B", "E-B", "S-A"]),
    ("BILOU", BILOU, ["O", "B-A", "I-A", "B-B", "I-B", "L-A", "U-B", "L-B", "U-A"]),
])
def test_strict_decoding_equals_seqeval_strict(scheme: str, cls: type, tags: list[str]) -> None:
    rng = np.random.default_rng(0)
    for _ in range(300):
        seq = [str(t) for t in rng.choice(tags, rng.integers(0, 12))]
        want = sorted((e.start, e.end, e.tag) for e in Entities([seq], cls).entities[0])
        assert sorted(decode_tags(seq, scheme=scheme, mode="strict")) == want, seq  # type: ignore[arg-type]


def test_decoding_errors() -> None:
    with pytest.raises(QualityError, match="prefix"):
        decode_tags(["X-A"])
    with pytest.raises(QualityError, match="strict decoding"):
        decode_tags(["B-A"], scheme="IOB1", mode="strict")
    with pytest.raises(QualityError, match="mode"):
        decode_tags(["B-A"], mode="loose")  # type: ignore[arg-type]


def test_exact_and_overlap_f1_and_token_kappa() -> None:
    a = {"d1": [(0, 2, "PER"), (5, 7, "LOC"), (9, 10, "ORG")], "d2": [(1, 3, "PER")]}
    b = {"d1": [(0, 2, "PER"), (5, 8, "LOC"), (9, 10, "PER")], "d2": [], "d3": [(0, 1, "X")]}
    r = span_agreement(a, b, lengths={"d1": 10, "d2": 4})
    assert (r.documents, r.n_a, r.n_b, r.exact, r.overlap) == (2, 4, 3, 1, 2)
    assert r.f1_exact == pytest.approx(2 / 7) and r.f1_overlap == pytest.approx(4 / 7)
    ta = ["PER", "PER", "O", "O", "O", "LOC", "LOC", "O", "O", "ORG", "O", "PER", "PER", "O"]
    tb = ["PER", "PER", "O", "O", "O", "LOC", "LOC", "LOC", "O", "PER"] + ["O"] * 4
    assert r.kappa == pytest.approx(cohen_kappa_score(ta, tb))
    rev = span_agreement(b, a, lengths={"d1": 10, "d2": 4})
    assert (rev.f1_exact, rev.f1_overlap, rev.kappa) == pytest.approx((r.f1_exact, r.f1_overlap, r.kappa))


def test_perfect_and_renamed() -> None:
    a = {"d": [(0, 2, "PER"), (3, 4, "LOC")]}
    r = span_agreement(a, a, lengths={"d": 5})
    assert (r.f1_exact, r.f1_overlap, r.kappa) == (1.0, 1.0, 1.0)
    ren = {"d": [(0, 2, "x"), (3, 4, "y")]}
    b = {"d": [(0, 2, "LOC"), (3, 5, "LOC")]}
    rb = {"d": [(0, 2, "y"), (3, 5, "y")]}
    assert span_agreement(a, b, {"d": 5}) == span_agreement(ren, rb, {"d": 5})


def test_token_kappa_refuses_overlapping_spans_and_missing_lengths() -> None:
    with pytest.raises(QualityError, match="overlaps"):
        span_agreement({"d": [(0, 2, "A"), (1, 3, "B")]}, {"d": []}, lengths={"d": 4})
    with pytest.raises(QualityError, match="no length"):
        span_agreement({"d": []}, {"d": []}, lengths={})
    with pytest.raises(QualityError, match="runs past"):
        span_agreement({"d": [(0, 9, "A")]}, {"d": []}, lengths={"d": 4})


def test_spans_from_a_dataset() -> None:
    items = [Item("t", kind=ItemKind.TEXT, text="Ada met Bob")]
    anns = [Annotation("t", [Region(TextSpan(0, 3), "PER")], Provenance(author="x")),
            Annotation("t", [Region(TextSpan(8, 11), "PER")], Provenance(author="y"))]
    ds = Dataset(items, anns)
    assert spans_of(ds) == {"t": [(0, 3, "PER"), (8, 11, "PER")]}
    per = spans_by_annotator(ds)
    r = span_agreement(per["x"], per["y"], lengths={"t": 11})
    assert (r.exact, r.f1_exact) == (0, 0.0)
