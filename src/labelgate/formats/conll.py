"""CoNLL-2003 style token files: one token per line with whitespace-separated columns (token,
POS, chunk, NER tag; or token and tag), blank lines between sentences, ``-DOCSTART-`` lines
between documents.

Reading yields one text :class:`Item` per document whose text is the tokens joined by single
spaces, one line per sentence; entities become :class:`TextSpan` regions in character offsets
(code points) of that text, labelled with the entity type. Middle columns are kept in the item's
metadata (``pos``, ``chunk``, ``column4``...: one list of values per sentence) so they are
written back unchanged. Documents are keyed ``doc0``, ``doc1``... by position.

A folder is read file by file in name order (files that look like CoNLL; ``train.txt`` or
``eng.train`` give subset ``train``), documents numbered on across files. Writing a dataset with
subsets to a folder makes one ``<subset>.conll`` per subset; to a file path, one file.

Options: ``scheme`` (iob1, iob2/bio, ioe1, ioe2, iobes, bilou; reading infers it from the tag
prefixes when not given), ``strict`` (reading: malformed tag sequences are an error listing
document, sentence, token and line; writing: spans that tags cannot hold are an error); for
reading ``findings``, a list that receives every malformed tag sequence even when not strict; for
writing ``split_tokens``, which cuts a token where a span starts or ends inside it (the text then
gains a space there, reported) instead of dropping the span as not aligned to tokens.
"""

from __future__ import annotations

import itertools
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labelgate.core import (
    Annotation,
    Dataset,
    GeometryKind,
    Item,
    ItemKind,
    LabelSchema,
    Region,
    TextSpan,
)
from labelgate.core.errors import FormatError
from labelgate.formats import tagging
from labelgate.formats._conll_write import DOCSTART, column_names, sentences_of, write_conll
from labelgate.formats._gc import paused_gc
from labelgate.formats._io import read_text
from labelgate.formats.capabilities import Capabilities
from labelgate.formats.report import ConversionReport
from labelgate.formats.tagging import Finding, Scheme

__all__ = ["CODEC", "DOCSTART", "ConllCodec", "column_names", "sentences_of"]

MAX_LISTED = 10
_SUFFIXES = {".conll", ".conll03", ".conll2003", ".iob", ".iob1", ".iob2", ".bio", ".ioe", ".iobes", ".bioes",
             ".bilou", ".ner", ".txt", ".tsv"}
_SPLITS = {".train", ".testa", ".testb", ".dev", ".test", ".valid", ".validation"}  # eng.train, eng.testa ...
_SUFFIXES |= _SPLITS
_MAX_FOLDER = 32  # files in a folder of CoNLL splits, at most, for detection
_LOOSE = {".txt", ".tsv"}  # in a folder, such files count only when their content looks like CoNLL
_TAG = re.compile(r"^(O|[BIESLU]-\S+)$")


@dataclass
class _Sentence:
    line: int
    rows: list[list[str]] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    middle: list[list[str]] = field(default_factory=list)

    def close(self) -> None:
        """Columns from the rows: token first, tag last, the rest between."""
        cols = [list(c) for c in zip(*self.rows, strict=True)]
        self.tokens, self.tags, self.middle = cols[0], cols[-1], cols[1:-1]
        self.rows = []


@dataclass
class _Doc:
    sentences: list[_Sentence] = field(default_factory=list)


def _parse(text: str, path: Path) -> tuple[list[_Doc], int]:
    docs: list[_Doc] = []
    ncols, first_line = 0, 0
    rows: list[list[str]] | None = None
    for lineno, line in enumerate(text.split("\n"), 1):
        fields = line.split()
        if rows is not None and len(fields) == ncols and fields[0] != DOCSTART:
            rows.append(fields)  # the common case: one more token of the open sentence
            continue
        if not fields:
            rows = None
            continue
        if fields[0] == DOCSTART:
            docs.append(_Doc())
            rows = None
            continue
        if not ncols:
            ncols, first_line = len(fields), lineno
            if ncols < 2:
                raise FormatError(
                    f"a token line needs at least 2 columns (token and tag), found {ncols}: {line.strip()!r}",
                    path=path, where=f"line {lineno}",
                )
        elif len(fields) != ncols:
            raise FormatError(
                f"expected {ncols} columns (as on line {first_line}), found {len(fields)}: {line.strip()!r}",
                path=path, where=f"line {lineno}",
            )
        if not docs:
            docs.append(_Doc())
        sent = _Sentence(lineno)
        docs[-1].sentences.append(sent)
        rows = sent.rows
        rows.append(fields)
    for doc in docs:
        for sent in doc.sentences:
            sent.close()
    return docs, ncols


def _resolve_scheme(scheme: Scheme | str | None, docs: list[_Doc]) -> Scheme:
    if scheme is not None:
        return Scheme.parse(scheme)
    prefixes = {t[0] for d in docs for s in d.sentences for t in s.tags if t and t != "O"}
    return tagging.infer_scheme(prefixes)


