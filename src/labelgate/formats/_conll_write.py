"""Writing CoNLL token files: text items become token lines, span regions become tags."""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from labelgate.core import Dataset, Item, TextSpan
from labelgate.core.errors import FormatError
from labelgate.formats import tagging
from labelgate.formats._io import atomic_dir, atomic_file
from labelgate.formats.capabilities import Capabilities, restrict
from labelgate.formats.report import ConversionReport
from labelgate.formats.tagging import Chunk, Scheme

__all__ = ["DOCSTART", "column_names", "sentences_of", "write_conll"]

DOCSTART = "-DOCSTART-"
MAX_LISTED = 10
_TOKEN = re.compile(r"\S+")
_SPACE = re.compile(r"\s")
_SUBSET = re.compile(r"[^./\\\s][^/\\\s]*")


def column_names(n_middle: int) -> list[str]:
    """Metadata keys of the columns between token and tag: ``pos``, ``chunk``, ``column4``..."""
    return (["pos", "chunk"] + [f"column{i + 2}" for i in range(2, n_middle)])[:n_middle]


def sentences_of(text: str, cuts: Iterable[int] = ()) -> list[list[tuple[int, int]]]:
    """Token character ranges of ``text``, one list per line that has any (tokens are runs of
    non-whitespace, the same split a CoNLL reader applies to its columns), each token also cut
    at the offsets in ``cuts`` that fall inside it."""
    inner = sorted(set(cuts))
    out = []
    pos = 0
    for line in text.split("\n"):
        toks = [(pos + m.start(), pos + m.end()) for m in _TOKEN.finditer(line)]
        if inner:
            toks = [piece for s, e in toks for piece in _cut(s, e, inner)]
        if toks:
            out.append(toks)
        pos += len(line) + 1
    return out


def _cut(s: int, e: int, cuts: list[int]) -> list[tuple[int, int]]:
    out = []
    k = bisect.bisect_right(cuts, s)
    while k < len(cuts) and cuts[k] < e:
        out.append((s, cuts[k]))
        s = cuts[k]
        k += 1
    out.append((s, e))
    return out


def _valid_column(value: Any, shape: list[int]) -> bool:
    if not isinstance(value, Sequence) or isinstance(value, str) or len(value) != len(shape):
        return False
    for sent, n in zip(value, shape, strict=True):
        if not isinstance(sent, Sequence) or isinstance(sent, str) or len(sent) != n:
            return False
        if not all(isinstance(v, str) for v in sent) or "" in sent or _SPACE.search("".join(sent)):
            return False
    return True


def _columns(items: Sequence[Item], shapes: Mapping[str, list[int]]) -> list[str]:
    """The middle columns every document with tokens carries, in reading order."""
    with_tokens = [it for it in items if shapes[it.id]]
    if not with_tokens:
        return []
    chosen: list[str] = []
    for name in column_names(max(len(it.metadata) for it in with_tokens)):
        if all(_valid_column(it.metadata.get(name), shapes[it.id]) for it in with_tokens):
            chosen.append(name)
        else:
            break
    return chosen


class _Writer:
    def __init__(self, strict: bool, report: ConversionReport) -> None:
        self.strict = strict
        self.report = report
        self.problems: list[str] = []
        self.regions = 0
        self.labels: dict[str, None] = {}

    def lose(self, field_name: str, where: str, action: str, why: str) -> None:
        if self.strict:
            self.problems.append(f"{where}: {why}")
        else:
            self.report.drop(field_name, where, action)

    def chunks(self, item: Item, regions: Sequence[Any], sentences: list[list[tuple[int, int]]]) -> list[list[Chunk]]:
        starts = {s: (j, k) for j, toks in enumerate(sentences) for k, (s, _) in enumerate(toks)}
        ends = {e: (j, k) for j, toks in enumerate(sentences) for k, (_, e) in enumerate(toks)}
        out: list[list[Chunk]] = [[] for _ in sentences]
        spans = [r for r in regions if isinstance(r.geometry, TextSpan)]
        ordered = sorted(spans, key=lambda r: (r.geometry.start, r.geometry.end))
        if ordered != spans:
            self.report.drop("region.order", item.id, "sorted by position")
        for r in ordered:
            g = r.geometry
            where = f"{item.id} [{g.start}, {g.end})"
            a, b = starts.get(g.start), ends.get(g.end)
            if a is None or b is None or a[0] != b[0]:
                why = "crosses a sentence (line) boundary" if a and b else "does not start and end on token boundaries"
                self.lose("region.misaligned", where, "dropped", f"span {why}")
                continue
            sent = out[a[0]]
            if sent and sent[-1].end > a[1]:
                self.lose("region.overlap", where, "dropped", "span overlaps the span before it; tags cannot nest")
                continue
            label = "_".join(r.label.split())
            if label != r.label:
                self.report.drop("region.label", f"{item.id}: {r.label!r}", "whitespace replaced by _")
            sent.append(Chunk(a[1], b[1] + 1, label))
            self.labels.setdefault(label, None)
            self.regions += 1
        return out


