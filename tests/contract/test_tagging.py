"""Token tag schemes agree with seqeval: default mode with ``get_entities``, strict mode with
``seqeval.scheme.Entities``; encoding, conversion and findings."""

from __future__ import annotations

import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from seqeval import scheme as sq
from seqeval.metrics.sequence_labeling import get_entities

from labelgate.core import InvariantError
from labelgate.formats.tagging import (
    Chunk,
    Scheme,
    check,
    convert,
    decode,
    decode_strict,
    encode,
    infer_scheme,
)

TYPES = ["PER", "LOC", "X-Y"]
WELL_TAGS = ["O"] + [f"{p}-{t}" for p in "BIESLU" for t in TYPES]
# odd tags a file may hold: no type, empty type, O with a type, unknown prefixes, trailing dash
ODD_TAGS = ["B", "I-", "O-PER", "X-PER", ".", "E-X-", "B--a", "S-PER-"]
TAG_SEQS = st.lists(st.sampled_from(WELL_TAGS + ODD_TAGS), max_size=12)
SEQEVAL_STRICT = {Scheme.IOB2: sq.IOB2, Scheme.IOE2: sq.IOE2, Scheme.IOBES: sq.IOBES, Scheme.BILOU: sq.BILOU}


def seqeval_default(tags: list[str], scheme: Scheme) -> list[tuple[str, int, int]]:
    """seqeval's get_entities, end made exclusive; BILOU read as IOBES (L=E, U=S), the only way
    get_entities knows those chunks."""
    if scheme is Scheme.BILOU:
        tags = [{"L": "E", "U": "S"}.get(t[:1], t[:1]) + t[1:] for t in tags]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # get_entities warns about tags it does not know
        return [(t, s, e + 1) for t, s, e in get_entities(list(tags))]


def seqeval_strict(tags: list[str], scheme: Scheme) -> list[tuple[str, int, int]]:
    entities = sq.Entities([tags], SEQEVAL_STRICT[scheme]).entities[0]
    return [(e.tag, e.start, e.end) for e in entities]


def triples(chunks: list[Chunk]) -> list[tuple[str, int, int]]:
    return [(c.label, c.start, c.end) for c in chunks]


@settings(max_examples=50, deadline=None)
@given(tags=TAG_SEQS)
def test_default_mode_is_seqeval_get_entities_for_every_scheme(tags: list[str]) -> None:
    for s in Scheme:
        assert triples(decode(tags, s)) == seqeval_default(tags, s), s


@settings(max_examples=50, deadline=None)
@given(tags=TAG_SEQS)
def test_strict_mode_is_seqeval_entities(tags: list[str]) -> None:
    for s in SEQEVAL_STRICT:
        chunks, findings = decode_strict(tags, s)
        bad = {f.token for f in findings if "not allowed" in f.message}
        assert bad == {i for i, t in enumerate(tags) if not t or t[0] not in s.prefixes}
        if bad:
            # seqeval refuses the whole sequence; we report the tags and read them as O
            with pytest.raises((ValueError, KeyError)):
                seqeval_strict(tags, s)
            tags_ok = ["O" if i in bad else t for i, t in enumerate(tags)]
            assert triples(chunks) == seqeval_strict(tags_ok, s), s
        else:
            assert triples(chunks) == seqeval_strict(tags, s), s


@settings(max_examples=50, deadline=None)
@given(tags=st.lists(st.sampled_from(["O"] + [f"{p}-{t}" for p in "IB" for t in TYPES]), max_size=12))
def test_strict_iob1_is_seqeval_on_well_formed_sequences(tags: list[str]) -> None:
    chunks, findings = decode_strict(tags, Scheme.IOB1)
    if not findings:
        assert triples(chunks) == [(e.tag, e.start, e.end) for e in sq.Entities([tags], sq.IOB1).entities[0]]


@settings(max_examples=50, deadline=None)
@given(tags=TAG_SEQS)
def test_findings_explain_every_difference_between_modes(tags: list[str]) -> None:
    for s in Scheme:
        strict, findings = decode_strict(tags, s)
        if not findings:
            # same chunks; labels may differ only where the two seqeval parsers do ("E-X-": X- or X)
            assert [(c.start, c.end) for c in strict] == [(c.start, c.end) for c in decode(tags, s)], s
        else:
            assert all(0 <= f.token < len(tags) and f.tag == tags[f.token] for f in findings)
        # strict never invents a chunk the lenient reading (with bad prefixes as O) lacks
        tags_ok = ["O" if not t or t[0] not in s.prefixes else t for t in tags]
        lenient = {(c.start, c.end) for c in decode(tags_ok, s)}
        assert {(c.start, c.end) for c in strict} <= lenient


@st.composite
def chunked(draw: st.DrawFn) -> tuple[list[Chunk], int]:
    n = draw(st.integers(0, 14))
    chunks, i = [], 0
    while i < n:
        if draw(st.booleans()):
            length = draw(st.integers(1, min(4, n - i)))
            chunks.append(Chunk(i, i + length, draw(st.sampled_from(TYPES))))
            i += length
        else:
            i += draw(st.integers(1, 2))
    return chunks, n