def _document(
    doc: _Doc, item_id: str, scheme: Scheme, strict: bool, collect: bool, findings: list[Finding]
) -> tuple[str, list[Region]]:
    """A document's text (tokens joined by spaces, a line per sentence) and its entity spans;
    malformed tag sequences go to ``findings`` when ``strict`` or ``collect``."""
    lines, regions = [], []
    pos = 0
    for j, sent in enumerate(doc.sentences):
        starts = []
        for tok in sent.tokens:
            starts.append(pos)
            pos += len(tok) + 1
        lines.append(" ".join(sent.tokens))
        if strict or collect:
            chunks, found = tagging.decode_strict(sent.tags, scheme)
            findings += [f.located(doc=item_id, sentence=j, line=sent.line + f.token) for f in found]
        if not strict:
            chunks = tagging.decode(sent.tags, scheme)
        for c in chunks:
            end = starts[c.end - 1] + len(sent.tokens[c.end - 1])
            regions.append(Region(TextSpan(starts[c.start], end), c.label))
    return "\n".join(lines), regions


def _fail(findings: list[Finding], scheme: Scheme, path: Path) -> FormatError:
    listed = "; ".join(str(f) for f in findings[:MAX_LISTED])
    more = f"; and {len(findings) - MAX_LISTED} more" if len(findings) > MAX_LISTED else ""
    first = findings[0]
    return FormatError(
        f"{len(findings)} malformed tag sequence(s) for scheme {scheme.name}: {listed}{more}. "
        "Fix the tags, pass the scheme the file uses (scheme=...), or read with strict=False",
        path=path,
        where=first.where,
    )


class ConllCodec:
    name = "conll"
    description = "CoNLL-2003 token columns (token [POS chunk] tag; -DOCSTART-), tags in IOB1/IOB2/IOE1/IOE2/IOBES/BILOU"
    capabilities = Capabilities(
        geometries=frozenset({GeometryKind.TEXT_SPAN}),
        item_kinds=frozenset({ItemKind.TEXT}),
        item_fields=frozenset({"text", "metadata", "subset"}),
        keep_unused_classes=False,
        notes="a folder holds one file per subset; text is whitespace-tokenised (one sentence per line); "
        "spans must cover whole tokens and not overlap; item ids are doc0, doc1... by position; "
        "metadata holds only the middle columns",
    )

    def detect(self, path: Path) -> float:
        if path.is_dir():
            # a small flat folder of split files (train.txt, valid.txt, test.txt; eng.train ...);
            # a folder with subfolders or many files (YOLO labels, images) is not opened file by file
            with os.scandir(path) as scan:
                entries = list(itertools.islice(scan, _MAX_FOLDER + 1))
            if len(entries) > _MAX_FOLDER or any(e.is_dir() for e in entries):
                return 0.0
            return 0.7 if any(self.detect(Path(e.path)) > 0 for e in entries if not e.name.startswith(".")) else 0.0
        if not path.is_file() or path.suffix.lower() not in _SUFFIXES:
            return 0.0
        with path.open("rb") as fh:
            head = fh.read(65536).decode("utf-8", errors="replace")
        lines = [ln.split() for ln in head.split("\n")[:-1] if ln.strip()][:50]
        if not lines:
            return 0.0
        if lines[0][0] == DOCSTART:
            return 1.0
        width = len(lines[0])
        ok = width >= 2 and all(len(f) == width and _TAG.match(f[-1]) for f in lines if f[0] != DOCSTART)
        if not ok:
            return 0.0
        return 0.8 if path.suffix.lower() != ".txt" else 0.6

    def read(self, path: Path, **options: Any) -> Dataset:
        with paused_gc():
            return self._read(path, **options)

    def _files(self, path: Path) -> list[tuple[Path, str | None]]:
        """``path`` itself, or the CoNLL files of a directory (by name), each with its subset."""
        if not path.is_dir():
            return [(path, None)]
        files = [p for p in sorted(path.iterdir()) if not p.name.startswith(".") and p.is_file() and (
            p.suffix.lower() in _SUFFIXES - _LOOSE or self.detect(p) > 0)]  # a README.txt is skipped
        if not files:
            raise FormatError("no CoNLL files in this directory (.conll, .txt, .train, .testa ... with token lines)",
                              path=path)
        return [(p, p.suffix[1:] if p.suffix.lower() in _SPLITS else p.stem) for p in files]

    def _read(self, path: Path, **options: Any) -> Dataset:
        strict = bool(options.get("strict", False))
        sink: list[Finding] | None = options.get("findings")
        items: list[Item] = []
        annotations: list[Annotation] = []
        labels: dict[str, None] = {}
        for file, subset in self._files(path):
            docs, ncols = _parse(read_text(file), file)
            scheme = _resolve_scheme(options.get("scheme"), docs)
            names = column_names(max(ncols - 2, 0))
            findings: list[Finding] = []
            for doc in docs:
                item_id = f"doc{len(items)}"
                text, regions = _document(doc, item_id, scheme, strict, sink is not None, findings)
                meta = {n: [s.middle[i] for s in doc.sentences] for i, n in enumerate(names)} if doc.sentences else {}
                items.append(Item(item_id, ItemKind.TEXT, text=text, subset=subset, metadata=meta))
                annotations.append(Annotation(item_id, regions))
                for r in regions:
                    labels.setdefault(r.label, None)
            if sink is not None:
                sink.extend(findings)
            if strict and findings:
                raise _fail(findings, scheme, file)
        return Dataset(items, annotations, LabelSchema.from_names(labels))

    def write(self, dataset: Dataset, path: Path, **options: Any) -> ConversionReport:
        scheme = Scheme.parse(options.get("scheme", Scheme.IOB2))
        with paused_gc():
            return write_conll(dataset, path, self.capabilities, scheme, strict=bool(options.get("strict", False)),
                               split_tokens=bool(options.get("split_tokens", False)), name=self.name)


CODEC = ConllCodec()