def _plan(items: list[Item], path: Path, report: ConversionReport) -> tuple[Path, list[tuple[str, list[Item]]]]:
    """Where documents go: ``(folder, [(file name, items)])``, files in the order a reader
    lists them. A path with a suffix is one file; a folder gets ``data.conll``, or one
    ``<subset>.conll`` per subset when items have subsets."""
    if path.suffix and not path.is_dir():
        for it in items:
            if it.subset is not None:
                report.drop("item.subset", it.id, "dropped (one file; write to a folder to keep subsets)")
        return path.parent, [(path.name, items)]
    if all(it.subset is None for it in items):
        return path, [("data.conll", items)]
    groups: dict[str, list[Item]] = {}
    for it in items:
        subset = it.subset
        if subset is None:
            report.drop("item.subset", it.id, "written as subset 'default'")
            subset = "default"
        if not _SUBSET.fullmatch(subset):
            raise FormatError(f"subset {subset!r} cannot name a file (no '/', '\\', leading '.' or whitespace)",
                              path=path, where=f"item {it.id!r}")
        groups.setdefault(f"{subset}.conll", []).append(it)
    files = sorted(groups.items())
    if [it for _, g in files for it in g] != items:
        report.drop("item.order", "dataset", "grouped by subset, subsets in file-name order")
    return path, files


def write_conll(
    dataset: Dataset,
    path: Path,
    caps: Capabilities,
    scheme: Scheme,
    *,
    strict: bool = False,
    split_tokens: bool = False,
    name: str = "conll",
) -> ConversionReport:
    """Write ``dataset`` to the token file or folder ``path`` with tags in ``scheme``;
    ``split_tokens`` cuts tokens where a span starts or ends inside one, so the span can be tagged."""
    report = ConversionReport(name)
    ds, report = restrict(dataset, caps, report)
    items = list(ds.items.values())
    regions = {a.item_id: a.regions for a in ds.annotations}
    sentences = {it.id: sentences_of(it.text or "", _cuts(regions.get(it.id, ())) if split_tokens else ()) for it in items}
    shapes = {k: [len(s) for s in v] for k, v in sentences.items()}
    columns = _columns(items, shapes)
    writer = _Writer(strict, report)
    folder, plan = _plan(items, path, report)
    by_subset = any(it.subset is not None for it in items) and not (path.suffix and not path.is_dir())
    docstart = " ".join([DOCSTART, *(["-X-"] * len(columns)), "O"])
    outputs: list[tuple[str, bytes]] = []
    k = 0
    for file_name, group in plan:
        lines: list[str] = []
        for it in group:
            if it.id != f"doc{k}":
                report.drop("item.id", it.id, f"renumbered doc{k} (CoNLL keys documents by position)")
            k += 1
            lines += [docstart, ""]
            lines += _document_lines(it, sentences[it.id], regions.get(it.id, ()), columns, writer, scheme, folder / file_name)
        outputs.append((file_name, ("\n".join(lines) + "\n").encode("utf-8") if lines else b""))
    if writer.problems:
        listed = "; ".join(writer.problems[:MAX_LISTED])
        more = f"; and {len(writer.problems) - MAX_LISTED} more" if len(writer.problems) > MAX_LISTED else ""
        raise FormatError(
            f"{len(writer.problems)} span(s) cannot be held by {scheme.name} tags: {listed}{more}. "
            "Write with strict=False to drop them (the report lists them)",
            path=path,
        )
    _schema_losses(ds.schema.names, list(writer.labels), report)
    if len(outputs) == 1 and not by_subset:
        target = folder / outputs[0][0]
        with atomic_file(target) as fh:
            fh.write(outputs[0][1])
    else:
        target = folder
        with atomic_dir(folder) as tmp:
            for file_name, data in outputs:
                (tmp / file_name).write_bytes(data)
    report.path, report.items, report.regions, report.files = str(target), len(items), writer.regions, len(outputs)
    return report


def _document_lines(
    it: Item,
    sents: list[list[tuple[int, int]]],
    regions: Sequence[Any],
    columns: list[str],
    writer: _Writer,
    scheme: Scheme,
    path: Path,
) -> list[str]:
    text = it.text or ""
    canonical = "\n".join(" ".join(text[s:e] for s, e in toks) for toks in sents)
    if canonical != text:
        writer.report.drop("item.text", it.id, "whitespace normalised (single spaces, one sentence per line)")
    kept = set(columns) if sents else set()
    for key in it.metadata:
        if key not in kept:
            writer.report.drop("item.metadata", f"{it.id}: {key}", "dropped (CoNLL keeps only its middle columns)")
    chunks = writer.chunks(it, regions, sents)
    lines = []
    for j, toks in enumerate(sents):
        tags = tagging.encode(chunks[j], len(toks), scheme)
        for t, ((s, e), tag) in enumerate(zip(toks, tags, strict=True)):
            token = text[s:e]
            if token == DOCSTART:
                raise FormatError(
                    f"the token {DOCSTART} cannot be written: readers take it for a document boundary",
                    path=path, where=f"item {it.id!r}, sentence {j}, token {t}",
                )
            cols = [it.metadata[c][j][t] for c in columns]
            lines.append(" ".join([token, *cols, tag]))
        lines.append("")
    return lines


def _cuts(regions: Sequence[Any]) -> list[int]:
    return [v for r in regions if isinstance(r.geometry, TextSpan) for v in (r.geometry.start, r.geometry.end)]


def _schema_losses(names: list[str], used: list[str], report: ConversionReport) -> None:
    """Readers list the classes the tags use, in order of first use."""
    for n in names:
        if n not in used:
            report.drop("schema.class", n, "dropped: no span written uses it")
    in_both = [n for n in names if n in set(used)]
    if in_both != [n for n in used if n in set(names)]:
        report.drop("schema.order", "dataset", "classes ordered by first use")
