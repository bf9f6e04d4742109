"""The CoNLL codec: exact round trips of tokenised text in every scheme, reports of what tags
cannot hold, strict mode naming document/sentence/token/line, and bad input."""

from __future__ import annotations

import re
import tempfile
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labelgate import formats
from labelgate.core import (
    Annotation,
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
from labelgate.formats.tagging import Finding, Scheme
from tests.contract.test_tagging import SEQEVAL_STRICT, TAG_SEQS, seqeval_default, seqeval_strict
from tests.strategies import datasets

CODEC = formats.get_codec("conll")
CAPS = CODEC.capabilities
FIXTURE_SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

TOKENS = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zs", "Zl", "Zp")), min_size=1, max_size=6
).filter(lambda t: not any(c.isspace() for c in t) and t != "-DOCSTART-")
LABELS = st.sampled_from(["PER", "LOC", "ORG", "MISC", "sign-2", "a_b", "Product"])
COLUMN_VALUES = st.sampled_from(["NN", "NNP", "VBZ", "-X-", "B-NP", "I-NP", "O", "."])


@st.composite
def tokenised(draw: st.DrawFn) -> Dataset:
    """Documents of sentences of tokens (text as a CoNLL reader builds it), non-overlapping
    whole-token spans, and optionally POS and chunk columns on every document."""
    with_columns = draw(st.booleans())
    items, annotations, used = [], [], {}
    for k in range(draw(st.integers(0, 3))):
        sentences = draw(st.lists(st.lists(TOKENS, min_size=1, max_size=6), max_size=3))
        regions, pos = [], 0
        for sent in sentences:
            starts = []
            for tok in sent:
                starts.append(pos)
                pos += len(tok) + 1
            i = 0
            while i < len(sent):
                if draw(st.booleans()):
                    n = draw(st.integers(1, len(sent) - i))
                    label = draw(LABELS)
                    used[label] = None
                    end = starts[i + n - 1] + len(sent[i + n - 1])
                    regions.append(Region(TextSpan(starts[i], end), label))
                    i += n
                else:
                    i += 1
        meta = {}
        if with_columns and sentences:
            meta = {c: [[draw(COLUMN_VALUES) for _ in s] for s in sentences] for c in ("pos", "chunk")}
        text = "\n".join(" ".join(s) for s in sentences)
        items.append(Item(f"doc{k}", ItemKind.TEXT, text=text, metadata=meta))
        annotations.append(Annotation(f"doc{k}", regions))
    return Dataset(items, annotations, LabelSchema.from_names(used))


@FIXTURE_SETTINGS
@given(ds=tokenised())
def test_round_trip_is_exact_in_every_scheme(tmp_path: Path, ds: Dataset) -> None:
    assert formats.restrict(ds, CAPS)[0] == ds
    for scheme in Scheme:
        out = tmp_path / f"{scheme.value}.conll"
        report = formats.write(ds, out, "conll", scheme=scheme)
        assert report.lossless, report.summary()
        assert report.regions == ds.region_count
        assert formats.read(out, "conll", scheme=scheme, strict=True) == ds
        assert formats.read(out, "conll") == ds  # scheme inferred, lenient decoding


@FIXTURE_SETTINGS
@given(ds=tokenised(), subsets=st.lists(st.sampled_from(["train", "valid", "test", "a-b", "a"]), min_size=3, max_size=3))
def test_subsets_round_trip_through_a_folder(tmp_path: Path, ds: Dataset, subsets: list[str]) -> None:
    # items grouped by subset in file-name order and numbered in that order, as a folder reads
    tagged = [replace(it, subset=subsets[i % 3]) for i, it in enumerate(ds.items.values())]
    tagged.sort(key=lambda it: f"{it.subset}.conll")
    regions = {a.item_id: a.regions for a in ds.annotations}
    items = [replace(it, id=f"doc{k}") for k, it in enumerate(tagged)]
    anns = [Annotation(f"doc{k}", regions[it.id]) for k, it in enumerate(tagged)]
    used = [r.label for a in anns for r in a.regions]
    expected = Dataset(items, anns, LabelSchema.from_names(dict.fromkeys(used)))
    out = Path(tempfile.mkdtemp(dir=tmp_path)) / "split"  # fresh per example: writes merge into a folder
    report = formats.write(expected, out, "conll", scheme="iobes")
    assert report.lossless, report.summary()
    assert report.files == max(1, len({it.subset for it in items}))
    assert formats.read(Path(report.path or ""), "conll", scheme="iobes", strict=True) == expected
    if items:
        assert formats.detect(out) == "conll"
        assert sorted(p.name for p in out.iterdir()) == sorted({f"{it.subset}.conll" for it in items})