@settings(max_examples=50, deadline=None)
@given(case=chunked())
def test_encode_decode_round_trip_in_both_modes(case: tuple[list[Chunk], int]) -> None:
    chunks, n = case
    for s in Scheme:
        tags = encode(chunks, n, s)
        assert len(tags) == n
        assert decode(tags, s) == chunks, (s, tags)
        assert decode(tags, s, strict=True) == chunks, (s, tags)
        assert check(tags, s) == []
        assert {t[0] for t in tags} <= s.prefixes
        if s in SEQEVAL_STRICT:
            assert seqeval_strict(tags, s) == triples(chunks)


@settings(max_examples=50, deadline=None)
@given(case=chunked())
def test_scheme_conversion_round_trips(case: tuple[list[Chunk], int]) -> None:
    chunks, n = case
    for a in Scheme:
        tags = encode(chunks, n, a)
        for b in Scheme:
            there = convert(tags, a, b, strict=True)
            assert there == encode(chunks, n, b)
            assert convert(there, b, a) == tags


@pytest.mark.parametrize(
    ("scheme", "tags", "token", "words", "kept"),
    [
        ("iob2", ["O", "I-PER", "I-PER"], 1, ["I-PER", "expected B-PER"], []),
        ("iob2", ["B-PER", "E-PER"], 1, ["'E-PER'", "not allowed in IOB2"], [Chunk(0, 1, "PER")]),
        ("iobes", ["O", "E-PER"], 1, ["begins with E-PER", "expected B-PER or S-PER"], []),
        ("iobes", ["B-PER", "I-PER", "O"], 0, ["not closed by E-PER"], []),
        ("iobes", ["B-LOC"], 0, ["B-LOC at token 0 is not closed by E-LOC", "S-LOC"], []),
        ("bilou", ["B-PER", "I-PER", "U-PER"], 0, ["not closed by L-PER"], [Chunk(2, 3, "PER")]),
        ("ioe2", ["I-PER", "O"], 0, ["not closed by E-PER"], []),
        ("iob1", ["O", "B-PER", "I-PER"], 1, ["B-PER at token 1 does not follow a PER chunk"], []),
        ("ioe1", ["I-PER", "E-PER", "O"], 0, ["E-PER at token 1 is not followed by a PER chunk"], []),
        ("iob2", ["O", "Z-PER"], 1, ["unknown prefix 'Z'"], []),
    ],
)
def test_findings_name_the_token_and_the_rule(
    scheme: str, tags: list[str], token: int, words: list[str], kept: list[Chunk]
) -> None:
    chunks, findings = decode_strict(tags, scheme)
    assert [f.token for f in findings] == [token]
    assert all(w in findings[0].message for w in words), findings[0].message
    assert chunks == kept
    located = findings[0].located(doc="doc3", sentence=7, line=40)
    assert str(located).startswith(f"document 'doc3', sentence 7, token {token}, line 40: ")


def test_well_formed_examples_of_each_scheme() -> None:
    want = [Chunk(0, 2, "PER"), Chunk(2, 3, "PER"), Chunk(4, 5, "LOC")]
    examples = {
        "iob1": ["I-PER", "I-PER", "B-PER", "O", "I-LOC"],
        "bio": ["B-PER", "I-PER", "B-PER", "O", "B-LOC"],
        "ioe1": ["I-PER", "E-PER", "I-PER", "O", "I-LOC"],
        "ioe2": ["I-PER", "E-PER", "E-PER", "O", "E-LOC"],
        "bioes": ["B-PER", "E-PER", "S-PER", "O", "S-LOC"],
        "bilou": ["B-PER", "L-PER", "U-PER", "O", "U-LOC"],
    }
    for name, tags in examples.items():
        assert decode_strict(tags, name) == (want, []), name
        assert encode(want, 5, name) == tags, name


def test_scheme_names_and_errors() -> None:
    assert Scheme.parse("BIO") is Scheme.IOB2
    assert Scheme.parse("bioes") is Scheme.IOBES
    with pytest.raises(InvariantError, match="unknown tag scheme 'iox'"):
        Scheme.parse("iox")
    with pytest.raises(InvariantError, match="overlaps"):
        encode([Chunk(0, 2, "A"), Chunk(1, 3, "A")], 3, "iob2")
    with pytest.raises(InvariantError, match="outside"):
        encode([Chunk(2, 4, "A")], 3, "iob2")
    assert infer_scheme({"B", "I"}) is Scheme.IOB2
    assert infer_scheme({"B", "I", "E"}) is Scheme.IOBES
    assert infer_scheme({"I", "E"}) is Scheme.IOE2
    assert infer_scheme({"U", "B", "L"}) is Scheme.BILOU


def test_public_surface() -> None:
    from labelgate.formats import tagging

    assert set(tagging.__all__) == {
        "Chunk", "Finding", "Scheme", "check", "convert", "decode", "decode_strict", "encode", "infer_scheme",
    }
    assert [s.value for s in Scheme] == ["iob1", "iob2", "ioe1", "ioe2", "iobes", "bilou"]


def test_paused_gc_restores_the_collector() -> None:
    import gc

    from labelgate.formats._gc import paused_gc

    assert gc.isenabled()
    with pytest.raises(RuntimeError), paused_gc():
        assert not gc.isenabled()
        raise RuntimeError("boom")
    assert gc.isenabled()
    gc.disable()
    try:
        with paused_gc():
            pass
        assert not gc.isenabled()  # a caller's own pause is left alone
    finally:
        gc.enable()