@FIXTURE_SETTINGS
@given(ds=datasets(CAPS, kinds=[GeometryKind.TEXT_SPAN]))
def test_free_text_is_tokenised_and_the_report_says_what_changed(tmp_path: Path, ds: Dataset) -> None:
    out = tmp_path / "free.conll"
    report = formats.write(ds, out, "conll", scheme="iobes")
    back = formats.read(out, "conll", scheme="iobes", strict=True)
    assert back.region_count == report.regions
    allowed = {"item.text", "region.misaligned", "region.overlap", "region.order", "region.label",
               "schema.class", "schema.order", "schema.unused_class"}
    assert report.dropped_fields <= allowed, report.summary()
    if report.lossless:
        assert back == formats.restrict(ds, CAPS)[0]
    for it in back.items.values():
        assert it.text == ds.items[it.id].text or "item.text" in report.dropped_fields
    for a in back.annotations:
        text = back.items[a.item_id].text or ""
        for r in a.regions:
            assert isinstance(r.geometry, TextSpan)
            piece = text[r.geometry.start : r.geometry.end]
            assert piece == piece.strip() and "\n" not in piece


@FIXTURE_SETTINGS
@given(sentences=st.lists(TAG_SEQS.filter(bool), max_size=4), scheme=st.sampled_from(list(Scheme)))
def test_regions_read_are_seqevals_entities(tmp_path: Path, sentences: list[list[str]], scheme: Scheme) -> None:
    p = tmp_path / "tags.conll"
    p.write_text("".join("".join(f"w{i} {t}\n" for i, t in enumerate(s)) + "\n" for s in sentences), encoding="utf-8")

    def entities(ds: Dataset) -> list[list[tuple[str, int, int]]]:
        text = ds.items["doc0"].text if ds.items else ""
        starts = [[m.start() for m in re.finditer(r"\S+", line)] for line in (text or "").split("\n")]
        out: list[list[tuple[str, int, int]]] = [[] for _ in sentences]
        for r in (ds.annotations[0].regions if ds.annotations else ()):
            assert isinstance(r.geometry, TextSpan)
            j = text[: r.geometry.start].count("\n")
            k = starts[j].index(r.geometry.start - (text.rfind("\n", 0, r.geometry.start) + 1))
            n = text[r.geometry.start : r.geometry.end].count(" ") + 1
            out[j].append((r.label, k, k + n))
        return out

    assert entities(formats.read(p, "conll", scheme=scheme)) == [seqeval_default(s, scheme) for s in sentences]
    if scheme in SEQEVAL_STRICT:
        findings: list[Finding] = []
        formats.read(p, "conll", scheme=scheme, findings=findings)
        try:
            want = [seqeval_strict(s, scheme) for s in sentences]
        except (ValueError, KeyError):
            assert findings
            return
        if findings:
            with pytest.raises(FormatError, match="malformed tag sequence"):
                formats.read(p, "conll", scheme=scheme, strict=True)
        else:
            assert entities(formats.read(p, "conll", scheme=scheme, strict=True)) == want


def test_report_names_every_dropped_field(tmp_path: Path) -> None:
    text = "Hello  big\tworld\n\nnew line"
    ds = Dataset(
        [
            Item("a", ItemKind.TEXT, text=text, subset="train", number=3, metadata={"source": "web"}),
            Item("img", width=4, height=4),
        ],
        [
            Annotation("a", [
                Region(TextSpan(7, 16), "shelf item", score=0.5),  # "big\tworld"
                Region(TextSpan(0, 5), "PER"),  # out of order
                Region(TextSpan(1, 3), "PER"),  # inside a token
                Region(TextSpan(0, 10), "LOC"),  # overlaps "Hello"
                Region(TextSpan(11, 21), "LOC"),  # crosses the line break
                Region(Classification(), "greeting"),
            ], Provenance(Source.MODEL, model="tagger")),
        ],
        LabelSchema((LabelClass("PER", id=1), LabelClass("unused"))),
    )
    report = formats.write(ds, tmp_path / "x.conll", "conll")
    assert report.dropped_fields == {
        "item.kind.image", "item.subset", "item.number", "item.metadata", "item.id", "item.text",
        "region.score", "region.label", "region.order", "region.misaligned", "region.overlap",
        "geometry.classification", "annotation.provenance", "schema.id", "schema.unused_class",
        "schema.class",
    }, report.summary()
    back = formats.read(tmp_path / "x.conll", "conll")
    it = back.items["doc0"]
    assert it.text == "Hello big world\nnew line"
    spans = [(it.text[r.geometry.start : r.geometry.end], r.label) for r in back.annotations[0].regions]  # type: ignore[union-attr]
    assert spans == [("Hello", "PER"), ("big world", "shelf_item")]
    with pytest.raises(FormatError, match=r"3 span\(s\) cannot be held by IOB2 tags") as e:
        formats.write(ds, tmp_path / "strict.conll", "conll", strict=True)
    assert "a [1, 3): span does not start and end on token boundaries" in str(e.value)
    assert not (tmp_path / "strict.conll").exists()
    spans = [Region(TextSpan(0, 1), "A"), Region(TextSpan(2, 3), "B")]
    ordered = Dataset([Item("doc0", ItemKind.TEXT, text="x y")], [Annotation("doc0", spans)], LabelSchema.from_names(["B", "A"]))
    assert formats.write(ordered, tmp_path / "o.conll", "conll").dropped_fields == {"schema.order"}
    assert formats.read(tmp_path / "o.conll").schema.names == ["A", "B"]


def test_split_tokens_keeps_spans_inside_tokens(tmp_path: Path) -> None:
    ds = Dataset([Item("doc0", ItemKind.TEXT, text="see New York, (NY) now")],
                 [Annotation("doc0", [Region(TextSpan(4, 12), "LOC"), Region(TextSpan(15, 17), "LOC")])])
    dropped = formats.write(ds, tmp_path / "a.conll", "conll")
    assert dropped.dropped_fields == {"region.misaligned", "schema.class"}
    assert dropped.regions == 0
    report = formats.write(ds, tmp_path / "b.conll", "conll", split_tokens=True)
    assert report.dropped_fields == {"item.text"}
    back = formats.read(tmp_path / "b.conll", scheme="iob2", strict=True)
    text = back.items["doc0"].text or ""
    assert text == "see New York , ( NY ) now"
    assert [text[r.geometry.start : r.geometry.end] for r in back.annotations[0].regions] == ["New York", "NY"]  # type: ignore[union-attr]


CONLL2003 = """-DOCSTART- -X- O O

EU NNP I-NP I-ORG
rejects VBZ I-VP O
German JJ I-NP I-MISC
call NN I-NP O
. . O O

Peter NNP I-NP I-PER
Paul NNP B-NP B-PER
Blackburn NNP I-NP I-PER

-DOCSTART- -X- O O

BRUSSELS NNP I-NP I-LOC
1996-08-22 CD I-NP O
"""


def test_conll2003_iob1_converts_to_other_schemes(tmp_path: Path) -> None:
    (tmp_path / "eng.conll").write_text(CONLL2003, encoding="utf-8")
    ds = formats.read(tmp_path / "eng.conll", scheme="iob1", strict=True)
    doc0 = ds.items["doc0"]
    assert doc0.text == "EU rejects German call .\nPeter Paul Blackburn"
    assert doc0.metadata["pos"][1] == ["NNP", "NNP", "NNP"]
    assert doc0.metadata["chunk"][1] == ["I-NP", "B-NP", "I-NP"]
    got = [(doc0.text[r.geometry.start : r.geometry.end], r.label) for r in ds.annotations[0].regions]  # type: ignore[union-attr]
    assert got == [("EU", "ORG"), ("German", "MISC"), ("Peter", "PER"), ("Paul Blackburn", "PER")]
    assert ds.schema.names == ["ORG", "MISC", "PER", "LOC"]
    formats.write(ds, tmp_path / "bioes.conll", "conll", scheme="iobes")
    lines = (tmp_path / "bioes.conll").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "-DOCSTART- -X- -X- O"
    assert lines[2:4] == ["EU NNP I-NP S-ORG", "rejects VBZ I-VP O"]
    assert lines[8:11] == ["Peter NNP I-NP S-PER", "Paul NNP B-NP B-PER", "Blackburn NNP I-NP E-PER"]
    assert formats.read(tmp_path / "bioes.conll", scheme="iobes", strict=True) == ds
    # IOB1 read as IOB2 strictly: every chunk that starts with I- is a violation
    with pytest.raises(FormatError, match="4 malformed tag sequence"):
        formats.read(tmp_path / "eng.conll", scheme="iob2", strict=True)


def test_conll2003_folder_reads_splits_and_skips_other_files(tmp_path: Path) -> None:
    folder = tmp_path / "conll2003"
    folder.mkdir()
    (folder / "eng.train").write_text(CONLL2003, encoding="utf-8")
    (folder / "eng.testa").write_text("-DOCSTART- -X- O O\n\nCRICKET NNP I-NP O\n", encoding="utf-8")
    (folder / "README.txt").write_text("The CoNLL-2003 shared task data.\n", encoding="utf-8")
    assert formats.detect(folder) == "conll"
    ds = formats.read(folder, scheme="iob1", strict=True)
    assert [(it.id, it.subset) for it in ds.items.values()] == [("doc0", "testa"), ("doc1", "train"), ("doc2", "train")]
    report = formats.write(ds, tmp_path / "out", "conll")
    assert report.lossless and report.files == 2
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["testa.conll", "train.conll"]
    assert formats.read(tmp_path / "out", scheme="iob2", strict=True) == ds
    one = formats.write(ds, tmp_path / "one.conll", "conll")
    assert one.dropped_fields == {"item.subset"}
    (folder / "eng.testb").write_text("a B-X\nb O O\n", encoding="utf-8")
    with pytest.raises(FormatError) as e:
        formats.read(folder)
    assert e.value.path == str(folder / "eng.testb") and e.value.where == "line 2"
    with pytest.raises(FormatError, match="subset 'x/y' cannot name a file"):
        formats.write(Dataset([Item("doc0", ItemKind.TEXT, text="a", subset="x/y")]), tmp_path / "bad", "conll")
    assert not (tmp_path / "bad").exists()


def test_through_span_jsonl_and_back_is_lossless(tmp_path: Path) -> None:
    (tmp_path / "eng.conll").write_text(CONLL2003, encoding="utf-8")
    ds = formats.read(tmp_path / "eng.conll", scheme="iob1")
    assert formats.write(ds, tmp_path / "eng.jsonl", "spans_jsonl").lossless
    again = formats.read(tmp_path / "eng.jsonl")
    assert again == ds
    assert formats.write(again, tmp_path / "back.conll", "conll", scheme="iob1").lossless
    assert formats.read(tmp_path / "back.conll", scheme="iob1", strict=True) == ds


BAD_IOB2 = """-DOCSTART- O

EU B-ORG
says O

-DOCSTART- O

Hi O

Peter O
Blackburn I-PER
spoke O
Paris E-LOC
"""


def test_strict_reading_names_document_sentence_token_and_line(tmp_path: Path) -> None:
    p = tmp_path / "bad.conll"
    p.write_text(BAD_IOB2, encoding="utf-8")
    with pytest.raises(FormatError) as e:
        formats.read(p, "conll", scheme="iob2", strict=True)
    msg = str(e.value)
    assert str(p) in msg
    assert "2 malformed tag sequence(s) for scheme IOB2" in msg
    assert "document 'doc1', sentence 1, token 1, line 11: PER chunk at token 1 begins with I-PER; expected B-PER" in msg
    assert "document 'doc1', sentence 1, token 3, line 13: 'E-LOC': prefix 'E' is not allowed in IOB2" in msg
    # lenient reading decodes as seqeval's get_entities does, and can still collect the findings
    findings: list[Finding] = []
    ds = formats.read(p, "conll", scheme="iob2", findings=findings)
    assert [(f.doc, f.sentence, f.token, f.line) for f in findings] == [("doc1", 1, 1, 11), ("doc1", 1, 3, 13)]
    doc1 = ds.items["doc1"]
    assert [doc1.text[r.geometry.start : r.geometry.end] for r in ds.annotations[1].regions] == ["Blackburn", "Paris"]  # type: ignore[union-attr]


def test_strict_error_lists_at_most_ten(tmp_path: Path) -> None:
    p = tmp_path / "many.conll"
    p.write_text("".join(f"w{i} I-PER\n\n" for i in range(13)), encoding="utf-8")
    with pytest.raises(FormatError, match=r"13 malformed .*; and 3 more\. Fix the tags") as e:
        formats.read(p, "conll", scheme="iob2", strict=True)
    assert "sentence 12" not in str(e.value)
    assert e.value.where == "document 'doc0', sentence 0, token 0, line 1"


@pytest.mark.parametrize(
    ("content", "where", "words"),
    [
        (b"EU B-ORG\n\xff B-PER\n", "line 2, column 1", "not valid UTF-8"),
        (b"EU NNP B-ORG\nsays O\n", "line 2", "expected 3 columns (as on line 1), found 2"),
        (b"-DOCSTART-\n\nEU\n", "line 3", "at least 2 columns"),
    ],
)
def test_bad_input_names_the_place(tmp_path: Path, content: bytes, where: str, words: str) -> None:
    p = tmp_path / "bad.conll"
    p.write_bytes(content)
    with pytest.raises(FormatError) as e:
        formats.read(p, "conll")
    assert str(p) in str(e.value)
    assert e.value.where == where
    assert words in str(e.value)


def test_two_column_files_and_detection(tmp_path: Path) -> None:
    p = tmp_path / "wnut.txt"
    p.write_text("@paul O\nlove O\nNew B-location\nYork I-location\n\nok O\n", encoding="utf-8")
    assert formats.detect(p) == "conll"
    ds = formats.read(p)
    assert list(ds.items) == ["doc0"]
    assert ds.items["doc0"].text == "@paul love New York\nok"
    assert ds.items["doc0"].metadata == {}
    tight = tmp_path / "tight.conll"
    tight.write_text("a B-X\n-DOCSTART- O\nb O\n-DOCSTART- O\n", encoding="utf-8")
    assert [it.text for it in formats.read(tight).items.values()] == ["a", "b", ""]
    yolo = tmp_path / "labels.txt"
    yolo.write_text("0 0.5 0.5 0.1 0.1\n", encoding="utf-8")
    assert CODEC.detect(yolo) == 0.0
    formats.write(ds, tmp_path / "out", "conll", scheme="bilou")
    assert (tmp_path / "out" / "data.conll").read_text(encoding="utf-8").splitlines()[:7] == [
        "-DOCSTART- O", "", "@paul O", "love O", "New B-location", "York L-location", "",
    ]


def test_docstart_token_cannot_be_written(tmp_path: Path) -> None:
    ds = Dataset([Item("doc0", ItemKind.TEXT, text="a -DOCSTART- b")], [Annotation("doc0", [])])
    with pytest.raises(FormatError, match="sentence 0, token 1"):
        formats.write(ds, tmp_path / "x.conll", "conll")
    assert not (tmp_path / "x.conll").exists()


PIECES = ["-DOCSTART-", "O", "B-PER", "I-PER", "E-", "U-X", "x", "NN", " ", "\t", "\n", "\n\n", "\r\n", "\xa0", "\u2028", "\x85", "B-"]


@FIXTURE_SETTINGS
@given(text=st.lists(st.sampled_from(PIECES), max_size=40).map("".join), scheme=st.sampled_from(list(Scheme)),
       strict=st.booleans())
def test_any_text_reads_or_fails_with_a_format_error(tmp_path: Path, text: str, scheme: Scheme, strict: bool) -> None:
    p = tmp_path / "any.conll"
    p.write_text(text, encoding="utf-8")
    try:
        ds = formats.read(p, "conll", scheme=scheme, strict=strict)
    except FormatError as e:
        assert str(p) in str(e)
        return
    formats.write(ds, tmp_path / "out.conll", "conll", scheme=scheme)
    back = formats.read(tmp_path / "out.conll", "conll", scheme=scheme, strict=True)
    assert [it.text for it in back.items.values()] == [it.text for it in ds.items.values()]
